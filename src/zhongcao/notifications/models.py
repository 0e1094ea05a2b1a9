"""Notifications. A row stores *what happened* (kind + params), never a sentence: the reader's page
renders it in the reader's language (``notifications.service.message_key``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, json_type, str_enum


class NotificationKind(enum.StrEnum):
    order_paid = "order_paid"  # shop staff: a new paid order
    after_sale_opened = "after_sale_opened"  # shop staff
    after_sale_escalated = "after_sale_escalated"  # shop staff and operators
    application_approved = "application_approved"  # the applicant
    application_rejected = "application_rejected"  # the applicant
    chat_message = "chat_message"  # the other side of a support conversation
    low_stock = "low_stock"  # shop staff: a SKU's stock fell below the threshold
    coupon_ending = "coupon_ending"  # shop staff: a shop coupon ends within days
    sample_requested = "sample_requested"  # shop staff: a creator asks for a sample
    sample_approved = "sample_approved"  # the creator
    sample_rejected = "sample_rejected"  # the creator, with the merchant's reason
    sample_shipped = "sample_shipped"  # the creator
    content_taken_down = "content_taken_down"  # the content's owner, with the operator's reason
    content_restored = "content_restored"  # the owner: the appeal succeeded
    takedown_upheld = "takedown_upheld"  # the owner: the appeal failed, with the reason
    integrity_sanction = "integrity_sanction"  # a shop's staff / a creator: escalation for bought engagement
    integrity_appeal_decided = "integrity_appeal_decided"  # the appellant: granted or upheld, with the reason


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The badge: a person's unread count, newest first.
        Index("ix_notifications_user_read", "user_id", "read_at", "id"),
        # A producer that may run again (the coupon job) names its notification once per person.
        UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, "notification_kind"))
    params: Mapped[dict[str, Any]] = mapped_column(json_type())
    link: Mapped[str] = mapped_column(String(300))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
