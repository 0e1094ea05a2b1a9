"""The commission ledger: what creators earn, posted when orders complete and reversed on refunds.

Rule: an item's net commission is its commission minus the refunded share of it,

    net = commission_fen - round_half_up(commission_fen * refunded_fen / paid_fen)

An accrual of the net is posted when the order completes. A refund after completion posts a
(negative) reversal of the change in net. So for every completed item the entries sum to ``net``,
whatever the order of refunds and completion.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao.affiliate.models import CommissionEntry, CommissionKind
from zhongcao.money import proportional


class CommissionedItem(Protocol):
    """What the ledger needs of an order item (commerce.models.OrderItem satisfies it)."""

    id: int
    order_id: int
    shop_id: int
    account_id: int | None
    commission_fen: int
    paid_fen: int
    refunded_fen: int


def net_commission(item: CommissionedItem, refunded_fen: int | None = None) -> int:
    refunded = item.refunded_fen if refunded_fen is None else refunded_fen
    return item.commission_fen - proportional(item.commission_fen, refunded, item.paid_fen)


def _has_accrual(db: Session, item_id: int) -> bool:
    return (
        db.scalars(
            select(func.count())
            .select_from(CommissionEntry)
            .where(CommissionEntry.order_item_id == item_id, CommissionEntry.kind == CommissionKind.accrual)
        ).one()
        > 0
    )


def accrue_for_completed_order(db: Session, items: Iterable[CommissionedItem]) -> list[CommissionEntry]:
    """Post each commissioned item's net commission. Idempotent: an item is accrued once."""
    entries = []
    for item in items:
        if not item.account_id or item.commission_fen <= 0 or _has_accrual(db, item.id):
            continue
        entry = CommissionEntry(
            order_item_id=item.id,
            order_id=item.order_id,
            shop_id=item.shop_id,
            account_id=item.account_id,
            kind=CommissionKind.accrual,
            amount_fen=net_commission(item),
        )
        db.add(entry)
        entries.append(entry)
    db.flush()
    return entries


def reverse_for_refund(
    db: Session, item: CommissionedItem, *, refunded_before_fen: int, refund_id: int | None
) -> CommissionEntry | None:
    """After ``item.refunded_fen`` grew by a refund, post the commission it takes back.

    Only items already accrued get a reversal; for the others the accrual (posted later, at
    completion) is computed on the net and so already excludes the refund.
    """
    if not item.account_id or item.commission_fen <= 0 or not _has_accrual(db, item.id):
        return None
    delta = net_commission(item) - net_commission(item, refunded_before_fen)
    if delta == 0:
        return None
    entry = CommissionEntry(
        order_item_id=item.id,
        order_id=item.order_id,
        shop_id=item.shop_id,
        account_id=item.account_id,
        kind=CommissionKind.reversal,
        amount_fen=delta,
        refund_id=refund_id,
    )
    db.add(entry)
    db.flush()
    return entry


def balance_for_account(db: Session, account_id: int) -> int:
    return int(
        db.scalars(
            select(func.coalesce(func.sum(CommissionEntry.amount_fen), 0)).where(
                CommissionEntry.account_id == account_id
            )
        ).one()
    )


def entries_for_item(db: Session, item_id: int) -> list[CommissionEntry]:
    return list(
        db.scalars(
            select(CommissionEntry)
            .where(CommissionEntry.order_item_id == item_id)
            .order_by(CommissionEntry.id)
        )
    )


def entries_in_period(
    db: Session, account_id: int, since: datetime, until: datetime
) -> list[CommissionEntry]:
    """The account's entries posted in ``[since, until)``, oldest first (a statement's lines)."""
    return list(
        db.scalars(
            select(CommissionEntry)
            .where(
                CommissionEntry.account_id == account_id,
                CommissionEntry.created_at >= since,
                CommissionEntry.created_at < until,
            )
            .order_by(CommissionEntry.created_at, CommissionEntry.id)
        )
    )
