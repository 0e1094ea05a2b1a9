from __future__ import annotations

from datetime import date

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
