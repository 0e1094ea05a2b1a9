"""Response bodies for settlements and statements (all amounts integer fen)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from zhongcao.finance.models import SettlementStatus


class SettlementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    status: SettlementStatus
    completed_at: datetime
    settled_at: datetime | None
    paid_fen: int
    subsidy_fen: int = Field(description="Platform-funded: platform coupon and campaign subsidy")
    platform_fee_fen: int
    commission_fen: int = Field(description="Net of the refunded share")
    refunded_fen: int
    settlement_fen: int = Field(description="paid + subsidy - platform fee - commission - refunded")


class TotalsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    orders: int
    paid_fen: int
    subsidy_fen: int
    platform_fee_fen: int
    commission_fen: int
    refunded_fen: int
    settlement_fen: int


class StatementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: date = Field(description="First day (UTC) of orders completed in the period")
    end: date = Field(description="Last day (UTC), inclusive")
    settlement_days: int = Field(description="Days after completion when an order is settled")
    total: TotalsOut
    pending: TotalsOut
    settled: TotalsOut
