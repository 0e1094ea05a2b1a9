"""Request and response bodies for shops and their staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from zhongcao.fields import MAX_ID, multi_line, single_line
from zhongcao.shops.models import ShopStatus, StaffRole

# A flat shipping fee or a free-shipping threshold above 1,000,000 yuan is a typo, not a policy.
MAX_FEE_FEN = 100_000_000
MAX_DESCRIPTION = 5000


NameZh = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), AfterValidator(single_line)
]
NameEn = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(single_line)
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_DESCRIPTION), AfterValidator(multi_line)
]
FeeFen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEE_FEN)]
UserId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


def _reject_null(value: object) -> object:
    # Omitting a field leaves it alone; an explicit null would blank a required column.
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


class ShopCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: NameZh
    name_en: NameEn
    description_zh: Description = ""
    description_en: Description = ""
    shipping_fee_fen: FeeFen = 0
    free_shipping_threshold_fen: FeeFen = 0
    owner_user_id: UserId


class ShopUpdate(BaseModel):
    """What a shop's owner may change. Every field is optional; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name_zh: NameZh | None = None
    name_en: NameEn | None = None
    description_zh: Description | None = None
    description_en: Description | None = None
    shipping_fee_fen: FeeFen | None = None
    free_shipping_threshold_fen: FeeFen | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _reject_null(value)


class ShopStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ShopStatus


class ShopPublicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    shipping_fee_fen: int
    free_shipping_threshold_fen: int
    created_at: datetime


class ShopOut(ShopPublicOut):
    """The shop as its staff and platform operators see it."""

    status: ShopStatus


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    # Owners are made by promoting existing staff, so that every new owner was vetted as staff first.
    role: Literal["operator", "service_agent"]


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: StaffRole


class StaffOut(BaseModel):
    id: int
    shop_id: int
    user_id: int
    email: str
    display_name: str
    role: StaffRole
    created_at: datetime
