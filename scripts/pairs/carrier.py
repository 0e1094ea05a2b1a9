"""Strings of the carrier: the ship form's carrier list, a parcel's tracking card (issue #17 item 1)."""

PAIRS = {
    # the order's own steps (created, paid, shipped ...), now beside the parcel's tracking
    "orders.timeline": ("订单进度", "Order progress"),
    "merchant.ship.pick_carrier": ("请选择快递公司", "Choose a carrier"),
    "err.unknown_carrier": ("请选择平台支持的快递公司", "Choose one of the platform's carriers"),
    # the tracking card (shopper and merchant order pages)
    "tracking.title": ("物流信息", "Delivery tracking"),
    "tracking.number": ("运单号 {number}", "Tracking no. {number}"),
    "tracking.expected": ("预计 {at} 送达", "expected by {at}"),
    "tracking.status.awaiting_pickup": ("等待快递员揽收", "Waiting for the courier to pick it up"),
    "tracking.status.in_transit": ("运输中", "On its way"),
    "tracking.status.out_for_delivery": ("派送中", "Out for delivery"),
    "tracking.status.delivered": ("已签收", "Delivered"),
    "tracking.status.lost": ("包裹丢失", "Parcel lost"),
    "tracking.status.returned": ("包裹已退回商家", "Parcel returned to the shop"),
    "tracking.status.untracked": ("已发货", "Shipped"),
    "tracking.kind.picked_up": ("已揽收", "Picked up"),
    "tracking.kind.in_transit": ("运输中", "In transit"),
    "tracking.kind.arrived_city": ("到达目的地城市", "Arrived in the destination city"),
    "tracking.kind.out_for_delivery": ("派送中", "Out for delivery"),
    "tracking.kind.delivered": ("已签收", "Delivered"),
    "tracking.kind.delayed": ("运输延误", "Delayed"),
    "tracking.kind.lost": ("快递公司确认包裹丢失", "Lost by the carrier"),
    "tracking.kind.returned": ("退回商家", "Returned to the shop"),
    "tracking.delayed_note": (
        "快递公司报告包裹延误，送达时间会晚一些。",
        "The carrier reports a delay: the parcel will arrive later than planned.",
    ),
    "tracking.lost_note": (
        "快递公司确认包裹丢失，平台已为你申请全额退款。",
        "The carrier lost the parcel: a full refund has been requested for you.",
    ),
    "tracking.returned_note": (
        "包裹被快递公司退回商家，平台已为你申请退款。",
        "The carrier sent the parcel back to the shop: a refund has been requested for you.",
    ),
    "tracking.lost_note_shop": (
        "快递公司确认包裹丢失，平台已代买家申请退款，请尽快处理。",
        "The carrier lost the parcel: the buyer's refund request is waiting for you.",
    ),
    "tracking.returned_note_shop": (
        "包裹被快递公司退回，平台已代买家申请退款，请尽快处理。",
        "The carrier sent the parcel back: the buyer's refund request is waiting for you.",
    ),
    "tracking.claim_link": ("查看退款进度", "Follow the refund"),
    "tracking.claim_link_shop": ("处理退款申请", "Handle the refund request"),
    "tracking.waiting": ("快递员揽收后，这里会显示每一条物流记录。", "Every scan shows here once the courier picks it up."),
    "tracking.untracked": (
        "这家快递公司的物流记录不在平台上，请到快递公司查询。",
        "This carrier's scans are not on the platform: check with the carrier.",
    ),
}
