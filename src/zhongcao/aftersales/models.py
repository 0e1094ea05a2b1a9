"""After-sales cases: refund-only and return-and-refund, with merchant decisions and arbitration."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, str_enum


class AfterSaleKind(enum.StrEnum):
    refund_only = "refund_only"
    return_and_refund = "return_and_refund"


class AfterSaleReason(enum.StrEnum):
    quality = "quality"
    logistics = "logistics"
    changed_mind = "changed_mind"


class AfterSaleStatus(enum.StrEnum):
    requested = "requested"
    awaiting_return = "awaiting_return"  # return approved; waiting for the buyer's parcel
    return_shipped = "return_shipped"
    refunded = "refunded"
    rejected = "rejected"  # the merchant refused; the buyer may escalate
    arbitrating = "arbitrating"
    closed = "closed"  # ended without refund (arbitration for the merchant, or withdrawn)
    cancelled = "cancelled"  # withdrawn by the buyer


class EvidenceSide(enum.StrEnum):
    buyer = "buyer"
    merchant = "merchant"


class AfterSale(IdMixin, Base):
    __tablename__ = "after_sales"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_after_sales_shop_status", "shop_id", "status"),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    order_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    kind: Mapped[AfterSaleKind] = mapped_column(str_enum(AfterSaleKind, "after_sale_kind"))
    reason: Mapped[AfterSaleReason] = mapped_column(str_enum(AfterSaleReason, "after_sale_reason"))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AfterSaleStatus] = mapped_column(
        str_enum(AfterSaleStatus, "after_sale_status"), index=True
    )
    quantity: Mapped[int]
    amount_fen: Mapped[int]  # refund asked for; at most what is left refundable on the item
    # Set by a platform operator's arbitration: True when the merchant was at fault.
    merchant_at_fault: Mapped[bool | None]
    merchant_note: Mapped[str | None] = mapped_column(Text)
    arbitration_note: Mapped[str | None] = mapped_column(Text)
    return_tracking_number: Mapped[str | None] = mapped_column(String(64))
    return_carrier_name: Mapped[str | None] = mapped_column(String(40))  # who carries the return
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]  # merchant approved or rejected
    return_shipped_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]  # return received by the merchant
    escalated_at: Mapped[datetime | None]
    arbitrated_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class AfterSaleEvidence(IdMixin, Base):
    """An image one side attached to a case (an uploaded ``media`` image of the person who attached
    it): what an operator weighs beside both sides' statements when arbitrating."""

    __tablename__ = "after_sale_evidence"

    after_sale_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("after_sales.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[EvidenceSide] = mapped_column(str_enum(EvidenceSide, "evidence_side"))
    media_id: Mapped[int] = mapped_column(BigId, ForeignKey("media.id", ondelete="CASCADE"))
    added_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    added_at: Mapped[datetime]
