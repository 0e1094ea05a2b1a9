"""Flash sales (秒杀) in the merchant console: the shop's sales with their units left, a new sale
(starting at a time, or when the host pins the product in a live session), ending one, and the
host dashboard's "pin and start". The same service calls as the JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus
from zhongcao.errors import DomainError
from zhongcao.flashsales import service as flashsales_service
from zhongcao.flashsales.models import FlashSaleStatus
from zhongcao.pagination import PageParams
from zhongcao.web.console import Console, IdPath, MerchantConsole, yuan_to_fen
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form
from zhongcao.web.merchant.content import local_time

router = APIRouter(prefix="/merchant")
FORM_PRODUCTS = 100


def _form_skus(console: Console) -> list[tuple[Any, Any]]:
    assert console.shop_id is not None
    products, _ = catalog_service.list_shop_products(
        console.db, console.shop_id, PageParams(limit=FORM_PRODUCTS), status=ProductStatus.active
    )
    return [(p, s) for p in products for s in p.skus if s.is_active]


def _rooms(console: Console) -> list[Any]:
    assert console.shop_id is not None
    rooms, _ = content_service.shop_content_page(
        console.db, console.shop_id, PageParams(limit=50), kind=ContentKind.live
    )
    return [c for c in rooms if c.status in (ContentStatus.scheduled, ContentStatus.live)]


STATUSES = [s.value for s in FlashSaleStatus]


def _render(console: Console, form: Form | None, status_code: int = 200, status: str = "") -> Response:
    assert console.shop_id is not None
    settings = console.page.request.app.state.settings
    wanted = FlashSaleStatus(status) if status in STATUSES else None
    sales = flashsales_service.list_sales(console.db, shop_id=console.shop_id, status=wanted)
    states = {s.id: flashsales_service.sale_state(console.db, s, settings) for s in sales}
    rows = _form_skus(console)
    return console.render(
        "merchant/flash_sales.html",
        "flash_sales",
        status_code=status_code,
        sales=sales,
        states=states,
        rows=rows,
        sku_names={s.id: (p, s) for p, s in rows},
        rooms=_rooms(console),
        status=wanted.value if wanted else "",
        statuses=STATUSES,
        form=form,
        typed=form.values if form is not None else {"per_buyer_limit": "1", "payment_window_minutes": "15"},
    )


@router.get("/flash-sales")
def flash_sales(
    console: MerchantConsole, status: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    """The shop's flash sales, newest first; ``status``: waiting for the pin, scheduled or ended."""
    return _render(console, None, status=status or "")


def read_new_sale(form: Form, data: FormData) -> flashsales_service.NewSale | None:
    sku_id = form.integer("sku_id", required=True, minimum=1, maximum=2**63 - 1)
    title = form.text("title", required=True, max_length=80)
    price = yuan_to_fen(form, "price", required=True, minimum_fen=1)
    quantity = form.integer("quantity", required=True, minimum=1, maximum=flashsales_service.MAX_QUANTITY)
    limit = form.integer("per_buyer_limit", required=True, minimum=1, maximum=flashsales_service.MAX_LIMIT)
    window = form.integer("payment_window_minutes", required=True, minimum=1, maximum=1440)
    room = form.integer("live_content_id", minimum=1, maximum=2**63 - 1)
    starts_at = local_time(form, "starts_at") if str(data.get("starts_at") or "") or room is None else None
    if not form.ok or sku_id is None or price is None or quantity is None or limit is None or window is None:
        return None
    return flashsales_service.NewSale(
        sku_id=sku_id,
        title=title,
        price_fen=price,
        quantity=quantity,
        per_buyer_limit=limit,
        payment_window_minutes=window,
        starts_at=starts_at,
        live_content_id=room,
    )


@router.post("/flash-sales")
def create(console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    form = Form(data, console.t)
    new = read_new_sale(form, data)
    if new is None:
        return _render(console, form, status_code=422)
    try:
        flashsales_service.create_sale(
            console.db,
            shop_id=console.shop_id,
            created_by=console.user_id,
            new=new,
            settings=console.page.request.app.state.settings,
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc, {"price_fen": "price"})
        return _render(console, form, status_code=exc.status_code)
    return console.redirect("/merchant/flash-sales", flash="flash.created")


@router.post("/flash-sales/{sale_id}/end")
def end(console: MerchantConsole, sale_id: IdPath, _: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    flashsales_service.get_for_shop(console.db, console.shop_id, sale_id)
    flashsales_service.end_sale(console.db, sale_id, console.page.request.app.state.settings)
    return console.redirect("/merchant/flash-sales", flash="flash.ended_notice")


@router.post("/flash-sales/{sale_id}/start")
def start(console: MerchantConsole, sale_id: IdPath, _: FormData) -> Response:
    """The host dashboard's "pin and start": pins the product in the sale's room and starts the sale."""
    console.require_manager()
    assert console.shop_id is not None
    sale = flashsales_service.get_for_shop(console.db, console.shop_id, sale_id)
    room = sale.live_content_id
    try:
        flashsales_service.start_by_pin(console.db, sale, console.page.request.app.state.settings)
    except DomainError:
        console.db.rollback()
        return console.redirect(
            f"/merchant/live/{room}" if room else "/merchant/flash-sales", flash="flash.not_started"
        )
    return console.redirect(
        f"/merchant/live/{room}" if room else "/merchant/flash-sales", flash="flash.started"
    )
