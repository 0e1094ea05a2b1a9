"""Settlements: one per completed order, pending until ``settlement_days`` after completion.

The ``settlements`` job (:func:`run_settlements`) records a pending settlement for every completed
order it has not seen, refreshes pending ones (a refund after completion lowers what the shop
receives), and settles those completed at least ``settlement_days`` ago. A settled row is never
changed again, so running the job twice settles nothing twice. Order amounts are read through
:mod:`zhongcao.commerce.service`; this domain owns only its own table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.commerce import service as commerce_service
from zhongcao.config import Settings, get_settings
from zhongcao.errors import InvalidInput
from zhongcao.finance.models import Settlement, SettlementStatus
from zhongcao.pagination import PageParams, paginate_by_id

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])  # a select of any columns
BATCH = 500  # orders per transaction: bounds a run's memory and lock time
MAX_PERIOD_DAYS = 366  # a statement covers at most a year


def recorded_order_ids() -> Select[Any]:
    return select(Settlement.order_id)


def _amounts(row: Settlement, money: commerce_service.OrderMoney) -> None:
    row.paid_fen = money.paid_fen
    row.subsidy_fen = money.subsidy_fen
    row.platform_fee_fen = money.platform_fee_fen
    row.commission_fen = money.commission_fen
    row.refunded_fen = money.refunded_fen
    row.settlement_fen = (
        money.paid_fen
        + money.subsidy_fen
        - money.platform_fee_fen
        - money.commission_fen
        - money.refunded_fen
    )


def _record_new(db: Session) -> int:
    recorded = 0
    while True:
        batch = commerce_service.completed_order_money(db, skip=recorded_order_ids(), limit=BATCH)
        for money in batch:
            row = Settlement(
                order_id=money.order_id,
                shop_id=money.shop_id,
                status=SettlementStatus.pending,
                completed_at=money.completed_at,
            )
            _amounts(row, money)
            db.add(row)
        db.commit()
        recorded += len(batch)
        if len(batch) < BATCH:
            return recorded


def _refresh_and_settle(db: Session, cutoff: datetime, now: datetime) -> tuple[int, int]:
    refreshed = settled = 0
    after = 0
    while True:
        # Locked, so that a concurrent run (the runner leases jobs, but a one-shot ``jobs run`` may
        # overlap) waits here and then sees the row settled.
        rows = db.scalars(
            select(Settlement)
            .where(Settlement.status == SettlementStatus.pending, Settlement.id > after)
            .order_by(Settlement.id)
            .limit(BATCH)
            .with_for_update()
        ).all()
        if not rows:
            db.commit()  # ends the read, so that no lock outlives the run
            return refreshed, settled
        money = commerce_service.order_money(db, [r.order_id for r in rows])
        for row in rows:
            if row.order_id in money:
                _amounts(row, money[row.order_id])
            if row.completed_at <= cutoff:
                row.status = SettlementStatus.settled
                row.settled_at = now
                settled += 1
            else:
                refreshed += 1
        after = rows[-1].id
        db.commit()


def run_settlements(
    db: Session, now: datetime | None = None, *, settings: Settings | None = None
) -> dict[str, int]:
    """The ``settlements`` job: record, refresh and settle (see the module docstring). Idempotent."""
    now = now or clock.now()
    settings = settings or get_settings()
    recorded = _record_new(db)
    refreshed, settled = _refresh_and_settle(db, now - timedelta(days=settings.settlement_days), now)
    return {
        "settlements_recorded": recorded,
        "settlements_refreshed": refreshed,
        "settlements_settled": settled,
    }


# --- reads ---------------------------------------------------------------------------------------


def period_bounds(start: date | None, end: date | None, today: date | None = None) -> tuple[date, date]:
    """The statement's days, both inclusive (business days, UTC+8: ``clock.business_days``); by
    default the current month up to today."""
    today = today or clock.business_today()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidInput("the period starts after it ends", code="invalid_period", field="from")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"a statement covers at most {MAX_PERIOD_DAYS} days", code="period_too_long", field="from"
        )
    return start, end


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    return clock.business_days(start, end)


def _in_period(stmt: _S, shop_id: int, start: date, end: date) -> _S:
    since, until = _window(start, end)
    return stmt.where(
        Settlement.shop_id == shop_id, Settlement.completed_at >= since, Settlement.completed_at < until
    )


def settlements_page(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    start: date,
    end: date,
    status: SettlementStatus | None = None,
) -> tuple[Sequence[Settlement], str | None]:
    stmt = _in_period(select(Settlement), shop_id, start, end)
    if status is not None:
        stmt = stmt.where(Settlement.status == status)
    return paginate_by_id(db, stmt, Settlement.id, params)


def settlements_in_period(db: Session, shop_id: int, start: date, end: date) -> Sequence[Settlement]:
    """Every settlement of the period, by completion (the CSV export)."""
    return db.scalars(
        _in_period(select(Settlement), shop_id, start, end).order_by(Settlement.completed_at, Settlement.id)
    ).all()


@dataclass
class Totals:
    orders: int = 0
    paid_fen: int = 0
    subsidy_fen: int = 0
    platform_fee_fen: int = 0
    commission_fen: int = 0
    refunded_fen: int = 0
    settlement_fen: int = 0


@dataclass
class Statement:
    start: date
    end: date
    total: Totals = field(default_factory=Totals)
    pending: Totals = field(default_factory=Totals)
    settled: Totals = field(default_factory=Totals)


AMOUNTS = ("paid_fen", "subsidy_fen", "platform_fee_fen", "commission_fen", "refunded_fen", "settlement_fen")


def statement(db: Session, shop_id: int, start: date, end: date) -> Statement:
    """Totals of the settlements of orders completed in the period, pending and settled apart."""
    columns = [func.coalesce(func.sum(getattr(Settlement, name)), 0) for name in AMOUNTS]
    rows = db.execute(
        _in_period(select(Settlement.status, func.count(), *columns), shop_id, start, end).group_by(
            Settlement.status
        )
    ).all()
    result = Statement(start=start, end=end)
    for row in rows:
        status, count, amounts = row[0], row[1], row[2:]
        part = result.pending if SettlementStatus(status) is SettlementStatus.pending else result.settled
        part.orders = int(count)
        for name, value in zip(AMOUNTS, amounts, strict=True):
            setattr(part, name, int(value))
    result.total.orders = result.pending.orders + result.settled.orders
    for name in AMOUNTS:
        setattr(result.total, name, getattr(result.pending, name) + getattr(result.settled, name))
    return result


def settled_order_ids(db: Session, order_ids: Sequence[int]) -> set[int]:
    if not order_ids:
        return set()
    return set(
        db.scalars(
            select(Settlement.order_id).where(
                Settlement.order_id.in_(order_ids), Settlement.status == SettlementStatus.settled
            )
        )
    )
