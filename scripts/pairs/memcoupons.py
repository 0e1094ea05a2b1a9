"""Strings of members-only coupons (issue #15 item 8): the merchant's editor and list, the shopper's
coupon strip and the membership page."""

PAIRS = {
    # merchant: the coupon editor and list
    "memcoupons.form.members_only": ("仅会员可领", "Members only"),
    "memcoupons.form.members_only_hint": (
        "只有本店会员能领取这张券；顾客在店铺的会员页加入后即可领取。",
        "Only members of your shop's membership can claim this coupon; shoppers join on your shop's membership page.",
    ),
    "memcoupons.form.members_only_off": (
        "你的店还没有开启会员：会员开启之前，没有人能领取仅会员可领的券。",
        "Your shop's membership is not switched on: until it is, nobody can claim a members-only coupon.",
    ),
    "memcoupons.form.open_membership": ("去开启会员", "Set up membership"),
    "memcoupons.badge": ("仅会员", "Members only"),
    # shopper: the product page's coupon strip and the membership page
    "memcoupons.badge_shopper": ("会员专享", "Members"),
    "memcoupons.join_to_claim": ("加入会员领取", "Join to claim"),
    "memcoupons.section": ("会员专享券", "Members-only coupons"),
    "memcoupons.section_member": (
        "你是本店会员，下面的券可以直接领取。",
        "You are a member: claim these coupons below.",
    ),
    "memcoupons.section_join": (
        "加入本店会员，就能领取下面的会员专享券。",
        "Join this shop's membership to claim the coupons below.",
    ),
    "memcoupons.members_only_join": (
        "这张券仅限本店会员领取：在这里加入会员，再回去领取吧。",
        "Only members can claim this coupon: join the membership here, then claim it.",
    ),
    # refusals from the service, in the page language
    "err.members_only": ("这张券仅限本店会员领取。", "Only the shop's members can claim this coupon."),
    "err.members_only_needs_shop": (
        "只有店铺优惠券可以设为仅会员可领。",
        "Only a shop's coupons can be for members only.",
    ),
}
