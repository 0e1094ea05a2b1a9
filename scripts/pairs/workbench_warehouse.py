"""The workbench's warehouse receiving queue."""

PAIRS = {
    "workbench.queue.warehouse_inbounds": ("云仓入库", "Warehouse receiving"),
    "workbench.queue_hint.warehouse_inbounds": (
        "商家发往平台仓、等待清点入库的货",
        "shops' inbound shipments waiting to be counted in",
    ),
}
