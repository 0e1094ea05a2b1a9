"""Strings of the merchant's creator-partner pages (plans, applications, samples, creators selling)
and the creator's sample requests (issue #16, item 2 and samples)."""

PAIRS = {
    # navigation
    "console.group.alliance": ("达人合作", "Creator partners"),
    "console.nav.alliance_plans": ("带货计划", "Affiliate plans"),
    "console.nav.alliance_applications": ("达人申请", "Applications"),
    "console.nav.alliance_samples": ("寄样管理", "Sample requests"),
    "console.nav.alliance_creators": ("带货达人", "Creators selling"),
    "console.nav.samples": ("我的寄样", "My samples"),
    # merchant: plans
    "alliance.title": ("带货计划", "Affiliate plans"),
    "alliance.sub": (
        "给商品设置佣金，让达人在视频和直播里带货。普通计划人人可带，定向和专属计划只给你邀请的达人。",
        "Set a commission on a product so creators promote it in their videos and lives. Anyone may "
        "promote under an open plan; targeted and exclusive plans are for the creators you invite.",
    ),
    "alliance.pending_applications": (
        "有 {num} 位达人申请加入你的定向计划。",
        ("{num} creator asks to join your targeted plans.", "{num} creators ask to join your targeted plans."),
    ),
    "alliance.review_applications": ("去处理", "Review them"),
    "alliance.rules.title": ("三种计划怎么选", "The three kinds of plan"),
    "alliance.rules.open": (
        "所有达人都能带货，每个商品最多一个进行中的普通计划。",
        "Every creator may promote the product. At most one active open plan per product.",
    ),
    "alliance.rules.targeted": (
        "只给你邀请或批准的达人更高的佣金；商品上必须已有普通计划，且佣金率要高于普通计划。结束普通计划时，定向计划会一起结束。",
        "A better rate for the creators you invite or approve. The product needs an active open plan, "
        "and the rate must be higher than the open plan's. Ending the open plan ends its targeted plans too.",
    ),
    "alliance.rules.exclusive": (
        "只有你指定的达人能带货；不能和普通或定向计划同时存在，每个商品最多一个。",
        "Only the creators you name may promote the product. It cannot run beside an open or targeted "
        "plan, and a product has at most one.",
    ),
    "alliance.new": ("新建计划", "New plan"),
    "alliance.no_products": ("店里还没有在售商品，先上架商品再建计划。", "Nothing is on sale yet: list a product first."),
    "alliance.form.product": ("商品", "Product"),
    "alliance.form.kind": ("计划类型", "Kind of plan"),
    "alliance.form.rate": ("佣金率（%）", "Commission rate (%)"),
    "alliance.form.rate_hint": (
        "按实付金额计算，0.01% 到 90%，例如 15 或 12.5。",
        "A share of what the buyer pays, 0.01% to 90%, such as 15 or 12.5.",
    ),
    "alliance.form.bad_rate": (
        "请填写 0.01 到 90 之间的百分比，最多两位小数。",
        "Enter a percentage from 0.01 to 90, with at most two decimals.",
    ),
    "alliance.create": ("创建计划", "Create plan"),
    "alliance.read_only": (
        "你可以查看计划；新建、结束计划和邀请达人由店主或运营操作。",
        "You can see the plans; the owner or an operator creates and ends them and invites creators.",
    ),
    "alliance.plans": ("全部计划", "All plans"),
    "alliance.filter": ("按状态筛选", "Filter by status"),
    "alliance.plan_status.active": ("进行中", "Active"),
    "alliance.plan_status.ended": ("已结束", "Ended"),
    "alliance.empty": (
        "还没有带货计划。在上面选一个商品、填好佣金率，达人就能在选品广场看到它。",
        "No affiliate plans yet. Pick a product above and set a rate: creators will find it in the plaza.",
    ),
    "alliance.empty_filtered": ("没有这个状态的计划。", "No plans with this status."),
    "alliance.col.creators": ("达人数", "Creators"),
    "alliance.col.status": ("状态", "Status"),
    "alliance.col.creator": ("达人", "Creator"),
    "alliance.col.followers": ("粉丝", "Followers"),
    "alliance.col.plan": ("计划", "Plan"),
    "alliance.col.message": ("留言", "Message"),
    "alliance.col.decision": ("处理", "Decision"),
    "alliance.plan_no": ("计划 #{id}", "Plan #{id}"),
    "alliance.everyone": ("所有达人", "Everyone"),
    "alliance.manage": ("管理", "Manage"),
    "alliance.end": ("结束计划", "End plan"),
    "alliance.end_hint": (
        "结束后达人不能再按这个计划带货，已成交订单的佣金照常结算。",
        "Creators can no longer promote under it; commission on orders already placed is still paid.",
    ),
    "alliance.end_hint_open": (
        "同一商品的定向计划会一起结束；已成交订单的佣金照常结算。",
        "The product's targeted plans end with it; commission on orders already placed is still paid.",
    ),
    "alliance.terms": ("计划规则", "How this plan works"),
    "alliance.ended_note": ("这个计划已于 {when} 结束。", "This plan ended on {when}."),
    "alliance.other_plans": ("同一商品的其他进行中计划：", "Other active plans on this product:"),
    "alliance.listed": ("已加入的达人", "Creators on this plan"),
    "alliance.listed_empty": (
        "还没有达人加入。在下面按昵称或抖音号搜索达人并邀请，或者等达人从选品广场申请。",
        "No creators yet. Search for creators below by name or handle and invite them, or wait for "
        "applications from the plaza.",
    ),
    "alliance.followers": ("{n} 粉丝", ("{n} follower", "{n} followers")),
    "alliance.invite": ("邀请达人", "Invite creators"),
    "alliance.invite_search": ("按昵称或账号搜索达人", "Search creators by name or handle"),
    "alliance.invite_placeholder": ("例如：小鹿", "e.g. xiaolu"),
    "alliance.search": ("搜索", "Search"),
    "alliance.invite_none": ("没有找到“{q}”相关的达人。", "No creator matches “{q}”."),
    "alliance.already_listed": ("已加入", "Already on the plan"),
    "alliance.invite_button": ("邀请", "Invite"),
    "alliance.top_kol": ("头部达人", "Top KOL"),
    "alliance.managers_decide": ("由店主或运营处理", "The owner or an operator decides"),
    # the refusals of the plan rules, in plain words
    "alliance.rule.exclusive_needs_alone": (
        "这个商品已有普通或定向计划，专属计划不能和它们同时存在。要改成专属合作，请先结束这些计划。",
        "This product already has an open or targeted plan, and an exclusive plan cannot run beside "
        "them. End those plans first to make it exclusive.",
    ),
    "alliance.rule.exclusive_blocks_others": (
        "这个商品已有专属计划，不能再建普通或定向计划。请先结束专属计划。",
        "This product has an exclusive plan, so it cannot have an open or targeted plan. End the "
        "exclusive plan first.",
    ),
    "alliance.rule.one_exclusive": (
        "这个商品已有一个进行中的专属计划，每个商品只能有一个。要增加达人，请在那个计划里邀请。",
        "This product already has an active exclusive plan, and a product has only one. Invite more "
        "creators to that plan instead.",
    ),
    "alliance.rule.one_open": (
        "这个商品已有一个进行中的普通计划，每个商品只能有一个。要改佣金，请先结束原计划再新建。",
        "This product already has an active open plan, and a product has only one. To change the rate, "
        "end it and create a new one.",
    ),
    "alliance.rule.targeted_needs_open": (
        "定向计划需要同一商品上有进行中的普通计划：请先给这个商品建一个普通计划。",
        "A targeted plan needs an open plan on the same product: create an open plan for it first.",
    ),
    "alliance.rule.targeted_rate_higher": (
        "定向计划的佣金率要高于这个商品普通计划的 {rate}%。",
        "A targeted plan must pay more than the product's open plan, which pays {rate}%.",
    ),
    "alliance.rule.product_not_found": (
        "请选择本店在售的商品。",
        "Choose a product of this shop that is on sale.",
    ),
    "alliance.plan_created": ("计划已创建，达人可以在选品广场看到它。", "Plan created: creators can find it in the plaza."),
    "alliance.plan_created_invite": (
        "计划已创建。现在邀请达人加入吧。",
        "Plan created. Now invite the creators you want on it.",
    ),
    "alliance.plan_ended": ("计划已结束。", "The plan has ended."),
    "alliance.plan_already_ended": ("这个计划已经结束了。", "This plan had already ended."),
    "alliance.invited": ("已邀请，达人现在可以按这个计划带货。", "Invited: the creator may now promote under this plan."),
    "alliance.application_approved": ("已同意，达人已加入计划。", "Approved: the creator is on the plan."),
    "alliance.application_rejected": ("已拒绝这条申请。", "The application was rejected."),
    # merchant: applications
    "alliance.applications.title": ("达人申请", "Creators' applications"),
    "alliance.applications.sub": (
        "达人申请加入你的定向计划。同意后达人可以按定向佣金带货；可以附一句话给达人。",
        "Creators asking to join your targeted plans. Once approved they earn the targeted rate; you "
        "may add a note for them.",
    ),
    "alliance.applications.filter": ("按状态筛选", "Filter by status"),
    "alliance.applications.empty": (
        "还没有达人申请。建一个定向计划，达人就能在选品广场申请加入。",
        "No applications yet. Creators apply from the plaza once you offer a targeted plan.",
    ),
    "alliance.applications.empty_filtered": ("没有这个状态的申请。", "No applications with this status."),
    "alliance.applications.note": ("给达人的话", "Note to the creator"),
    "alliance.applications.approve": ("同意", "Approve"),
    "alliance.applications.reject": ("拒绝", "Reject"),
    # merchant: creators selling
    "alliance.creators.title": ("带货达人", "Creators selling your goods"),
    "alliance.creators.sub": (
        "通过你的带货计划卖出商品的达人：订单、成交金额和佣金。",
        "The creators who sold your goods under your plans: orders, GMV and commission.",
    ),
    "alliance.creators.gmv": ("成交金额", "GMV"),
    "alliance.creators.orders": ("订单数", "Orders"),
    "alliance.creators.items": ("件数", "Items"),
    "alliance.creators.refunded": ("已退款", "Refunded"),
    "alliance.creators.commission": ("佣金（按成交）", "Commission on sales"),
    "alliance.creators.booked": ("已入账佣金", "Commission booked"),
    "alliance.creators.empty": (
        "这段时间还没有达人带货成交。建普通计划让更多达人看到你的商品，或邀请达人加入定向计划。",
        "No creator sold your goods in this period. An open plan shows your products to every "
        "creator; a targeted plan rewards the ones you invite.",
    ),
    "alliance.creators.note": (
        "“佣金（按成交）”是这段时间付款订单带的佣金；“已入账佣金”是订单确认收货后记入账本的佣金，扣除了之后的退款。",
        "“Commission on sales” is what the orders paid in the period carry; “Commission booked” is "
        "what the ledger recorded when orders completed, less later refunds.",
    ),
    # samples: merchant queue
    "samples.queue.title": ("寄样管理", "Sample requests"),
    "samples.queue.sub": (
        "达人申请样品来试用和拍摄。同意后填写快递单号发出；拒绝时请写明原因，达人会看到。",
        "Creators ask for samples to try and film. Approve, then ship with a tracking number; when you "
        "reject, give the reason: the creator reads it.",
    ),
    "samples.filter": ("按状态筛选", "Filter by status"),
    "samples.status.requested": ("待处理", "Requested"),
    "samples.status.approved": ("待发货", "Approved"),
    "samples.status.shipped": ("已发货", "Shipped"),
    "samples.status.received": ("已签收", "Received"),
    "samples.status.rejected": ("已拒绝", "Rejected"),
    "samples.status.cancelled": ("已取消", "Cancelled"),
    "samples.read_only": (
        "你可以查看寄样申请；同意、拒绝和发货由店主或运营操作。",
        "You can see the requests; the owner or an operator approves, rejects and ships.",
    ),
    "samples.queue.empty": (
        "还没有寄样申请。达人在选品广场看到你的计划后，可以申请样品。",
        "No sample requests yet. Creators ask for samples from the plaza once your products have plans.",
    ),
    "samples.queue.empty_filtered": ("没有这个状态的寄样申请。", "No sample requests with this status."),
    "samples.col.ship_to": ("收件信息", "Ship to"),
    "samples.col.from_shop": ("店铺", "Shop"),
    "samples.reason": ("拒绝原因", "Reason"),
    "samples.note": ("商家留言", "Note"),
    "samples.approve": ("同意寄样", "Approve"),
    "samples.reject": ("拒绝", "Reject"),
    "samples.carrier": ("快递公司", "Carrier"),
    "samples.tracking": ("快递单号", "Tracking number"),
    "samples.ship": ("发货", "Ship"),
    "samples.done.approve": ("已同意，记得尽快发出样品。", "Approved. Ship the sample soon."),
    "samples.done.reject": ("已拒绝，达人会看到原因。", "Rejected. The creator sees your reason."),
    "samples.done.ship": ("已发货，达人可以查看快递单号。", "Shipped. The creator can see the tracking number."),
    "samples.done.cancel": ("寄样申请已取消。", "The sample request was cancelled."),
    "samples.done.received": ("已确认收到样品。", "Marked as received."),
    "samples.err.changed": (
        "这条寄样申请的状态刚刚变了，请看最新状态后再操作。",
        "This sample request changed in the meantime: check its status and try again.",
    ),
    # samples: creator
    "samples.mine.title": ("我的寄样", "My samples"),
    "samples.mine.sub": (
        "向商家申请样品，试用后再决定带不带货。发货前可以取消，收到后请确认签收。",
        "Ask shops for samples to try before you promote. You can cancel until it ships; confirm when "
        "it arrives.",
    ),
    "samples.new": ("申请寄样", "Request a sample"),
    "samples.new_sub": (
        "填写收件信息，商家同意后会寄出样品。",
        "Tell the shop where to send it; they ship once they approve.",
    ),
    "samples.mine.empty": (
        "还没有寄样申请。在选品广场挑一个商品，点“申请寄样”。",
        "No sample requests yet. Pick a product in the plaza and choose “Request a sample”.",
    ),
    "samples.mine.empty_filtered": ("没有这个状态的寄样申请。", "No sample requests with this status."),
    "samples.asked_at": ("{when} 申请", "Asked {when}"),
    "samples.explain.requested": ("等待商家处理", "Waiting for the shop"),
    "samples.explain.approved": ("商家已同意，等待发货", "Approved; waiting to ship"),
    "samples.explain.shipped": ("样品已寄出，收到后请确认", "On its way; confirm when it arrives"),
    "samples.explain.received": ("已收到样品", "You received it"),
    "samples.explain.rejected": ("商家没有同意", "The shop declined"),
    "samples.explain.cancelled": ("你已取消", "You cancelled it"),
    "samples.parcel": ("快递", "Parcel"),
    "samples.confirm_received": ("确认收货", "Confirm receipt"),
    "samples.cancel": ("取消申请", "Cancel"),
    "samples.pick": ("选择商品", "Choose a product"),
    "samples.pick_search": ("按商品名搜索", "Search by product name"),
    "samples.pick_empty": (
        "选品广场里暂时没有可申请样品的商品。",
        "No product in the plaza to ask a sample of right now.",
    ),
    "samples.to_plaza": ("去选品广场看看", "Browse the plaza"),
    "samples.already": ("你对这个商品的寄样申请还在进行中（{status}）。", "Your request for this product is still open ({status})."),
    "samples.see_it": ("查看", "See it"),
    "samples.form.recipient": ("收件人", "Recipient"),
    "samples.form.phone": ("联系电话", "Phone"),
    "samples.form.phone_hint": ("手机或座机，例如 13800138000", "Mobile or landline, such as 13800138000"),
    "samples.form.address": ("收货地址", "Address"),
    "samples.form.address_hint": (
        "省市区、街道和门牌号，写在一行里",
        "Province, city, district, street and number, on one line",
    ),
    "samples.form.message": ("给商家的留言", "Message to the shop"),
    "samples.submit": ("提交申请", "Send request"),
    "samples.requested": ("申请已提交，商家处理后会通知你。", "Request sent. You will be notified when the shop decides."),
    # refusals
    "err.product_not_in_alliance": (
        "这个商品没有向你开放的带货计划，不能申请样品。",
        "This product has no affiliate plan open to you, so you cannot ask for a sample.",
    ),
    "err.sample_pending": (
        "你对这个商品已有一条进行中的寄样申请。",
        "You already have an open sample request for this product.",
    ),
    "err.sample_not_found": ("找不到这条寄样申请。", "Sample request not found."),
    "err.invalid_contact_phone": (
        "请填写正确的电话号码：数字、空格或短横线，5 到 20 位，可以以 + 开头。",
        "Enter a phone number: digits, spaces or dashes, 5 to 20 characters, optionally starting with +.",
    ),
    "err.invalid_tracking_number": (
        "快递单号是 4 到 64 位字母、数字或短横线。",
        "A tracking number is 4 to 64 letters, digits or dashes.",
    ),
    "err.required": ("请填写这一项。", "Fill this in."),
    "err.too_long": ("内容太长了。", "This is too long."),
    "err.invalid_text": ("请只填写一行文字，不要包含特殊控制字符。", "Use one line of plain text."),
    "err.plan_conflict": (
        "专属计划不能和普通或定向计划同时存在。",
        "An exclusive plan cannot run beside an open or targeted plan.",
    ),
    "err.plan_exists": ("这个商品已有同类的进行中计划。", "This product already has an active plan of this kind."),
    "err.open_plan_required": (
        "定向计划需要同一商品上有进行中的普通计划。",
        "A targeted plan needs an open plan on the same product.",
    ),
    "err.targeted_rate_not_higher": (
        "定向计划的佣金率要高于普通计划。",
        "A targeted plan must pay more than the open plan.",
    ),
    "err.account_not_found": ("找不到这个达人账号。", "Creator account not found."),
    "err.not_a_creator_account": ("只能邀请达人账号。", "Only creator accounts can be invited."),
    "err.open_plan_has_no_creators": (
        "普通计划对所有达人开放，不需要邀请。",
        "An open plan is open to every creator; there is no one to invite.",
    ),
    # notifications
    "notify.kind_name.sample_requested": ("寄样申请", "Sample request"),
    "notify.kind_name.sample_approved": ("寄样已同意", "Sample approved"),
    "notify.kind_name.sample_rejected": ("寄样未通过", "Sample declined"),
    "notify.kind_name.sample_shipped": ("样品已发货", "Sample shipped"),
    "notify.kind.sample_requested": (
        "{sender} 申请了「{product}」的样品。",
        "{sender} asks for a sample of “{product}”.",
    ),
    "notify.kind.sample_approved": (
        "商家同意寄送「{product}」的样品，发货后会再通知你。",
        "The shop will send you a sample of “{product}”; you will hear when it ships.",
    ),
    "notify.kind.sample_rejected": (
        "「{product}」的寄样申请没有通过：{preview}",
        "Your sample request for “{product}” was declined: {preview}",
    ),
    "notify.kind.sample_shipped": (
        "「{product}」的样品已发货，收到后记得确认。",
        "Your sample of “{product}” has shipped. Confirm when it arrives.",
    ),
    "alliance.find_creators": ("为这个商品找合适的达人（推荐及理由）", "Find creators who fit this product (recommendations with reasons)"),
}
