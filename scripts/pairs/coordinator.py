PAIRS = {
    "checkout.member_sum": ("会员价优惠", "Member price"),
}
