"""Orders, their timeline, confirm receipt and cancel, after-sales, reviews and the NPS survey."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import Order, OrderStatus, Shipment
from zhongcao.errors import DomainError, InvalidInput, NotFound
from zhongcao.experience import surveys as experience_surveys
from zhongcao.experience.models import NpsReason, NpsTrigger
from zhongcao.fields import MAX_ID
from zhongcao.logistics import service as logistics_service
from zhongcao.pagination import PageParams
from zhongcao.reviews import service as reviews_service
from zhongcao.shops import service as shops_service
from zhongcao.users import addresses as address_service
from zhongcao.web.context import FormData, ShopperPage
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import (
    LIST_PAGE,
    CursorQuery,
    IdPath,
)

router = APIRouter()


def timeline(order: Order, shipment: Shipment | None) -> list[tuple[str, Any]]:
    events = [("created", order.created_at), ("paid", order.paid_at), ("shipped", order.shipped_at)]
    if shipment is not None:
        events.append(("picked_up", shipment.picked_up_at))
    events += [
        ("delivered", order.delivered_at),
        ("completed", order.completed_at),
        ("cancelled", order.cancelled_at),
    ]
    return [(name, at) for name, at in events if at is not None]


# The steps an order goes through, for the progress bar (cancelled orders show what happened).
ORDER_STEPS = ("created", "paid", "shipped", "delivered", "completed")


@router.get("/orders")
def orders(
    page: ShopperPage,
    cursor: CursorQuery = None,
    status: Annotated[OrderStatus | None, Query()] = None,
) -> Response:
    assert page.user is not None
    try:
        rows, next_cursor = order_service.list_buyer_orders(
            page.db, page.user.id, PageParams(limit=LIST_PAGE, cursor=cursor), status=status
        )
    except InvalidInput:
        rows, next_cursor = order_service.list_buyer_orders(
            page.db, page.user.id, PageParams(limit=LIST_PAGE), status=status
        )
    shops = shops_service.shops_by_ids(page.db, {o.shop_id for o in rows})
    return page.render(
        "shopper/orders.html",
        orders=[(o, shops.get(o.shop_id)) for o in rows],
        next_cursor=next_cursor,
        status=status.value if status else "",
        statuses=[s.value for s in OrderStatus],
    )


@router.get("/orders/{order_id}")
def order_detail(page: ShopperPage, order_id: IdPath) -> Response:
    assert page.user is not None
    order = order_service.get_order_for_buyer(page.db, page.user.id, order_id)
    shipment = order_service.get_shipment(page.db, order.id)
    shop = shops_service.get_shop(page.db, order.shop_id)
    cases = aftersales_service.cases_for_order(page.db, order.id)
    delivered = order.status in (OrderStatus.delivered, OrderStatus.completed)
    # What was answered already is shown, not offered again.
    reviews = reviews_service.first_reviews_of_order(page.db, page.user.id, order.id) if delivered else {}
    nps_answer = (
        experience_surveys.answer_for(page.db, page.user.id, order_id=order.id) if delivered else None
    )
    return page.render(
        "shopper/order.html",
        reviews=reviews,
        nps_answer=nps_answer,
        order=order,
        items=list(order.items),
        shipment=shipment,
        shop=shop,
        address_line=address_service.shipping_line(order.shipping_address, page.locale),
        events=timeline(order, shipment),
        tracking=logistics_service.tracking_for_order(page.db, order.id),
        steps=ORDER_STEPS,
        cases=cases,
        open_case_items={c.order_item_id for c in cases if aftersales_service.is_open(c)},
        can_review=delivered,
        can_after_sale=delivered,
        can_confirm=order.status is OrderStatus.delivered,
        can_cancel=order.status in (OrderStatus.created, OrderStatus.paid),
    )


@router.post("/orders/{order_id}/confirm-receipt")
def confirm_receipt(page: ShopperPage, order_id: IdPath, _: FormData) -> Response:
    assert page.user is not None
    order_service.confirm_receipt(page.db, page.user.id, order_id)
    return page.redirect(f"/orders/{order_id}", flash="orders.received")


@router.post("/orders/{order_id}/cancel")
def cancel_order(page: ShopperPage, order_id: IdPath, _: FormData) -> Response:
    assert page.user is not None
    order_service.cancel_order_as_buyer(page.db, page.user.id, order_id, reason=None)
    return page.redirect(f"/orders/{order_id}", flash="orders.cancelled_msg")


# --- after-sales -------------------------------------------------------------------------------


def _order_item(page: Any, order_id: int, item_id: int) -> tuple[Order, Any]:
    order = order_service.get_order_for_buyer(page.db, page.user.id, order_id)
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        raise NotFound("order item not found", code="order_item_not_found")
    return order, item


def _render_after_sale(
    page: Any, order: Order, item: Any, form: Form | None, status_code: int = 200
) -> Response:
    return page.render(
        "shopper/after_sale.html",
        status_code=status_code,
        order=order,
        item=item,
        units_left=item.quantity - item.refunded_quantity,
        values=form.values if form else {"kind": "refund_only", "quantity": "1"},
        form=form,
    )


@router.get("/orders/{order_id}/items/{item_id}/after-sale")
def after_sale_form(page: ShopperPage, order_id: IdPath, item_id: IdPath) -> Response:
    order, item = _order_item(page, order_id, item_id)
    return _render_after_sale(page, order, item, None)


@router.post("/orders/{order_id}/items/{item_id}/after-sale")
def after_sale_submit(page: ShopperPage, order_id: IdPath, item_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    order, item = _order_item(page, order_id, item_id)
    form = Form(data, page.t)
    kind = form.choice("kind", [k.value for k in AfterSaleKind])
    reason = form.choice("reason", [r.value for r in AfterSaleReason])
    units_left = item.quantity - item.refunded_quantity
    quantity = form.integer("quantity", required=True, minimum=1, maximum=max(units_left, 1))
    description = form.text("description", max_length=1000)
    if form.ok and kind and reason and quantity:
        try:
            case = aftersales_service.open_case(
                page.db,
                page.user.id,
                order_id,
                order_item_id=item_id,
                kind=AfterSaleKind(kind),
                reason=AfterSaleReason(reason),
                description=description,
                quantity=quantity,
            )
        except DomainError as exc:
            page.db.rollback()
            form.add_domain_error(exc)
        else:
            # The case page next: photos can be added there straight away.
            return page.redirect(f"/after-sales/{case.id}", flash="aftersale.sent")
    order, item = _order_item(page, order_id, item_id)
    return _render_after_sale(page, order, item, form, status_code=422)


# --- reviews -----------------------------------------------------------------------------------


def _render_review(page: Any, order: Order, item: Any, form: Form | None, status_code: int = 200) -> Response:
    # A line reviewed already shows its review instead of the form.
    review = reviews_service.first_reviews_of_order(page.db, page.user.id, order.id).get(item.id)
    return page.render(
        "shopper/review.html",
        status_code=status_code,
        order=order,
        item=item,
        review=review if form is None else None,
        values=form.values if form else {},
        form=form,
    )


@router.get("/orders/{order_id}/items/{item_id}/review")
def review_form(page: ShopperPage, order_id: IdPath, item_id: IdPath) -> Response:
    order, item = _order_item(page, order_id, item_id)
    return _render_review(page, order, item, None)


@router.post("/orders/{order_id}/items/{item_id}/review")
def review_submit(page: ShopperPage, order_id: IdPath, item_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    order, item = _order_item(page, order_id, item_id)
    form = Form(data, page.t)
    rating = form.choice("rating", ["1", "2", "3", "4", "5"], message=page.t("review.choose_rating"))
    text = form.text("text", max_length=2000)
    tags_text = form.text("tags", max_length=240)
    tags = [t.strip() for t in tags_text.replace("，", ",").split(",") if t.strip()]
    if form.ok and rating:
        try:
            reviews_service.create_review(
                page.db, page.user.id, order_id, item_id, rating=int(rating), text=text, tags=tags
            )
        except DomainError as exc:
            page.db.rollback()
            form.add_domain_error(exc, {"tags": "tags", "text": "text", "rating": "rating"})
        else:
            return page.redirect(f"/orders/{order_id}", flash="review.thanks")
    order, item = _order_item(page, order_id, item_id)
    return _render_review(page, order, item, form, status_code=422)


# --- the NPS survey ----------------------------------------------------------------------------


def _render_nps(
    page: Any,
    order_id: int | None,
    after_sale_id: int | None,
    form: Form | None,
    status_code: int = 200,
    done: bool = False,
) -> Response:
    # An answered survey shows the answer (the rate limits refuse a second one).
    answer = (
        None
        if done
        else experience_surveys.answer_for(
            page.db, page.user.id, order_id=order_id, after_sale_id=after_sale_id
        )
    )
    return page.render(
        "shopper/nps.html",
        status_code=status_code,
        answer=answer,
        order_id=order_id,
        after_sale_id=after_sale_id,
        reasons=[r.value for r in NpsReason],
        values=form.values if form else {},
        form=form,
        done=done,
    )


@router.get("/nps")
def nps_form(
    page: ShopperPage,
    order_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after_sale_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return _render_nps(page, order_id, after_sale_id, None)


@router.post("/nps")
def nps_submit(page: ShopperPage, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    score = form.choice("score", [str(n) for n in range(11)], message=page.t("nps.choose_score"))
    reasons = form.choices("reasons", [r.value for r in NpsReason])
    text = form.text("text", max_length=1000)
    order_id = form.integer("order_id", minimum=1, maximum=MAX_ID)
    after_sale_id = form.integer("after_sale_id", minimum=1, maximum=MAX_ID)
    if after_sale_id is not None:
        trigger = NpsTrigger.after_after_sale
    elif order_id is not None:
        trigger = NpsTrigger.after_delivery
    else:
        trigger = NpsTrigger.general
    if form.ok and score is not None:
        try:
            experience_surveys.submit_nps(
                page.db,
                page.user.id,
                score=int(score),
                trigger=trigger,
                reasons=reasons,
                text=text,
                order_id=order_id,
                after_sale_id=after_sale_id,
            )
        except DomainError as exc:
            if exc.code == "survey_rate_limited":
                form.message = page.t("nps.already")
            else:
                form.add_domain_error(exc)
        else:
            return _render_nps(page, order_id, after_sale_id, None, done=True)
    return _render_nps(page, order_id, after_sale_id, form, status_code=422)
