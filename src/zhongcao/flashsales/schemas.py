"""Flash sales over the API: setting one up, its state, joining it, tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.fields import Id, StrictInt, UserLine
from zhongcao.flashsales.models import AdmissionState, FlashSaleStatus

Title = Annotated[UserLine, Field(min_length=1, max_length=80)]
Text40 = Annotated[UserLine, Field(min_length=1, max_length=40)]


class FlashSaleIn(BaseModel):
    """A new flash sale on one SKU. Its ``quantity`` is taken off the SKU's stock at once. Give
    ``starts_at``, or ``live_content_id`` alone: then the sale starts when the room's host pins the
    product (``POST .../start``)."""

    model_config = ConfigDict(extra="forbid")

    sku_id: Id
    title: Title
    price_fen: Annotated[StrictInt, Field(ge=1, le=10**10, description="The flash price, below the SKU's")]
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    per_buyer_limit: Annotated[StrictInt, Field(ge=1, le=10)] = 1
    payment_window_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] = 15
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    live_content_id: Id | None = None


class OperatorFlashSaleIn(FlashSaleIn):
    """An operator's flash sale for a campaign, on any shop's SKU (audited: ``reason``)."""

    campaign_id: Id
    reason: Annotated[UserLine, Field(max_length=500)] | None = None


class CampaignFlashSaleIn(FlashSaleIn):
    """An operator's flash sale in the campaign of the path, on any shop's SKU (audited: ``reason``)."""

    reason: Annotated[UserLine, Field(max_length=500)] | None = None


class OperatorEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[UserLine, Field(max_length=500)] | None = None


class FlashSaleOut(BaseModel):
    id: int
    shop_id: int
    product_id: int
    sku_id: int
    title: str
    price_fen: int
    quantity: int
    per_buyer_limit: int
    payment_window_minutes: int
    starts_at: datetime
    ends_at: datetime | None
    status: FlashSaleStatus
    live_content_id: int | None
    campaign_id: int | None
    units_taken: int = Field(description="Units held by written orders (unpaid or paid)")
    returned_to_stock: int
    phase: Literal["waiting_for_pin", "upcoming", "on_sale", "sold_out", "ended"]
    remaining: int


class ShippingAddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text40
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
    province: Text40
    city: Text40
    district: Text40
    line: Annotated[UserLine, Field(min_length=1, max_length=200)]


class JoinIn(BaseModel):
    """Ask for one unit. Ships to ``address_id`` (a saved address), ``shipping_address``, or else the
    buyer's default address. ``content_id``: the sale's live room, when joining from it. A retried
    request with the same ``Idempotency-Key`` gets the first answer."""

    model_config = ConfigDict(extra="forbid")

    address_id: Id | None = None
    shipping_address: ShippingAddressIn | None = None
    content_id: Id | None = None


class TicketOut(BaseModel):
    ticket: str
    sale_id: int
    seq: int
    state: AdmissionState
    admitted_at: datetime
    checkout_id: int | None
    order_id: int | None
    pay_by: datetime | None = None


class JoinOut(BaseModel):
    ticket: TicketOut
    remaining: int
    duplicate: bool


class FlashSaleStateOut(BaseModel):
    sale: FlashSaleOut
    tickets: list[TicketOut] = Field(description="The caller's tickets (empty when signed out)")
