"""Strings of the roles branch (issue #15: permission tables for the merged console pages)."""

PAIRS = {
    "campaigns.filter": ("按状态筛选", "Filter by state"),
    "campaigns.empty_filtered": (
        "没有这一状态的活动，看看全部活动吧。",
        "No campaigns in this state. Try all campaigns.",
    ),
    "merchant.products.view": ("查看", "View"),
    "merchant.csv.import_managers": (
        "导入商品（新建、改价、改库存）需要店主或运营角色；你可以导出全部商品查看。",
        "Importing products (new ones, prices, stock) needs the owner or operator role; you can export every product to read.",
    ),
    "studio.host_read_only": (
        "你的角色可以查看直播数据和观众评论；开播、下播和置顶商品需要店主或运营角色。",
        "Your role can watch the room's numbers and comments; going live, ending and pinning need the owner or operator role.",
    ),
    "campaigns.register_managers": (
        "你的角色可以查看报名情况；报名或撤回商品需要店主或运营角色。",
        "Your role can see what is registered; registering or withdrawing products needs the owner or operator role.",
    ),
}
