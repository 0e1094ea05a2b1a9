"""What the logistics API takes and answers: carriers, an order's tracking, a carrier's webhook event."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.fields import UserLine
from zhongcao.logistics.carriers import Kind
from zhongcao.logistics.models import TrackingSource


class CarrierOut(BaseModel):
    code: str = Field(description="What a shipment's carrier_name holds, e.g. sf")
    name_zh: str
    name_en: str


class TrackingEventOut(BaseModel):
    kind: Kind
    at: datetime
    location_zh: str = Field(description="Where, as the carrier wrote it")
    location_en: str | None
    description: str
    source: TrackingSource


class TrackingOut(BaseModel):
    order_id: int
    carrier: CarrierOut | None = Field(
        description="None for a carrier typed as free text before the registry"
    )
    carrier_name: str = Field(description="As the shipment stores it (the carrier's code)")
    tracking_number: str
    status: str = Field(
        description="awaiting_pickup, in_transit, out_for_delivery, delivered, lost, returned, or untracked"
    )
    delayed: bool = Field(description="The carrier reported a delay and the parcel has not arrived yet")
    expected_delivery_at: datetime | None = Field(description="The simulated carrier's estimate")
    events: list[TrackingEventOut] = Field(description="Newest first")


class WebhookEvent(BaseModel):
    """One tracking event from a carrier."""

    model_config = ConfigDict(extra="ignore")

    event_id: Annotated[
        str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:-]+$")
    ] = Field(description="The carrier's id for this event: the same id twice is recorded once")
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,64}$")]
    kind: Kind
    at: AwareDatetime = Field(description="When it happened, with its UTC offset")
    location: Annotated[UserLine, Field(max_length=120)] = ""
    location_en: Annotated[UserLine, Field(max_length=160)] | None = None
    description: Annotated[UserLine, Field(max_length=200)] = ""


class WebhookResult(BaseModel):
    event_id: str
    tracking_number: str
    duplicate: bool = Field(description="The event id was recorded before; nothing changed")
    parcel_status: str
