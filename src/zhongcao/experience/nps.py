"""Global NPS: the score with its confidence interval, broken down, and what drives detractors.

NPS = % promoters (9–10) − % detractors (0–6). Its 95% interval uses the variance of the
per-answer value (+1 promoter, 0 passive, −1 detractor): ``(p + d − (p − d)²) / n``, the normal
approximation that survey tools report; groups with fewer than :data:`MIN_GROUP` answers get no
interval (too few to say anything).

Drivers link detractors to what happened to the buyer's order — the experience score's own
indicators, seen from the buyer's side: picked up late, slow delivery, a quality case, a refund the
merchant refused, a slow or missing customer-service answer. For each, the share of answers it
touches, the detractor rate with and without it, and the NPS gap; sorted by how many detractors it
would explain (share × excess detractor rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
MIN_GROUP = 10
Z95 = 1.959964


@dataclass(frozen=True)
class Answer:
    score: int
    reasons: tuple[str, ...] = ()
    shop_id: int | None = None
    category_id: int | None = None
    channel: str | None = None
    facts: frozenset[str] = frozenset()  # the drivers that apply to this answer's order


@dataclass
class NpsStat:
    responses: int
    promoters: int
    detractors: int
    nps: float | None  # points, -100..100
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def of(cls, scores: Iterable[int]) -> NpsStat:
        values = list(scores)
        n = len(values)
        p = sum(1 for s in values if s >= PROMOTER_MIN)
        d = sum(1 for s in values if s <= DETRACTOR_MAX)
        if not n:
            return cls(0, 0, 0, None, None, None)
        nps = (p - d) / n * 100
        if n < MIN_GROUP:
            return cls(n, p, d, round(nps, 1), None, None)
        share_p, share_d = p / n, d / n
        variance = share_p + share_d - (share_p - share_d) ** 2
        half = Z95 * math.sqrt(max(variance, 0.0) / n) * 100
        return cls(
            n, p, d, round(nps, 1), round(max(-100.0, nps - half), 1), round(min(100.0, nps + half), 1)
        )


@dataclass
class Driver:
    key: str
    label_en: str
    label_zh: str
    share: float  # of answers with an order
    detractor_rate_with: float | None
    detractor_rate_without: float | None
    nps_with: float | None
    nps_without: float | None
    explained_detractors: float  # share × (rate with − rate without), in answers per 100


@dataclass
class NpsReport:
    overall: NpsStat
    by_reason: dict[str, NpsStat] = field(default_factory=dict)
    by_category: dict[int, NpsStat] = field(default_factory=dict)
    by_channel: dict[str, NpsStat] = field(default_factory=dict)
    by_shop: dict[int, NpsStat] = field(default_factory=dict)
    drivers: list[Driver] = field(default_factory=list)


DRIVERS: dict[str, tuple[str, str]] = {
    "late_pickup": ("picked up more than 48 h after payment", "付款后48小时未揽收"),
    "slow_delivery": ("more than 3 days from pickup to delivery", "揽收后3天以上送达"),
    "quality_case": ("an after-sales case for quality", "品质售后"),
    "refund_refused": ("the merchant refused a refund", "商家拒绝退款"),
    "slow_service": ("customer service took over 3 minutes (or never answered)", "客服3分钟未回复"),
}


def order_facts(
    paid_at: datetime | None,
    picked_up_at: datetime | None,
    delivered_at: datetime | None,
    platform_warehouse: bool,
    cases: list[tuple[str, str, bool | None]],
    first_response_seconds: float | None,
    had_conversation: bool,
) -> frozenset[str]:
    """The drivers that apply to one order."""
    facts: set[str] = set()
    if not platform_warehouse and paid_at is not None:
        if picked_up_at is None or (picked_up_at - paid_at).total_seconds() > 48 * 3600:
            facts.add("late_pickup")
        slow = picked_up_at and delivered_at and (delivered_at - picked_up_at).total_seconds() > 3 * 86400
        if slow:
            facts.add("slow_delivery")
    if any(reason == "quality" for reason, _, _ in cases):
        facts.add("quality_case")
    if any(status == "refused" for _, status, _ in cases):
        facts.add("refund_refused")
    if had_conversation and (first_response_seconds is None or first_response_seconds > 180):
        facts.add("slow_service")
    return frozenset(facts)


def _group(answers: list[Answer], key: Callable[[Answer], Iterable[object]]) -> dict:
    groups: dict[object, list[int]] = {}
    for a in answers:
        for k in key(a):
            if k is not None:
                groups.setdefault(k, []).append(a.score)
    return {k: NpsStat.of(v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def report(answers: list[Answer], *, with_orders: list[Answer] | None = None) -> NpsReport:
    """The NPS report over ``answers``; drivers over ``with_orders`` (answers tied to an order;
    default: those with a category, i.e. with an order)."""
    out = NpsReport(overall=NpsStat.of(a.score for a in answers))
    out.by_reason = _group(answers, lambda a: a.reasons)
    out.by_category = _group(answers, lambda a: [a.category_id])
    out.by_channel = _group(answers, lambda a: [a.channel])
    out.by_shop = _group(answers, lambda a: [a.shop_id])
    ordered = with_orders if with_orders is not None else [a for a in answers if a.category_id is not None]
    n = len(ordered)
    for key, (en, zh) in DRIVERS.items():
        hit = [a.score for a in ordered if key in a.facts]
        miss = [a.score for a in ordered if key not in a.facts]

        def rate(scores: list[int]) -> float | None:
            return sum(1 for s in scores if s <= DETRACTOR_MAX) / len(scores) if scores else None

        rw, ro = rate(hit), rate(miss)
        share = len(hit) / n if n else 0.0
        explained = (
            share * max(0.0, (rw or 0.0) - (ro or 0.0)) * 100 if rw is not None and ro is not None else 0.0
        )
        out.drivers.append(
            Driver(
                key=key,
                label_en=en,
                label_zh=zh,
                share=round(share, 4),
                detractor_rate_with=None if rw is None else round(rw, 4),
                detractor_rate_without=None if ro is None else round(ro, 4),
                nps_with=NpsStat.of(hit).nps,
                nps_without=NpsStat.of(miss).nps,
                explained_detractors=round(explained, 2),
            )
        )
    out.drivers.sort(key=lambda d: -d.explained_detractors)
    return out
