"""Customer service conversations and complaints."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class Sender(enum.StrEnum):
    customer = "customer"
    agent = "agent"  # a human service agent of the shop
    bot = "bot"


class ComplaintReason(enum.StrEnum):
    product = "product"
    logistics = "logistics"
    service = "service"
    misleading_content = "misleading_content"
    other = "other"


class ComplaintStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"  # merchant at fault
    dismissed = "dismissed"


class Conversation(IdMixin, Base):
    __tablename__ = "cs_conversations"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"))
    started_at: Mapped[datetime] = mapped_column(index=True)
    # The first reply by a human agent; bot replies don't count towards response time.
    first_human_response_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Message(IdMixin, Base):
    __tablename__ = "cs_messages"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cs_conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[Sender] = mapped_column(str_enum(Sender, "cs_sender"))
    agent_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]


class Complaint(IdMixin, TimestampMixin, Base):
    __tablename__ = "complaints"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"))
    reason: Mapped[ComplaintReason] = mapped_column(str_enum(ComplaintReason, "complaint_reason"))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus, "complaint_status"), default=ComplaintStatus.open, index=True
    )
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
