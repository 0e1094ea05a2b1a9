from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from zhongcao.fields import Id, multi_line
from zhongcao.support import service
from zhongcao.support.models import ComplaintReason, ComplaintStatus, Conversation, Message, Sender

MessageBody = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=service.MESSAGE_MAX),
    AfterValidator(multi_line),
]


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: Id
    order_id: Id | None = Field(default=None, description="One of your orders from this shop")
    message: MessageBody


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageBody


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    sender: Sender
    agent_user_id: int | None
    body: str
    sent_at: datetime


class ConversationOut(BaseModel):
    id: int
    shop_id: int
    user_id: int
    order_id: int | None
    status: str = Field(description="open or closed")
    started_at: datetime
    last_message_at: datetime
    first_human_response_at: datetime | None
    first_response_seconds: int | None = Field(description="Customer's first message to first human answer")
    closed_at: datetime | None

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationOut:
        return cls(
            id=conversation.id,
            shop_id=conversation.shop_id,
            user_id=conversation.user_id,
            order_id=conversation.order_id,
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
            messages=[MessageOut.model_validate(m) for m in messages],
        )


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


class ComplaintResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upheld: StrictBool = Field(description="True: the merchant was at fault")
    note: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=service.RESOLUTION_NOTE_MAX),
        AfterValidator(multi_line),
    ]


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
