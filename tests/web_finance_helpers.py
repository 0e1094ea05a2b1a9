"""A console world with money to settle: the merchant's paid orders shipped, delivered and completed,
their settlements recorded, one of them settled (for the finance page and the creator's earnings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.web_console_helpers import ConsoleWorld, seed_consoles
from zhongcao import clock
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import Order, OrderStatus
from zhongcao.finance import service as finance_service
from zhongcao.finance.models import Settlement


def seed_finance(db: Session, app: Any) -> tuple[ConsoleWorld, list[int]]:
    world = seed_consoles(db, app)
    shop_id = world.web.shop_id
    paid = list(
        db.scalars(
            select(Order.id)
            .where(Order.shop_id == shop_id, Order.status == OrderStatus.paid)
            .order_by(Order.id)
        )
    )
    for order_id in paid:
        order_service.ship_order(db, shop_id, order_id, carrier_name="顺丰", tracking_number="SF1234567890")
        order_service.record_delivery(db, order_id)
        order_service.confirm_receipt(db, world.web.shopper_id, order_id)
    db.commit()
    finance_service.run_settlements(db)
    # The first settles (as if completed 8 days ago); the others stay pending.
    db.execute(
        Settlement.__table__.update()
        .where(Settlement.order_id == paid[0])
        .values(completed_at=clock.now() - timedelta(days=8))
    )
    db.commit()
    finance_service.run_settlements(db)
    db.commit()
    return world, paid
