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
}
