from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from zhongcao.fields import Secret, UserLine
from zhongcao.users.models import Role

Password = Annotated[Secret, Field(min_length=8, max_length=128)]
DisplayName = Annotated[UserLine, Field(min_length=1, max_length=80)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    display_name: DisplayName
    locale: Annotated[str, Field(pattern=r"^(zh-CN|en)$")] = "zh-CN"


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
    expires_in_days: Annotated[int | None, Field(strict=True, ge=1, le=3650)] = None


class TokenOut(BaseModel):
    token: str = Field(description="Shown once. Send as 'Authorization: Bearer <token>'.")
    token_id: int
    expires_at: datetime | None


class LoginResponse(BaseModel):
    user: UserOut
    token: str = Field(description="Bearer token for this session; the same session is also set as a cookie.")
    expires_at: datetime | None
