"""Reads the platform warehouse (zhongcao.warehouse) needs to fulfil orders: which paid orders
carry given SKUs, and an order's lines. The warehouse ships through :func:`service.ship_order`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.commerce.models import Order, OrderItem, OrderStatus

CHUNK = 1000


@dataclass(frozen=True)
class OrderLines:
    """An order, its status and its lines as ``(sku id, quantity)``."""

    order_id: int
    shop_id: int
    status: OrderStatus
    created_at: datetime
    lines: tuple[tuple[int, int], ...]


def order_lines(db: Session, order_ids: Sequence[int]) -> dict[int, OrderLines]:
    """``order id -> OrderLines`` for the orders that exist."""
    out: dict[int, OrderLines] = {}
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        lines: dict[int, list[tuple[int, int]]] = {}
        for order_id, sku_id, quantity in db.execute(
            select(OrderItem.order_id, OrderItem.sku_id, OrderItem.quantity)
            .where(OrderItem.order_id.in_(chunk))
            .order_by(OrderItem.id)
        ):
            lines.setdefault(order_id, []).append((sku_id, quantity))
        for order_id, shop_id, status, created_at in db.execute(
            select(Order.id, Order.shop_id, Order.status, Order.created_at).where(Order.id.in_(chunk))
        ):
            out[order_id] = OrderLines(order_id, shop_id, status, created_at, tuple(lines.get(order_id, ())))
    return out


def paid_order_ids_with_skus(db: Session, sku_ids: Sequence[int]) -> list[int]:
    """Ids of the paid (not yet shipped) orders with a line of any of ``sku_ids``, oldest first."""
    ids = sorted(set(sku_ids))
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found.update(
            db.scalars(
                select(OrderItem.order_id)
                .join(Order, Order.id == OrderItem.order_id)
                .where(Order.status == OrderStatus.paid, OrderItem.sku_id.in_(chunk))
            )
        )
    return sorted(found)
