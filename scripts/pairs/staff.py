"""Strings of the staff branch (issue #15 items 1 and 9): staff invitations, shop roles, console fixes."""

PAIRS = {
    "console.nav.staff": ("员工", "Staff"),
    "merchant.staff.title": ("员工与邀请", "Staff and invitations"),
    "merchant.staff.sub": (
        "邀请同事加入店铺，调整角色或移除成员。只有店主能管理员工。",
        "Invite colleagues to the shop, change their roles or remove them. Only owners manage staff.",
    ),
    "merchant.staff.invite": ("邀请同事", "Invite a colleague"),
    "merchant.staff.no_email": (
        "平台不会发送邮件：发出邀请后，本页会显示一次邀请链接，请复制后自行发给对方（微信、邮件都可以）。",
        "No email is sent: after you invite, this page shows the invitation link once. "
        "Copy it and send it yourself (chat or email).",
    ),
    "merchant.staff.role": ("角色", "Role"),
    "merchant.staff.send_invite": ("生成邀请链接", "Create invitation link"),
    "merchant.staff.pick_role": ("请选择角色", "Choose a role"),
    "merchant.staff.link_title": ("给 {email} 的邀请链接", "Invitation link for {email}"),
    "merchant.staff.link_hint": (
        "对方用这个邮箱登录或注册后打开链接，即可以「{role}」身份加入店铺。链接在 {when} 前有效，只能使用一次。",
        "Once they sign in or register with this email and open the link, they join the shop as {role}. "
        "The link works until {when}, once.",
    ),
    "merchant.staff.link_label": ("邀请链接（复制后发给对方）", "Invitation link (copy it and send it)"),
    "merchant.staff.link_once": (
        "链接只显示这一次。弄丢了也没关系：在下方待接受列表中点「重新生成链接」，旧链接随即失效。",
        "The link is shown only now. If it gets lost, use “New link” in the list below; the old link then stops working.",
    ),
    "merchant.staff.waiting": ("待接受的邀请", "Invitations waiting"),
    "merchant.staff.no_invitations": (
        "没有待接受的邀请。在上方填写同事的邮箱并选择角色，即可生成邀请链接。",
        "No invitations are waiting. Enter a colleague's email above and pick a role to create a link.",
    ),
    "merchant.staff.col.state": ("状态", "Status"),
    "merchant.staff.col.expires": ("有效期至", "Valid until"),
    "merchant.staff.state.pending": ("待接受", "Waiting"),
    "merchant.staff.state.expired": ("已过期", "Expired"),
    "merchant.staff.renew": ("重新生成链接", "New link"),
    "merchant.staff.revoke": ("撤回", "Withdraw"),
    "merchant.staff.members": ("店铺成员", "Members"),
    "merchant.staff.filter": ("按角色筛选", "Filter by role"),
    "merchant.staff.no_members": (
        "没有这个角色的成员。点「全部」查看所有成员，或在上方邀请同事。",
        "No members have this role. Choose “All” to see everyone, or invite a colleague above.",
    ),
    "merchant.staff.col.name": ("姓名", "Name"),
    "merchant.staff.col.since": ("加入时间", "Joined"),
    "merchant.staff.you": ("（你）", "(you)"),
    "merchant.staff.role_of": ("{name} 的角色", "Role of {name}"),
    "merchant.staff.change_role": ("保存角色", "Save role"),
    "merchant.staff.remove": ("移除", "Remove"),
    "merchant.staff.revoked": ("邀请已撤回，链接已失效。", "Invitation withdrawn; its link no longer works."),
    "merchant.staff.role_changed": ("角色已更新。", "Role updated."),
    "merchant.staff.removed": (
        "成员已移出店铺，其账号仍保留。",
        "Member removed from the shop; their account stays.",
    ),
    "staff.role_help.owner": (
        "店铺的一切，包括管理员工和邀请",
        "everything in the shop, including staff and invitations",
    ),
    "staff.role_help.operator": (
        "商品、价格与库存、发货、售后处理、财务、优惠券与内容；不能管理员工",
        "products, prices and stock, shipping, after-sales decisions, finance, coupons and content; not staff",
    ),
    "staff.role_help.service_agent": (
        "客服消息和查看订单；不能改价、改库存、上下架、发货、处理售后或查看财务",
        "the customer-service inbox and reading orders; no prices, stock, listing, shipping, "
        "after-sales decisions or finance",
    ),
    "merchant.case.managers_decide": (
        "售后由店主或运营处理。你可以查看这个申请，并在客服消息中回复买家。",
        "After-sales requests are decided by the owner or an operator. You can read this case and answer "
        "the buyer in the inbox.",
    ),
    "err.invalid_email": ("请输入有效的邮箱地址", "Enter a valid email address"),
    "err.already_staff": ("这个账号已经属于一家店铺", "This account already belongs to a shop"),
    "err.last_owner": (
        "店铺至少要保留一位店主：请先把另一位成员设为店主",
        "A shop must keep at least one owner: make another member an owner first",
    ),
    "err.staff_not_found": ("找不到这位成员", "This member was not found"),
    "err.wrong_shop_role": ("你的店铺角色不能进行这个操作", "Your shop role cannot do this"),
    "err.invitation_not_found": ("找不到这个邀请", "This invitation was not found"),
    "err.invitation_closed": ("这个邀请已经结束", "This invitation is no longer waiting"),
    "err.invitation_used": ("这个邀请链接已经用过了", "This invitation link has already been used"),
    "err.invitation_revoked": ("店主已撤回这个邀请", "The shop owner withdrew this invitation"),
    "err.invitation_expired": (
        "这个邀请已过期，请联系店主重新生成链接",
        "This invitation has expired: ask the shop owner for a new link",
    ),
    "err.invitation_other_email": (
        "这个邀请是发给另一个邮箱的，请用被邀请的邮箱登录",
        "This invitation is for another email address: sign in with the invited email",
    ),
    "err.cannot_join_shop": (
        "创作者和平台运营账号不能加入店铺，请用另一个账号",
        "Creator and platform operator accounts cannot join a shop: use another account",
    ),
    "invitation.title": ("加入「{shop}」", "Join {shop}"),
    "invitation.intro": (
        "「{shop}」邀请你以「{role}」身份加入店铺后台。",
        "{shop} invites you to its merchant console as {role}.",
    ),
    "invitation.for_email": ("受邀邮箱", "Invited email"),
    "invitation.valid_until": ("有效期至", "Valid until"),
    "invitation.signed_in_as": ("当前登录：{email}", "Signed in as {email}"),
    "invitation.switch_account": ("退出并换个账号", "Sign out and use another account"),
    "invitation.accept_hint": (
        "接受后，你的账号将成为这家店铺的员工，并进入商家后台。",
        "Once you accept, your account becomes staff of this shop and opens the merchant console.",
    ),
    "invitation.accept": ("接受邀请", "Accept invitation"),
    "invitation.sign_in_first": (
        "请先用 {email} 登录；还没有账号的话，用这个邮箱注册一个。",
        "Sign in with {email} first, or register with this email if you have no account yet.",
    ),
    "invitation.register": ("用这个邮箱注册", "Register with this email"),
    "invitation.joined": (
        "欢迎加入！这里是店铺的商家后台。",
        "Welcome aboard! This is the shop's merchant console.",
    ),
    "invitations.title": ("店铺邀请", "Shop invitations"),
    "invitations.empty": (
        "目前没有发给你的店铺邀请。店主邀请你后，会把链接发给你，打开链接即可加入。",
        "No shop has invited you yet. When an owner invites you, they send you a link: open it to join.",
    ),
    "invitations.waiting": ("等待你接受", "Waiting for you"),
    "invitations.use_link": (
        "请打开店主发给你的邀请链接来接受邀请。",
        "To accept, open the invitation link the shop owner sent you.",
    ),
    "operator.jobs.about.payment_timeouts": (
        "取消超时未支付的订单并释放库存",
        "Cancel checkouts not paid in time and release their stock",
    ),
    "operator.jobs.about.after_sales_deadlines": (
        "商家逾期未处理的售后自动同意；买家逾期未寄回的关闭",
        "Approve after-sales requests a merchant left past the deadline; close those the buyer left",
    ),
    "operator.jobs.about.auto_completion": (
        "确认收货期已过的订单自动完成",
        "Complete delivered orders whose confirmation window has passed",
    ),
    "operator.jobs.about.settlements": (
        "记录已完成订单的结算，到期后结算给店铺",
        "Record completed orders' settlements and settle them when due",
    ),
    "operator.jobs.about.shop_scores": (
        "每晚计算各店铺的体验分",
        "The nightly experience score of every active shop",
    ),
    "operator.jobs.about.compass_snapshot": (
        "电商罗盘数据快照过旧时重建",
        "Rebuild Compass's analytics snapshot when it is too old",
    ),
    "operator.jobs.about.feed_catch_up": (
        "把新的行为数据计入推荐模型并发布",
        "Add new behaviour events to the feed model and publish it",
    ),
    "operator.jobs.about.like_counts": ("统计每条内容的点赞数", "Count the likes of every piece of content"),
    "operator.jobs.about.search_follow": (
        "把商品库的最新变化写入搜索索引",
        "Write the catalogue's latest changes to the search index",
    ),
    "operator.jobs.about.search_build": ("重建整个搜索索引", "Rebuild the whole search index"),
    "creator.commissions.filter": ("按类型筛选", "Filter by kind"),
    "creator.commissions.empty_filtered": (
        "没有这一类的佣金记录。点「全部」查看所有记录。",
        "No commission entries of this kind. Choose “All” to see every entry.",
    ),
    "invitations.account_hint": (
        "店主邀请你加入店铺后台时，会把邀请链接发给你；这里能看到发给你邮箱的邀请。",
        "When a shop owner invites you to their console they send you a link; here you see the invitations for your email.",
    ),
    "invitations.link": ("查看店铺邀请", "See shop invitations"),
    "operator.campaigns.filter": ("按状态筛选", "Filter by status"),
    "operator.campaigns.status.active": ("有效", "Active"),
    "operator.campaigns.status.cancelled": ("已取消", "Cancelled"),
    "operator.campaigns.empty_filtered": (
        "没有这个状态的活动。点「全部」查看所有活动。",
        "No campaigns have this status. Choose “All” to see every campaign.",
    ),
    "merchant.staff.copy": ("复制链接", "Copy link"),
    "merchant.staff.copied": ("已复制", "Copied"),
}
