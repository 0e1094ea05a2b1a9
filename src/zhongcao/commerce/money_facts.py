"""Completed orders' money, for the shop's settlement (read by zhongcao.finance via the service)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from zhongcao.affiliate import ledger
from zhongcao.commerce.models import Order, OrderItem, OrderStatus


@dataclass(frozen=True)
class OrderMoney:
    """A completed order's amounts now. ``commission_fen`` is net of the refunded share (what the
    commission ledger sums to for the order), so refunds lower what the shop owes creators."""

    order_id: int
    shop_id: int
    completed_at: datetime
    paid_fen: int
    subsidy_fen: int
    platform_fee_fen: int
    commission_fen: int
    refunded_fen: int


def _money(db: Session, orders: Sequence[Order]) -> list[OrderMoney]:
    commission: dict[int, int] = defaultdict(int)
    if orders:
        items = db.scalars(select(OrderItem).where(OrderItem.order_id.in_([o.id for o in orders])))
        for item in items:
            commission[item.order_id] += ledger.net_commission(item)
    return [
        OrderMoney(
            order_id=o.id,
            shop_id=o.shop_id,
            completed_at=o.completed_at,  # type: ignore[arg-type]  # the queries ask for completed ones
            paid_fen=o.paid_fen,
            subsidy_fen=o.platform_subsidy_fen,
            platform_fee_fen=o.platform_fee_fen,
            commission_fen=commission[o.id],
            refunded_fen=o.refunded_fen,
        )
        for o in orders
    ]


def completed_order_money(db: Session, *, skip: Select[Any], limit: int) -> list[OrderMoney]:
    """Up to ``limit`` completed orders whose id ``skip`` (a select of order ids) does not list,
    oldest completion first; ``skip`` lets the caller name the orders it already knows without
    commerce reading its table."""
    orders = db.scalars(
        select(Order)
        .where(Order.status == OrderStatus.completed, Order.completed_at.is_not(None), Order.id.not_in(skip))
        .order_by(Order.completed_at, Order.id)
        .limit(limit)
    ).all()
    return _money(db, orders)


def order_money(db: Session, order_ids: Sequence[int]) -> dict[int, OrderMoney]:
    """``order id -> its money now`` for the completed orders among ``order_ids``."""
    if not order_ids:
        return {}
    orders = db.scalars(
        select(Order).where(Order.id.in_(order_ids), Order.status == OrderStatus.completed)
    ).all()
    return {m.order_id: m for m in _money(db, orders)}
