"""Orders and shipping."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from zhongcao import fulfilment_flows
from zhongcao.aftersales import service as aftersales_service
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import OrderStatus
from zhongcao.commerce.schemas import ShipRequest
from zhongcao.content import reads as content_reads
from zhongcao.errors import DomainError
from zhongcao.logistics import carriers as logistics_carriers
from zhongcao.logistics import service as logistics_service
from zhongcao.warehouse import service as warehouse_service
from zhongcao.web.console import (
    Console,
    CursorQuery,
    IdPath,
    MerchantConsole,
    page_of,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.shopper.orders import timeline

router = APIRouter(prefix="/merchant")

ORDER_FILTERS = ("paid", "shipped", "delivered", "completed", "cancelled", "created")


@router.get("/orders")
def orders(
    console: MerchantConsole,
    status: Annotated[OrderStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: order_service.list_shop_orders(db, shop_id, p, status=status), cursor
    )
    return console.render(
        "merchant/orders.html",
        "orders",
        orders=rows,
        status=status.value if status else "",
        filters=ORDER_FILTERS,
        next_cursor=next_cursor,
    )


def _render_order(console: Console, order_id: int, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    order = order_service.get_order_for_shop(console.db, console.shop_id, order_id)
    shipment = order_service.get_shipment(console.db, order.id)
    items = list(order.items)
    accounts = content_reads.account_briefs(console.db, [i.account_id for i in items if i.account_id])
    warehouse, fulfilment = warehouse_service.order_warehouse(console.db, order.id)
    return console.render(
        "merchant/order.html",
        "orders",
        status_code=status_code,
        order=order,
        items=items,
        accounts=accounts,
        shipment=shipment,
        events=timeline(order, shipment),
        tracking=logistics_service.tracking_for_order(console.db, order.id),
        cases=aftersales_service.cases_for_order(console.db, order.id),
        can_ship=order.status is OrderStatus.paid and console.can_manage and warehouse is None,
        warehouse=warehouse,
        fulfilment=fulfilment,
        form=form,
        typed=form.values if form is not None else {},
        carriers=logistics_carriers.CARRIERS,
    )


@router.get("/orders/{order_id}")
def order(console: MerchantConsole, order_id: IdPath) -> Response:
    return _render_order(console, order_id, None)


@router.post("/orders/{order_id}/ship")
def ship(console: MerchantConsole, order_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    carrier = form.text("carrier_name", required=True, max_length=40)
    tracking = form.text("tracking_number", required=True, max_length=64)
    request = None
    if form.ok:
        try:
            request = ShipRequest(carrier_name=carrier, tracking_number=tracking)
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err.get("loc") else ""
                form.error(
                    name,
                    console.t("merchant.ship.bad_tracking" if name == "tracking_number" else "form.required"),
                )
    if not form.ok or request is None:
        return _render_order(console, order_id, form, status_code=422)
    try:
        fulfilment_flows.ship_order_as_shop(
            console.db,
            console.shop_id,
            order_id,
            carrier_name=request.carrier_name,
            tracking_number=request.tracking_number,
            settings=console.page.request.app.state.settings,
        )
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        if exc.code == "unknown_carrier":
            form.error("carrier_name", console.t("merchant.ship.pick_carrier"))
        else:
            form.message = error_message(console.t, exc)
        return _render_order(console, order_id, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/orders/{order_id}", flash="merchant.ship.done")


# --- after-sales -----------------------------------------------------------------------------------
