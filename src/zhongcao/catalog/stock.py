"""Stock moves. Each is one conditional UPDATE, so concurrent buyers can never oversell.

``UPDATE skus SET stock = stock - q WHERE id = ? AND stock >= q`` either takes the units or
touches no row; PostgreSQL row locks serialise concurrent decrements of the same SKU, and the
``stock >= 0`` CHECK constraint is the last line of defence.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zhongcao import signals
from zhongcao.catalog.models import Sku

# Below this many units a SKU is low on stock: the shop's staff are told when a sale crosses it.
LOW_STOCK = 10


def try_reserve(db: Session, sku_id: int, quantity: int) -> bool:
    """Take ``quantity`` units from available stock. False (and nothing changed) if not enough."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    left = db.scalar(
        update(Sku)
        .where(Sku.id == sku_id, Sku.stock >= quantity, Sku.is_active.is_(True))
        .values(stock=Sku.stock - quantity)
        .returning(Sku.stock)
        .execution_options(synchronize_session=False)
    )
    if left is None:
        return False
    if left < LOW_STOCK <= left + quantity:  # crossed below the line just now: once per crossing
        signals.emit(db, "stock_low", sku_id=sku_id, stock=left)
    return True


def release(db: Session, sku_id: int, quantity: int) -> None:
    """Give reserved units back (cancelled or expired before payment, or returned goods)."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    db.execute(
        update(Sku)
        .where(Sku.id == sku_id)
        .values(stock=Sku.stock + quantity)
        .execution_options(synchronize_session=False)
    )


def record_sale(db: Session, sku_id: int, quantity: int) -> None:
    """Count units as sold once their order is paid (stock was already taken at checkout)."""
    db.execute(
        update(Sku)
        .where(Sku.id == sku_id)
        .values(sold_count=Sku.sold_count + quantity)
        .execution_options(synchronize_session=False)
    )


def unrecord_sale(db: Session, sku_id: int, quantity: int) -> None:
    """A paid order cancelled before shipping: its units no longer count as sold."""
    db.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.sold_count >= quantity)
        .values(sold_count=Sku.sold_count - quantity)
        .execution_options(synchronize_session=False)
    )


def withdraw_all(db: Session, sku_id: int, *, held_by: str) -> int:
    """Take every sellable unit of a SKU off sale and say how many there were: a SKU moving to the
    platform warehouse ``held_by`` (its code) sells only what the warehouse holds from then on
    (zhongcao.warehouse), and its stock is no longer the shop's to edit. The row is locked first so
    that a checkout cannot take a unit between the read and the write."""
    left = db.scalar(select(Sku.stock).where(Sku.id == sku_id).with_for_update()) or 0
    db.execute(
        update(Sku)
        .where(Sku.id == sku_id)
        .values(stock=0, stock_held_by=held_by)
        .execution_options(synchronize_session=False)
    )
    return int(left)
