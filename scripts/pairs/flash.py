"""Strings of the operator's campaign flash sales and the merchant's flash-sale filter (issue #18)."""

PAIRS = {
    "flash.filter": ("按状态筛选秒杀", "Filter flash sales by status"),
    "flash.none_filtered": ("没有这个状态的秒杀", "No flash sales with this status"),
    "flash.status.waiting_for_pin": ("等待直播上架", "Waiting for the pin"),
    "flash.status.scheduled": ("已排期", "Scheduled"),
    "flash.status.ended": ("已结束", "Ended"),
    "flash.not_found": ("这个活动里没有这场秒杀", "This campaign has no such flash sale"),
    "flash.campaign.title": ("活动秒杀", "Campaign flash sales"),
    "flash.campaign.hint": (
        "为本活动在任意店铺的规格上设置秒杀：名额在创建时从该规格的库存中扣出，结束时未售出的退回库存。每次创建和结束都记入审计日志。",
        "Set up a flash sale for this campaign on any shop's SKU: its units leave the SKU's stock when it is created, and the unsold ones go back when it ends. Each creation and ending is written to the audit log.",
    ),
    "flash.campaign.shop_sku": ("店铺 / 规格", "Shop / SKU"),
    "flash.campaign.shop_sku_value": ("店铺 {shop} · 规格 {sku}", "Shop {shop} · SKU {sku}"),
    "flash.campaign.sku_id": ("规格编号（SKU ID）", "SKU id"),
    "flash.campaign.sku_id_hint": (
        "任意店铺在售商品的规格编号，可在店铺的商品页或接口中查到",
        "The id of an on-sale SKU of any shop (on the shop's product page or through the API)",
    ),
    "flash.campaign.reason": ("原因（记入审计日志）", "Reason (for the audit log)"),
    "flash.campaign.reason_hint": ("可不填：默认写明所属活动", "Optional: the campaign is named if left empty"),
}
