"""Customer-service chat on top of conversations: contacting a shop (opening or reusing a
conversation), read markers and unread counts, assignment to a service agent, and a shop's quick
replies. Every change that a watcher must see is published after commit (docs/realtime.md):
``chat:<conversation>`` for the conversation's streams, ``shop:<shop>`` for the inbox and
``user:<shopper>`` for the shopper's badge.

Reuse: "contact the shop" continues the shopper's newest *open* conversation with that shop; a
closed one is never reopened, a new question then starts a new conversation. So each conversation's
``started_at`` is its customer's first message and ``first_human_response_at`` the first human
answer to it, exactly what the experience score's 3-minute reply share reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import chat_channel, shop_channel, user_channel
from zhongcao.shops import service as shops_service
from zhongcao.support import service
from zhongcao.support.models import CardKind, Conversation, Message, QuickReply, Sender

QUICK_REPLY_TITLE_MAX = 60
QUICK_REPLIES_PER_SHOP = 50


def open_conversation_with(db: Session, user_id: int, shop_id: int) -> Conversation | None:
    """The shopper's newest open conversation with the shop, if any."""
    return db.scalar(
        select(Conversation)
        .where(
            Conversation.user_id == user_id,
            Conversation.shop_id == shop_id,
            Conversation.closed_at.is_(None),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def contact_shop(
    db: Session,
    *,
    user_id: int,
    shop_id: int,
    message: str,
    product_id: int | None = None,
    order_id: int | None = None,
    at: datetime | None = None,
) -> Conversation:
    """ "Contact customer service": continue the open conversation with the shop or start one; the
    product or order the shopper came from goes first as a card."""
    existing = open_conversation_with(db, user_id, shop_id)
    if existing is None:
        conversation, _ = service.start_conversation(
            db,
            user_id=user_id,
            shop_id=shop_id,
            message=message,
            order_id=order_id,
            product_id=product_id,
            at=at,
        )
        return conversation
    # Refuse before posting anything: a bad card must not leave half a question behind.
    service._clean_body(message, field="message")
    service._check_product(db, product_id, shop_id=shop_id)
    service._check_order(db, order_id, user_id=user_id, shop_id=shop_id)
    cards = [(CardKind.product, product_id), (CardKind.order, order_id)]
    for kind, ref in cards:
        if ref is not None:
            service.post_customer_message(db, existing.id, user_id=user_id, body="", card=(kind, ref), at=at)
    service.post_customer_message(db, existing.id, user_id=user_id, body=message, at=at)
    db.refresh(existing)
    return existing


# --- read markers and unread counts ------------------------------------------------------------------


def _newest_message_id(db: Session, conversation_id: int) -> int:
    return db.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id)) or 0


def mark_read_by_customer(db: Session, conversation: Conversation) -> int:
    """The shopper has seen everything in the conversation; returns the new marker."""
    newest = _newest_message_id(db, conversation.id)
    if newest > conversation.customer_read_id:
        conversation.customer_read_id = newest
        publish_after_commit(
            db, chat_channel(conversation.id), {"type": "read", "side": "customer", "id": newest}
        )
        publish_after_commit(db, user_channel(conversation.user_id), {"type": "read"})
        db.commit()
    return conversation.customer_read_id


def mark_read_by_shop(db: Session, conversation: Conversation) -> int:
    """The shop has seen everything in the conversation (any of its agents looking at it)."""
    newest = _newest_message_id(db, conversation.id)
    if newest > conversation.shop_read_id:
        conversation.shop_read_id = newest
        publish_after_commit(
            db, chat_channel(conversation.id), {"type": "read", "side": "shop", "id": newest}
        )
        publish_after_commit(db, shop_channel(conversation.shop_id), {"type": "read"})
        db.commit()
    return conversation.shop_read_id


def _unread_for_customer() -> Select[int, int]:
    return (
        select(Message.conversation_id, func.count())
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.sender != Sender.customer, Message.id > Conversation.customer_read_id)
        .group_by(Message.conversation_id)
    )


def _unread_for_shop() -> Select[int, int]:
    return (
        select(Message.conversation_id, func.count())
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.sender == Sender.customer, Message.id > Conversation.shop_read_id)
        .group_by(Message.conversation_id)
    )


def customer_unread(db: Session, conversation_ids: Iterable[int]) -> dict[int, int]:
    """``conversation id -> messages from the shop the shopper has not seen`` (absent: none)."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    return dict(db.execute(_unread_for_customer().where(Conversation.id.in_(ids))).all())


def shop_unread(db: Session, conversation_ids: Iterable[int]) -> dict[int, int]:
    """``conversation id -> customer messages no agent of the shop has seen`` (absent: none)."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    return dict(db.execute(_unread_for_shop().where(Conversation.id.in_(ids))).all())


def customer_unread_total(db: Session | Connection, user_id: int) -> int:
    """The shopper's badge: unread messages over all their conversations (a session, or the bare
    connection of ``Database.read_connection`` on a stream's hot path)."""
    stmt = (
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.user_id == user_id,
            Message.sender != Sender.customer,
            Message.id > Conversation.customer_read_id,
        )
    )
    return db.scalar(stmt) or 0


def shop_unread_total(db: Session | Connection, shop_id: int) -> int:
    """The console's inbox badge: unread customer messages in the shop's open conversations (a
    session, or the bare connection of ``Database.read_connection``)."""
    stmt = (
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.closed_at.is_(None),
            Message.sender == Sender.customer,
            Message.id > Conversation.shop_read_id,
        )
    )
    return db.scalar(stmt) or 0


def last_messages(db: Session, conversation_ids: Iterable[int]) -> dict[int, Message]:
    """``conversation id -> its newest message``, in one query (a list's previews)."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    newest = (
        select(func.max(Message.id)).where(Message.conversation_id.in_(ids)).group_by(Message.conversation_id)
    )
    return {m.conversation_id: m for m in db.scalars(select(Message).where(Message.id.in_(newest)))}


def messages_after(db: Session, conversation_id: int, after_id: int) -> list[Message]:
    """The conversation's messages newer than ``after_id`` (what a stream or page has not shown yet)."""
    return list(
        db.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.id)
        )
    )


# --- assignment ----------------------------------------------------------------------------------------


def assign(db: Session, shop_id: int, conversation_id: int, assignee_user_id: int | None) -> Conversation:
    """Give the conversation to one of the shop's staff (``None``: back to unassigned)."""
    conversation = service.get_shop_conversation(db, shop_id, conversation_id)
    if assignee_user_id is not None:
        membership = shops_service.membership_for_user(db, assignee_user_id)
        if membership is None or membership.shop_id != shop_id:
            raise InvalidInput(
                "this person does not work for the shop", code="not_shop_staff", field="assignee_user_id"
            )
    conversation.assignee_user_id = assignee_user_id
    publish_after_commit(
        db, chat_channel(conversation.id), {"type": "assigned", "assignee_user_id": assignee_user_id}
    )
    publish_after_commit(db, shop_channel(shop_id), {"type": "chat", "conversation_id": conversation.id})
    db.commit()
    return conversation


# --- quick replies -------------------------------------------------------------------------------------


def _clean_quick_reply(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not 1 <= len(title) <= QUICK_REPLY_TITLE_MAX:
        raise InvalidInput(
            f"title must be 1 to {QUICK_REPLY_TITLE_MAX} characters", code="invalid_title", field="title"
        )
    return title, service._clean_body(body)


def list_quick_replies(db: Session, shop_id: int) -> Sequence[QuickReply]:
    return db.scalars(select(QuickReply).where(QuickReply.shop_id == shop_id).order_by(QuickReply.id)).all()


def get_quick_reply(db: Session, shop_id: int, quick_reply_id: int) -> QuickReply:
    row = db.get(QuickReply, quick_reply_id)
    if row is None or row.shop_id != shop_id:
        raise NotFound("quick reply not found", code="quick_reply_not_found")
    return row


def create_quick_reply(db: Session, shop_id: int, *, title: str, body: str) -> QuickReply:
    title, body = _clean_quick_reply(title, body)
    count = db.scalar(select(func.count()).select_from(QuickReply).where(QuickReply.shop_id == shop_id)) or 0
    if count >= QUICK_REPLIES_PER_SHOP:
        raise Conflict(
            f"a shop keeps at most {QUICK_REPLIES_PER_SHOP} quick replies", code="too_many_quick_replies"
        )
    row = QuickReply(shop_id=shop_id, title=title, body=body, created_at=clock.now())
    db.add(row)
    db.commit()
    return row


def update_quick_reply(
    db: Session, shop_id: int, quick_reply_id: int, *, title: str, body: str
) -> QuickReply:
    row = get_quick_reply(db, shop_id, quick_reply_id)
    row.title, row.body = _clean_quick_reply(title, body)
    db.commit()
    return row


def delete_quick_reply(db: Session, shop_id: int, quick_reply_id: int) -> None:
    db.delete(get_quick_reply(db, shop_id, quick_reply_id))
    db.commit()
