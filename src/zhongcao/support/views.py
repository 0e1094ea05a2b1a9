from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from zhongcao.deps import DbSession, MerchantCtx, OperatorUser, ShopperUser
from zhongcao.fields import MAX_ID, IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.support import service
from zhongcao.support.models import ComplaintStatus, Conversation
from zhongcao.support.schemas import (
    ComplaintCreate,
    ComplaintOut,
    ComplaintResolve,
    ConversationCreate,
    ConversationDetailOut,
    ConversationOut,
    MessageCreate,
    MessageOut,
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
        db, user_id=user.id, shop_id=body.shop_id, message=body.message, order_id=body.order_id
    )
    return _detail(db, conversation)


@router.post(
    "/api/support/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
)
def post_customer_message(
    conversation_id: IdPath, body: MessageCreate, user: ShopperUser, db: DbSession
) -> MessageOut:
    message = service.post_customer_message(db, conversation_id, user_id=user.id, body=body.body)
    return MessageOut.model_validate(message)


@router.get("/api/support/conversations", response_model=Page[ConversationOut])
def my_conversations(
    user: ShopperUser, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[ConversationOut]:
    rows, cursor = service.list_user_conversations(db, user.id, params)
    return Page(items=[ConversationOut.of(c) for c in rows], next_cursor=cursor)


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
    params: PageParams = Depends(page_params),
) -> Page[ConversationOut]:
    """The shop's conversations; ``unanswered`` = open and the customer spoke last (bots aside)."""
    rows, cursor = service.list_shop_conversations(db, ctx.shop_id, params, status=status_)
    return Page(items=[ConversationOut.of(c) for c in rows], next_cursor=cursor)


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
    conversation_id: IdPath, body: MessageCreate, ctx: MerchantCtx, db: DbSession
) -> MessageOut:
    message = service.post_agent_message(
        db, conversation_id, shop_id=ctx.shop_id, agent_user_id=ctx.user.id, body=body.body
    )
    return MessageOut.model_validate(message)


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
    params: PageParams = Depends(page_params),
) -> Page[ComplaintOut]:
    rows, cursor = service.list_complaints(db, params, status=status_, shop_id=shop_id)
    return Page(items=[ComplaintOut.model_validate(c) for c in rows], next_cursor=cursor)


@router.post("/api/ops/complaints/{complaint_id}/resolve", response_model=ComplaintOut, tags=["ops"])
def ops_resolve_complaint(
    complaint_id: IdPath, body: ComplaintResolve, _: OperatorUser, db: DbSession
) -> ComplaintOut:
    """open -> upheld (merchant at fault) or dismissed; anything else is 409 illegal_transition."""
    complaint = service.resolve_complaint(db, complaint_id, upheld=body.upheld, note=body.note)
    return ComplaintOut.model_validate(complaint)
