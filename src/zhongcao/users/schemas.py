from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from zhongcao.fields import Secret, UserLine
from zhongcao.users.models import Role, TokenKind, TokenScope

Password = Annotated[Secret, Field(min_length=8, max_length=128)]
DisplayName = Annotated[UserLine, Field(min_length=1, max_length=80)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    display_name: DisplayName
    locale: Annotated[str, Field(pattern=r"^(zh-CN|en)$")] = "zh-CN"
    role: Role = Field(
        default=Role.shopper,
        description="'shopper' or 'creator' (a creator also gets a creator account); merchants come "
        "through shop applications, and any other role is refused with 422 invalid_role.",
    )


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    locale: str
    created_at: datetime


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Annotated[Secret, Field(min_length=1, max_length=128)]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[UserLine, Field(min_length=1, max_length=80)] = "api"
    expires_in_days: Annotated[
        int | None,
        Field(
            ge=1,
            le=3650,
            strict=True,
            description="Lifetime in days: 90 when left out, at most 365 (ZHONGCAO_API_TOKEN_DEFAULT_DAYS "
            "and ZHONGCAO_API_TOKEN_MAX_DAYS). A token never lives for ever.",
        ),
    ] = None
    scope: TokenScope = Field(
        default=TokenScope.full,
        description="'full', or 'read': a read-only token is refused (403 read_only_token) on any "
        "request other than GET, HEAD and OPTIONS.",
    )


class TokenOut(BaseModel):
    token: str = Field(description="Shown once. Send as 'Authorization: Bearer <token>'.")
    token_id: int
    expires_at: datetime | None
    scope: TokenScope


class TokenInfo(BaseModel):
    """A session or API token as its owner sees it (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: TokenKind
    name: str | None
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    current: bool = Field(default=False, description="The credential this request was made with.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[Secret, Field(min_length=1, max_length=128)]
    new_password: Password


class PasswordChanged(BaseModel):
    revoked_sessions: int = Field(description="Other sessions signed out (API tokens are kept).")


class SignedOutEverywhere(BaseModel):
    revoked: int = Field(description="Sessions and API tokens revoked; the one making the request is kept.")


class LoginResponse(BaseModel):
    user: UserOut
    token: str = Field(description="Bearer token for this session; the same session is also set as a cookie.")
    expires_at: datetime | None


# --- the address book ----------------------------------------------------------------------------

MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"  # a mainland mobile number, 11 digits
DivisionCode = Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$", description="GB/T 2260 code, 6 digits")]


class AddressIn(BaseModel):
    """A saved address. The district must be in the city and the city in the province (422
    ``division_mismatch`` naming the field); codes from ``GET /api/divisions``."""

    model_config = ConfigDict(extra="forbid")

    recipient: Annotated[UserLine, Field(min_length=1, max_length=40)]
    phone: Annotated[str, Field(pattern=MOBILE_PATTERN, description="mainland mobile, 11 digits")]
    province_code: DivisionCode
    city_code: DivisionCode
    district_code: DivisionCode
    detail: Annotated[UserLine, Field(min_length=1, max_length=200)]
    is_default: bool = False


class DivisionOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class AddressOut(BaseModel):
    id: int
    recipient: str
    phone: str
    province: DivisionOut
    city: DivisionOut
    district: DivisionOut
    detail: str
    is_default: bool
    created_at: datetime
