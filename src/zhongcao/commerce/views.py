"""HTTP endpoints for the cart, checkout and payment, buyer and merchant orders, carrier events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from zhongcao import flows, fulfilment_flows
from zhongcao.catalog import lookup
from zhongcao.commerce import cart as cart_service
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import idempotency
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import CartItem, Checkout, Order, OrderItem, OrderStatus, Shipment
from zhongcao.commerce.schemas import (
    AttributionOut,
    BuyerCancel,
    CarrierEvent,
    CartItemCreate,
    CartItemOut,
    CartItemUpdate,
    CartOut,
    CheckoutCreate,
    CheckoutOut,
    ItemAttributionOut,
    MerchantCancel,
    MerchantOrderItemOut,
    MerchantOrderOut,
    OrderItemOut,
    OrderOut,
    PaymentOut,
    PayRequest,
    ShipmentOut,
    ShipRequest,
    TimelineEvent,
)
from zhongcao.deps import (
    DbSession,
    MerchantContext,
    MerchantCtx,
    OperatorUser,
    ShopperUser,
    client_address,
    merchant_with,
)
from zhongcao.devices import DEVICE_COOKIE, DEVICE_HEADER, DEVICE_ID_PATTERN, device_key
from zhongcao.errors import InvalidInput
from zhongcao.fields import IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.request_limits import buy_limits_for
from zhongcao.shops.models import StaffRole

router = APIRouter()

PathId = IdPath
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Required. A unique key per intended operation; a retry with the same key and "
        "body replays the first answer instead of acting twice.",
    ),
]
DeviceId = Annotated[
    str | None,
    Header(
        alias=DEVICE_HEADER,
        pattern=DEVICE_ID_PATTERN,
        description="Optional. A random id for this installation of the client (16-64 URL-safe "
        "characters), kept the same across sign-ins; only its hash is stored, on the payment, for "
        "integrity's order checks. Browsers send their zc_device cookie instead.",
    ),
]
Out = TypeVar("Out", OrderOut, MerchantOrderOut)
ShopFulfiller = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]


# --- presenters ----------------------------------------------------------------------------------


def _item_attribution(item: OrderItem) -> ItemAttributionOut:
    return ItemAttributionOut(
        channel=item.channel,
        content_id=item.content_id,
        account_id=item.account_id,
        campaign_id=item.campaign_id,
        carrier=item.carrier,
        frozen_at=item.attribution_frozen_at,
    )


def _item_fields(item: OrderItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "product_id": item.product_id,
        "sku_id": item.sku_id,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "sku_attributes": item.sku_attributes,
        "unit_price_fen": item.unit_price_fen,
        "quantity": item.quantity,
        "line_total_fen": item.line_total_fen,
        "shop_discount_fen": item.shop_discount_fen,
        "platform_discount_fen": item.platform_discount_fen,
        "campaign_subsidy_fen": item.campaign_subsidy_fen,
        "paid_fen": item.paid_fen,
        "refunded_fen": item.refunded_fen,
        "refunded_quantity": item.refunded_quantity,
        "attribution": _item_attribution(item),
    }


def _timeline(order: Order, shipment: Shipment | None) -> list[TimelineEvent]:
    events = [("created", order.created_at), ("paid", order.paid_at), ("shipped", order.shipped_at)]
    if shipment is not None:
        events.append(("picked_up", shipment.picked_up_at))
    events += [
        ("delivered", order.delivered_at),
        ("completed", order.completed_at),
        ("cancelled", order.cancelled_at),
    ]
    return [TimelineEvent(event=name, at=at) for name, at in events if at is not None]


def _order_fields(order: Order, shipment: Shipment | None) -> dict[str, Any]:
    return {
        "id": order.id,
        "checkout_id": order.checkout_id,
        "shop_id": order.shop_id,
        "status": order.status,
        "item_total_fen": order.item_total_fen,
        "shop_discount_fen": order.shop_discount_fen,
        "platform_discount_fen": order.platform_discount_fen,
        "campaign_subsidy_fen": order.campaign_subsidy_fen,
        "shipping_fen": order.shipping_fen,
        "paid_fen": order.paid_fen,
        "refunded_fen": order.refunded_fen,
        "shop_coupon_id": order.shop_coupon_id,
        "platform_coupon_id": order.platform_coupon_id,
        "shipping_address": order.shipping_address,
        "cancel_reason": order.cancel_reason,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "completed_at": order.completed_at,
        "cancelled_at": order.cancelled_at,
        "shipment": ShipmentOut.model_validate(shipment) if shipment is not None else None,
        "timeline": _timeline(order, shipment),
    }


def buyer_order_out(order: Order, shipment: Shipment | None) -> OrderOut:
    return OrderOut(
        **_order_fields(order, shipment), items=[OrderItemOut(**_item_fields(i)) for i in order.items]
    )


def merchant_order_out(order: Order, shipment: Shipment | None) -> MerchantOrderOut:
    items = [
        MerchantOrderItemOut(
            **_item_fields(i),
            platform_fee_bps=i.platform_fee_bps,
            platform_fee_fen=i.platform_fee_fen,
            affiliate_plan_id=i.affiliate_plan_id,
            commission_bps=i.commission_bps,
            commission_fen=i.commission_fen,
        )
        for i in order.items
    ]
    return MerchantOrderOut(
        **_order_fields(order, shipment),
        user_id=order.user_id,
        platform_fee_fen=order.platform_fee_fen,
        commission_fen=order.commission_fen,
        shop_settlement_fen=order.shop_settlement_fen,
        items=items,
    )


def checkout_out(
    db: Session, checkout: Checkout, *, shipped: bool = True, payments: bool = True
) -> CheckoutOut:
    """The checkout as its buyer sees it. A caller that knows none of its orders has shipped
    (``shipped=False``: just placed, just paid) or that it has no payment yet (``payments=False``:
    just placed) saves reading them."""
    orders = list(checkout.orders)
    shipments = order_service.shipments_by_order(db, [o.id for o in orders]) if shipped else {}
    return CheckoutOut(
        id=checkout.id,
        status=checkout.status,
        total_fen=checkout.total_fen,
        expires_at=checkout.expires_at,
        paid_at=checkout.paid_at,
        cancelled_at=checkout.cancelled_at,
        created_at=checkout.created_at,
        orders=[buyer_order_out(o, shipments.get(o.id)) for o in orders],
        payments=[PaymentOut.model_validate(p) for p in checkout_service.payments_of(db, checkout.id)]
        if payments
        else [],
    )


def _cart_item_out(item: CartItem, info: lookup.SkuInfo | None) -> CartItemOut:
    return CartItemOut(
        id=item.id,
        sku_id=item.sku_id,
        product_id=info.product_id if info else None,
        shop_id=info.shop_id if info else None,
        title_zh=info.title_zh if info else None,
        title_en=info.title_en if info else None,
        sku_attributes=info.attributes if info else {},
        unit_price_fen=info.price_fen if info else None,
        quantity=item.quantity,
        line_total_fen=info.price_fen * item.quantity if info else None,
        available=bool(info and info.for_sale and info.stock >= item.quantity),
        attribution=AttributionOut(
            channel=item.channel,
            content_id=item.content_id,
            account_id=item.account_id,
            campaign_id=item.campaign_id,
        ),
        created_at=item.created_at,
    )


def _with_shipment(db: Session, order: Order, present: Callable[[Order, Shipment | None], Out]) -> Out:
    return present(order, order_service.get_shipment(db, order.id))


def _orders_page(
    db: Session,
    orders: Sequence[Order],
    cursor: str | None,
    present: Callable[[Order, Shipment | None], Out],
) -> Page[Out]:
    shipments = order_service.shipments_by_order(db, [o.id for o in orders])
    return Page(items=[present(o, shipments.get(o.id)) for o in orders], next_cursor=cursor)


def _idempotent(
    db: Session,
    user_id: int,
    scope: str,
    key: str | None,
    body: BaseModel,
    action: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Run ``action`` once per idempotency key; a retry gets the first answer, marked as replayed."""
    outcome = idempotency.execute(
        db, user_id=user_id, scope=scope, key=key, body=body.model_dump(mode="json"), action=action
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


# --- cart ----------------------------------------------------------------------------------------


@router.get("/api/cart", response_model=CartOut, tags=["cart"])
def get_cart(user: ShopperUser, db: DbSession) -> CartOut:
    items = cart_service.cart_items(db, user.id)
    infos = lookup.skus_by_ids(db, [i.sku_id for i in items])
    out = [_cart_item_out(i, infos.get(i.sku_id)) for i in items]
    return CartOut(items=out, item_total_fen=sum(i.line_total_fen or 0 for i in out if i.available))


@router.post(
    "/api/cart/items", status_code=status.HTTP_201_CREATED, response_model=CartItemOut, tags=["cart"]
)
def add_cart_item(body: CartItemCreate, user: ShopperUser, db: DbSession) -> CartItemOut:
    """Add units of a SKU; a SKU already in the cart gets its quantity increased."""
    item = cart_service.add_to_cart(
        db, user.id, sku_id=body.sku_id, quantity=body.quantity, attribution=body.attribution
    )
    return _cart_item_out(item, lookup.skus_by_ids(db, [item.sku_id]).get(item.sku_id))


@router.patch("/api/cart/items/{item_id}", response_model=CartItemOut, tags=["cart"])
def update_cart_item(item_id: PathId, body: CartItemUpdate, user: ShopperUser, db: DbSession) -> CartItemOut:
    item = cart_service.update_cart_item(db, user.id, item_id, quantity=body.quantity)
    return _cart_item_out(item, lookup.skus_by_ids(db, [item.sku_id]).get(item.sku_id))


@router.delete("/api/cart/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["cart"])
def delete_cart_item(item_id: PathId, user: ShopperUser, db: DbSession) -> Response:
    cart_service.remove_cart_item(db, user.id, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- checkout and payment ------------------------------------------------------------------------


@router.post(
    "/api/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutOut, tags=["checkout"]
)
def create_checkout(
    body: CheckoutCreate,
    user: ShopperUser,
    db: DbSession,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create one order per shop, holding stock, campaign budget and coupons until payment. 429
    ``too_many_requests`` past the per-account or per-address rate limit (docs/flash-sales.md)."""
    buy_limits_for(request.app).spend("checkout", user.id, client_address(request))
    user_id = user.id
    settings = request.app.state.settings

    def action() -> tuple[int, Any]:
        checkout = checkout_service.place_checkout(
            db, user_id, body, settings=settings, commit=False, member_rates=flows.member_rates(db, user_id)
        )
        return status.HTTP_201_CREATED, checkout_out(db, checkout, shipped=False, payments=False).model_dump(
            mode="json"
        )

    return _idempotent(db, user_id, "checkout", idempotency_key, body, action)


@router.get("/api/checkouts/{checkout_id}", response_model=CheckoutOut, tags=["checkout"])
def get_checkout(checkout_id: PathId, user: ShopperUser, db: DbSession) -> CheckoutOut:
    return checkout_out(db, checkout_service.get_checkout_for_buyer(db, user.id, checkout_id))


@router.post("/api/checkouts/{checkout_id}/pay", response_model=CheckoutOut, tags=["checkout"])
def pay_checkout(
    checkout_id: PathId,
    body: PayRequest,
    user: ShopperUser,
    db: DbSession,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    device_id: DeviceId = None,
) -> JSONResponse:
    """Pay every order of the checkout with one payment (402 ``payment_failed`` on a decline)."""
    user_id = user.id
    key = idempotency.check_key(idempotency_key)
    device = device_key(device_id or request.cookies.get(DEVICE_COOKIE))

    def action() -> tuple[int, Any]:
        checkout = checkout_service.pay_checkout(
            db,
            user_id,
            checkout_id,
            payment_method=body.payment_method,
            client_key=key,
            device_key=device,
            commit=False,
        )
        return status.HTTP_200_OK, checkout_out(db, checkout, shipped=False).model_dump(mode="json")

    return _idempotent(db, user_id, f"pay:{checkout_id}", key, body, action)


# --- buyer orders --------------------------------------------------------------------------------

StatusFilter = Annotated[OrderStatus | None, Query(alias="status", description="Only orders in this status")]


@router.get("/api/orders", response_model=Page[OrderOut], tags=["orders"])
def list_orders(
    user: ShopperUser,
    db: DbSession,
    params: PageParams = Depends(page_params),
    status_filter: StatusFilter = None,
) -> Page[OrderOut]:
    orders, cursor = order_service.list_buyer_orders(db, user.id, params, status=status_filter)
    return _orders_page(db, orders, cursor, buyer_order_out)


@router.get("/api/orders/{order_id}", response_model=OrderOut, tags=["orders"])
def get_order(order_id: PathId, user: ShopperUser, db: DbSession) -> OrderOut:
    order = order_service.get_order_for_buyer(db, user.id, order_id)
    return _with_shipment(db, order, buyer_order_out)


@router.post("/api/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
def cancel_order(
    order_id: PathId, user: ShopperUser, db: DbSession, body: Annotated[BuyerCancel | None, Body()] = None
) -> OrderOut:
    """Unpaid: cancels the whole checkout (one payment covers all its orders). Paid: refunded in full."""
    order = order_service.cancel_order_as_buyer(db, user.id, order_id, reason=body.reason if body else None)
    return _with_shipment(db, order, buyer_order_out)


@router.post("/api/orders/{order_id}/confirm-receipt", response_model=OrderOut, tags=["orders"])
def confirm_receipt(order_id: PathId, user: ShopperUser, db: DbSession) -> OrderOut:
    order = order_service.confirm_receipt(db, user.id, order_id)
    return _with_shipment(db, order, buyer_order_out)


# --- merchant orders -----------------------------------------------------------------------------


@router.get("/api/merchant/orders", response_model=Page[MerchantOrderOut], tags=["merchant"])
def merchant_list_orders(
    ctx: MerchantCtx,
    db: DbSession,
    params: PageParams = Depends(page_params),
    status_filter: StatusFilter = None,
) -> Page[MerchantOrderOut]:
    orders, cursor = order_service.list_shop_orders(db, ctx.shop_id, params, status=status_filter)
    return _orders_page(db, orders, cursor, merchant_order_out)


@router.get("/api/merchant/orders/{order_id}", response_model=MerchantOrderOut, tags=["merchant"])
def merchant_get_order(order_id: PathId, ctx: MerchantCtx, db: DbSession) -> MerchantOrderOut:
    order = order_service.get_order_for_shop(db, ctx.shop_id, order_id)
    return _with_shipment(db, order, merchant_order_out)


@router.post("/api/merchant/orders/{order_id}/ship", response_model=MerchantOrderOut, tags=["merchant"])
def merchant_ship_order(
    order_id: PathId, body: ShipRequest, ctx: ShopFulfiller, db: DbSession, request: Request
) -> MerchantOrderOut:
    """Hand a paid order to a carrier (shop owner or operator). ``carrier_name`` is a carrier's code
    from ``GET /api/logistics/carriers`` (or its name: 顺丰, SF Express); the shipment stores the code
    and the carrier's tracking starts (``GET /api/merchant/orders/{id}/tracking``). 422
    ``unknown_carrier`` for a carrier the platform does not know. An order the platform warehouse
    ships is refused (409 ``order_fulfilled_by_warehouse``): its warehouse job hands it over."""
    if body.platform_warehouse:
        # Only the warehouse's own hand-over marks a shipment as the platform's (its logistics
        # faults then leave the shop's score): a shop cannot claim it for a parcel it sent.
        raise InvalidInput(
            "only the platform warehouse ships as the platform warehouse",
            code="platform_warehouse_not_yours",
            field="platform_warehouse",
        )
    order = fulfilment_flows.ship_order_as_shop(
        db,
        ctx.shop_id,
        order_id,
        carrier_name=body.carrier_name,
        tracking_number=body.tracking_number,
        settings=request.app.state.settings,
    )
    return _with_shipment(db, order, merchant_order_out)


@router.post("/api/merchant/orders/{order_id}/cancel", response_model=MerchantOrderOut, tags=["merchant"])
def merchant_cancel_order(
    order_id: PathId, body: MerchantCancel, ctx: ShopFulfiller, db: DbSession
) -> MerchantOrderOut:
    """Cancel a paid order the shop cannot fulfil; the buyer is refunded in full."""
    order = order_service.cancel_order_as_merchant(db, ctx.shop_id, order_id, reason=body.reason)
    return _with_shipment(db, order, merchant_order_out)


# --- carrier events (platform logistics integration) ---------------------------------------------


@router.post("/api/ops/shipments/{order_id}/picked-up", response_model=MerchantOrderOut, tags=["ops"])
def carrier_picked_up(
    order_id: PathId, _: OperatorUser, db: DbSession, body: Annotated[CarrierEvent | None, Body()] = None
) -> MerchantOrderOut:
    order = order_service.record_pickup(db, order_id, at=body.at if body else None)
    return _with_shipment(db, order, merchant_order_out)


@router.post("/api/ops/shipments/{order_id}/delivered", response_model=MerchantOrderOut, tags=["ops"])
def carrier_delivered(
    order_id: PathId, _: OperatorUser, db: DbSession, body: Annotated[CarrierEvent | None, Body()] = None
) -> MerchantOrderOut:
    order = order_service.record_delivery(db, order_id, at=body.at if body else None)
    return _with_shipment(db, order, merchant_order_out)
