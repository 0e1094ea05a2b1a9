"""Fulfilment workflows that span the shop, the platform warehouse (云仓) and the carrier: shipping an
order and taking a return back. The warehouse decides who may ship an order and where a return goes;
commerce, logistics and after-sales do the moves; each workflow is one transaction. Views, jobs and
the simulated world call these; no domain service imports this module (zhongcao.flows holds the
other cross-domain workflows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSale
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Order
from zhongcao.config import Settings
from zhongcao.logistics import service as logistics_service
from zhongcao.warehouse import service as warehouse_service


def ship_order_as_shop(
    db: Session,
    shop_id: int,
    order_id: int,
    *,
    carrier_name: str,
    tracking_number: str,
    settings: Settings | None = None,
) -> Order:
    """The shop hands a paid order to its carrier (a registered carrier's code or name: 422
    ``unknown_carrier`` else), and the carrier's tracking starts. Refused (409
    ``order_fulfilled_by_warehouse``) for an order the platform warehouse ships; for a mixed order
    the warehouse units it reserved go back on sale (the shop sent its own). One transaction."""
    warehouse_service.ensure_shop_may_ship(db, shop_id, order_id)
    order: Order = logistics_service.ship_order(
        db,
        shop_id,
        order_id,
        carrier=carrier_name,
        tracking_number=tracking_number,
        settings=settings,
        commit=False,
    )
    warehouse_service.release_mixed_order(db, order_id)
    db.commit()
    return order


def receive_return_as_shop(
    db: Session, shop_id: int, case_id: int, *, now: datetime | None = None
) -> AfterSale:
    """The shop confirms a return arrived: the buyer is refunded and the units go back on sale
    (after-sales). When the platform warehouse shipped the order, the parcel went back to the
    warehouse, so its units go back on the warehouse's shelves in the same transaction."""
    now = now or clock.now()
    try:
        case = aftersales_service.receive_return(db, shop_id, case_id, now=now, commit=False)
        item = commerce_service.get_order_item(db, case.order_id, case.order_item_id)
        warehouse_service.shelve_return(db, case.order_id, item.sku_id, case.quantity, now)
    except Exception:
        db.rollback()
        raise
    db.commit()
    return case
