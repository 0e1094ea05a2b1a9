"""Request and response bodies for affiliate plans, applications and creator earnings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.affiliate.models import ApplicationStatus, CommissionKind, PlanKind, PlanStatus
from zhongcao.fields import Id, multi_line
from zhongcao.pagination import Page

MAX_PLAN_CREATORS = 200


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id
    kind: PlanKind
    commission_bps: Annotated[
        int, Field(strict=True, ge=1, le=9000, description="Share of the paid amount, in basis points")
    ]
    creator_account_ids: Annotated[list[Id], Field(max_length=MAX_PLAN_CREATORS)] = Field(
        default_factory=list, description="Targeted and exclusive plans only"
    )


class PlanCreatorAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Id


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shop_id: int
    product_id: int
    kind: PlanKind
    commission_bps: int
    status: PlanStatus
    created_at: datetime
    ended_at: datetime | None
    creator_account_ids: list[int] = Field(default_factory=list)


class PlazaEntryOut(BaseModel):
    plan_id: int
    kind: PlanKind
    commission_bps: int
    product_id: int
    product_title_zh: str
    product_title_en: str
    # Lowest active SKU price, and what the plan pays on it.
    price_fen: int | None
    estimated_commission_fen: int | None
    shop_id: int
    shop_name_zh: str
    shop_name_en: str
    # Whether the caller may anchor the product under this plan now (open, or listed on the plan).
    can_promote: bool
    # The caller's latest application to this plan, if any.
    application_status: ApplicationStatus | None = None


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: Id
    message: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(multi_line)
    ] = ""


class ApplicantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handle: str
    name: str
    niche: str | None
    is_top_kol: bool
    follower_count: int


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    shop_id: int
    account_id: int
    status: ApplicationStatus
    message: str
    created_at: datetime
    decided_at: datetime | None


class MerchantApplicationOut(ApplicationOut):
    product_id: int
    applicant: ApplicantOut


class CommissionEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: CommissionKind
    amount_fen: int
    order_id: int
    order_item_id: int
    shop_id: int
    refund_id: int | None
    note: str | None
    created_at: datetime


class CommissionsOut(BaseModel):
    balance_fen: int = Field(description="Sum of every entry: accruals minus reversals")
    pending_fen: int = Field(0, description="Net commission of orders not yet settled to their shop")
    settled_fen: int = Field(0, description="Net commission of settled orders (pending + settled = balance)")
    reversed_fen: int = Field(0, description="Taken back by refunds after completion (positive)")
    entries: Page[CommissionEntryOut]


# --- matching ------------------------------------------------------------------------------------


class MatchReasonOut(BaseModel):
    """One reason for a recommendation. ``code``: audience_category (share of the audience's purchases
    in ``category_id``), content_topic (products promoted in ``category_id``), buyers_follow (the
    product's buyers among the creator's followers), similar_creators (similar creators who sold it),
    price_fit (typical price the audience pays, fen), commission (basis points), shop_score (0–100),
    category_gmv (fen sold in ``category_id``), conversion (orders per content item)."""

    code: str
    value: float
    category_id: int | None = None


class RecommendedPlanOut(BaseModel):
    plan_id: int
    kind: PlanKind
    commission_bps: int
    estimated_commission_fen: int | None


class ProductRecommendationOut(BaseModel):
    product_id: int
    product_title_zh: str
    product_title_en: str
    price_fen: int | None
    shop_id: int
    score: float
    reasons: list[MatchReasonOut]
    plan: RecommendedPlanOut = Field(description="The best plan the creator may promote under now")
    targeted_plan: RecommendedPlanOut | None = Field(
        None, description="A better-paying targeted plan the creator is not listed on (apply to it)"
    )


class ProductRecommendationsOut(BaseModel):
    items: list[ProductRecommendationOut]


class CreatorRecommendationOut(BaseModel):
    account_id: int
    handle: str
    name: str
    niche: str | None
    is_top_kol: bool
    follower_count: int
    score: float
    reasons: list[MatchReasonOut]
    on_plan_ids: list[int] = Field(description="The product's targeted/exclusive plans that list the creator")


class CreatorRecommendationsOut(BaseModel):
    product_id: int
    items: list[CreatorRecommendationOut]
