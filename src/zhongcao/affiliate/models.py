"""Affiliate (Alliance) plans on products, creators' applications, and the commission ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class PlanKind(enum.StrEnum):
    open = "open"  # 普通: any creator may promote
    targeted = "targeted"  # 定向: named creators, at a better rate; needs an open plan beside it
    exclusive = "exclusive"  # 专属: named creators only; no open or targeted plan may coexist


class PlanStatus(enum.StrEnum):
    active = "active"
    ended = "ended"


class ApplicationStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class CommissionKind(enum.StrEnum):
    accrual = "accrual"  # order completed
    reversal = "reversal"  # refund after completion


class AffiliatePlan(IdMixin, TimestampMixin, Base):
    __tablename__ = "affiliate_plans"
    __table_args__ = (CheckConstraint("commission_bps BETWEEN 1 AND 9000", name="commission_range"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind, "plan_kind"))
    commission_bps: Mapped[int]
    status: Mapped[PlanStatus] = mapped_column(
        str_enum(PlanStatus, "plan_status"), default=PlanStatus.active, index=True
    )
    ended_at: Mapped[datetime | None]


class AffiliatePlanCreator(IdMixin, TimestampMixin, Base):
    """A creator account admitted to a targeted or exclusive plan."""

    __tablename__ = "affiliate_plan_creators"
    __table_args__ = (
        UniqueConstraint("plan_id", "account_id", name="uq_affiliate_plan_creators_plan_account"),
    )

    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("affiliate_plans.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)


class CreatorApplication(IdMixin, TimestampMixin, Base):
    """A creator asks to join a targeted plan; the merchant approves or rejects."""

    __tablename__ = "creator_applications"

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("affiliate_plans.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus, "application_status"), default=ApplicationStatus.pending, index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # The merchant's note to the creator with the decision (optional; empty when none).
    decision_note: Mapped[str] = mapped_column(Text, default="", server_default="")


class CommissionEntry(IdMixin, TimestampMixin, Base):
    """Signed ledger: an accrual when an order completes, a reversal (negative) for a later refund.

    For every completed item, the entries sum to its net commission (see docs/money.md).
    """

    __tablename__ = "commission_entries"

    order_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_items.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    kind: Mapped[CommissionKind] = mapped_column(str_enum(CommissionKind, "commission_kind"))
    amount_fen: Mapped[int]
    refund_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("refunds.id"))
    note: Mapped[str | None] = mapped_column(String(80))


class ShowcaseItem(IdMixin, TimestampMixin, Base):
    """A product in a creator account's showcase (商品橱窗), at ``position`` (1 first) in the creator's order.

    Rows are never dropped when the product goes off sale or its plan ends: shoppers stop seeing
    the product, and the creator sees it as unavailable with the reason (``affiliate.showcase``)."""

    __tablename__ = "showcase_items"
    __table_args__ = (
        UniqueConstraint("account_id", "product_id", name="uq_showcase_items_account_product"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    position: Mapped[int]


class SampleStatus(enum.StrEnum):
    """requested -> approved -> shipped -> received; or requested -> rejected; or, before the
    parcel ships, cancelled by the creator."""

    requested = "requested"
    approved = "approved"
    shipped = "shipped"
    received = "received"
    rejected = "rejected"
    cancelled = "cancelled"


# Still under way: a creator has at most one of these per product (the partial unique index below).
OPEN_SAMPLE_STATUSES = (SampleStatus.requested, SampleStatus.approved, SampleStatus.shipped)
_OPEN_SAMPLE_SQL = "status IN ('requested', 'approved', 'shipped')"


class SampleRequest(IdMixin, TimestampMixin, Base):
    """A creator asks a shop for a sample of a product (寄样) before promoting it."""

    __tablename__ = "sample_requests"
    __table_args__ = (
        Index(
            "uq_sample_requests_open",
            "account_id",
            "product_id",
            unique=True,
            postgresql_where=text(_OPEN_SAMPLE_SQL),
            sqlite_where=text(_OPEN_SAMPLE_SQL),
        ),
        Index("ix_sample_requests_shop_status", "shop_id", "status", "id"),
    )

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    status: Mapped[SampleStatus] = mapped_column(
        str_enum(SampleStatus, "sample_status"), default=SampleStatus.requested
    )
    message: Mapped[str] = mapped_column(Text, default="")
    # Where the parcel goes.
    recipient: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    # The merchant's word with the decision: a note with an approval, the reason for a rejection.
    decision_note: Mapped[str] = mapped_column(Text, default="")
    carrier_name: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
