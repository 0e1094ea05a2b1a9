"""Customer service conversations and complaints."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class Sender(enum.StrEnum):
    customer = "customer"
    agent = "agent"  # a human service agent of the shop
    bot = "bot"


class CardKind(enum.StrEnum):
    """What a message may carry besides its text: a product of the shop, or the conversation's order."""

    product = "product"
    order = "order"


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
    # The product the shopper asked about when they opened the chat from a product page.
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"))
    # The shop's service agent who owns the conversation (None: unassigned).
    assignee_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    # Read markers: the id of the newest message each side has seen. Unread = newer messages from
    # the other side; one integer per side, so the inbox counts unread messages in one query.
    customer_read_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shop_read_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
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
    card_kind: Mapped[CardKind | None] = mapped_column(str_enum(CardKind, "cs_card_kind"))
    card_ref_id: Mapped[int | None] = mapped_column(BigId)  # the product's or the order's id
    sent_at: Mapped[datetime]


class QuickReply(IdMixin, TimestampMixin, Base):
    """A shop's saved reply, inserted into the reply box by its agents."""

    __tablename__ = "cs_quick_replies"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)


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
