"""Strings of the warehouse's hold on its SKUs' stock and of returns that go back to the warehouse
(issue #17: the platform warehouse's loose ends)."""

PAIRS = {
    "merchant.stock.held_by_warehouse": ("云仓库存：通过入仓单补货", "Held by the warehouse: restock with an inbound"),
    "err.stock_held_by_warehouse": (
        "该规格的库存由云仓管理，请通过入仓单补货",
        "This SKU's stock is held by the platform warehouse: restock it with an inbound shipment",
    ),
    "aftersale.return.to_warehouse": (
        "此订单由{name}发货，请将退货寄回：{address}",
        "This order shipped from {name}: send the return to {address}",
    ),
    "merchant.case.return_to_warehouse": (
        "此订单由{name}发货，退货寄回云仓；确认收货后商品回到云仓货架并重新可售。",
        "This order shipped from {name}: the return goes back to the warehouse, and confirming it puts the units back on its shelves and on sale.",
    ),
}
