from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from zhongcao.fields import StrictInt, UserLine


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: Annotated[UserLine, Field(min_length=1, max_length=20)]
    name_en: Annotated[UserLine, Field(min_length=1, max_length=40)]
    threshold_fen: Annotated[StrictInt, Field(ge=0, le=100_000_000)]


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=5)]
    member_discount_bps: Annotated[StrictInt, Field(ge=0, le=3000)] = 0  # 500 = members pay 5% less


class TierOut(BaseModel):
    name_zh: str
    name_en: str
    threshold_fen: int


class ProgramOut(BaseModel):
    shop_id: int
    enabled: bool
    tiers: list[TierOut]
    member_discount_bps: int = 0


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: StrictBool
    phone: Annotated[UserLine, Field(max_length=20)] | None = None


class MyMembershipOut(BaseModel):
    shop_id: int
    enabled: bool
    tiers: list[TierOut]
    member_discount_bps: int = 0
    member: bool
    joined_at: datetime | None = None
    spend_fen: int = 0
    tier: TierOut | None = None  # only for members
    next_tier: TierOut | None = None


class MemberOut(BaseModel):
    user_id: int
    joined_at: datetime
    orders: int
    spend_fen: int
    tier: TierOut


class AnalyticsOut(BaseModel):
    members: int
    member_buyers: int
    member_gmv_fen: int
    gmv_fen: int
    member_gmv_share: float | None
    member_repurchase_rate: float | None
    other_repurchase_rate: float | None
    tiers: list[tuple[TierOut, int]]
