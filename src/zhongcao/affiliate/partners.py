"""A shop's creator partners: who sells its goods under its affiliate plans, with their orders, GMV
and commission over a window; and finding creators to invite to a targeted or exclusive plan.

Orders, GMV and the commission the lines carry come from the paid order lines sold under a plan
(``commerce.service.shop_creator_sales``, by the time the order was paid); "booked" is what the
commission ledger recorded for the shop in the same window (accruals when orders complete, minus
reversals for refunds after completion), so an order paid in the window but not yet complete carries
commission that is not booked yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.affiliate.models import CommissionEntry
from zhongcao.commerce import service as commerce_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service

if TYPE_CHECKING:
    from zhongcao.content.models import Account

MAX_PARTNERS = 200


@dataclass(frozen=True)
class Span:
    """The last ``days`` days, today included (UTC days, as the consoles' analytics windows)."""

    first_day: date
    last_day: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first_day, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(), tzinfo=UTC)


def last_days(days: int) -> Span:
    today = clock.now().astimezone(UTC).date()
    return Span(today - timedelta(days=days - 1), today)


@dataclass(frozen=True)
class CreatorPartner:
    account: Account
    orders: int
    items: int
    gmv_fen: int
    refunded_fen: int
    commission_fen: int  # carried by the lines sold in the window
    booked_fen: int  # net ledger entries of the window


def _booked_by_account(db: Session, shop_id: int, since: datetime, until: datetime) -> dict[int, int]:
    rows = db.execute(
        select(CommissionEntry.account_id, func.sum(CommissionEntry.amount_fen))
        .where(
            CommissionEntry.shop_id == shop_id,
            CommissionEntry.created_at >= since,
            CommissionEntry.created_at < until,
        )
        .group_by(CommissionEntry.account_id)
    )
    return {int(a): int(total or 0) for a, total in rows}


def shop_creators(
    db: Session, shop_id: int, since: datetime, until: datetime, *, limit: int = MAX_PARTNERS
) -> list[CreatorPartner]:
    """The creators who sold the shop's goods (or had commission booked) in ``[since, until)``,
    biggest GMV first."""
    sales = commerce_service.shop_creator_sales(db, shop_id, since, until)
    booked = _booked_by_account(db, shop_id, since, until)
    ids = sorted(set(sales) | set(booked))
    accounts = content_service.accounts_by_ids(db, ids)
    out = []
    for account_id in ids:
        account = accounts.get(account_id)
        if account is None:
            continue
        s = sales.get(account_id)
        out.append(
            CreatorPartner(
                account=account,
                orders=s.orders if s else 0,
                items=s.items if s else 0,
                gmv_fen=s.gmv_fen if s else 0,
                refunded_fen=s.refunded_fen if s else 0,
                commission_fen=s.commission_fen if s else 0,
                booked_fen=booked.get(account_id, 0),
            )
        )
    out.sort(key=lambda p: (-p.gmv_fen, -p.booked_fen, p.account.id))
    return out[:limit]


def find_creators(db: Session, query: str, *, limit: int = 20) -> Sequence[Account]:
    """Creator accounts by name or handle (the invite search)."""
    return content_reads.find_creator_accounts(db, query[:80], limit=limit)
