"""Notifications to a content owner about a take-down and its appeal (issue #16)."""

PAIRS = {
    "notify.kind.content_taken_down": (
        "你的内容「%(product)s」已被平台下架：%(preview)s。可查看原因并申诉一次。",
        "Your content “%(product)s” was taken down: %(preview)s. See why and appeal once.",
    ),
    "notify.kind.content_restored": (
        "申诉成功，内容「%(product)s」已恢复：%(preview)s",
        "Appeal granted: “%(product)s” is back. %(preview)s",
    ),
    "notify.kind.takedown_upheld": (
        "申诉未通过，内容「%(product)s」维持下架：%(preview)s",
        "Appeal refused: “%(product)s” stays down. %(preview)s",
    ),
    "notify.kind_name.content_taken_down": ("内容下架", "Content taken down"),
    "notify.kind_name.content_restored": ("申诉成功", "Appeal granted"),
    "notify.kind_name.takedown_upheld": ("申诉未通过", "Appeal refused"),
}
