from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from zhongcao.fields import Id, UserLine, multi_line
from zhongcao.support import service
from zhongcao.support.models import CardKind, ComplaintReason, ComplaintStatus, Conversation, Message, Sender

MessageBody = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=service.MESSAGE_MAX),
    AfterValidator(multi_line),
]


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: Id
    order_id: Id | None = Field(default=None, description="One of your orders from this shop")
    product_id: Id | None = Field(default=None, description="A product of this shop (sent as a card)")
    message: MessageBody


class ContactCreate(ConversationCreate):
    """Contact the shop: continue your open conversation with it, or start one."""


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CardKind
    id: Id


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageBody


class MessageWithCardCreate(BaseModel):
    """Text, a card (a product of the shop, an order of the customer's from the shop), or both."""

    model_config = ConfigDict(extra="forbid")

    body: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=service.MESSAGE_MAX),
        AfterValidator(multi_line),
    ] = ""
    card: CardIn | None = None


class CardOut(BaseModel):
    kind: CardKind
    id: int


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    sender: Sender
    agent_user_id: int | None
    body: str
    card: CardOut | None
    sent_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            sender=message.sender,
            agent_user_id=message.agent_user_id,
            body=message.body,
            card=CardOut(kind=message.card_kind, id=message.card_ref_id)
            if message.card_kind is not None and message.card_ref_id is not None
            else None,
            sent_at=message.sent_at,
        )


class ConversationOut(BaseModel):
    id: int
    shop_id: int
    user_id: int
    order_id: int | None
    product_id: int | None
    assignee_user_id: int | None
    unread: int | None = Field(default=None, description="Messages from the other side you have not read")
    status: str = Field(description="open or closed")
    started_at: datetime
    last_message_at: datetime
    first_human_response_at: datetime | None
    first_response_seconds: int | None = Field(description="Customer's first message to first human answer")
    closed_at: datetime | None

    @classmethod
    def of(cls, conversation: Conversation, unread: int | None = None) -> ConversationOut:
        return cls(
            id=conversation.id,
            shop_id=conversation.shop_id,
            user_id=conversation.user_id,
            order_id=conversation.order_id,
            product_id=conversation.product_id,
            assignee_user_id=conversation.assignee_user_id,
            unread=unread,
            status="closed" if conversation.closed_at is not None else "open",
            started_at=conversation.started_at,
            last_message_at=conversation.last_message_at,
            first_human_response_at=conversation.first_human_response_at,
            first_response_seconds=service.first_response_seconds(conversation),
            closed_at=conversation.closed_at,
        )


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]

    @classmethod
    def with_messages(cls, conversation: Conversation, messages: list[Message]) -> ConversationDetailOut:
        return cls(
            **ConversationOut.of(conversation).model_dump(),
            messages=[MessageOut.of(m) for m in messages],
        )


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_user_id: Id | None = Field(description="One of the shop's staff; null: unassigned")


class QuickReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[UserLine, StringConstraints(min_length=1, max_length=60)]
    body: MessageBody


class QuickReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    created_at: datetime


class UnreadOut(BaseModel):
    unread: int


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: Id
    order_id: Id | None = Field(default=None, description="One of your orders from this shop")
    reason: ComplaintReason
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=service.COMPLAINT_TEXT_MAX),
        AfterValidator(multi_line),
    ] = ""


ResolutionText = Annotated[
    str | None,
    StringConstraints(strip_whitespace=True, max_length=service.RESOLUTION_NOTE_MAX),
    AfterValidator(lambda v: None if v is None else multi_line(v)),
]


class ComplaintResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upheld: StrictBool = Field(description="True: upheld, the merchant was at fault; false: not upheld")
    reason: ResolutionText = Field(
        default=None, description="The outcome in words; the shopper sees it. Required."
    )
    note: ResolutionText = Field(default=None, description="Deprecated name of ``reason``")


class ComplaintOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    shop_id: int
    order_id: int | None
    reason: ComplaintReason
    text: str
    status: ComplaintStatus
    resolution_note: str | None
    resolved_at: datetime | None
    created_at: datetime
