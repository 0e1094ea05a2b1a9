"""The platform warehouse over the API: warehouses, inbound shipments, warehouse stock, fulfilment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from zhongcao.fields import Id, StrictInt, UserLine
from zhongcao.warehouse.models import FulfilmentStatus, InboundStatus, WarehouseCode

TrackingNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{4,64}$")]
CarrierName = Annotated[UserLine, Field(min_length=1, max_length=40)]


class WarehouseOut(BaseModel):
    code: WarehouseCode
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str


class WarehouseInboundLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: Id
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]


class WarehouseInboundIn(BaseModel):
    """A new inbound shipment: a draft, or dispatched at once (``dispatch`` with the carrier and
    tracking number of the shop's leg to the warehouse)."""

    model_config = ConfigDict(extra="forbid")

    warehouse: WarehouseCode
    lines: Annotated[list[WarehouseInboundLineIn], Field(min_length=1, max_length=50)]
    note: Annotated[UserLine, Field(max_length=200)] | None = None
    dispatch: StrictBool = False
    carrier_name: CarrierName | None = None
    tracking_number: TrackingNumber | None = None


class WarehouseDispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier_name: CarrierName
    tracking_number: TrackingNumber


class WarehouseReceiveLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: Id
    received_quantity: Annotated[StrictInt, Field(ge=0, le=100_000)]


class WarehouseReceiveIn(BaseModel):
    """What the warehouse counted per line; a line left out counts as sent."""

    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[WarehouseReceiveLineIn], Field(max_length=50)] = []


class WarehouseInboundLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    product_id: int
    quantity: int
    received_quantity: int | None
    discrepancy: int | None


class WarehouseInboundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shop_id: int
    warehouse: WarehouseCode
    status: InboundStatus
    carrier_name: str | None
    tracking_number: str | None
    note: str | None
    created_at: datetime
    dispatched_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    expected_units: int
    received_units: int
    has_discrepancy: bool
    lines: list[WarehouseInboundLineOut]


class WarehouseStockOut(BaseModel):
    sku_id: int
    product_id: int
    warehouse: WarehouseCode
    title_zh: str
    title_en: str
    sku_code: str
    attributes: dict[str, Any]
    on_hand: int = Field(description="Units on the warehouse's shelves")
    sellable: int = Field(description="Units on sale (the catalog's stock)")
    reserved: int = Field(description="Units on the shelves that orders hold, not picked yet")
    in_transit: int = Field(description="Units on their way in in-transit inbounds")
    received_total: int
    withdrawn_at_enrolment: int = Field(description="The shop's own units taken off sale at enrolment")
    enrolled_at: datetime


class WarehouseFulfilmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    warehouse: WarehouseCode
    status: FulfilmentStatus
    carrier_code: str
    tracking_number: str
    created_at: datetime
    picked_at: datetime | None
    packed_at: datetime | None
    handed_over_at: datetime | None
    closed_at: datetime | None


class WarehousePromiseOut(BaseModel):
    """A SKU that ships from a platform warehouse: arrives in ``days_min``–``days_max`` days."""

    sku_id: int
    warehouse: WarehouseCode
    in_stock: bool
    days_min: int
    days_max: int
