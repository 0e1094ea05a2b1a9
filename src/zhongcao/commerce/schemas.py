"""Request and response models for carts, checkouts, orders and shipments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.commerce.models import (
    Carrier,
    Channel,
    CheckoutStatus,
    OrderStatus,
    PaymentStatus,
)
from zhongcao.fields import Id, single_line

MAX_LINE_QUANTITY = 999
MAX_CHECKOUT_LINES = 50

Quantity = Annotated[int, Field(strict=True, gt=0, le=MAX_LINE_QUANTITY)]
Text40 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(single_line)
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- attribution ---------------------------------------------------------------------------------


class AttributionIn(_Request):
    """Where the buyer found the item. Checked and completed by the server."""

    channel: Channel
    content_id: Id | None = None
    account_id: Id | None = None
    campaign_id: Id | None = None


class AttributionOut(BaseModel):
    channel: Channel
    content_id: int | None
    account_id: int | None
    campaign_id: int | None


class ItemAttributionOut(AttributionOut):
    carrier: Carrier
    frozen_at: datetime | None = Field(description="Set when the order is paid; never changes after.")


# --- cart ----------------------------------------------------------------------------------------


class CartItemCreate(_Request):
    sku_id: Id
    quantity: Quantity
    attribution: AttributionIn | None = None


class CartItemUpdate(_Request):
    quantity: Quantity


class CartItemOut(BaseModel):
    id: int
    sku_id: int
    product_id: int | None
    shop_id: int | None
    title_zh: str | None
    title_en: str | None
    sku_attributes: dict[str, Any]
    unit_price_fen: int | None
    quantity: int
    line_total_fen: int | None
    available: bool = Field(description="On sale with enough stock right now.")
    attribution: AttributionOut
    created_at: datetime


class CartOut(BaseModel):
    items: list[CartItemOut]
    item_total_fen: int = Field(description="Sum of the available lines at current prices.")


# --- checkout ------------------------------------------------------------------------------------


class ShippingAddress(_Request):
    name: Text40
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
    province: Text40
    city: Text40
    district: Text40
    line: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(single_line),
    ]


class CheckoutLineIn(_Request):
    sku_id: Id
    quantity: Quantity
    attribution: AttributionIn | None = None


class CheckoutCreate(_Request):
    """Either ``items`` or ``from_cart: true`` (the whole cart); either ``shipping_address`` (typed in)
    or ``address_id`` (one of the buyer's saved addresses)."""

    items: Annotated[list[CheckoutLineIn], Field(min_length=1, max_length=MAX_CHECKOUT_LINES)] | None = None
    from_cart: bool = False
    shipping_address: ShippingAddress | None = Field(
        default=None, description="The address typed in; send this or `address_id`, not both."
    )
    address_id: Id | None = Field(
        default=None,
        description="One of the buyer's saved addresses (`GET /api/me/addresses`) instead of "
        "`shipping_address`; another user's address is 404 `address_not_found`.",
    )
    shop_coupon_ids: Annotated[list[Id], Field(max_length=20)] = []
    platform_coupon_id: Id | None = None


class PayRequest(_Request):
    payment_method: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    ]


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount_fen: int
    status: PaymentStatus
    provider: str
    failure_code: str | None
    refunded_fen: int
    captured_at: datetime | None
    created_at: datetime


# --- orders --------------------------------------------------------------------------------------


class OrderItemOut(BaseModel):
    id: int
    product_id: int
    sku_id: int
    title_zh: str
    title_en: str
    sku_attributes: dict[str, Any]
    unit_price_fen: int
    quantity: int
    line_total_fen: int
    shop_discount_fen: int
    platform_discount_fen: int
    campaign_subsidy_fen: int
    paid_fen: int
    refunded_fen: int
    refunded_quantity: int
    attribution: ItemAttributionOut


class MerchantOrderItemOut(OrderItemOut):
    platform_fee_bps: int
    platform_fee_fen: int
    affiliate_plan_id: int | None
    commission_bps: int
    commission_fen: int


class ShipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    carrier_name: str
    tracking_number: str
    platform_warehouse: bool
    shipped_at: datetime
    picked_up_at: datetime | None
    delivered_at: datetime | None


class TimelineEvent(BaseModel):
    event: str = Field(description="created, paid, shipped, picked_up, delivered, completed or cancelled")
    at: datetime


class OrderOut(BaseModel):
    id: int
    checkout_id: int
    shop_id: int
    status: OrderStatus
    item_total_fen: int
    shop_discount_fen: int
    platform_discount_fen: int
    campaign_subsidy_fen: int
    shipping_fen: int
    paid_fen: int
    refunded_fen: int
    shop_coupon_id: int | None
    platform_coupon_id: int | None
    shipping_address: dict[str, Any]
    cancel_reason: str | None
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    items: list[OrderItemOut]
    shipment: ShipmentOut | None
    timeline: list[TimelineEvent]


class MerchantOrderOut(OrderOut):
    user_id: int
    platform_fee_fen: int
    commission_fen: int
    shop_settlement_fen: int
    # Narrower rows than OrderOut's (list is invariant to mypy; pydantic validates the field as declared).
    items: list[MerchantOrderItemOut]  # type: ignore[assignment]


class CheckoutOut(BaseModel):
    id: int
    status: CheckoutStatus
    total_fen: int
    expires_at: datetime
    paid_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    orders: list[OrderOut]
    payments: list[PaymentOut]


# --- order actions -------------------------------------------------------------------------------


class BuyerCancel(_Request):
    reason: Text40 | None = None


class MerchantCancel(_Request):
    reason: Text40


class ShipRequest(_Request):
    carrier_name: Text40 = Field(description="A carrier's code from GET /api/logistics/carriers (e.g. sf)")
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{4,64}$")]
    platform_warehouse: bool = False


class CarrierEvent(_Request):
    at: AwareDatetime | None = Field(default=None, description="When it happened; now if omitted.")
