"""Strings of the roles branch (issue #15: permission tables for the merged console pages)."""

PAIRS = {
    "campaigns.filter": ("按状态筛选", "Filter by state"),
    "campaigns.empty_filtered": (
        "没有这一状态的活动，看看全部活动吧。",
        "No campaigns in this state. Try all campaigns.",
    ),
}
