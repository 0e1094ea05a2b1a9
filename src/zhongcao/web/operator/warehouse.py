"""The platform warehouse's receiving desk (operators): inbounds in transit from every shop, and
counting one in line by line (fewer or more than sent is recorded as a discrepancy). The same
service call as ``POST /api/ops/warehouse/inbounds/{id}/receive``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.errors import DomainError, NotFound
from zhongcao.shops import service as shops_service
from zhongcao.warehouse import service as warehouse_service
from zhongcao.warehouse.models import InboundStatus
from zhongcao.web.console import Console, CursorQuery, IdPath, OperatorConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/operator")
STATUSES = tuple(s.value for s in InboundStatus if s is not InboundStatus.draft)


@router.get("/warehouse")
def receiving_queue(
    console: OperatorConsole,
    status: Annotated[InboundStatus, Query()] = InboundStatus.in_transit,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    inbounds, next_cursor = page_of(lambda p: warehouse_service.list_inbounds(db, p, status=status), cursor)
    return console.render(
        "operator/warehouse.html",
        "warehouse",
        inbounds=inbounds,
        shops=shops_service.shops_by_ids(db, {i.shop_id for i in inbounds}),
        skus=warehouse_service.line_skus(db, inbounds),
        warehouses={w.code: w for w in warehouse_service.warehouses()},
        status=status.value,
        filters=STATUSES,
        next_cursor=next_cursor,
    )


def _render(console: Console, inbound_id: int, form: Form | None, status_code: int = 200) -> Response:
    inbound = warehouse_service.get_inbound(console.db, inbound_id)
    if inbound.status is InboundStatus.draft:  # a shop's unsent draft is not the warehouse's business
        raise NotFound("inbound shipment not found", code="inbound_not_found")
    return console.render(
        "operator/warehouse_inbound.html",
        "warehouse",
        status_code=status_code,
        inbound=inbound,
        shop=shops_service.shops_by_ids(console.db, {inbound.shop_id}).get(inbound.shop_id),
        where=warehouse_service.warehouse(inbound.warehouse),
        skus=warehouse_service.line_skus(console.db, [inbound]),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/warehouse/inbounds/{inbound_id}")
def inbound(console: OperatorConsole, inbound_id: IdPath) -> Response:
    return _render(console, inbound_id, None)


@router.post("/warehouse/inbounds/{inbound_id}/receive")
def receive(console: OperatorConsole, inbound_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    lines = warehouse_service.get_inbound(console.db, inbound_id).lines
    counted: dict[int, int] = {}
    for line in lines:
        units = form.integer(
            f"received_{line.id}", required=True, minimum=0, maximum=warehouse_service.MAX_LINE_QUANTITY
        )
        if units is not None:
            counted[line.id] = units
    if not form.ok:
        return _render(console, inbound_id, form, status_code=422)
    try:
        warehouse_service.receive_inbound(
            console.db, inbound_id, counted=counted, operator_user_id=console.user_id
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc)
        return _render(console, inbound_id, form, status_code=exc.status_code)
    return console.redirect(f"/operator/warehouse/inbounds/{inbound_id}", flash="warehouse.received")
