"""Request and response bodies for affiliate plans, applications and creator earnings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.affiliate.models import ApplicationStatus, CommissionKind, PlanKind, PlanStatus, SampleStatus
from zhongcao.fields import Id, UserLine, UserText, multi_line
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
    # Added with the plaza's search (issue #16): the product's facts and whether it is in my showcase.
    category_id: int | None = None
    sales: int | None = Field(None, description="Units sold, every SKU")
    shop_score_centi: int | None = Field(None, description="The shop's current experience score (450 = 4.50)")
    in_showcase: bool = False


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
    follower_count: int = Field(
        description="As shown: follows from accounts flagged for bought engagement left out"
    )

    @classmethod
    def of(cls, account: Any, followers: Mapping[int, int]) -> ApplicantOut:
        """``followers``: ``content_reads.shown_follower_counts`` of the accounts answered."""
        return cls.model_validate(account).model_copy(update={"follower_count": followers.get(account.id, 0)})


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
    decision_note: str = Field("", description="The merchant's note with the decision (may be empty)")


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


# --- the showcase (商品橱窗) ------------------------------------------------------------------------


class ShowcaseAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id


class ShowcaseMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: Annotated[int, Field(strict=True, ge=1, le=500, description="1 is first; past the end is last")]


class ShowcaseItemOut(BaseModel):
    position: int
    product_id: int
    product_title_zh: str
    product_title_en: str
    price_fen: int | None
    added_at: datetime
    available: bool = Field(description="Whether shoppers see it now")
    unavailable_reason: str | None = Field(
        None,
        description="Why shoppers do not see it: product_off_sale, no_active_plan, exclusive_to_others, "
        "targeted_not_listed",
    )
    commission_bps: int | None = Field(None, description="The best rate the creator may earn on it now")
    estimated_commission_fen: int | None = None


class ShowcaseOut(BaseModel):
    items: list[ShowcaseItemOut]


class PublicShowcaseItemOut(BaseModel):
    product_id: int
    title_zh: str
    title_en: str
    price_fen: int | None


class PublicShowcaseOut(BaseModel):
    account_id: int
    items: list[PublicShowcaseItemOut]


class ApplicationDecision(BaseModel):
    """Optional body of an approval or a rejection: a note the creator reads."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[UserText, Field(max_length=500)] = ""


# --- sample requests (寄样) ------------------------------------------------------------------------


class SampleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id
    recipient: Annotated[UserLine, Field(min_length=1, max_length=40)]
    phone: Annotated[
        UserLine, Field(max_length=20, description="Digits, spaces and dashes, an optional leading +")
    ]
    address: Annotated[UserLine, Field(min_length=1, max_length=200)]
    message: Annotated[UserText, Field(max_length=1000)] = ""


class SampleApprove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[UserText, Field(max_length=500)] = ""


class SampleReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[UserText, Field(min_length=1, max_length=500, description="The creator reads it")]


class SampleShip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier_name: Annotated[UserLine, Field(min_length=1, max_length=40)]
    tracking_number: Annotated[UserLine, Field(min_length=4, max_length=64)]


class SampleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shop_id: int
    product_id: int
    account_id: int
    status: SampleStatus
    message: str
    recipient: str
    phone: str
    address: str
    decision_note: str = Field(
        description="The merchant's note with an approval, or the reason of a rejection"
    )
    carrier_name: str | None
    tracking_number: str | None
    created_at: datetime
    decided_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    product_title_zh: str = ""
    product_title_en: str = ""


class MerchantSampleOut(SampleOut):
    creator: ApplicantOut


class SampleCountsOut(BaseModel):
    counts: dict[SampleStatus, int]


class CreatorPartnerOut(BaseModel):
    creator: ApplicantOut
    orders: int
    items: int
    gmv_fen: int = Field(description="Paid for the lines sold under the shop's plans in the window")
    refunded_fen: int
    commission_fen: int = Field(description="Commission the lines carry, before refunds")
    booked_fen: int = Field(description="Net commission the ledger booked in the window")


class CreatorPartnersOut(BaseModel):
    first_day: date
    last_day: date
    items: list[CreatorPartnerOut]


class StatementLineOut(BaseModel):
    """One commission entry on a creator's statement."""

    model_config = ConfigDict(from_attributes=True)

    entry_id: int
    created_at: datetime
    order_id: int
    order_item_id: int
    product_id: int | None
    product_title_zh: str
    product_title_en: str
    content_id: int | None = Field(description="The video or live session the order was bought through")
    content_title_zh: str
    content_title_en: str
    kind: CommissionKind
    state: Literal["pending", "settled", "reversed"] = Field(
        description="pending: the order is not settled yet; settled: settled with the order's "
        "settlement by the finance job; reversed: taken back by a refund after completion"
    )
    amount_fen: int = Field(description="Signed: a reversal is negative")


class CreatorStatementOut(BaseModel):
    start: date
    end: date
    pending_fen: int = Field(description="Accrued on orders not yet settled")
    settled_fen: int = Field(description="Accrued on settled orders")
    reversed_fen: int = Field(description="Taken back by refunds after completion (positive)")
    net_fen: int = Field(description="pending + settled - reversed")
    lines: list[StatementLineOut]


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
