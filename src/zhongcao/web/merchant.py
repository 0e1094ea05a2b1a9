"""The merchant console (desk first): the shop's to-dos, products and stock, orders and shipping,
after-sales, the customer-service inbox, Compass (trends, funnels, content, audience, search) and the
experience score explained.

Every page is scoped to the caller's own shop (:data:`~zhongcao.web.console.MerchantConsole`): lists
come from ``list_shop_*`` / ``*_for_shop`` service calls and single records from ``get_*_for_shop``,
which report another shop's record as not found (the 404 page). Compass reads the analytics snapshot
through ``compass.service``; there is no shop id in any URL to change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from babel.units import format_unit
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleStatus
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import OrderStatus
from zhongcao.commerce.schemas import ShipRequest
from zhongcao.compass import service as compass_service
from zhongcao.content import service as content_service
from zhongcao.errors import DomainError, NotFound
from zhongcao.experience import scores as experience_scores
from zhongcao.experience.scoring import BY_KEY, DIMENSIONS
from zhongcao.support import service as support_service
from zhongcao.support.service import InboxFilter
from zhongcao.users import service as users_service
from zhongcao.web import charts, i18n
from zhongcao.web.console import (
    WINDOWS,
    Console,
    CursorQuery,
    DaysQuery,
    IdPath,
    MerchantConsole,
    change,
    compass_engine,
    page_of,
    ratio,
    window,
    yuan_to_fen,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.shopper import timeline
from zhongcao.web.templating import DISPLAY_TZ, format_number, format_share, money

router = APIRouter(prefix="/merchant")

# Carriers offered as suggestions on the ship form (any other name may be typed).
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "EMS")
LOW_STOCK = 10
# How many to-dos the home page counts before it says "50+".
PENDING_SHOWN = 50
# Funnel totals add up the rows the Compass reports return, busiest first, up to this many.
FUNNEL_ROWS = 1000


def _days(days: int | None) -> int:
    return days if days in WINDOWS else 30


# --- home: what needs doing, and the last 30 days ------------------------------------------------


def _count(fetch: Any) -> str:
    rows, cursor = page_of(fetch, None, limit=PENDING_SHOWN)
    return f"{len(rows)}+" if cursor else str(len(rows))


@router.get("")
def home(console: MerchantConsole) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    todos = {
        "to_ship": _count(lambda p: order_service.list_shop_orders(db, shop_id, p, status=OrderStatus.paid)),
        "after_sales": _count(
            lambda p: aftersales_service.list_for_shop(db, shop_id, p, status=AfterSaleStatus.requested)
        ),
        "returns": _count(
            lambda p: aftersales_service.list_for_shop(db, shop_id, p, status=AfterSaleStatus.return_shipped)
        ),
        "unanswered": _count(
            lambda p: support_service.list_shop_conversations(db, shop_id, p, status=InboxFilter.unanswered)
        ),
    }
    span = window(30)
    engine = compass_engine(console)
    core = compass_service.core_data(engine, shop_id, span.last, span.days)
    before = compass_service.core_data(engine, shop_id, span.previous_last, span.days)
    chart = _trend_chart(console, core, before, "gmv_fen")
    return console.render(
        "merchant/home.html",
        "home",
        todos=todos,
        score=experience_scores.latest_score(db, shop_id),
        kpis=_kpis(core),
        chart=chart,
        span=span,
    )


# --- products and stock ----------------------------------------------------------------------------


def _product_row(product: Any) -> dict[str, Any]:
    skus = list(product.skus)
    active = [s for s in skus if s.is_active]
    prices = [s.price_fen for s in active]
    return {
        "product": product,
        "skus": len(skus),
        "price_min": min(prices) if prices else None,
        "price_max": max(prices) if prices else None,
        "stock": sum(s.stock for s in active),
        "sold": sum(s.sold_count for s in skus),
        "low": any(s.stock < LOW_STOCK for s in active),
    }


@router.get("/products")
def products(
    console: MerchantConsole,
    status: Annotated[ProductStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: catalog_service.list_shop_products(db, shop_id, p, status=status), cursor
    )
    return console.render(
        "merchant/products.html",
        "products",
        rows=[_product_row(p) for p in rows],
        status=status.value if status else "",
        statuses=[s.value for s in ProductStatus],
        next_cursor=next_cursor,
        low_stock=LOW_STOCK,
    )


def _render_product(console: Console, product_id: int, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    product = catalog_service.get_shop_product(console.db, console.shop_id, product_id)
    skus = sorted(product.skus, key=lambda s: s.id)
    return console.render(
        "merchant/product.html",
        "products",
        status_code=status_code,
        product=product,
        skus=skus,
        form=form,
        typed=form.values if form is not None else {},
        category=catalog_service.categories_by_id(console.db, [product.category_id]).get(product.category_id),
    )


@router.get("/products/{product_id}")
def product(console: MerchantConsole, product_id: IdPath) -> Response:
    return _render_product(console, product_id, None)


@router.post("/products/{product_id}")
def product_save(console: MerchantConsole, product_id: IdPath, data: FormData) -> Response:
    """One form for all of the product's SKUs: price, stock and whether each is sold. Everything is
    checked before anything is saved; stock is changed by the difference from the stock the page
    showed, so units sold while the merchant was typing are not written back."""
    console.require_manager()
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    product = catalog_service.get_shop_product(db, shop_id, product_id)
    form = Form(data, console.t)
    wanted = []
    for sku in sorted(product.skus, key=lambda s: s.id):
        price = yuan_to_fen(form, f"price_{sku.id}", required=True, minimum_fen=1)
        if price is not None and price > catalog_service.MAX_PRICE_FEN:
            form.error(f"price_{sku.id}", console.t("console.form.bad_amount"))
        stock = form.integer(f"stock_{sku.id}", required=True, minimum=0, maximum=catalog_service.MAX_STOCK)
        shown = form.integer(f"stock_was_{sku.id}", minimum=0, maximum=catalog_service.MAX_STOCK)
        active = form.text(f"active_{sku.id}") == "1"
        form.values[f"active_{sku.id}"] = active
        wanted.append((sku, price, stock, sku.stock if shown is None else shown, active))
    if form.ok and product.status is ProductStatus.active and not any(w[4] for w in wanted):
        # Checked here, before anything is saved (the catalog would refuse only the last one).
        form.message = console.t("err.last_active_sku")
    if not form.ok:
        return _render_product(console, product_id, form, status_code=422)
    changed = False
    for sku, price, stock, shown, active in wanted:
        sku_id = sku.id
        assert price is not None and stock is not None
        try:
            if price != sku.price_fen or active != sku.is_active:
                catalog_service.update_sku(db, shop_id, sku_id, price_fen=price, is_active=active)
                changed = True
            if stock != shown:
                catalog_service.adjust_stock(db, shop_id, sku_id, delta=stock - shown)
                changed = True
        except DomainError as exc:
            db.rollback()
            field = {"price_fen": "price", "is_active": "active", "delta": "stock", "set": "stock"}.get(
                str(exc.details.get("field") or ""), "stock"
            )
            form.error(f"{field}_{sku_id}", error_message(console.t, exc))
            return _render_product(console, product_id, form, status_code=exc.status_code)
    return console.redirect(
        f"/merchant/products/{product_id}",
        flash="merchant.product.saved" if changed else "merchant.product.unchanged",
    )


@router.post("/products/{product_id}/status")
def product_status(console: MerchantConsole, product_id: IdPath, data: FormData) -> Response:
    """Put a product on sale or take it off."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    target = form.choice("status", [ProductStatus.active.value, ProductStatus.delisted.value])
    back = form.text("next", max_length=300)
    back = back if back.startswith("/merchant/products") else f"/merchant/products/{product_id}"
    if target is None:
        return console.redirect(back)
    try:
        catalog_service.update_product(console.db, console.shop_id, product_id, status=ProductStatus(target))
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        refusal = Form({}, console.t)
        refusal.message = error_message(console.t, exc)
        return _render_product(console, product_id, refusal, status_code=exc.status_code)
    flash = "merchant.product.listed" if target == ProductStatus.active.value else "merchant.product.delisted"
    return console.redirect(back, flash=flash)


# --- orders and shipping -----------------------------------------------------------------------------

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
    accounts = content_service.account_briefs(console.db, [i.account_id for i in items if i.account_id])
    return console.render(
        "merchant/order.html",
        "orders",
        status_code=status_code,
        order=order,
        items=items,
        accounts=accounts,
        shipment=shipment,
        events=timeline(order, shipment),
        cases=aftersales_service.cases_for_order(console.db, order.id),
        can_ship=order.status is OrderStatus.paid and console.can_manage,
        form=form,
        typed=form.values if form is not None else {},
        carriers=CARRIERS,
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
        order_service.ship_order(
            console.db,
            console.shop_id,
            order_id,
            carrier_name=request.carrier_name,
            tracking_number=request.tracking_number,
        )
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.message = error_message(console.t, exc)
        return _render_order(console, order_id, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/orders/{order_id}", flash="merchant.ship.done")


# --- after-sales -----------------------------------------------------------------------------------

CASE_FLASH = {
    "approve": "merchant.case.approved",
    "reject": "merchant.case.rejected",
    "receive": "merchant.case.received",
}
CASE_FILTERS = (
    "requested",
    "return_shipped",
    "awaiting_return",
    "rejected",
    "arbitrating",
    "refunded",
    "closed",
)


@router.get("/after-sales")
def after_sales(
    console: MerchantConsole,
    status: Annotated[AfterSaleStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: aftersales_service.list_for_shop(db, shop_id, p, status=status), cursor
    )
    items = {i.id: i for i in checkout_service.items_of(db, sorted({c.order_id for c in rows}))}
    return console.render(
        "merchant/after_sales.html",
        "after_sales",
        cases=[(c, items.get(c.order_item_id)) for c in rows],
        status=status.value if status else "",
        filters=CASE_FILTERS,
        next_cursor=next_cursor,
    )


def _render_case(console: Console, case_id: int, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    case = aftersales_service.get_for_shop(console.db, console.shop_id, case_id)
    item = order_service.get_order_item(console.db, case.order_id, case.order_item_id)
    return console.render(
        "merchant/after_sale.html",
        "after_sales",
        status_code=status_code,
        case=case,
        item=item,
        respond_by=case.requested_at + aftersales_service.AUTO_APPROVE_AFTER,
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/after-sales/{case_id}")
def after_sale(console: MerchantConsole, case_id: IdPath) -> Response:
    return _render_case(console, case_id, None)


@router.post("/after-sales/{case_id}/{action}")
def after_sale_decide(console: MerchantConsole, case_id: IdPath, action: str, data: FormData) -> Response:
    """approve | reject (with a note the buyer sees) | receive (the returned parcel arrived)."""
    assert console.shop_id is not None
    db, shop_id = console.db, console.shop_id
    form = Form(data, console.t)
    note = form.text("note", required=action == "reject", max_length=1000)
    if action not in CASE_FLASH:
        raise NotFound("page not found", code="not_found")
    if not form.ok:
        return _render_case(console, case_id, form, status_code=422)
    try:
        if action == "approve":
            aftersales_service.approve(db, shop_id, case_id)
        elif action == "reject":
            aftersales_service.reject(db, shop_id, case_id, note=note)
        else:
            aftersales_service.receive_return(db, shop_id, case_id)
    except DomainError as exc:
        db.rollback()
        if exc.status_code == 404:
            raise
        if exc.code == "illegal_transition":
            form.message = console.t("merchant.case.already_decided")
        else:
            form.add_domain_error(exc)
        return _render_case(
            console, case_id, form, status_code=exc.status_code if exc.status_code < 500 else 503
        )
    return console.redirect(f"/merchant/after-sales/{case_id}", flash=CASE_FLASH[action])


# --- the customer-service inbox ----------------------------------------------------------------------


@router.get("/inbox")
def inbox(
    console: MerchantConsole,
    filter: Annotated[str, Query(max_length=20)] = "",
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    # Everything unless one of the service's filters is asked for (an unknown one shows everything).
    status = InboxFilter(filter) if filter in InboxFilter.__members__ else None
    rows, next_cursor = page_of(
        lambda p: support_service.list_shop_conversations(db, shop_id, p, status=status), cursor
    )
    people = users_service.users_by_ids(db, {c.user_id for c in rows})
    return console.render(
        "merchant/inbox.html",
        "inbox",
        conversations=[(c, people.get(c.user_id), support_service.first_response_seconds(c)) for c in rows],
        filter=status.value if status else "",
        filters=[f.value for f in InboxFilter],
        next_cursor=next_cursor,
    )


def _render_conversation(
    console: Console, conversation_id: int, form: Form | None, status_code: int = 200
) -> Response:
    assert console.shop_id is not None
    conversation = support_service.get_shop_conversation(console.db, console.shop_id, conversation_id)
    messages = support_service.conversation_messages(console.db, conversation.id)
    people = users_service.users_by_ids(
        console.db, {conversation.user_id} | {m.agent_user_id for m in messages if m.agent_user_id}
    )
    return console.render(
        "merchant/conversation.html",
        "inbox",
        status_code=status_code,
        conversation=conversation,
        messages=messages,
        people=people,
        first_response=support_service.first_response_seconds(conversation),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/inbox/{conversation_id}")
def conversation(console: MerchantConsole, conversation_id: IdPath) -> Response:
    return _render_conversation(console, conversation_id, None)


@router.post("/inbox/{conversation_id}")
def reply(console: MerchantConsole, conversation_id: IdPath, data: FormData) -> Response:
    assert console.shop_id is not None
    form = Form(data, console.t)
    body = form.text("body", required=True, max_length=support_service.MESSAGE_MAX)
    if not form.ok:
        return _render_conversation(console, conversation_id, form, status_code=422)
    try:
        support_service.post_agent_message(
            console.db, conversation_id, shop_id=console.shop_id, agent_user_id=console.user_id, body=body
        )
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc)
        return _render_conversation(console, conversation_id, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/inbox/{conversation_id}#latest", flash="merchant.inbox.sent")


@router.post("/inbox/{conversation_id}/close")
def close(console: MerchantConsole, conversation_id: IdPath, _: FormData) -> Response:
    assert console.shop_id is not None
    try:
        support_service.close_conversation(console.db, conversation_id, shop_id=console.shop_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        refusal = Form({}, console.t)
        refusal.message = error_message(console.t, exc)
        return _render_conversation(console, conversation_id, refusal, status_code=exc.status_code)
    return console.redirect(f"/merchant/inbox/{conversation_id}", flash="merchant.inbox.closed")


# --- Compass -----------------------------------------------------------------------------------------

KPI_NAMES = ("gmv_fen", "orders", "buyers", "aov_fen", "conversion", "visitors", "refunded_fen")


def _kpis(core: compass_service.CoreData) -> list[dict[str, Any]]:
    out = []
    for name in KPI_NAMES:
        now, before = getattr(core.current, name), getattr(core.previous, name)
        out.append({"name": name, "value": now, "previous": before, "change": change(now, before)})
    return out


def _trend_chart(console: Console, core: Any, before: Any, metric: str) -> charts.Chart:
    t = console.t
    return charts.trend(
        [row["day"] for row in core.daily],
        [row[metric] for row in core.daily],
        [row[metric] for row in before.daily],
        label=t(f"compass.trend.{metric}"),
        current_name=t("compass.this_period"),
        previous_name=t("compass.previous_period"),
        is_money=metric.endswith("_fen"),
    )


def _split_rows(console: Console, rows: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    total = sum(r["gmv_fen"] for r in rows)
    return [
        {**r, "label": console.t(f"{prefix}.{r['key']}"), "share": ratio(r["gmv_fen"], total)}
        for r in sorted(rows, key=lambda r: -r["gmv_fen"])
    ]


@router.get("/compass")
def compass(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    engine = compass_engine(console)
    core = compass_service.core_data(engine, console.shop_id, span.last, span.days)
    before = compass_service.core_data(engine, console.shop_id, span.previous_last, span.days)
    sources = compass_service.sales_sources(engine, console.shop_id, span.last, span.days)
    channels = _split_rows(console, sources["channel"], "compass.channel")
    carriers = _split_rows(console, sources["carrier"], "compass.carrier")
    t = console.t
    return console.render(
        "merchant/compass.html",
        "compass",
        span=span,
        windows=WINDOWS,
        kpis=_kpis(core),
        daily=list(zip(core.daily, before.daily, strict=True)),
        gmv_chart=_trend_chart(console, core, before, "gmv_fen"),
        orders_chart=_trend_chart(console, core, before, "orders"),
        channels=channels,
        carriers=carriers,
        channel_chart=charts.split(
            [(r["label"], r["gmv_fen"]) for r in channels], label=t("compass.by_channel")
        )
        if channels
        else None,
        carrier_chart=charts.split(
            [(r["label"], r["gmv_fen"]) for r in carriers], label=t("compass.by_carrier")
        )
        if carriers
        else None,
    )


@router.get("/compass/funnels")
def funnels(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    engine = compass_engine(console)
    t = console.t
    content = compass_service.content_report(engine, console.shop_id, span.last, span.days, limit=FUNNEL_ROWS)
    content_stages = [
        (t("compass.stage.impressions"), sum(r["impressions"] for r in content)),
        (t("compass.stage.plays"), sum(r["plays"] for r in content)),
        (t("compass.stage.anchor_clicks"), sum(r["anchor_clicks"] for r in content)),
        (t("compass.stage.orders"), sum(r["orders"] for r in content)),
    ]
    products = compass_service.product_report(
        engine, console.shop_id, span.last, span.days, sort="gmv_fen", limit=FUNNEL_ROWS
    )
    product_stages = [
        (t("compass.stage.exposures"), sum(r["current"]["exposures"] for r in products)),
        (t("compass.stage.clicks"), sum(r["current"]["clicks"] for r in products)),
        (t("compass.stage.add_to_carts"), sum(r["current"]["add_to_carts"] for r in products)),
        (t("compass.stage.orders"), sum(r["current"]["orders"] for r in products)),
    ]
    top = products[:20]
    briefs = catalog_service.product_briefs(console.db, [r["product_id"] for r in top])
    return console.render(
        "merchant/funnels.html",
        "funnels",
        span=span,
        windows=WINDOWS,
        content_stages=content_stages,
        product_stages=product_stages,
        content_chart=charts.funnel(content_stages, label=t("compass.content_funnel"))
        if content_stages[0][1]
        else None,
        product_chart=charts.funnel(product_stages, label=t("compass.product_funnel"), color=charts.BLUE)
        if product_stages[0][1]
        else None,
        products=[(r, briefs.get(r["product_id"])) for r in top],
    )


@router.get("/compass/content")
def compass_content(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    rows = compass_service.content_report(compass_engine(console), console.shop_id, span.last, span.days)
    items = content_service.content_by_ids(console.db, [r["content_id"] for r in rows])
    accounts = content_service.account_briefs(console.db, {c.account_id for c in items.values()})
    top = [r for r in rows if r["gmv_fen"] > 0][:10]
    t = console.t

    def title(content_id: int) -> str:
        item = items.get(content_id)
        if item is None:
            return f"#{content_id}"
        return (item.title_zh if console.page.locale == "zh" else item.title_en) or item.title_zh

    chart = (
        charts.bars(
            [(title(r["content_id"])[:24], r["gmv_fen"] / 100) for r in top],
            label=t("compass.content_top"),
            horizontal=True,
            value_texts=[money(r["gmv_fen"], console.page.locale) for r in top],
        )
        if top
        else None
    )
    return console.render(
        "merchant/content.html",
        "content",
        span=span,
        windows=WINDOWS,
        rows=[
            (
                r,
                items.get(r["content_id"]),
                accounts.get(items[r["content_id"]].account_id) if r["content_id"] in items else None,
            )
            for r in rows
        ],
        chart=chart,
        shop_id=console.shop_id,
    )


@router.get("/compass/audience")
def audience(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    engine = compass_engine(console)
    people = compass_service.audience(engine, console.shop_id, span.last, span.days)
    creators = compass_service.creator_sales(engine, console.shop_id, span.last, span.days)
    accounts = content_service.account_briefs(console.db, [r["account_id"] for r in creators])
    t = console.t
    segments = [(t(f"compass.segment.{k}"), v) for k, v in people["segments"].items()]
    return console.render(
        "merchant/audience.html",
        "audience",
        span=span,
        windows=WINDOWS,
        people=people,
        segments=people["segments"],
        new_chart=charts.split(
            [
                (t("compass.new_buyers"), people["new_buyers"]),
                (t("compass.returning_buyers"), people["returning_buyers"]),
            ],
            label=t("compass.new_vs_returning"),
            is_money=False,
        )
        if people["buyers"]
        else None,
        segment_chart=charts.bars(segments, label=t("compass.segments"), color=charts.BLUE)
        if people["buyers"]
        else None,
        creators=[(r, accounts.get(r["account_id"])) for r in creators],
    )


@router.get("/compass/search")
def search(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    report = compass_service.search_report(compass_engine(console), console.shop_id, span.last, span.days)
    categories = catalog_service.categories_by_id(console.db, {r["category_id"] for r in report["missed"]})
    return console.render(
        "merchant/search.html",
        "search",
        span=span,
        windows=WINDOWS,
        queries=report["queries"],
        missed=[(r, categories.get(r["category_id"])) for r in report["missed"]],
        missed_below=compass_service.MISSED_BELOW_PERCENT,
    )


# --- the experience score ------------------------------------------------------------------------


def indicator_value(unit: str, value: float | None, locale: str) -> str:
    """An indicator's value as a merchant reads it (rates and shares in per cent, hours, points)."""
    if value is None:
        return "—"
    if unit in ("rate", "share"):
        return format_share(value, locale, 2)
    if unit == "hours":
        return format_unit(round(value, 1), "duration-hour", length="short", locale=i18n.babel_locale(locale))
    return format_number(value, locale, 2)


@router.get("/score")
def score(console: MerchantConsole) -> Response:
    assert console.shop_id is not None
    t = console.t
    row = experience_scores.latest_score(console.db, console.shop_id)
    details = dict(row.details or {}) if row is not None else {}
    indicators = []
    for entry in details.get("indicators", []):
        meta = BY_KEY.get(entry["key"])
        unit = meta.unit if meta else "points"
        target = entry.get("top_quartile_value")
        indicators.append(
            {
                **entry,
                "label": t(f"xp.ind.{entry['key']}"),
                "help": t(f"xp.ind.{entry['key']}.help"),
                "shown": indicator_value(unit, entry.get("value"), console.page.locale),
                "target_shown": indicator_value(unit, target, console.page.locale)
                if target is not None
                else None,
            }
        )
    improve = details.get("improve_first")
    if improve is not None:
        meta = BY_KEY.get(improve["key"])
        current = next((i for i in indicators if i["key"] == improve["key"]), None)
        improve = {
            **improve,
            "label": t(f"xp.ind.{improve['key']}"),
            "how": t(f"xp.ind.{improve['key']}.how"),
            "to_shown": indicator_value(
                meta.unit if meta else "points", improve.get("to_value"), console.page.locale
            ),
            "now_shown": current["shown"] if current else "—",
        }
    dimension_colors = dict(zip(DIMENSIONS, (charts.BRAND, charts.BLUE, charts.GREEN), strict=True))
    measured = [i for i in indicators if i.get("percentile") is not None]
    chart = (
        charts.bars(
            [(i["label"], i["percentile"]) for i in measured],
            label=t("xp.percentiles"),
            horizontal=True,
            value_texts=[format_number(i["percentile"], console.page.locale, 0) for i in measured],
            colors=[dimension_colors.get(i["dimension"], charts.GREY) for i in measured],
            value_max=100,
        )
        if measured
        else None
    )
    history = (
        experience_scores.score_history(console.db, console.shop_id, row.computed_at - timedelta(days=90))
        if row
        else []
    )
    scored = [(h.computed_at, h.score_centi) for h in history if h.score_centi is not None]
    history_chart = (
        charts.line(
            [at.astimezone(DISPLAY_TZ).isoformat() for at, _ in scored],
            [(t("xp.score"), [centi / 100 for _, centi in scored])],
            label=t("xp.history"),
            y_range=(3.0, 5.0),
        )
        if len(scored) >= 2
        else None
    )
    return console.render(
        "merchant/score.html",
        "score",
        row=row,
        details=details,
        indicators=indicators,
        improve=improve,
        dimensions=DIMENSIONS,
        weights=details.get("weights", {}),
        chart=chart,
        dimension_colors=dimension_colors,
        history_chart=history_chart,
    )
