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

from zhongcao.audit.schemas import Reason
from zhongcao.fields import MAX_ID, Secret, UserLine, UserText, multi_line, single_line
from zhongcao.shops import credit_code
from zhongcao.shops.models import ApplicationStatus, InvitationStatus, ShopStatus, StaffRole

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
    reason: Reason = Field(default=None, description="Why; the merchant sees it. Required.")


class ShopAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["warn", "suspend_campaigns", "suspend", "restore"]
    reason: Reason = Field(default=None, description="Why; the merchant sees it. Required.")


class ShopNoticeOut(BaseModel):
    """An operator's decision about the shop, as its merchant sees it."""

    model_config = ConfigDict(from_attributes=True)

    action: str
    reason: str
    at: datetime


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
    campaign_registration_suspended: bool = False


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


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: StaffRole


class InvitationOut(BaseModel):
    id: int
    shop_id: int
    email: str
    role: StaffRole
    status: InvitationStatus
    # ``pending`` past its expiry reads ``expired`` here (never stored).
    state: Literal["pending", "expired", "accepted", "revoked"]
    expires_at: datetime
    created_at: datetime


class InvitationIssued(InvitationOut):
    """An invitation as just issued: the only time its link is shown (only its digest is kept)."""

    accept_url: str


class MyInvitationOut(BaseModel):
    id: int
    shop_id: int
    shop_name_zh: str
    shop_name_en: str
    role: StaffRole
    expires_at: datetime


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[Secret, StringConstraints(min_length=1, max_length=200)]


# --- shop applications ----------------------------------------------------------------------------


def _credit_code(value: str) -> str:
    code = credit_code.normalise(value)
    problem = credit_code.problem(code)
    if problem is not None:
        raise ValueError(problem)
    return code


CreditCode = Annotated[UserLine, Field(max_length=40), AfterValidator(_credit_code)]


class ShopApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: NameZh
    name_en: NameEn
    category_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID, description="A top or leaf category.")]
    credit_code: CreditCode = Field(
        description="统一社会信用代码 (GB 32100-2015): 18 characters of 0-9 and A-Y without I, O, S, V, Z, "
        "the last a check character; a wrong length, character or check is 422 naming the field."
    )
    contact_name: Annotated[UserLine, Field(min_length=1, max_length=80)]
    contact_phone: Annotated[
        UserLine, Field(min_length=5, max_length=32, pattern=r"^\+?[0-9][0-9 \-]{3,30}[0-9]$")
    ]


class ShopApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    applicant_id: int
    name_zh: str
    name_en: str
    category_id: int
    credit_code: str
    contact_name: str
    contact_phone: str
    status: ApplicationStatus
    reason: str | None = Field(
        description="The operator's note on the decision: why it was approved or rejected."
    )
    decided_at: datetime | None
    shop_id: int | None = Field(description="The shop that opened (approvals only).")
    created_at: datetime


class ShopApplicationDecision(BaseModel):
    """An operator's decision on a shop application: approving and rejecting both say why."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[UserText, Field(min_length=1, max_length=1000)]
