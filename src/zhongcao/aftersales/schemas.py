from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason, AfterSaleStatus, EvidenceSide
from zhongcao.fields import MAX_ID, Id, UserLine, multi_line


def _maybe_multi_line(value: str | None) -> str | None:
    return None if value is None else multi_line(value)


Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(multi_line)
]
TrackingNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
]


class AfterSaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_item_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    kind: AfterSaleKind
    reason: AfterSaleReason
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(multi_line)
    ] = ""
    quantity: Annotated[int, Field(strict=True, ge=1, le=10_000)] = 1
    amount_fen: Annotated[
        int | None,
        Field(
            strict=True,
            ge=1,
            le=MAX_ID,
            description="Refund asked for; defaults to the refundable amount for the quantity.",
        ),
    ] = None


class ReturnShipped(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_number: TrackingNumber
    carrier_name: Annotated[UserLine | None, Field(min_length=1, max_length=40)] = Field(
        default=None, description="The carrier the parcel was handed to (顺丰速运, 中通快递...)"
    )


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note


OptionalReason = Annotated[
    str | None, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_maybe_multi_line)
]


class ArbitrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_at_fault: StrictBool = Field(description="True: the merchant was at fault (counts in its score)")
    refund: StrictBool | None = Field(
        default=None, description="Refund the buyer (a return first for return-and-refund); default: at fault"
    )
    reason: OptionalReason = Field(default=None, description="Why; both sides see it. Required.")
    note: OptionalReason = Field(default=None, description="Deprecated name of ``reason``")


class EvidenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    media_id: Id = Field(description="An image you uploaded (POST /api/media/images)")


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    after_sale_id: int
    side: EvidenceSide
    media_id: int
    added_at: datetime


class AfterSaleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    order_item_id: int
    user_id: int
    shop_id: int
    kind: AfterSaleKind
    reason: AfterSaleReason
    description: str
    status: AfterSaleStatus
    quantity: int
    amount_fen: int
    merchant_at_fault: bool | None
    merchant_note: str | None
    arbitration_note: str | None
    return_tracking_number: str | None
    return_carrier_name: str | None
    requested_at: datetime
    decided_at: datetime | None
    return_shipped_at: datetime | None
    returned_at: datetime | None
    escalated_at: datetime | None
    arbitrated_at: datetime | None
    refunded_at: datetime | None
    closed_at: datetime | None


class AutoProcessOut(BaseModel):
    approved: int
    closed: int
    failed: int
