"""Request and response bodies for accounts, follows and content."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from zhongcao.content.models import (
    AccountKind,
    AppealStatus,
    ContentKind,
    ContentStatus,
    ReportReason,
    ReportStatus,
)
from zhongcao.fields import Id, UserText, single_line

# Handles appear in URLs and @-mentions: lower-case ASCII, digits and underscores only.
Handle = Annotated[
    str,
    StringConstraints(min_length=3, max_length=40, pattern=r"^[a-z0-9_]+$"),
    # Runs first (it wraps the constrained type): handles are compared trimmed and lower-cased.
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
]
AccountName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), AfterValidator(single_line)
]
Niche = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(single_line)
]

MAX_ANCHORS = 50
MAX_PRODUCT_SETS = 20


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: Handle
    name: AccountName
    niche: Niche | None = None


class AccountTopKolUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_top_kol: bool


class AccountOut(BaseModel):
    """An account as anyone may see it (no owning user id)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AccountKind
    shop_id: int | None
    handle: str
    name: str
    niche: str | None
    is_top_kol: bool
    follower_count: int
    created_at: datetime


class PublicAccountOut(AccountOut):
    # Whether the signed-in caller follows this account; null for anonymous callers.
    following: bool | None = None


class FollowState(BaseModel):
    account_id: int
    following: bool
    follower_count: int


class FollowOut(BaseModel):
    id: int
    followed_at: datetime
    account: AccountOut


class ProductSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
        AfterValidator(single_line),
    ]
    product_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_ANCHORS)]


class ContentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ContentKind
    title_zh: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
        AfterValidator(single_line),
    ]
    title_en: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(single_line),
    ]
    topic: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
            AfterValidator(single_line),
        ]
        | None
    ) = None
    duration_seconds: Annotated[int, Field(strict=True, ge=1, le=86_400)] | None = None
    scheduled_at: AwareDatetime | None = None
    anchors: Annotated[list[Id], Field(max_length=MAX_ANCHORS)] = Field(default_factory=list)
    product_sets: Annotated[list[ProductSetIn], Field(max_length=MAX_PRODUCT_SETS)] = Field(
        default_factory=list
    )
    # Short videos: an upload of POST /api/media/videos (and one of /api/media/images as the poster,
    # instead of the frame taken from the video), the publisher's own.
    video_media_id: Id | None = None
    poster_media_id: Id | None = None


class MerchantContentCreate(ContentCreate):
    account_id: Id


class PinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id


class VideoOut(BaseModel):
    media_id: int
    url: str
    content_type: str
    poster_url: str | None
    width: int
    height: int


class ContentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    kind: ContentKind
    status: ContentStatus
    title_zh: str
    title_en: str
    topic: str | None
    duration_seconds: int | None
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    pinned_product_id: int | None
    created_at: datetime
    anchor_product_ids: list[int] = Field(default_factory=list, description="In display order")
    video: VideoOut | None = Field(default=None, description="Short videos with an uploaded video")


class AnchorOut(BaseModel):
    product_id: int
    position: int
    product_set_id: int | None
    title_zh: str
    title_en: str
    # Lowest price among the product's active SKUs; null when none is active.
    price_fen: int | None
    on_sale: bool


class ProductSetOut(BaseModel):
    id: int
    name: str
    position: int
    product_ids: list[int]


class ContentDetailOut(ContentOut):
    account: AccountOut
    anchors: list[AnchorOut]
    product_sets: list[ProductSetOut]
    pinned_product: AnchorOut | None = None


# --- live rooms: comments, likes, the host's numbers -----------------------------------------------


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(single_line),
    ]


class CommentOut(BaseModel):
    id: int
    content_id: int
    who: str = Field(description="The commenter's masked name (张**)")
    body: str
    created_at: datetime


class LikesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: Annotated[int, Field(strict=True, ge=1, le=50)] = 1


class LikesOut(BaseModel):
    content_id: int
    total: int


class TopProductOut(BaseModel):
    product_id: int
    title_zh: str
    title_en: str
    units: int
    gmv_fen: int


class LiveStatsOut(BaseModel):
    content_id: int
    status: ContentStatus
    viewers: int | None = Field(description="Viewers now; null where the count cannot be read")
    comments: int
    likes: int
    orders: int
    units: int
    gmv_fen: int
    top_products: list[TopProductOut]


# --- moderation (content.moderation) ----------------------------------------------------------------

ModerationText = Annotated[UserText, Field(max_length=2000)]


class TakeDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ModerationText | None = Field(
        default=None, description="Why, shown to the owner (required: 422 reason_required without it)"
    )


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement: ModerationText | None = Field(
        default=None, description="Why the content should come back, 1–1000 characters"
    )


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["restore", "uphold"]
    reason: ModerationText | None = Field(default=None, description="Shown to the owner (required)")


class TakedownOut(BaseModel):
    """A take-down as its owner sees it: why, when, and the appeal with its outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    content_id: int
    reason: str
    previous_status: ContentStatus
    created_at: datetime
    appeal_status: AppealStatus
    appeal_statement: str | None
    appealed_at: datetime | None
    decision_reason: str | None
    decided_at: datetime | None


class OpsTakedownOut(TakedownOut):
    """The same with the operators who acted and the owner's user who appealed."""

    operator_user_id: int
    appealed_by_user_id: int | None
    decided_by_user_id: int | None


class ModerationItemOut(BaseModel):
    """A content item in the operators' moderation list, with its newest take-down if any."""

    id: int
    kind: ContentKind
    status: ContentStatus
    title_zh: str
    title_en: str
    created_at: datetime
    account_id: int
    account_name: str
    account_handle: str
    account_kind: AccountKind
    takedown: OpsTakedownOut | None


# --- shoppers' reports -------------------------------------------------------------------------------


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ReportReason = Field(
        description="misleading, prohibited, vulgar, infringement, harassment or other"
    )
    details: Annotated[UserText, Field(max_length=500)] | None = Field(
        default=None, description="What is wrong, up to 500 characters (required for reason=other)"
    )


class ReportOut(BaseModel):
    """A report as its reporter sees it: whether an operator has acted on it yet."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    content_id: int
    reason: ReportReason
    details: str
    status: ReportStatus
    created_at: datetime
    resolved_at: datetime | None


class OpsReportOut(ReportOut):
    reporter_user_id: int
    resolution: str | None


class ReportReasonCount(BaseModel):
    reason: ReportReason
    count: int


class ReportedItemOut(BaseModel):
    """An item in the operators' report queue: how many open reports and why."""

    content_id: int
    kind: ContentKind
    status: ContentStatus
    title_zh: str
    title_en: str
    account_id: int
    account_name: str
    open_reports: int
    reasons: list[ReportReasonCount]
    last_reported_at: datetime


class DismissReportsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ModerationText | None = Field(
        default=None, description="Why nothing is done, for the audit log (required: 422 reason_required)"
    )


class DismissedOut(BaseModel):
    dismissed: int
