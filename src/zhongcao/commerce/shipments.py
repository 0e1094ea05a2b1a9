"""Shipments as the carriers' side sees them (read by zhongcao.logistics).

A shipment is created when the shop hands the parcel over (``service.ship_order``); pickup and
delivery are recorded through ``service.record_pickup`` / ``record_delivery``. These reads give the
logistics domain what it needs about a shipment and its order, without its tables.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.commerce.models import Order, OrderStatus, Shipment


@dataclass(frozen=True)
class ShipmentFacts:
    shipment_id: int
    order_id: int
    shop_id: int
    user_id: int
    carrier_name: str
    tracking_number: str
    platform_warehouse: bool
    shipped_at: datetime
    picked_up_at: datetime | None
    delivered_at: datetime | None
    order_status: OrderStatus
    shipping_address: dict[str, Any]


_COLUMNS = (
    Shipment.id,
    Shipment.order_id,
    Shipment.shop_id,
    Order.user_id,
    Shipment.carrier_name,
    Shipment.tracking_number,
    Shipment.platform_warehouse,
    Shipment.shipped_at,
    Shipment.picked_up_at,
    Shipment.delivered_at,
    Order.status,
    Order.shipping_address,
)


def _facts(rows: Any) -> list[ShipmentFacts]:
    return [
        ShipmentFacts(
            sid, oid, shop, user, carrier, number, bool(wh), shipped, picked, delivered, status, address or {}
        )
        for sid, oid, shop, user, carrier, number, wh, shipped, picked, delivered, status, address in rows
    ]


def undelivered(
    db: Session, carrier_names: Collection[str], shipped_since: datetime, *, limit: int = 5000
) -> list[ShipmentFacts]:
    """Shipments not yet delivered, on one of ``carrier_names``, handed over since ``shipped_since``
    (oldest first), whatever shipped them (the shop, the platform warehouse)."""
    if not carrier_names:
        return []
    stmt = (
        select(*_COLUMNS)
        .join(Order, Order.id == Shipment.order_id)
        .where(
            Shipment.delivered_at.is_(None),
            Shipment.carrier_name.in_(list(carrier_names)),
            Shipment.shipped_at >= shipped_since,
        )
        .order_by(Shipment.id)
        .limit(limit)
    )
    return _facts(db.execute(stmt))


def by_tracking_number(db: Session, carrier_name: str, tracking_number: str) -> list[ShipmentFacts]:
    """The shipments with this carrier and tracking number, newest first."""
    stmt = (
        select(*_COLUMNS)
        .join(Order, Order.id == Shipment.order_id)
        .where(Shipment.carrier_name == carrier_name, Shipment.tracking_number == tracking_number)
        .order_by(Shipment.id.desc())
    )
    return _facts(db.execute(stmt))


def of_order(db: Session, order_id: int) -> ShipmentFacts | None:
    stmt = select(*_COLUMNS).join(Order, Order.id == Shipment.order_id).where(Shipment.order_id == order_id)
    found = _facts(db.execute(stmt))
    return found[0] if found else None
