"""Strings of the score-correctness and UX fixes (issue #17 items 6 and 7)."""

PAIRS = {
    # merchant: the experience score's advice, in the direction of the move
    "xp.improve_lower": (
        "从 {now} 降到 {to}（同类目前 25% 的水平）",
        "Lower it from {now} to {to} (the category's top quarter)",
    ),
    "xp.improve_raise": (
        "从 {now} 提升到 {to}（同类目前 25% 的水平）",
        "Raise it from {now} to {to} (the category's top quarter)",
    ),
    # merchant: why an indicator has no value
    "xp.no_data.no_deliveries": (
        "无数据：统计期内没有已签收的订单",
        "No data: no order was delivered in the period",
    ),
    "xp.no_data.no_lagged_orders": (
        "无数据：15–104 天前没有支付订单",
        "No data: no paid orders 15–104 days ago",
    ),
    "xp.no_data.no_own_shipments": (
        "无数据：统计期内没有商家自己发货的订单（云仓发货不计）",
        "No data: no order shipped by the shop itself (warehouse orders don't count)",
    ),
    "xp.no_data.no_own_deliveries": (
        "无数据：没有商家自己发货并已签收的包裹（云仓发货不计）",
        "No data: no parcel shipped by the shop itself was delivered (warehouse orders don't count)",
    ),
    "xp.no_data.no_orders": ("无数据：统计期内没有支付订单", "No data: no paid orders in the period"),
    "xp.no_data.no_conversations": (
        "无数据：统计期内 8:00–23:00 没有顾客咨询",
        "No data: no customer chats 08:00–23:00 in the period",
    ),
    "xp.no_data.no_aftersales": (
        "无数据：统计期内没有售后申请",
        "No data: no after-sales requests in the period",
    ),
    # shopper: the cart, one group per shop
    "cart.shop_subtotal": ("小计", "Subtotal"),
    # shopper: the pay page of a checkout already paid (or cancelled)
    "checkout.paid_title": ("支付成功", "Paid"),
    "checkout.cancelled_title": ("订单已取消", "Checkout cancelled"),
    "checkout.paid_amount": ("实付金额", "Amount paid"),
    "checkout.cancelled_amount": ("订单金额", "Order amount"),
    "checkout.paid_at": ("支付时间：{when}", "Paid {when}"),
    "checkout.view_order": ("查看订单", "View order"),
    "checkout.paid_note": (
        "已支付成功，商家会尽快发货。",
        "Payment received: the shop will ship your order soon.",
    ),
    # shopper: a declined payment, in words (never the provider's code)
    "checkout.decline.card_declined": (
        "银行卡被发卡行拒绝了，未扣款。请换一张卡或其他支付方式。",
        "Your card was declined by its bank and nothing was charged. Try another card or payment method.",
    ),
    "checkout.decline.insufficient_funds": (
        "卡内余额不足，未扣款。请换一张卡或其他支付方式。",
        "The card has insufficient funds; nothing was charged. Try another card or payment method.",
    ),
    "checkout.decline.expired_card": (
        "这张卡已过期，未扣款。请换一张卡。",
        "This card has expired; nothing was charged. Try another card.",
    ),
    "checkout.decline.other": (
        "支付没有成功，未扣款。请稍后重试或换一种支付方式。",
        "The payment did not go through and nothing was charged. Try again or use another method.",
    ),
    # shopper: answers shown instead of the forms once given
    "review.yours": ("你的评价", "Your review"),
    "review.written_at": ("评价于 {when}", "Reviewed {when}"),
    "review.back_to_order": ("返回订单", "Back to the order"),
    "nps.yours": ("你的评分", "Your rating"),
    "nps.your_score": ("{score} 分（满分 10 分）", "{score} out of 10"),
    "nps.answered_at": ("提交于 {when}", "Answered {when}"),
    "orders.reviewed": ("已评价", "Reviewed"),
    "orders.rated": ("已为订单打分：{score} 分", "You rated this order {score}/10"),
    # merchant: Compass against a previous period with nothing to compare with
    "compass.new": ("新增", "New"),
    "compass.no_base": ("上一周期没有可比的数据", "Nothing in the previous period to compare with"),
}
