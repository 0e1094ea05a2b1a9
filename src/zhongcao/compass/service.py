"""Compass for merchants: core data and where sales come from, over the analytics snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from zhongcao.compass import queries
from zhongcao.compass.engine import DuckDBEngine, Engine


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

    def change(self, name: str) -> float | None:
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if now is None or not before:
            return None
        return round((now - before) / before, 4)


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


def duckdb_engine(snapshot_dir: Path) -> DuckDBEngine:
    key = str(Path(snapshot_dir).resolve())
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = DuckDBEngine(Path(snapshot_dir))
    return engine


def fresh_engine(db: Any, settings: Any = None) -> DuckDBEngine:
    """The DuckDB engine over a snapshot no older than ``analytics_max_age_minutes`` (rewritten from
    the database and the event store first when it is older, or missing)."""
    from datetime import datetime

    from zhongcao import clock
    from zhongcao.compass.snapshot import read_meta, write_snapshot
    from zhongcao.config import get_settings
    from zhongcao.events import service as events_service

    settings = settings or get_settings()
    folder = Path(settings.analytics_dir)
    meta = read_meta(folder)
    stale = meta is None
    if meta is not None:
        age = clock.now() - datetime.fromisoformat(meta["written_at"])
        stale = age.total_seconds() > settings.analytics_max_age_minutes * 60 or age.total_seconds() < 0
    if stale:
        write_snapshot(db, events_service.get_store(settings), folder)
    return duckdb_engine(folder)


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
