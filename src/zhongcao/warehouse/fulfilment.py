"""The simulated warehouse's outbound work (job ``warehouse_fulfilment``): queue every paid order
the warehouse ships (:func:`service.warehouse_for_order`), then pick, pack and hand it to the
carrier, each step once its nominal delay (times ``settings.warehouse_time_scale``) has passed. The
hand-over ships the order through :func:`zhongcao.commerce.service.ship_order` with
``platform_warehouse=True``, so the carrier's tracking takes it from there and its logistics faults
do not count against the shop.

Idempotent: a task per order (unique), each task advanced under its row lock and re-checked; a
repeated or overlapping run finds nothing left to do. An order cancelled before hand-over closes its
task, and units already picked go back on the shelves (commerce put them back on sale).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.commerce import fulfilment as commerce_fulfilment
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import OrderStatus
from zhongcao.config import Settings, get_settings
from zhongcao.errors import DomainError
from zhongcao.warehouse import service
from zhongcao.warehouse.models import Fulfilment, FulfilmentStatus, WarehouseStock


def tracking_number(task: Fulfilment) -> str:
    return f"YC{task.warehouse.value[0].upper()}{task.order_id:012d}"


def queue_orders(db: Session, now: datetime, settings: Settings) -> int:
    """Queue a task for every paid order the warehouse ships that has none. Commits each."""
    enrolled = list(db.scalars(select(WarehouseStock.sku_id)))
    candidates = commerce_fulfilment.paid_order_ids_with_skus(db, enrolled)
    if not candidates:
        return 0
    have = set(db.scalars(select(Fulfilment.order_id).where(Fulfilment.order_id.in_(candidates))))
    orders = commerce_fulfilment.order_lines(db, [o for o in candidates if o not in have])
    queued = 0
    for order_id in sorted(orders):
        where = service.warehouse_for_order(db, orders[order_id])
        if where is None:
            continue
        task = Fulfilment(
            order_id=order_id,
            shop_id=orders[order_id].shop_id,
            warehouse=where.code,
            status=FulfilmentStatus.queued,
            carrier_code=settings.warehouse_carrier,
            tracking_number="",
            created_at=now,
        )
        task.tracking_number = tracking_number(task)
        db.add(task)
        try:
            db.commit()
            queued += 1
        except IntegrityError:  # another run queued it a moment ago
            db.rollback()
    return queued


def _lines(db: Session, task: Fulfilment) -> commerce_fulfilment.OrderLines | None:
    return commerce_fulfilment.order_lines(db, [task.order_id]).get(task.order_id)


def _shelf_rows(db: Session, skus: list[int]) -> dict[int, WarehouseStock]:
    rows = db.scalars(
        select(WarehouseStock)
        .where(WarehouseStock.sku_id.in_(skus))
        .order_by(WarehouseStock.sku_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {r.sku_id: r for r in rows}


def _pick(db: Session, task: Fulfilment, order: commerce_fulfilment.OrderLines, now: datetime) -> bool:
    """Take the order's units off the shelves; False (task short, nothing taken) if they are not there."""
    wanted = Counter[int]()
    for sku_id, quantity in order.lines:
        wanted[sku_id] += quantity
    rows = _shelf_rows(db, sorted(wanted))
    if any(sku not in rows or rows[sku].on_hand < q for sku, q in wanted.items()):
        task.status, task.closed_at = FulfilmentStatus.short, now
        return False
    for sku_id, quantity in wanted.items():
        rows[sku_id].on_hand -= quantity
        rows[sku_id].updated_at = now
    task.status, task.picked_at = FulfilmentStatus.picked, now
    return True


def _close_cancelled(
    db: Session, task: Fulfilment, order: commerce_fulfilment.OrderLines | None, now: datetime
) -> None:
    if order is not None and task.status in (FulfilmentStatus.picked, FulfilmentStatus.packed):
        rows = _shelf_rows(db, sorted({sku for sku, _ in order.lines}))
        for sku_id, quantity in order.lines:
            if sku_id in rows:
                rows[sku_id].on_hand += quantity
                rows[sku_id].updated_at = now
    task.status, task.closed_at = FulfilmentStatus.cancelled, now


def advance(db: Session, task_id: int, now: datetime, settings: Settings) -> list[str]:
    """Move one task as far as its delays allow, in the caller's transaction; the steps it took."""
    task = db.get(Fulfilment, task_id, with_for_update=True, populate_existing=True)
    if task is None or task.status not in service.OPEN_TASK:
        return []
    order = _lines(db, task)
    if order is None or order.status is not OrderStatus.paid:
        _close_cancelled(db, task, order, now)
        return ["cancelled"]
    scale = settings.warehouse_time_scale
    did: list[str] = []
    if task.status is FulfilmentStatus.queued and now >= task.created_at + service.PICK_AFTER * scale:
        if not _pick(db, task, order, now):
            return ["short"]
        did.append("picked")
    if (
        task.status is FulfilmentStatus.picked
        and task.picked_at
        and now >= task.picked_at + service.PACK_AFTER * scale
    ):
        task.status, task.packed_at = FulfilmentStatus.packed, now
        did.append("packed")
    if (
        task.status is FulfilmentStatus.packed
        and task.packed_at
        and now >= task.packed_at + service.HAND_OVER_AFTER * scale
    ):
        commerce_service.ship_order(
            db,
            task.shop_id,
            task.order_id,
            carrier_name=task.carrier_code,
            tracking_number=task.tracking_number,
            platform_warehouse=True,
            commit=False,
        )
        task.status, task.handed_over_at = FulfilmentStatus.handed_over, now
        did.append("handed_over")
    return did


def run(db: Session, now: datetime | None = None, settings: Settings | None = None) -> dict[str, int]:
    """One round of the warehouse's outbound work: queue new orders, advance every open task."""
    now = now or clock.now()
    settings = settings or get_settings()
    counts: Counter[str] = Counter()
    counts["queued"] = queue_orders(db, now, settings)
    open_ids = list(
        db.scalars(
            select(Fulfilment.id).where(Fulfilment.status.in_(service.OPEN_TASK)).order_by(Fulfilment.id)
        )
    )
    db.rollback()
    for task_id in open_ids:
        try:
            did = advance(db, task_id, now, settings)
            db.commit()
        except DomainError:  # e.g. the order was cancelled while it was being handed over
            db.rollback()
            counts["failed"] += 1
            continue
        except BaseException:
            db.rollback()
            raise
        counts.update(did)
    return {
        key: counts.get(key, 0)
        for key in ("queued", "picked", "packed", "handed_over", "short", "cancelled", "failed")
    }
