"""One settlement per completed order: what the shop receives, pending until settled by the job."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class SettlementStatus(enum.StrEnum):
    pending = "pending"  # completed; refunds may still change the amounts
    settled = "settled"  # paid out; the amounts are final


class Settlement(IdMixin, TimestampMixin, Base):
    """Amounts are the order's at the last refresh (pending) or at settlement (settled).

    ``commission_fen`` is the net commission (after the refunded share, as the ledger posts it);
    ``settlement_fen = paid + subsidy - platform fee - commission - refunded`` (a CHECK holds it).
    """

    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint(
            "settlement_fen = paid_fen + subsidy_fen - platform_fee_fen - commission_fen - refunded_fen",
            name="settlement_identity",
        ),
        CheckConstraint(
            "paid_fen >= 0 AND subsidy_fen >= 0 AND platform_fee_fen >= 0 AND commission_fen >= 0 "
            "AND refunded_fen >= 0 AND refunded_fen <= paid_fen",
            name="money_nonneg",
        ),
        Index("ix_settlements_shop_completed", "shop_id", "completed_at"),
        Index("ix_settlements_status_completed", "status", "completed_at"),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"))
    status: Mapped[SettlementStatus] = mapped_column(str_enum(SettlementStatus, "settlement_status"))
    completed_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    paid_fen: Mapped[int]
    subsidy_fen: Mapped[int]  # platform-funded: platform coupon + campaign subsidy
    platform_fee_fen: Mapped[int]
    commission_fen: Mapped[int]
    refunded_fen: Mapped[int]
    settlement_fen: Mapped[int]  # may be negative: a refunded order still owes its fee
