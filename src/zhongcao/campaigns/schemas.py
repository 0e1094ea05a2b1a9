from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.campaigns import coupons, service
from zhongcao.campaigns.models import (
    Campaign,
    CampaignStatus,
    Coupon,
    CouponFunder,
    UserCoupon,
    UserCouponStatus,
)
from zhongcao.fields import Id, single_line

# Money and counts live in 32-bit integer columns; bound them so that no input can overflow one.
MAX_INT32 = 2_147_483_647

Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_INT32)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
NameZh = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), AfterValidator(single_line)
]
NameEn = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(single_line)
]
ScoreGate = Annotated[
    int,
    Field(
        strict=True,
        ge=service.MIN_GATE_SCORE_CENTI,
        le=service.MAX_GATE_SCORE_CENTI,
        description="Shop score needed to register, in hundredths (450 = 4.50)",
    ),
]


Out = TypeVar("Out", bound=BaseModel)


def _from_row(model: type[Out], row: object, **computed: Any) -> Out:
    """``model`` filled from the row's attributes of the same names, and from ``computed`` for the
    fields the row does not have."""
    columns = {name: getattr(row, name) for name in model.model_fields if name not in computed}
    return model(**columns, **computed)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name_zh: NameZh
    name_en: NameEn
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="Exclusive; must be after starts_at")
    category_ids: Annotated[
        list[Id],
        Field(min_length=1, max_length=200, description="Top categories include all their leaves"),
    ]
    min_shop_score_centi: ScoreGate | None = None
    subsidy_per_item_fen: Fen = 0
    budget_fen: Fen = 0


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_fen: Fen | None = Field(default=None, description="Never below what is already spent")
    ends_at: AwareDatetime | None = Field(default=None, description="Only later than the current end")
    status: Literal["cancelled"] | None = None


class CampaignOut(BaseModel):
    id: int
    slug: str
    name_zh: str
    name_en: str
    starts_at: datetime
    ends_at: datetime
    status: CampaignStatus
    is_open: bool = Field(description="Not cancelled and inside its window right now")
    min_shop_score_centi: int | None
    subsidy_per_item_fen: int
    budget_fen: int
    spent_fen: int
    budget_left_fen: int
    created_at: datetime

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return _from_row(
            cls,
            campaign,
            is_open=service.is_open(campaign),
            budget_left_fen=service.budget_left_fen(campaign),
        )


class CategoryRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    slug: str
    name_zh: str
    name_en: str


class CampaignDetailOut(CampaignOut):
    categories: list[CategoryRef] = Field(description="As listed; a top category covers its leaves")
    eligible_category_ids: list[int] = Field(description="Listed categories and the leaves of listed tops")


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id


class RegistrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    product_id: int
    shop_id: int
    created_at: datetime
    withdrawn_at: datetime | None


class CouponCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
        AfterValidator(single_line),
    ]
    threshold_fen: Fen = Field(description="Goods total needed (满); 0 = no threshold")
    discount_fen: Annotated[
        int,
        Field(strict=True, gt=0, le=MAX_INT32, description="Amount off (减); with percent_off, the most off"),
    ]
    percent_off: Annotated[
        int | None,
        Field(
            strict=True, ge=1, le=99, description="Percentage off the goods (10 = 10% off); null = amount off"
        ),
    ] = None
    per_user_limit: Annotated[int, Field(strict=True, ge=1, le=coupons.MAX_PER_USER_LIMIT)] = 1
    total_quantity: Annotated[int | None, Field(strict=True, ge=1, le=MAX_INT32)] = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    members_only: Annotated[
        bool,
        Field(
            strict=True,
            description="Only members of the shop's membership programme may claim it (shop coupons only)",
        ),
    ] = False


class CouponOut(BaseModel):
    id: int
    funded_by: CouponFunder
    shop_id: int | None
    name: str
    threshold_fen: int
    discount_fen: int
    percent_off: int | None
    per_user_limit: int
    total_quantity: int | None
    claimed_count: int
    remaining_quantity: int | None
    state: coupons.CouponState
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    members_only: bool
    created_at: datetime

    @classmethod
    def of(cls, coupon: Coupon) -> CouponOut:
        return _from_row(
            cls,
            coupon,
            remaining_quantity=coupons.remaining_quantity(coupon),
            state=coupons.coupon_state(coupon),
        )


class ShopCouponOut(CouponOut):
    used_count: int = Field(description="Claimed copies spent on a paid order")

    @classmethod
    def with_usage(cls, coupon: Coupon, used_count: int) -> ShopCouponOut:
        return cls(**CouponOut.of(coupon).model_dump(), used_count=used_count)


class UserCouponOut(BaseModel):
    id: int
    coupon_id: int
    status: UserCouponStatus
    checkout_id: int | None
    claimed_at: datetime
    used_at: datetime | None
    coupon: CouponOut

    @classmethod
    def of(cls, user_coupon: UserCoupon, coupon: Coupon) -> UserCouponOut:
        return _from_row(cls, user_coupon, coupon=CouponOut.of(coupon))
