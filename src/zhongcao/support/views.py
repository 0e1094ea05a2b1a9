from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from zhongcao.deps import DbSession, MerchantCtx, OperatorUser, ShopperUser
from zhongcao.fields import MAX_ID, IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.support import chat, service
from zhongcao.support.models import CardKind, ComplaintReason, ComplaintStatus, Conversation
from zhongcao.support.schemas import (
    AssignIn,
    ComplaintCreate,
    ComplaintOut,
    ComplaintResolve,
    ContactCreate,
    ConversationCreate,
    ConversationDetailOut,
    ConversationOut,
    MessageOut,
    MessageWithCardCreate,
    QuickReplyIn,
    QuickReplyOut,
    UnreadOut,
)

router = APIRouter(tags=["support"])


def _detail(db: Session, conversation: Conversation) -> ConversationDetailOut:
    return ConversationDetailOut.with_messages(
        conversation, service.conversation_messages(db, conversation.id)
    )


# --- shopper -------------------------------------------------------------------------------------


@router.post(
    "/api/support/conversations", status_code=status.HTTP_201_CREATED, response_model=ConversationDetailOut
)
def start_conversation(body: ConversationCreate, user: ShopperUser, db: DbSession) -> ConversationDetailOut:
    conversation, _ = service.start_conversation(
        db,
        user_id=user.id,
        shop_id=body.shop_id,
        message=body.message,
        order_id=body.order_id,
        product_id=body.product_id,
    )
    return _detail(db, conversation)


@router.post("/api/support/contact", response_model=ConversationDetailOut)
def contact_shop(body: ContactCreate, user: ShopperUser, db: DbSession) -> ConversationDetailOut:
    """ "Contact customer service": continues your open conversation with the shop, or starts one
    (a closed conversation is never reopened). The product or order goes first as a card."""
    conversation = chat.contact_shop(
        db,
        user_id=user.id,
        shop_id=body.shop_id,
        message=body.message,
        order_id=body.order_id,
        product_id=body.product_id,
    )
    return _detail(db, conversation)


def _card(body: MessageWithCardCreate) -> tuple[CardKind, int] | None:
    return (body.card.kind, body.card.id) if body.card is not None else None


@router.post("/api/support/conversations/{conversation_id}/read", response_model=ConversationOut)
def read_my_conversation(conversation_id: IdPath, user: ShopperUser, db: DbSession) -> ConversationOut:
    """Marks every message of the conversation as read by you."""
    conversation = service.get_user_conversation(db, user.id, conversation_id)
    chat.mark_read_by_customer(db, conversation)
    return ConversationOut.of(conversation, unread=0)


@router.get("/api/support/unread", response_model=UnreadOut)
def my_unread(user: ShopperUser, db: DbSession) -> UnreadOut:
    """Unread messages from shops over all your conversations (the badge)."""
    return UnreadOut(unread=chat.customer_unread_total(db, user.id))


@router.post(
    "/api/support/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
)
def post_customer_message(
    conversation_id: IdPath, body: MessageWithCardCreate, user: ShopperUser, db: DbSession
) -> MessageOut:
    """Text, a card (a product of the shop, one of your orders from it) or both."""
    message = service.post_customer_message(
        db, conversation_id, user_id=user.id, body=body.body, card=_card(body)
    )
    return MessageOut.of(message)


@router.get("/api/support/conversations", response_model=Page[ConversationOut])
def my_conversations(
    user: ShopperUser, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[ConversationOut]:
    rows, cursor = service.list_user_conversations(db, user.id, params)
    unread = chat.customer_unread(db, [c.id for c in rows])
    return Page(items=[ConversationOut.of(c, unread.get(c.id, 0)) for c in rows], next_cursor=cursor)


@router.get("/api/support/conversations/{conversation_id}", response_model=ConversationDetailOut)
def my_conversation(conversation_id: IdPath, user: ShopperUser, db: DbSession) -> ConversationDetailOut:
    return _detail(db, service.get_user_conversation(db, user.id, conversation_id))


@router.post("/api/complaints", status_code=status.HTTP_201_CREATED, response_model=ComplaintOut)
def file_complaint(body: ComplaintCreate, user: ShopperUser, db: DbSession) -> ComplaintOut:
    complaint = service.file_complaint(
        db, user_id=user.id, shop_id=body.shop_id, reason=body.reason, text=body.text, order_id=body.order_id
    )
    return ComplaintOut.model_validate(complaint)


@router.get("/api/complaints", response_model=Page[ComplaintOut])
def my_complaints(
    user: ShopperUser, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[ComplaintOut]:
    rows, cursor = service.list_user_complaints(db, user.id, params)
    return Page(items=[ComplaintOut.model_validate(c) for c in rows], next_cursor=cursor)


# --- merchant (any staff role, service agents included) ------------------------------------------


@router.get("/api/merchant/support/conversations", response_model=Page[ConversationOut], tags=["merchant"])
def inbox(
    ctx: MerchantCtx,
    db: DbSession,
    status_: Annotated[service.InboxFilter | None, Query(alias="status")] = None,
    assignee: Annotated[service.AssigneeFilter | None, Query()] = None,
    params: PageParams = Depends(page_params),
) -> Page[ConversationOut]:
    """The shop's conversations; ``unanswered`` = open and the customer spoke last (bots aside);
    ``assignee=mine`` (assigned to you) or ``unassigned``."""
    rows, cursor = service.list_shop_conversations(
        db, ctx.shop_id, params, status=status_, assignee=assignee, agent_user_id=ctx.user.id
    )
    unread = chat.shop_unread(db, [c.id for c in rows])
    return Page(items=[ConversationOut.of(c, unread.get(c.id, 0)) for c in rows], next_cursor=cursor)


@router.get("/api/merchant/support/unread", response_model=UnreadOut, tags=["merchant"])
def shop_unread(ctx: MerchantCtx, db: DbSession) -> UnreadOut:
    """Unread customer messages in the shop's open conversations (the console badge)."""
    return UnreadOut(unread=chat.shop_unread_total(db, ctx.shop_id))


@router.post(
    "/api/merchant/support/conversations/{conversation_id}/read",
    response_model=ConversationOut,
    tags=["merchant"],
)
def read_shop_conversation(conversation_id: IdPath, ctx: MerchantCtx, db: DbSession) -> ConversationOut:
    conversation = service.get_shop_conversation(db, ctx.shop_id, conversation_id)
    chat.mark_read_by_shop(db, conversation)
    return ConversationOut.of(conversation, unread=0)


@router.post(
    "/api/merchant/support/conversations/{conversation_id}/assign",
    response_model=ConversationOut,
    tags=["merchant"],
)
def assign_conversation(
    conversation_id: IdPath, body: AssignIn, ctx: MerchantCtx, db: DbSession
) -> ConversationOut:
    """Give the conversation to one of the shop's staff (yourself included), or null to unassign."""
    return ConversationOut.of(chat.assign(db, ctx.shop_id, conversation_id, body.assignee_user_id))


@router.get("/api/merchant/support/quick-replies", response_model=list[QuickReplyOut], tags=["merchant"])
def quick_replies(ctx: MerchantCtx, db: DbSession) -> list[QuickReplyOut]:
    return [QuickReplyOut.model_validate(r) for r in chat.list_quick_replies(db, ctx.shop_id)]


@router.post(
    "/api/merchant/support/quick-replies",
    status_code=status.HTTP_201_CREATED,
    response_model=QuickReplyOut,
    tags=["merchant"],
)
def create_quick_reply(body: QuickReplyIn, ctx: MerchantCtx, db: DbSession) -> QuickReplyOut:
    row = chat.create_quick_reply(db, ctx.shop_id, title=body.title, body=body.body)
    return QuickReplyOut.model_validate(row)


@router.put(
    "/api/merchant/support/quick-replies/{quick_reply_id}", response_model=QuickReplyOut, tags=["merchant"]
)
def update_quick_reply(
    quick_reply_id: IdPath, body: QuickReplyIn, ctx: MerchantCtx, db: DbSession
) -> QuickReplyOut:
    row = chat.update_quick_reply(db, ctx.shop_id, quick_reply_id, title=body.title, body=body.body)
    return QuickReplyOut.model_validate(row)


@router.delete(
    "/api/merchant/support/quick-replies/{quick_reply_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["merchant"],
)
def delete_quick_reply(quick_reply_id: IdPath, ctx: MerchantCtx, db: DbSession) -> None:
    chat.delete_quick_reply(db, ctx.shop_id, quick_reply_id)


@router.get(
    "/api/merchant/support/conversations/{conversation_id}",
    response_model=ConversationDetailOut,
    tags=["merchant"],
)
def shop_conversation(conversation_id: IdPath, ctx: MerchantCtx, db: DbSession) -> ConversationDetailOut:
    return _detail(db, service.get_shop_conversation(db, ctx.shop_id, conversation_id))


@router.post(
    "/api/merchant/support/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    tags=["merchant"],
)
def post_agent_message(
    conversation_id: IdPath, body: MessageWithCardCreate, ctx: MerchantCtx, db: DbSession
) -> MessageOut:
    """Text, a card (a product of your shop, the customer's order from it) or both. The first
    message of a human agent is the shop's first response (docs/experience.md)."""
    message = service.post_agent_message(
        db, conversation_id, shop_id=ctx.shop_id, agent_user_id=ctx.user.id, body=body.body, card=_card(body)
    )
    return MessageOut.of(message)


@router.post(
    "/api/merchant/support/conversations/{conversation_id}/close",
    response_model=ConversationOut,
    tags=["merchant"],
)
def close_conversation(conversation_id: IdPath, ctx: MerchantCtx, db: DbSession) -> ConversationOut:
    return ConversationOut.of(service.close_conversation(db, conversation_id, shop_id=ctx.shop_id))


@router.get("/api/merchant/complaints", response_model=Page[ComplaintOut], tags=["merchant"])
def shop_complaints(
    ctx: MerchantCtx,
    db: DbSession,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    params: PageParams = Depends(page_params),
) -> Page[ComplaintOut]:
    """Complaints about the caller's shop (read only: the platform decides them)."""
    rows, cursor = service.list_shop_complaints(db, ctx.shop_id, params, status=status_)
    return Page(items=[ComplaintOut.model_validate(c) for c in rows], next_cursor=cursor)


@router.get("/api/merchant/complaints/{complaint_id}", response_model=ComplaintOut, tags=["merchant"])
def shop_complaint(complaint_id: IdPath, ctx: MerchantCtx, db: DbSession) -> ComplaintOut:
    return ComplaintOut.model_validate(service.get_shop_complaint(db, ctx.shop_id, complaint_id))


# --- operator ------------------------------------------------------------------------------------


@router.get("/api/ops/complaints", response_model=Page[ComplaintOut], tags=["ops"])
def ops_complaints(
    _: OperatorUser,
    db: DbSession,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    shop_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    reason: ComplaintReason | None = None,
    params: PageParams = Depends(page_params),
) -> Page[ComplaintOut]:
    rows, cursor = service.list_complaints(db, params, status=status_, shop_id=shop_id, reason=reason)
    return Page(items=[ComplaintOut.model_validate(c) for c in rows], next_cursor=cursor)


@router.post("/api/ops/complaints/{complaint_id}/resolve", response_model=ComplaintOut, tags=["ops"])
def ops_resolve_complaint(
    complaint_id: IdPath, body: ComplaintResolve, user: OperatorUser, db: DbSession
) -> ComplaintOut:
    """open -> upheld (merchant at fault) or dismissed, with the reason the shopper sees (required:
    ``reason_required``); anything else is 409 illegal_transition. Written to the audit log."""
    complaint = service.resolve_complaint(
        db,
        complaint_id,
        upheld=body.upheld,
        note=body.reason if body.reason is not None else body.note,
        actor_user_id=user.id,
    )
    return ComplaintOut.model_validate(complaint)
