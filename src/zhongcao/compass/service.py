"""Compass for merchants: core data and where sales come from, over the analytics snapshot."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from zhongcao.compass import queries, refresher
from zhongcao.compass.engine import DuckDBEngine, Engine
from zhongcao.config import Settings
from zhongcao.db import Database


@dataclass
class PeriodTotals:
    gmv_fen: int
    orders: int
    buyers: int
    refunded_fen: int
    visitors: int

    @property
    def aov_fen(self) -> int | None:
        """GMV per order in whole fen, rounded half up (integer arithmetic)."""
        return (2 * self.gmv_fen + self.orders) // (2 * self.orders) if self.orders else None

    @property
    def conversion(self) -> float | None:
        """Buyers ÷ visitors (people who viewed one of the shop's products)."""
        return round(self.buyers / self.visitors, 4) if self.visitors else None


@dataclass
class CoreData:
    first_day: date
    last_day: date
    current: PeriodTotals
    previous: PeriodTotals
    daily: list[dict[str, Any]] = field(default_factory=list)
    # The first day the shop has records of; the previous period counts only when it covers it all.
    history_from: date | None = None

    @property
    def previous_complete(self) -> bool:
        """Whether the shop's records cover the previous period (at least its second half: see
        :func:`covers`). A period the shop (or the data) had not started yet is no base to compare
        with: a month against its last few hours reads as +3,500%."""
        days = (self.last_day - self.first_day).days + 1
        return covers(self.history_from, self.first_day - timedelta(days=days), days)

    def change(self, name: str) -> float | None:
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if now is None or not before or not self.previous_complete:
            return None
        return round((now - before) / before, 4)


def first_day(engine: Engine, shop_id: int) -> date | None:
    """The first day of the shop's records in the snapshot (sales or visitors), ``None`` if none."""
    (row,) = engine.rows(queries.first_day(shop_id))
    value = row.get("first_day")
    return date.fromisoformat(str(value)) if value else None


def _totals(engine: Engine, shop_id: int, first: date, last: date) -> PeriodTotals:
    (row,) = engine.rows(queries.totals(shop_id, first, last))
    return PeriodTotals(**{k: int(v or 0) for k, v in row.items()})


def core_data(engine: Engine, shop_id: int, today: date, days: int = 30) -> CoreData:
    """The last ``days`` days up to ``today`` against the ``days`` before them; a row for every day."""
    first = today - timedelta(days=days - 1)
    before_last = first - timedelta(days=1)
    before_first = before_last - timedelta(days=days - 1)
    by_day = {r["day"]: r for r in engine.rows(queries.daily(shop_id, first, today))}
    daily = []
    for i in range(days):
        day = (first + timedelta(days=i)).isoformat()
        row = by_day.get(day, {})
        daily.append(
            {
                "day": day,
                **{
                    k: int(row.get(k) or 0)
                    for k in ("gmv_fen", "orders", "buyers", "refunded_fen", "visitors")
                },
            }
        )
    return CoreData(
        first_day=first,
        last_day=today,
        current=_totals(engine, shop_id, first, today),
        previous=_totals(engine, shop_id, before_first, before_last),
        daily=daily,
        history_from=first_day(engine, shop_id),
    )


def sales_sources(
    engine: Engine, shop_id: int, today: date, days: int = 30
) -> dict[str, list[dict[str, Any]]]:
    """GMV, orders and buyers by channel and by FACT carrier over the last ``days`` days."""
    first = today - timedelta(days=days - 1)
    out = {}
    for column in ("channel", "carrier"):
        out[column] = [
            {
                "key": r["key"],
                "gmv_fen": int(r["gmv_fen"] or 0),
                "orders": int(r["orders"]),
                "buyers": int(r["buyers"]),
            }
            for r in engine.rows(queries.by_dimension(shop_id, first, today, column))
        ]
    return out


_engines: dict[str, DuckDBEngine] = {}
_engines_lock = threading.Lock()


def duckdb_engine(snapshot_dir: Path) -> DuckDBEngine:
    """The process's engine over one snapshot folder (engines of folders since deleted are dropped)."""
    key = str(Path(snapshot_dir).resolve())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            for old in [k for k in _engines if not Path(k).is_dir()]:
                del _engines[old]
            engine = _engines[key] = DuckDBEngine(Path(snapshot_dir))
        return engine


def current_engine(database: Database, settings: Settings | None = None) -> DuckDBEngine:
    """The DuckDB engine over the newest complete snapshot of ``database``'s data, at once: a stale
    one is refreshed in the background (:mod:`zhongcao.compass.refresher`), a missing one built now."""
    return duckdb_engine(refresher.newest_snapshot(database, settings).path)


def creator_sales(engine: Engine, shop_id: int, today: date, days: int = 30) -> list[dict[str, Any]]:
    """GMV, orders and commission per affiliated creator (alliance and top KOL) of the shop."""
    first = today - timedelta(days=days - 1)
    return [
        {
            "account_id": int(r["account_id"]),
            "carrier": r["carrier"],
            "gmv_fen": int(r["gmv_fen"] or 0),
            "orders": int(r["orders"]),
            "commission_fen": int(r["commission_fen"] or 0),
        }
        for r in engine.rows(queries.creators(shop_id, first, today))
    ]


RFM_SEGMENTS = ("champions", "loyal", "new", "at_risk", "occasional")


def rfm_segment(orders: int, spend_fen: int, days_since: int, returning: bool, spend_median: float) -> str:
    """A plain RFM rule a merchant can read: champions buy often, recently and a lot; loyal buy
    again; new bought for the first time recently; at risk have not bought for a while."""
    if orders >= 2 and days_since <= 14 and spend_fen >= spend_median:
        return "champions"
    if orders >= 2 or returning:
        return "loyal" if days_since <= 30 else "at_risk"
    if days_since <= 14:
        return "new"
    return "occasional"


def audience(engine: Engine, shop_id: int, today: date, days: int = 30) -> dict[str, Any]:
    """New vs returning buyers, repurchase rate (buyers with 2+ orders in the period), RFM segments."""
    first = today - timedelta(days=days - 1)
    rows = engine.rows(queries.buyers(shop_id, first, today))
    spends = sorted(int(r["spend_fen"] or 0) for r in rows)
    median = float(spends[len(spends) // 2]) if spends else 0.0
    segments = dict.fromkeys(RFM_SEGMENTS, 0)
    for r in rows:
        days_since = (today - date.fromisoformat(r["last_day"])).days
        segments[
            rfm_segment(int(r["orders"]), int(r["spend_fen"] or 0), days_since, bool(r["returning"]), median)
        ] += 1
    n = len(rows)
    returning = sum(1 for r in rows if int(r["returning"]))
    return {
        "buyers": n,
        "new_buyers": n - returning,
        "returning_buyers": returning,
        "repurchase_rate": round(sum(1 for r in rows if int(r["orders"]) >= 2) / n, 4) if n else None,
        "segments": segments,
    }


def content_report(
    engine: Engine, shop_id: int, today: date, days: int = 30, limit: int = 50
) -> list[dict[str, Any]]:
    """The content that showed or sold the shop's products, busiest first, with its funnel and GPM."""
    first = today - timedelta(days=days - 1)
    out = []
    for r in engine.rows(queries.content(shop_id, first, today, limit)):
        impressions, gmv = int(r["impressions"] or 0), int(r["gmv_fen"] or 0)
        out.append(
            {
                "content_id": int(r["content_id"]),
                "impressions": impressions,
                "plays": int(r["plays"] or 0),
                "anchor_clicks": int(r["anchor_clicks"] or 0),
                "orders": int(r["orders"] or 0),
                "gmv_fen": gmv,
                # GMV per 1,000 impressions in whole fen, rounded half up.
                "gpm_fen": (2 * gmv * 1000 + impressions) // (2 * impressions) if impressions else None,
                "watch_ms": int(r["watch_ms"] or 0),
            }
        )
    return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _change(now: int, before: int, complete: bool = True) -> float | None:
    """The relative change; ``None`` when there is no base: nothing before, or a previous period
    the shop's records do not cover (see :attr:`CoreData.previous_complete`)."""
    return round((now - before) / before, 4) if before and complete else None


def covers(history_from: date | None, before_first: date, days: int) -> bool:
    """Whether records starting on ``history_from`` cover enough of the previous period (``days``
    days from ``before_first``) to compare with: they start by its middle day."""
    return history_from is not None and history_from <= before_first + timedelta(days=days // 2)


def _covers(engine: Engine, shop_id: int, before_first: date, days: int) -> bool:
    return covers(first_day(engine, shop_id), before_first, days)


def _periods(today: date, days: int) -> tuple[date, date, date]:
    """First day of the period ending ``today``, and the first and last day of the one before."""
    first = today - timedelta(days=days - 1)
    before_last = first - timedelta(days=1)
    return first, before_last - timedelta(days=days - 1), before_last


PRODUCT_COUNTS = (
    "exposures",
    "search_exposures",
    "content_exposures",
    "clicks",
    "add_to_carts",
    "orders",
    "units",
    "buyers",
    "gmv_fen",
    "refunds",
    "refunded_fen",
    "reviews",
    "bad_reviews",
)
PRODUCT_SORTS = ("gmv_fen", "orders", "exposures", "clicks", "refunds", "reviews")


def _product_measures(row: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = {k: int(row.get(k) or 0) for k in PRODUCT_COUNTS if k != "exposures"}
    m["exposures"] = m["search_exposures"] + m["content_exposures"]
    rating_sum, reviews = int(row.get("rating_sum") or 0), m["reviews"]
    # Half-up average in hundredths of a star, as the reviews service rounds it (4.666… -> 467).
    m["average_rating_centi"] = (rating_sum * 200 + reviews) // (2 * reviews) if reviews else None
    m["click_rate"] = _ratio(m["clicks"], m["exposures"])
    m["conversion"] = _ratio(m["orders"], m["clicks"])
    m["refund_rate"] = _ratio(m["refunds"], m["orders"])
    return m


def product_report(
    engine: Engine, shop_id: int, today: date, days: int = 30, *, sort: str = "gmv_fen", limit: int = 50
) -> list[dict[str, Any]]:
    """Per product of the shop active in the period or the one before: its funnel (exposures →
    clicks → add-to-carts → orders), refunds and reviews in both periods and the change; ``sort``
    (one of :data:`PRODUCT_SORTS`, descending) then exposures, then product id."""
    if sort not in PRODUCT_SORTS:
        raise ValueError(f"cannot sort products by {sort!r}")
    first, before_first, before_last = _periods(today, days)
    now = {
        int(r["product_id"]): _product_measures(r)
        for r in engine.rows(queries.products(shop_id, first, today))
    }
    before = {
        int(r["product_id"]): _product_measures(r)
        for r in engine.rows(queries.products(shop_id, before_first, before_last))
    }
    nothing = _product_measures({})
    complete = _covers(engine, shop_id, before_first, days)
    rows: list[dict[str, Any]] = []
    for product_id in set(now) | set(before):
        current, previous = now.get(product_id, nothing), before.get(product_id, nothing)
        rows.append(
            {
                "product_id": product_id,
                "current": current,
                "previous": previous,
                "change": {k: _change(current[k], previous[k], complete) for k in PRODUCT_COUNTS},
            }
        )
    rows.sort(key=lambda r: (-r["current"][sort], -r["current"]["exposures"], r["product_id"]))
    return rows[:limit]


# A shop "wins" a query when it gets at least this share of the query's clicks (in per cent).
MISSED_BELOW_PERCENT = 10
SEARCH_COUNTS = ("exposures", "clicks", "orders", "gmv_fen")


def search_report(
    engine: Engine, shop_id: int, today: date, days: int = 30, limit: int = 50
) -> dict[str, Any]:
    """The queries that led to the shop (with the shop's shares and its numbers the period before),
    and the demand it could serve but does not win (:func:`queries.missed_queries`)."""
    first, before_first, before_last = _periods(today, days)
    before = {
        r["query"]: {k: int(r[k] or 0) for k in SEARCH_COUNTS}
        for r in engine.rows(queries.shop_queries(shop_id, before_first, before_last))
    }
    led = []
    complete = _covers(engine, shop_id, before_first, days)
    for r in engine.rows(queries.shop_queries(shop_id, first, today, limit)):
        current = {k: int(r[k] or 0) for k in SEARCH_COUNTS}
        previous = before.get(r["query"], dict.fromkeys(SEARCH_COUNTS, 0))
        led.append(
            {
                "query": r["query"],
                "searches": int(r["searches"] or 0),
                **current,
                "exposure_share": _ratio(current["exposures"], int(r["query_exposures"] or 0)),
                "click_share": _ratio(current["clicks"], int(r["query_clicks"] or 0)),
                "previous": previous,
                "change": {k: _change(current[k], previous[k], complete) for k in SEARCH_COUNTS},
            }
        )
    missed = []
    for r in engine.rows(queries.missed_queries(shop_id, first, today, MISSED_BELOW_PERCENT, limit)):
        counts = {
            k: int(r[k] or 0)
            for k in (
                "searches",
                "exposures",
                "clicks",
                "orders",
                "shop_exposures",
                "shop_clicks",
                "shop_orders",
            )
        }
        missed.append(
            {
                "query": r["query"],
                "category_id": int(r["category_id"]),
                **counts,
                "exposure_share": _ratio(counts["shop_exposures"], counts["exposures"]),
                "click_share": _ratio(counts["shop_clicks"], counts["clicks"]),
            }
        )
    return {"first_day": first, "last_day": today, "queries": led, "missed": missed}


# --- creators and the operator (the consoles read these) --------------------------------------------


def account_sales(engine: Engine, account_id: int, first: date, last: date) -> list[dict[str, Any]]:
    """Per day: GMV, orders and commission of the sales attributed to an account (a creator's view)."""
    return engine.rows(queries.account_sales(account_id, first, last))


def account_content(
    engine: Engine, account_id: int, content_ids: list[int], first: date, last: date
) -> dict[int, dict[str, int]]:
    """Per content item of the account: impressions, plays, anchor clicks, orders, GMV, commission."""
    if not content_ids:
        return {}
    rows = engine.rows(queries.account_content(account_id, content_ids, first, last))
    return {int(r["content_id"]): {k: int(v or 0) for k, v in r.items() if k != "content_id"} for r in rows}


def gmv_by_field(engine: Engine, first: date, last: date) -> list[dict[str, Any]]:
    """Platform GMV and orders per day and field (content, center, other)."""
    return engine.rows(queries.gmv_by_field(first, last))


def account_products(engine: Engine, account_id: int, first: date, last: date) -> dict[int, dict[str, int]]:
    """Per product an account sold in the period: orders, units, GMV and commission."""
    rows = engine.rows(queries.account_products(account_id, first, last))
    return {int(r["product_id"]): {k: int(v or 0) for k, v in r.items() if k != "product_id"} for r in rows}
