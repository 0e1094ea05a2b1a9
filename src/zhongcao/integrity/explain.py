"""A block or a case in words, in zh-CN and en.

A fresh block (the detectors' output, with its full evidence): :func:`explain` turns it into a message
key and its parameters (:class:`Explanation`); :func:`render` writes it in a locale. The keys and
texts below are also merged into the pages' gettext catalogs (``scripts/messages.py from-pairs
src/zhongcao/integrity/explain.py``), so a page renders the same explanation with ``t(key,
**params)``; parameters ending in ``_key`` name another message (an action's verb) to render in the
same locale first.

A recorded case, years later (:func:`describe_case`): who acted, on what, how densely, how fast, in
which window, from what the case keeps (its fields and evidence), so the desk and the API can explain
any case in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhongcao import clock
from zhongcao.integrity.blocks import Block, BlockKind
from zhongcao.integrity.models import IntegrityCase

LOCALES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "integrity.explain.engagement": (
        "{accounts} 个账号在 {start} 至 {end} 之间同步{action_key}了同样的 {targets} 个目标（{events} 次，"
        "密度 {density}%），{in_burst}% 的动作落在 {burst_minutes} 分钟内的集中爆发里",
        "{accounts} accounts {action_key} the same {targets} targets between {start} and {end} "
        "({events} actions, {density}% dense); {in_burst}% of the actions fell in bursts of "
        "{burst_minutes} minutes",
    ),
    "integrity.explain.velocity": (
        "账号 {account} 在 {window_minutes} 分钟内{action_key} {count} 次（上限 {limit}），结束于 {end}",
        "Account {account} {action_key} {count} times within {window_minutes} minutes (limit {limit}), "
        "ending {end}",
    ),
    "integrity.explain.velocity_same_target": (
        "账号 {account} 在 {window_minutes} 分钟内对同一目标{action_key} {count} 次（上限 {limit}），结束于 {end}",
        "Account {account} {action_key} the same target {count} times within {window_minutes} minutes "
        "(limit {limit}), ending {end}",
    ),
    "integrity.explain.brushing": (
        "店铺 {shop} 的 {accounts} 个买家在 {start} 至 {end} 之间下了 {orders} 笔疑似刷单：{fast}% 极快确认收货，"
        "{cheap}% 买店里最便宜的商品，{five}% 给五星好评；共用 {addresses} 个收货地址、{devices} 台设备、"
        "{payments} 个支付账户",
        "{accounts} buyers placed {orders} suspected brushing orders at shop {shop} between {start} and "
        "{end}: {fast}% confirmed receipt at once, {cheap}% bought the shop's cheapest items, {five}% "
        "left five stars; they share {addresses} addresses, {devices} devices and {payments} payment "
        "instruments",
    ),
    "integrity.explain.review_text": (
        "{accounts} 个账号给店铺 {shop} 写了 {reviews} 条几乎相同的评价（{start} 至 {end}），例如：“{example}”",
        "{accounts} accounts wrote {reviews} near-identical reviews of shop {shop} between {start} and "
        "{end}, for example: “{example}”",
    ),
    "integrity.action.view": ("观看", "viewed"),
    "integrity.action.like": ("点赞", "liked"),
    "integrity.action.comment": ("评论", "commented on"),
    "integrity.action.follow": ("关注", "followed"),
}


@dataclass(frozen=True)
class Explanation:
    key: str
    params: dict[str, str | int] = field(default_factory=dict)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def explain(block: Block) -> Explanation:
    """The message key and parameters that say what ``block`` is evidence of."""
    ev = block.evidence
    common: dict[str, str | int] = {
        "accounts": len(block.accounts),
        "targets": len(block.targets),
        "start": _when(block.start),
        "end": _when(block.end),
        "events": block.events,
    }
    if block.kind is BlockKind.engagement:
        return Explanation(
            "integrity.explain.engagement",
            common
            | {
                "action_key": f"integrity.action.{ev.get('action', 'view')}",
                "density": round(100 * block.density),
                "in_burst": round(100 * float(ev.get("in_burst_share", 0.0))),
                "burst_minutes": int(ev.get("burst_seconds", 0)) // 60,
            },
        )
    if block.kind is BlockKind.velocity:
        key = (
            "integrity.explain.velocity_same_target"
            if ev.get("same_target")
            else "integrity.explain.velocity"
        )
        return Explanation(
            key,
            common
            | {
                "account": int(block.accounts[0]) if len(block.accounts) else 0,
                "action_key": f"integrity.action.{ev.get('action', 'view')}",
                "count": int(ev.get("count", block.events)),
                "limit": int(ev.get("limit", 0)),
                "window_minutes": int(ev.get("window_seconds", 0)) // 60,
            },
        )
    shop = int(block.targets[0]) if len(block.targets) else 0
    if block.kind is BlockKind.brushing:
        return Explanation(
            "integrity.explain.brushing",
            common
            | {
                "shop": shop,
                "orders": int(ev.get("orders", len(block.order_ids))),
                "fast": round(100 * float(ev.get("fast_confirm_share", 0.0))),
                "cheap": round(100 * float(ev.get("cheap_share", 0.0))),
                "five": round(100 * float(ev.get("five_star_share", 0.0))),
                "addresses": int(ev.get("shared_addresses", 0)),
                "devices": int(ev.get("shared_devices", 0)),
                "payments": int(ev.get("shared_payments", 0)),
            },
        )
    return Explanation(
        "integrity.explain.review_text",
        common
        | {
            "shop": shop,
            "reviews": int(ev.get("reviews", block.events)),
            "example": str(ev.get("example", "")),
        },
    )


def render(explanation: Explanation, locale: str) -> str:
    """The explanation in ``locale`` (``zh`` or ``en``)."""
    index = LOCALES.index(locale) if locale in LOCALES else 0
    params = {
        name: MESSAGES[str(value)][index] if name.endswith("_key") else value
        for name, value in explanation.params.items()
    }
    return MESSAGES[explanation.key][index].format(**params)


def describe(block: Block) -> dict[str, str]:
    """The block in both locales: ``{"zh": ..., "en": ...}``."""
    explanation = explain(block)
    return {locale: render(explanation, locale) for locale in LOCALES}


# --- a recorded case ------------------------------------------------------------------------------

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


def describe_case(case: IntegrityCase, members: dict[str, int], locale: str) -> str:
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
