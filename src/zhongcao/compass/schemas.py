from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Totals(BaseModel):
    gmv_fen: int
    orders: int
    buyers: int
    refunded_fen: int
    visitors: int = Field(description="people who viewed one of the shop's products")
    aov_fen: int | None = Field(description="GMV per order, whole fen")
    conversion: float | None = Field(description="buyers ÷ visitors")


class DayRow(BaseModel):
    day: date
    gmv_fen: int
    orders: int
    buyers: int
    refunded_fen: int
    visitors: int


class CoreDataOut(BaseModel):
    first_day: date
    last_day: date
    current: Totals
    previous: Totals = Field(description="the same number of days just before")
    change: dict[str, float | None] = Field(description="(current − previous) ÷ previous per measure")
    daily: list[DayRow]


class SourceRow(BaseModel):
    key: str
    gmv_fen: int
    orders: int
    buyers: int


class SourcesOut(BaseModel):
    first_day: date
    last_day: date
    by_channel: list[SourceRow]
    by_carrier: list[SourceRow] = Field(description="FACT: field, alliance, campaign, top_kol")


class CreatorRow(BaseModel):
    account_id: int
    carrier: str = Field(description="alliance or top_kol")
    gmv_fen: int
    orders: int
    commission_fen: int


class CreatorsOut(BaseModel):
    first_day: date
    last_day: date
    creators: list[CreatorRow]


class AudienceOut(BaseModel):
    first_day: date
    last_day: date
    buyers: int
    new_buyers: int = Field(description="first order from the shop in the period")
    returning_buyers: int
    repurchase_rate: float | None = Field(description="buyers with two orders or more in the period")
    segments: dict[str, int] = Field(description="RFM: champions, loyal, new, at_risk, occasional")


class IndicatorPoint(BaseModel):
    computed_at: datetime
    score_centi: int | None
    values: dict[str, float | None] = Field(description="each experience indicator's value")


class ServiceOut(BaseModel):
    points: list[IndicatorPoint]


class NpsPoint(BaseModel):
    starts_at: datetime
    responses: int
    nps: float | None
    ci_low: float | None
    ci_high: float | None


class FieldDay(BaseModel):
    day: date
    content_fen: int = Field(description="GMV from short videos and live rooms")
    center_fen: int = Field(description="GMV from search, mall, shop and product pages")
    other_fen: int


class OperatorOut(BaseModel):
    first_day: date
    last_day: date
    nps_weekly: list[NpsPoint]
    gmv_by_field: list[FieldDay]
    content_share: float | None = Field(description="content field's share of GMV over the period")
    score_distribution: dict[str, int] = Field(description="active shops per current-score band")


class ContentRow(BaseModel):
    content_id: int
    impressions: int
    plays: int
    anchor_clicks: int
    orders: int
    gmv_fen: int
    gpm_fen: int | None = Field(description="GMV per 1,000 impressions, whole fen")
    watch_ms: int


class ContentOut(BaseModel):
    first_day: date
    last_day: date
    content: list[ContentRow]
