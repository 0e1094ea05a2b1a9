"""A case in words, from its recorded block: who acted, on what, how densely, how fast, in which
window. Part A's ``integrity.explain`` explains a fresh block from the detector's full evidence; this
reads what a case keeps (its fields and evidence), so the desk and the API can explain any case,
years later, in the reader's language."""

from __future__ import annotations

from typing import Any

from zhongcao import clock
from zhongcao.integrity.blocks import BlockKind
from zhongcao.integrity.models import IntegrityCase

_KIND = {
    "en": {
        BlockKind.engagement: "{users} accounts acted in lockstep on {targets} {target_kind} targets",
        BlockKind.velocity: "{users} account(s) acted faster than a person can on {targets} {target_kind} targets",
        BlockKind.brushing: "{users} buyers placed {orders} orders at {targets} shop(s) as a ring",
        BlockKind.review_text: "{users} accounts wrote near-identical reviews for {targets} shop(s)",
    },
    "zh": {
        BlockKind.engagement: "{users} 个账号对 {targets} 个{target_kind}目标同步操作",
        BlockKind.velocity: "{users} 个账号对 {targets} 个{target_kind}目标的操作速度超出常人",
        BlockKind.brushing: "{users} 个买家在 {targets} 家店铺集中下单 {orders} 笔（刷单团伙）",
        BlockKind.review_text: "{users} 个账号为 {targets} 家店铺写了几乎相同的评价",
    },
}
_TARGET_KIND = {
    "en": {"content": "content", "account": "account", "product": "product", "shop": "shop"},
    "zh": {"content": "内容", "account": "账号", "product": "商品", "shop": "店铺"},
}
_TAIL = {
    "en": "{events} actions between {start} and {end} UTC+8 ({minutes} min), density {density:.0%}, score {score:.2f}.",
    "zh": "{start} 至 {end}（UTC+8，{minutes} 分钟）内共 {events} 次操作，密度 {density:.0%}，可疑分 {score:.2f}。",
}


def describe(case: IntegrityCase, members: dict[str, int], locale: str) -> str:
    """One or two sentences; ``members`` is the case's member count per kind."""
    lang = "en" if locale == "en" else "zh"
    target_kind = case.target_kind.value
    targets = members.get(target_kind, 0) if target_kind != "account" else members.get("account", 0)
    fields: dict[str, Any] = {
        "users": members.get("user", 0),
        "targets": targets,
        "orders": members.get("order", 0),
        "target_kind": _TARGET_KIND[lang].get(target_kind, target_kind),
    }
    head = _KIND[lang].get(case.kind, "{users} / {targets}").format(**fields)
    minutes = max(0, round((case.window_end - case.window_start).total_seconds() / 60))
    tail = _TAIL[lang].format(
        events=case.events,
        # The consoles show times in the business time zone (UTC+8), and so does the explanation.
        start=case.window_start.astimezone(clock.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M"),
        end=case.window_end.astimezone(clock.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M"),
        minutes=minutes,
        density=case.density,
        score=case.score,
    )
    sep = ", " if lang == "en" else "，"
    extra = [
        f"{k}: {v}" for k, v in sorted((case.evidence or {}).items()) if isinstance(v, int | float | str)
    ][:4]
    cited = (" (" + "; ".join(extra) + ")") if extra else ""
    return f"{head}{sep}{tail}{cited}"
