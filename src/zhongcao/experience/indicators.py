"""Gather each shop's experience indicators from the platform's own records (through each domain's
service), for :mod:`zhongcao.experience.scoring`.

Windows end at ``now``: the main window is the last ``window_days`` days; quality refunds use the
lagged window of days ``refund_lag_start_days``–``refund_lag_end_days`` before today (refunds arrive
weeks after the order, so a recent window would flatter every shop). Logistics faults on orders
shipped from a platform warehouse are the platform's, not the merchant's: those orders are left out of
both logistics indicators. Customer-service replies count only for conversations started 08:00–22:59
China time, when shops are expected to staff their inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import overload

import numpy as np
from sqlalchemy.orm import Session

from zhongcao.aftersales import service as aftersales_service
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.experience.scoring import ScoreConfig, ScoreRules, ShopInputs
from zhongcao.integrity import holds as integrity_holds
from zhongcao.reviews import service as reviews_service
from zhongcao.shops import service as shops_service
from zhongcao.support import service as support_service

CHINA = timezone(timedelta(hours=8))  # no daylight saving: a fixed offset is exact
CS_HOURS = range(8, 23)  # 08:00–22:59
CS_REPLY_SECONDS = 180


# Overloaded so that a timestamp that is never NULL stays typed as one after the conversion.
@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...
def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def pickup_timeliness(
    rows: list[tuple[datetime, datetime | None]], now: datetime, points: tuple[float, float, float]
) -> float | None:
    """Points per order for ``(paid at, picked up at)``: within 24 h, 24–36 h, 36–48 h of payment
    earn ``points``; later (or not picked up 48 h after payment) earns 0. Orders paid less than 48 h
    ago and not picked up yet are not judged."""
    earned, judged = 0.0, 0
    for paid, picked in rows:
        if picked is None:
            if _hours(paid, now) < 48:
                continue
            judged += 1
            continue
        hours = _hours(paid, picked)
        judged += 1
        if hours <= 24:
            earned += points[0]
        elif hours <= 36:
            earned += points[1]
        elif hours <= 48:
            earned += points[2]
    return earned / judged if judged else None


def gather(db: Session, now: datetime, rules: ScoreRules | None = None) -> list[ShopInputs]:
    """Every active shop's indicator values as of ``now``."""
    rules = rules or ScoreRules()
    categories = catalog_service.shop_main_categories(db)
    shop_ids = sorted(db.scalars(shops_service.active_shop_ids_query()))
    # Shops grouped by the configuration that applies to them (usually one group: the default).
    groups: dict[int, tuple[ScoreConfig, list[int]]] = {}
    for shop_id in shop_ids:
        config = rules.for_category(categories.get(shop_id))
        groups.setdefault(id(config), (config, []))[1].append(shop_id)
    out: list[ShopInputs] = []
    for config, members in groups.values():
        out += _gather_window(db, now, config, members, categories)
    out.sort(key=lambda s: s.shop_id)
    return out


def _gather_window(
    db: Session, now: datetime, config: ScoreConfig, shop_ids: list[int], categories: dict[int, int]
) -> list[ShopInputs]:
    since = now - timedelta(days=config.window_days)
    lag_since = now - timedelta(days=config.refund_lag_end_days)
    lag_until = now - timedelta(days=config.refund_lag_start_days)
    # Brushed orders (flagged by the integrity domain) and their reviews do not count: a ring of
    # fake five-star orders must not dilute a shop's bad-review, refund and complaint rates. Nor do
    # orders held until their evidence is in: a ring must not get a shop scored before it is caught.
    brushed = integrity_holds.uncounted_order_ids(db)
    paid = commerce_service.paid_order_counts(db, since, now, excluding=brushed)
    paid_lagged = commerce_service.paid_order_counts(db, lag_since, lag_until, excluding=brushed)
    delivered = commerce_service.delivered_order_counts(db, since, now, excluding=brushed)
    bad_reviews = reviews_service.bad_first_review_counts(db, since, now, excluding_orders=brushed)
    quality_refunds = aftersales_service.quality_refund_counts(db, lag_since, lag_until)
    complaints = support_service.complaint_counts(db, since, now)
    disputes = aftersales_service.merchant_at_fault_counts(db, since, now)

    pickups: dict[int, list[tuple[datetime, datetime | None]]] = {}
    deliveries: dict[int, list[float]] = {}
    for shop_id, paid_at, picked, delivered_at, warehouse, _shipped in commerce_service.fulfilment_rows(
        db, since, now, excluding=brushed
    ):
        if warehouse:
            continue  # the platform's warehouse shipped it: not the merchant's logistics
        paid_at, picked, delivered_at = _aware(paid_at), _aware(picked), _aware(delivered_at)
        pickups.setdefault(shop_id, []).append((paid_at, picked))
        if picked is not None and delivered_at is not None:
            deliveries.setdefault(shop_id, []).append(_hours(picked, delivered_at))

    replies: dict[int, list[bool]] = {}
    for shop_id, started, answered in support_service.conversation_rows(db, since, now):
        started, answered = _aware(started), _aware(answered)
        if started.astimezone(CHINA).hour not in CS_HOURS:
            continue
        fast = answered is not None and (answered - started).total_seconds() <= CS_REPLY_SECONDS
        replies.setdefault(shop_id, []).append(fast)

    handling: dict[int, list[float]] = {}
    for shop_id, requested, decided in aftersales_service.handling_rows(db, since, now):
        requested, decided = _aware(requested), _aware(decided)
        # An undecided case counts for the time it has waited so far.
        handling.setdefault(shop_id, []).append(_hours(requested, decided or now))

    def rate(numerator: dict[int, int], denominator: dict[int, int], shop_id: int) -> float | None:
        d = denominator.get(shop_id, 0)
        return numerator.get(shop_id, 0) / d if d else None

    out = []
    for shop_id in shop_ids:
        values: dict[str, float | None] = {
            "bad_review_rate": rate(bad_reviews, delivered, shop_id),
            "quality_refund_rate": rate(quality_refunds, paid_lagged, shop_id),
            "pickup_timeliness": pickup_timeliness(pickups.get(shop_id, []), now, config.pickup_points),
            "delivery_hours": float(np.mean(deliveries[shop_id])) if deliveries.get(shop_id) else None,
            "complaint_rate": rate(complaints, paid, shop_id),
            "dispute_rate": rate(disputes, paid, shop_id),
            "cs_3min_share": float(np.mean(replies[shop_id])) if replies.get(shop_id) else None,
            "aftersales_hours": float(np.mean(handling[shop_id])) if handling.get(shop_id) else None,
        }
        out.append(ShopInputs(shop_id, categories.get(shop_id), paid.get(shop_id, 0), values))
    return out
