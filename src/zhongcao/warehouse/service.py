"""The platform warehouse's rules: inbound shipments, receipt into stock, and which orders it fulfils.

Inbound shipments (入仓单)
    A shop creates one for a warehouse with lines of its own active SKUs and quantities: a ``draft``,
    or at once ``in_transit`` when it gives its carrier and tracking number (dispatch). The warehouse
    receives an in-transit inbound (an operator counting it in, or the simulated warehouse's job a
    day after dispatch, scaled by ``settings.warehouse_time_scale``), recording what it counted per
    line: fewer or more than sent is a discrepancy, kept on the line. A draft or an in-transit
    inbound may be cancelled by the shop. Receiving twice is refused (409 ``inbound_not_in_transit``)
    and changes nothing.

Stock (see :mod:`zhongcao.warehouse.models`)
    The first receipt of a SKU enrols it in that warehouse: the shop's own units still on sale are
    taken off sale, and from then on the catalog's sellable stock is what the warehouse holds. Each
    receipt adds the counted units through :mod:`zhongcao.catalog.stock`. A SKU is in one
    warehouse only: a shop cannot send it to a second one (409 ``sku_in_other_warehouse``).

Which orders the warehouse ships
    A paid order whose every line is a SKU enrolled in the same warehouse before the order was
    placed (so its units were reserved from warehouse stock). Any other order, a *mixed* one
    included, is the shop's to ship; when the shop ships a mixed order the warehouse units it had
    reserved go back on sale (:func:`release_mixed_order`). The shop cannot ship a warehouse order
    by hand (409 ``order_fulfilled_by_warehouse``) unless the warehouse found its shelves short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from zhongcao import clock
from zhongcao.catalog import lookup as catalog_lookup
from zhongcao.catalog import stock as catalog_stock
from zhongcao.catalog.service import MAX_STOCK
from zhongcao.commerce import fulfilment as commerce_fulfilment
from zhongcao.commerce.models import OrderStatus
from zhongcao.config import Settings, get_settings
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.warehouse.models import (
    WAREHOUSES,
    Fulfilment,
    FulfilmentStatus,
    Inbound,
    InboundLine,
    InboundStatus,
    Warehouse,
    WarehouseCode,
    WarehouseStock,
)

MAX_LINES = 50
MAX_LINE_QUANTITY = 100_000
# The simulated warehouse's nominal delays (times settings.warehouse_time_scale).
INBOUND_TRANSIT = timedelta(hours=24)
PICK_AFTER = timedelta(minutes=30)  # after the task is queued (the order paid)
PACK_AFTER = timedelta(minutes=30)
HAND_OVER_AFTER = timedelta(hours=1)
# What shoppers are promised for goods that ship from a platform warehouse (days to arrive).
PROMISE_DAYS = (1, 2)
OPEN_INBOUND = (InboundStatus.draft, InboundStatus.in_transit)
OPEN_TASK = (FulfilmentStatus.queued, FulfilmentStatus.picked, FulfilmentStatus.packed)


def warehouses() -> list[Warehouse]:
    return list(WAREHOUSES.values())


def warehouse(code: WarehouseCode | str) -> Warehouse:
    try:
        return WAREHOUSES[WarehouseCode(code)]
    except ValueError:
        raise InvalidInput(
            "no such warehouse",
            code="unknown_warehouse",
            field="warehouse",
            details={"known": [c.value for c in WarehouseCode]},
        ) from None


# --- reads ---------------------------------------------------------------------------------------


def stock_for_skus(db: Session, sku_ids: Sequence[int]) -> dict[int, WarehouseStock]:
    """``sku id -> WarehouseStock`` for the SKUs enrolled in a warehouse."""
    if not sku_ids:
        return {}
    rows = db.scalars(select(WarehouseStock).where(WarehouseStock.sku_id.in_(sorted(set(sku_ids)))))
    return {row.sku_id: row for row in rows}


def promised_skus(db: Session, sku_ids: Sequence[int]) -> dict[int, Warehouse]:
    """``sku id -> warehouse`` for the SKUs that ship from a platform warehouse (the caller shows
    the faster promise for those with sellable stock)."""
    return {sku_id: WAREHOUSES[row.warehouse] for sku_id, row in stock_for_skus(db, sku_ids).items()}


def shared_warehouse(db: Session, sku_ids: Sequence[int]) -> Warehouse | None:
    """The warehouse that holds every one of ``sku_ids`` (an order of them ships from it), if any."""
    promised = promised_skus(db, sku_ids)
    found = {promised[s].code for s in sku_ids if s in promised}
    if not sku_ids or len(promised) < len(set(sku_ids)) or len(found) != 1:
        return None
    return WAREHOUSES[found.pop()]


@dataclass(frozen=True)
class StockLine:
    row: WarehouseStock
    sku: catalog_lookup.SkuInfo | None
    in_transit: int  # units on their way in open (in-transit) inbounds

    @property
    def sellable(self) -> int:
        return self.sku.stock if self.sku is not None else 0

    @property
    def reserved(self) -> int:
        """Units on the shelves that orders hold but the warehouse has not picked yet."""
        return max(0, self.row.on_hand - self.sellable)


def shop_stock(db: Session, shop_id: int) -> list[StockLine]:
    """The shop's SKUs in platform warehouses, with sellable, reserved and in-transit units."""
    rows = list(
        db.scalars(
            select(WarehouseStock).where(WarehouseStock.shop_id == shop_id).order_by(WarehouseStock.id)
        )
    )
    skus = catalog_lookup.skus_by_ids(db, [r.sku_id for r in rows])
    transit = _in_transit_units(db, shop_id)
    return [StockLine(r, skus.get(r.sku_id), transit.get(r.sku_id, 0)) for r in rows]


def _in_transit_units(db: Session, shop_id: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for sku_id, quantity in db.execute(
        select(InboundLine.sku_id, InboundLine.quantity)
        .join(Inbound, Inbound.id == InboundLine.inbound_id)
        .where(Inbound.shop_id == shop_id, Inbound.status == InboundStatus.in_transit)
    ):
        out[sku_id] = out.get(sku_id, 0) + quantity
    return out


def list_shop_inbounds(
    db: Session, shop_id: int, params: PageParams, *, status: InboundStatus | None = None
) -> tuple[Sequence[Inbound], str | None]:
    stmt = select(Inbound).options(selectinload(Inbound.lines)).where(Inbound.shop_id == shop_id)
    if status is not None:
        stmt = stmt.where(Inbound.status == status)
    return paginate_by_id(db, stmt, Inbound.id, params)


def list_inbounds(
    db: Session, params: PageParams, *, status: InboundStatus | None = InboundStatus.in_transit
) -> tuple[Sequence[Inbound], str | None]:
    """Every shop's inbounds (operators), newest first; by default the receiving queue."""
    stmt = select(Inbound).options(selectinload(Inbound.lines))
    if status is not None:
        stmt = stmt.where(Inbound.status == status)
    return paginate_by_id(db, stmt, Inbound.id, params)


def receiving_queue_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).where(Inbound.status == InboundStatus.in_transit)) or 0)


def get_inbound(db: Session, inbound_id: int, *, lock: bool = False) -> Inbound:
    stmt = select(Inbound).options(selectinload(Inbound.lines)).where(Inbound.id == inbound_id)
    if lock:
        stmt = stmt.with_for_update()
    inbound = db.scalar(stmt.execution_options(populate_existing=True))
    if inbound is None:
        raise NotFound("inbound shipment not found", code="inbound_not_found")
    return inbound


def get_inbound_for_shop(db: Session, shop_id: int, inbound_id: int, *, lock: bool = False) -> Inbound:
    """A shop's own inbound; another shop's is not found."""
    inbound = get_inbound(db, inbound_id, lock=lock)
    if inbound.shop_id != shop_id:
        raise NotFound("inbound shipment not found", code="inbound_not_found")
    return inbound


def line_skus(db: Session, inbounds: Sequence[Inbound]) -> dict[int, catalog_lookup.SkuInfo]:
    """What each line's SKU is (titles and options), for showing inbounds."""
    return catalog_lookup.skus_by_ids(db, {line.sku_id for i in inbounds for line in i.lines})


def fulfilment_for_order(db: Session, order_id: int) -> Fulfilment | None:
    return db.scalar(select(Fulfilment).where(Fulfilment.order_id == order_id))


def list_shop_fulfilments(
    db: Session, shop_id: int, params: PageParams
) -> tuple[Sequence[Fulfilment], str | None]:
    return paginate_by_id(db, select(Fulfilment).where(Fulfilment.shop_id == shop_id), Fulfilment.id, params)


def warehouse_for_order(db: Session, order: commerce_fulfilment.OrderLines) -> Warehouse | None:
    """The warehouse that ships ``order``: every line's SKU enrolled in it before the order was
    placed (its units were reserved from the warehouse's stock); None for the shop's own orders."""
    if not order.lines:
        return None
    stock = stock_for_skus(db, [sku for sku, _ in order.lines])
    codes = set()
    for sku_id, _ in order.lines:
        row = stock.get(sku_id)
        if row is None or row.enrolled_at > order.created_at:
            return None
        codes.add(row.warehouse)
    return WAREHOUSES[codes.pop()] if len(codes) == 1 else None


def order_warehouse(db: Session, order_id: int) -> tuple[Warehouse | None, Fulfilment | None]:
    """Which warehouse ships (or shipped) an order, and its task; ``(None, task)`` once the shelves
    were short (the shop ships it), ``(None, None)`` for the shop's own orders."""
    task = fulfilment_for_order(db, order_id)
    if task is not None:
        usable = task.status not in (FulfilmentStatus.short, FulfilmentStatus.cancelled)
        return (WAREHOUSES[task.warehouse] if usable else None), task
    order = commerce_fulfilment.order_lines(db, [order_id]).get(order_id)
    if order is None or order.status is not OrderStatus.paid:
        return None, None
    return warehouse_for_order(db, order), None


def ensure_shop_may_ship(db: Session, shop_id: int, order_id: int) -> None:
    """Refuse (409 ``order_fulfilled_by_warehouse``) a shop shipping an order the warehouse ships,
    unless the warehouse found its shelves short of it. Another shop's order is not found."""
    order = commerce_fulfilment.order_lines(db, [order_id]).get(order_id)
    if order is None or order.shop_id != shop_id:
        raise NotFound("order not found", code="order_not_found")
    task = fulfilment_for_order(db, order_id)
    if task is not None and task.status in (FulfilmentStatus.short, FulfilmentStatus.cancelled):
        return
    where = warehouse_for_order(db, order)
    if task is not None or where is not None:
        raise Conflict(
            "the platform warehouse ships this order",
            code="order_fulfilled_by_warehouse",
            details={"warehouse": (where.code.value if where else task.warehouse.value if task else None)},
        )


def release_mixed_order(db: Session, order_id: int) -> int:
    """The shop shipped a mixed order itself: the units its warehouse lines reserved from warehouse
    stock were never taken off the shelves, so they go back on sale. Returns how many. Call after
    the shop's ship (fulfilment_flows.ship_order_as_shop)."""
    order = commerce_fulfilment.order_lines(db, [order_id]).get(order_id)
    if order is None:
        return 0
    if fulfilment_for_order(db, order_id) is not None:
        # The warehouse queued it, then found its shelves short: what was reserved is not there.
        return 0
    stock = stock_for_skus(db, [sku for sku, _ in order.lines])
    released = 0
    for sku_id, quantity in sorted(order.lines):
        row = stock.get(sku_id)
        if row is not None and row.enrolled_at <= order.created_at:
            catalog_stock.release(db, sku_id, quantity)
            released += quantity
    db.flush()
    return released


def shelve_return(db: Session, order_id: int, sku_id: int, quantity: int, now: datetime) -> Warehouse | None:
    """A buyer's return of an order the warehouse shipped came back to that warehouse: its units go
    back on the shelves (the catalog's sellable stock is released by the after-sales case itself).
    Returns the warehouse, or None for an order the warehouse did not ship (the shop's parcel)."""
    task = fulfilment_for_order(db, order_id)
    if task is None or task.status is not FulfilmentStatus.handed_over:
        return None
    row = db.scalar(
        select(WarehouseStock)
        .where(WarehouseStock.sku_id == sku_id, WarehouseStock.warehouse == task.warehouse)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        return None
    row.on_hand += quantity
    row.updated_at = now
    db.flush()
    return WAREHOUSES[task.warehouse]


def return_address(db: Session, order_id: int) -> Warehouse | None:
    """Where a return of ``order_id`` goes when the platform warehouse shipped it (else the shop's
    own address, which the shop gives the buyer)."""
    task = fulfilment_for_order(db, order_id)
    if task is None or task.status is not FulfilmentStatus.handed_over:
        return None
    return WAREHOUSES[task.warehouse]


# --- inbound shipments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLine:
    sku_id: int
    quantity: int


def _check_lines(db: Session, shop_id: int, code: WarehouseCode, lines: Sequence[NewLine]) -> None:
    if not lines:
        raise InvalidInput("add at least one SKU", code="no_lines", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"at most {MAX_LINES} SKUs per inbound", code="too_many_lines", field="lines")
    seen: set[int] = set()
    for i, line in enumerate(lines):
        if isinstance(line.quantity, bool) or not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            raise InvalidInput(
                f"quantity must be between 1 and {MAX_LINE_QUANTITY}",
                code="invalid_quantity",
                field=f"lines[{i}].quantity",
            )
        if line.sku_id in seen:
            raise InvalidInput("each SKU once per inbound", code="duplicate_sku", field=f"lines[{i}].sku_id")
        seen.add(line.sku_id)
    infos = catalog_lookup.skus_by_ids(db, seen)
    enrolled = stock_for_skus(db, list(seen))
    elsewhere = _open_inbound_warehouses(db, list(seen))
    for i, line in enumerate(lines):
        info = infos.get(line.sku_id)
        if info is None or info.shop_id != shop_id:
            raise NotFound("SKU not found", code="sku_not_found", field=f"lines[{i}].sku_id")
        if not info.sku_active:
            raise Conflict("this SKU is off sale", code="sku_inactive", field=f"lines[{i}].sku_id")
        other = enrolled[line.sku_id].warehouse if line.sku_id in enrolled else None
        other = other or next((w for w in elsewhere.get(line.sku_id, ()) if w is not code), None)
        if other is not None and other is not code:
            raise Conflict(
                "this SKU is held by another warehouse",
                code="sku_in_other_warehouse",
                field=f"lines[{i}].sku_id",
                details={"warehouse": other.value},
            )


def _open_inbound_warehouses(db: Session, sku_ids: Sequence[int]) -> dict[int, set[WarehouseCode]]:
    out: dict[int, set[WarehouseCode]] = {}
    for sku_id, code in db.execute(
        select(InboundLine.sku_id, Inbound.warehouse)
        .join(Inbound, Inbound.id == InboundLine.inbound_id)
        .where(InboundLine.sku_id.in_(sku_ids), Inbound.status.in_(OPEN_INBOUND))
    ):
        out.setdefault(sku_id, set()).add(code)
    return out


def _check_dispatch(carrier_name: str | None, tracking_number: str | None) -> tuple[str, str]:
    carrier = (carrier_name or "").strip()
    number = (tracking_number or "").strip()
    if not carrier:
        raise InvalidInput("give the carrier", code="carrier_required", field="carrier_name")
    if not number:
        raise InvalidInput("give the tracking number", code="tracking_required", field="tracking_number")
    if len(carrier) > 40:
        raise InvalidInput("at most 40 characters", code="too_long", field="carrier_name")
    if not 4 <= len(number) <= 64 or not number.replace("-", "").isalnum() or not number.isascii():
        raise InvalidInput(
            "a tracking number is 4 to 64 letters, digits or dashes",
            code="invalid_tracking_number",
            field="tracking_number",
        )
    return carrier, number


def create_inbound(
    db: Session,
    shop_id: int,
    user_id: int,
    *,
    warehouse_code: WarehouseCode | str,
    lines: Sequence[NewLine],
    note: str | None = None,
    carrier_name: str | None = None,
    tracking_number: str | None = None,
    dispatch: bool = False,
) -> Inbound:
    """A new inbound shipment: a draft, or in transit at once with ``dispatch`` (carrier and
    tracking number required then). Commits."""
    code = warehouse(warehouse_code).code
    _check_lines(db, shop_id, code, lines)
    if dispatch:
        carrier_name, tracking_number = _check_dispatch(carrier_name, tracking_number)
    now = clock.now()
    inbound = Inbound(
        shop_id=shop_id,
        warehouse=code,
        status=InboundStatus.in_transit if dispatch else InboundStatus.draft,
        carrier_name=(carrier_name or None) if dispatch else None,
        tracking_number=(tracking_number or None) if dispatch else None,
        note=(note or "").strip()[:200] or None,
        created_by=user_id,
        dispatched_at=now if dispatch else None,
        created_at=now,
    )
    infos = catalog_lookup.skus_by_ids(db, [line.sku_id for line in lines])
    for line in lines:
        inbound.lines.append(
            InboundLine(sku_id=line.sku_id, product_id=infos[line.sku_id].product_id, quantity=line.quantity)
        )
    db.add(inbound)
    db.commit()
    return inbound


def dispatch_inbound(
    db: Session, shop_id: int, inbound_id: int, *, carrier_name: str, tracking_number: str
) -> Inbound:
    """The shop sends a draft: ``draft -> in_transit`` with its carrier and tracking number."""
    carrier, number = _check_dispatch(carrier_name, tracking_number)
    inbound = get_inbound_for_shop(db, shop_id, inbound_id, lock=True)
    if inbound.status is not InboundStatus.draft:
        db.rollback()
        raise Conflict(
            "only a draft can be dispatched",
            code="inbound_not_draft",
            details={"status": inbound.status.value},
        )
    # The SKUs may have moved to another warehouse since the draft was saved.
    _check_lines(
        db,
        shop_id,
        inbound.warehouse,
        [NewLine(line.sku_id, line.quantity) for line in inbound.lines],
    )
    inbound.status = InboundStatus.in_transit
    inbound.carrier_name, inbound.tracking_number = carrier, number
    inbound.dispatched_at = clock.now()
    db.commit()
    return inbound


def cancel_inbound(db: Session, shop_id: int, inbound_id: int) -> Inbound:
    """The shop calls off a draft or an in-transit inbound (nothing was received: no stock moves)."""
    inbound = get_inbound_for_shop(db, shop_id, inbound_id, lock=True)
    if inbound.status not in OPEN_INBOUND:
        db.rollback()
        raise Conflict(
            "only a draft or an in-transit inbound can be cancelled",
            code="inbound_not_cancellable",
            details={"status": inbound.status.value},
        )
    inbound.status = InboundStatus.cancelled
    inbound.cancelled_at = clock.now()
    db.commit()
    return inbound


def _receive(
    db: Session,
    inbound: Inbound,
    counted: dict[int, int] | None,
    operator_user_id: int | None,
    now: datetime,
) -> Inbound:
    """Count a locked in-transit inbound in; ``counted`` maps line id -> units (missing: as sent)."""
    if inbound.status is not InboundStatus.in_transit:
        raise Conflict(
            "only an in-transit inbound can be received",
            code="inbound_not_in_transit",
            details={"status": inbound.status.value},
        )
    counted = counted or {}
    line_ids = {line.id for line in inbound.lines}
    for line_id, units in counted.items():
        if line_id not in line_ids:
            raise InvalidInput(
                "no such line on this inbound",
                code="unknown_line",
                field="lines",
                details={"line_id": line_id},
            )
        if isinstance(units, bool) or not 0 <= units <= MAX_LINE_QUANTITY:
            raise InvalidInput(
                f"received must be between 0 and {MAX_LINE_QUANTITY}",
                code="invalid_quantity",
                field="lines",
                details={"line_id": line_id},
            )
    for line in sorted(inbound.lines, key=lambda x: x.sku_id):  # SKU rows in id order: no deadlocks
        units = counted.get(line.id, line.quantity)
        line.received_quantity = units
        if units:
            _put_away(db, inbound, line, units, now)
    inbound.status = InboundStatus.received
    inbound.received_at = now
    inbound.received_by = operator_user_id
    db.flush()
    return inbound


def _put_away(db: Session, inbound: Inbound, line: InboundLine, units: int, now: datetime) -> None:
    """Shelve ``units`` of a line's SKU and put them on sale (enrolling the SKU on its first receipt)."""
    row = db.scalar(
        select(WarehouseStock)
        .where(WarehouseStock.sku_id == line.sku_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is not None and row.warehouse is not inbound.warehouse:
        raise Conflict(
            "this SKU is held by another warehouse",
            code="sku_in_other_warehouse",
            details={"sku_id": line.sku_id, "warehouse": row.warehouse.value},
        )
    if row is None:
        withdrawn = catalog_stock.withdraw_all(db, line.sku_id, held_by=inbound.warehouse.value)
        row = WarehouseStock(
            shop_id=inbound.shop_id,
            sku_id=line.sku_id,
            product_id=line.product_id,
            warehouse=inbound.warehouse,
            on_hand=0,
            received_total=0,
            withdrawn_at_enrolment=withdrawn,
            enrolled_at=now,
            updated_at=now,
        )
        db.add(row)
    if row.on_hand + units > MAX_STOCK:
        raise Conflict("the warehouse cannot hold that many units", code="stock_too_large")
    row.on_hand += units
    row.received_total += units
    row.updated_at = now
    catalog_stock.release(db, line.sku_id, units)


def receive_inbound(
    db: Session,
    inbound_id: int,
    *,
    counted: dict[int, int] | None = None,
    operator_user_id: int | None = None,
) -> Inbound:
    """The warehouse counts an in-transit inbound in (``counted``: line id -> units; a line left
    out counts as sent). The units go on the shelves and on sale. Commits; a second receipt is
    refused (409 ``inbound_not_in_transit``) and changes nothing."""
    try:
        inbound = _receive(db, get_inbound(db, inbound_id, lock=True), counted, operator_user_id, clock.now())
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return inbound


def receive_due_inbounds(db: Session, now: datetime | None = None, settings: Settings | None = None) -> int:
    """The simulated warehouse: receive, as sent, every inbound in transit for a day (times
    ``warehouse_time_scale``). Each in its own transaction; one already received is skipped."""
    now = now or clock.now()
    settings = settings or get_settings()
    cutoff = now - INBOUND_TRANSIT * settings.warehouse_time_scale
    due = list(
        db.scalars(
            select(Inbound.id)
            .where(Inbound.status == InboundStatus.in_transit, Inbound.dispatched_at <= cutoff)
            .order_by(Inbound.id)
        )
    )
    db.rollback()
    done = 0
    for inbound_id in due:
        try:
            inbound = get_inbound(db, inbound_id, lock=True)
            if inbound.status is not InboundStatus.in_transit:
                db.rollback()
                continue
            _receive(db, inbound, None, None, now)
            db.commit()
            done += 1
        except BaseException:
            db.rollback()
            raise
    return done
