"""The platform warehouse (云仓) in the merchant console: the shop's warehouse stock per SKU, its
inbound shipments (list, detail, dispatch, cancel), a new inbound (pick SKUs and quantities), and
the warehouse's work on the shop's orders. The same service calls as the JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.errors import DomainError
from zhongcao.pagination import PageParams
from zhongcao.warehouse import service as warehouse_service
from zhongcao.warehouse.models import InboundStatus
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/merchant")
STATUSES = tuple(s.value for s in InboundStatus)
FORM_PRODUCTS = 100  # the newest products on sale offered on the form (the API takes any SKU)
# Carriers suggested for the leg to the warehouse (any other name may be typed).
CARRIERS = ("顺丰速运", "京东物流", "中通快递", "圆通速递", "韵达快递", "德邦快递")


@router.get("/warehouse")
def warehouse_home(
    console: MerchantConsole,
    status: Annotated[InboundStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    inbounds, next_cursor = page_of(
        lambda p: warehouse_service.list_shop_inbounds(db, shop_id, p, status=status), cursor
    )
    tasks, _ = warehouse_service.list_shop_fulfilments(db, shop_id, PageParams(limit=10))
    return console.render(
        "merchant/warehouse.html",
        "warehouse",
        stock=warehouse_service.shop_stock(db, shop_id),
        inbounds=inbounds,
        skus=warehouse_service.line_skus(db, inbounds),
        tasks=tasks,
        warehouses=warehouse_service.warehouses(),
        status=status.value if status else "",
        filters=STATUSES,
        next_cursor=next_cursor,
    )


def _form_skus(console: Console) -> list[tuple[Any, Any]]:
    """(product, sku) of the shop's newest products on sale, each active SKU."""
    assert console.shop_id is not None
    products, _ = catalog_service.list_shop_products(
        console.db, console.shop_id, PageParams(limit=FORM_PRODUCTS), status=ProductStatus.active
    )
    return [(p, s) for p in products for s in p.skus if s.is_active]


def _render_new(console: Console, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    rows = _form_skus(console)
    held = warehouse_service.promised_skus(console.db, [s.id for _, s in rows])
    return console.render(
        "merchant/warehouse_new.html",
        "warehouse",
        status_code=status_code,
        rows=rows,
        held=held,
        warehouses=warehouse_service.warehouses(),
        carriers=CARRIERS,
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/warehouse/inbounds/new")
def new_inbound(console: MerchantConsole) -> Response:
    console.require_manager()
    return _render_new(console, None)


@router.post("/warehouse/inbounds")
def create_inbound(console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    codes = [w.code.value for w in warehouse_service.warehouses()]
    code = form.choice("warehouse", codes)
    lines = []
    for _, sku in _form_skus(console):
        units = form.integer(f"qty_{sku.id}", minimum=0, maximum=warehouse_service.MAX_LINE_QUANTITY)
        if units:
            lines.append(warehouse_service.NewLine(sku.id, units))
    if form.ok and not lines:
        form.message = console.t("warehouse.new.no_lines")
    note = form.text("note", max_length=200)
    dispatch = data.get("action") == "dispatch"
    carrier = form.text("carrier_name", required=dispatch, max_length=40)
    tracking = form.text("tracking_number", required=dispatch, max_length=64)
    if not form.ok or code is None:
        return _render_new(console, form, status_code=422)
    try:
        inbound = warehouse_service.create_inbound(
            console.db,
            console.shop_id,
            console.user_id,
            warehouse_code=code,
            lines=lines,
            note=note,
            carrier_name=carrier,
            tracking_number=tracking,
            dispatch=dispatch,
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc)
        return _render_new(console, form, status_code=exc.status_code)
    flash = "warehouse.inbound.dispatched" if dispatch else "warehouse.inbound.saved"
    return console.redirect(f"/merchant/warehouse/inbounds/{inbound.id}", flash=flash)


def _render_inbound(console: Console, inbound_id: int, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    inbound = warehouse_service.get_inbound_for_shop(console.db, console.shop_id, inbound_id)
    return console.render(
        "merchant/warehouse_inbound.html",
        "warehouse",
        status_code=status_code,
        inbound=inbound,
        where=warehouse_service.warehouse(inbound.warehouse),
        skus=warehouse_service.line_skus(console.db, [inbound]),
        carriers=CARRIERS,
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/warehouse/inbounds/{inbound_id}")
def inbound(console: MerchantConsole, inbound_id: IdPath) -> Response:
    return _render_inbound(console, inbound_id, None)


@router.post("/warehouse/inbounds/{inbound_id}/dispatch")
def dispatch(console: MerchantConsole, inbound_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    carrier = form.text("carrier_name", required=True, max_length=40)
    tracking = form.text("tracking_number", required=True, max_length=64)
    if not form.ok:
        return _render_inbound(console, inbound_id, form, status_code=422)
    try:
        warehouse_service.dispatch_inbound(
            console.db, console.shop_id, inbound_id, carrier_name=carrier, tracking_number=tracking
        )
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc)
        return _render_inbound(console, inbound_id, form, status_code=exc.status_code)
    return console.redirect(
        f"/merchant/warehouse/inbounds/{inbound_id}", flash="warehouse.inbound.dispatched"
    )


@router.post("/warehouse/inbounds/{inbound_id}/cancel")
def cancel(console: MerchantConsole, inbound_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    try:
        warehouse_service.cancel_inbound(console.db, console.shop_id, inbound_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form = Form(data, console.t)
        form.add_domain_error(exc)
        return _render_inbound(console, inbound_id, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/warehouse/inbounds/{inbound_id}", flash="warehouse.inbound.cancelled")
