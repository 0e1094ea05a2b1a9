"""Customer service conversations between a shopper and a shop, and complaints to the platform.

Response time is the shop's: ``first_human_response_at`` is set by the first message of a human
agent; bot replies never set it. Every ``post_*`` function takes an optional ``at`` so that the
simulator can replay a day of conversations in order; a message may not predate its
conversation. Posting locks the conversation row, so two agents answering at once cannot both
become "the first response", and nobody can post into a conversation while it is being closed.

Complaints go to the platform, not the shop: the shop can read its own, an operator decides
(``open -> upheld | dismissed``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.audit import service as audit_service
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import chat_channel, shop_channel, user_channel
from zhongcao.shops import service as shops_service
from zhongcao.support.models import (
    CardKind,
    Complaint,
    ComplaintReason,
    ComplaintStatus,
    Conversation,
    Message,
    Sender,
)

MESSAGE_MAX = 2000
COMPLAINT_TEXT_MAX = 2000
RESOLUTION_NOTE_MAX = 2000


class InboxFilter(enum.StrEnum):
    """Merchant inbox filters. ``unanswered``: open, and the newest non-bot message is the customer's
    (a human still owes an answer; a bot reply does not settle it)."""

    open = "open"
    closed = "closed"
    unanswered = "unanswered"


def _check_order(db: Session, order_id: int | None, *, user_id: int, shop_id: int) -> None:
    if order_id is None:
        return
    order = commerce_service.get_order_for_buyer(db, user_id, order_id, field="order_id")
    if order.shop_id != shop_id:
        raise InvalidInput("this order is from another shop", code="order_shop_mismatch", field="order_id")


def _clean_body(
    body: str, *, field: str = "body", limit: int = MESSAGE_MAX, allow_empty: bool = False
) -> str:
    body = (body or "").strip()
    if allow_empty and not body:
        return body
    if not 1 <= len(body) <= limit:
        raise InvalidInput(f"{field} must be 1 to {limit} characters", code="invalid_message", field=field)
    return body


# --- conversations -------------------------------------------------------------------------------


def start_conversation(
    db: Session,
    *,
    user_id: int,
    shop_id: int,
    message: str,
    order_id: int | None = None,
    product_id: int | None = None,
    at: datetime | None = None,
) -> tuple[Conversation, Message]:
    """A shopper writes to a shop, optionally about one of their orders from that shop or one of its
    products (each then goes first as a card). ``started_at`` is the customer's first message: the
    clock of the shop's first response starts there (docs/experience.md)."""
    now = at or clock.now()
    body = _clean_body(message, field="message")
    shops_service.get_shop(db, shop_id)
    _check_order(db, order_id, user_id=user_id, shop_id=shop_id)
    _check_product(db, product_id, shop_id=shop_id)
    conversation = Conversation(
        shop_id=shop_id,
        user_id=user_id,
        order_id=order_id,
        product_id=product_id,
        started_at=now,
        last_message_at=now,
    )
    db.add(conversation)
    db.flush()
    rows = [
        Message(
            conversation_id=conversation.id, sender=Sender.customer, body="", card_kind=kind, card_ref_id=ref
        )
        for kind, ref in ((CardKind.product, product_id), (CardKind.order, order_id))
        if ref is not None
    ]
    message_row = Message(conversation_id=conversation.id, sender=Sender.customer, body=body, sent_at=now)
    for row in [*rows, message_row]:
        row.sent_at = now
        db.add(row)
        db.flush()  # ids in order: the cards come before the text
        _announce(db, conversation, row)
    conversation.customer_read_id = message_row.id
    _signal(db, conversation, message_row)
    db.commit()
    return conversation, message_row


def _check_product(db: Session, product_id: int | None, *, shop_id: int) -> None:
    if product_id is None:
        return
    try:
        product = catalog_service.get_product(db, product_id)
    except NotFound as exc:
        raise InvalidInput("no such product", code="product_not_found", field="product_id") from exc
    if product.shop_id != shop_id:
        raise InvalidInput(
            "this product is from another shop", code="product_shop_mismatch", field="product_id"
        )


def card_of(message: Message) -> dict[str, object] | None:
    if message.card_kind is None:
        return None
    return {"kind": message.card_kind.value, "id": message.card_ref_id}


def message_data(message: Message) -> dict[str, object]:
    """A message as the ``chat:<id>`` channel and the chat streams carry it."""
    return {
        "type": "message",
        "conversation_id": message.conversation_id,
        "id": message.id,
        "sender": message.sender.value,
        "body": message.body,
        "card": card_of(message),
        "sent_at": message.sent_at.isoformat(),
    }


def _announce(db: Session, conversation: Conversation, message: Message) -> None:
    """After commit: the message to the conversation's streams; a nudge to the shop's inbox and to the
    shopper's badge (they re-read their unread counts)."""
    publish_after_commit(db, chat_channel(conversation.id), message_data(message))
    nudge = {"type": "chat", "conversation_id": conversation.id, "id": message.id}
    publish_after_commit(db, shop_channel(conversation.shop_id), nudge)
    publish_after_commit(db, user_channel(conversation.user_id), nudge)


def _signal(db: Session, conversation: Conversation, message: Message) -> None:
    """Tell the other side's notification centre (flows); a bot's automatic reply tells nobody."""
    if message.sender is Sender.bot:
        return
    db.flush()
    signals.emit(
        db,
        "support_message",
        conversation_id=conversation.id,
        message_id=message.id,
        shop_id=conversation.shop_id,
        user_id=conversation.user_id,
        sender=message.sender.value,
        body=message.body,
    )


def _lock_conversation(db: Session, conversation_id: int) -> Conversation:
    conversation = db.get(Conversation, conversation_id, with_for_update=True, populate_existing=True)
    if conversation is None:
        raise NotFound("conversation not found", code="conversation_not_found")
    return conversation


def _post(
    db: Session,
    conversation_id: int,
    *,
    sender: Sender,
    body: str,
    at: datetime | None,
    owner_user_id: int | None = None,
    shop_id: int | None = None,
    agent_user_id: int | None = None,
    card: tuple[CardKind, int] | None = None,
) -> Message:
    now = at or clock.now()
    body = _clean_body(body, allow_empty=card is not None)
    try:
        conversation = _lock_conversation(db, conversation_id)
        if owner_user_id is not None and conversation.user_id != owner_user_id:
            raise NotFound("conversation not found", code="conversation_not_found")
        if shop_id is not None and conversation.shop_id != shop_id:
            raise NotFound("conversation not found", code="conversation_not_found")
        if conversation.closed_at is not None:
            raise Conflict("this conversation is closed", code="conversation_closed")
        if now < conversation.started_at:
            raise InvalidInput("a message cannot predate its conversation", code="invalid_time", field="at")
        if card is not None:
            _check_card(db, conversation, card)
        message = Message(
            conversation_id=conversation.id,
            sender=sender,
            agent_user_id=agent_user_id,
            body=body,
            card_kind=card[0] if card else None,
            card_ref_id=card[1] if card else None,
            sent_at=now,
        )
        db.add(message)
        db.flush()
        conversation.last_message_at = max(conversation.last_message_at, now)
        # Whoever writes has read everything before their own message.
        if sender == Sender.customer:
            conversation.customer_read_id = message.id
        elif sender == Sender.agent:
            conversation.shop_read_id = message.id
        # A human agent's message (text, quick reply or card alike) is the shop's first response;
        # a bot's never is.
        if sender == Sender.agent and conversation.first_human_response_at is None:
            conversation.first_human_response_at = now
        _announce(db, conversation, message)
        _signal(db, conversation, message)
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return message


def _check_card(db: Session, conversation: Conversation, card: tuple[CardKind, int]) -> None:
    kind, ref = card
    if kind == CardKind.product:
        _check_product(db, ref, shop_id=conversation.shop_id)
    else:
        try:
            _check_order(db, ref, user_id=conversation.user_id, shop_id=conversation.shop_id)
        except NotFound as exc:
            raise InvalidInput("no such order", code="order_not_found", field="order_id") from exc


def post_customer_message(
    db: Session,
    conversation_id: int,
    *,
    user_id: int,
    body: str,
    at: datetime | None = None,
    card: tuple[CardKind, int] | None = None,
) -> Message:
    """The shopper writes in their own conversation (someone else's: 404)."""
    return _post(
        db, conversation_id, sender=Sender.customer, body=body, at=at, owner_user_id=user_id, card=card
    )


def post_agent_message(
    db: Session,
    conversation_id: int,
    *,
    shop_id: int,
    agent_user_id: int,
    body: str,
    at: datetime | None = None,
    card: tuple[CardKind, int] | None = None,
) -> Message:
    """A human agent of ``shop_id`` answers; the first such answer sets ``first_human_response_at``."""
    membership = shops_service.membership_for_user(db, agent_user_id)
    if membership is None or membership.shop_id != shop_id:
        raise Forbidden("this user does not work for the shop", code="not_shop_staff")
    return _post(
        db,
        conversation_id,
        sender=Sender.agent,
        body=body,
        at=at,
        shop_id=shop_id,
        agent_user_id=agent_user_id,
        card=card,
    )


def post_bot_message(db: Session, conversation_id: int, body: str, at: datetime | None = None) -> Message:
    """An automatic reply. It never counts as the shop's first (human) response."""
    return _post(db, conversation_id, sender=Sender.bot, body=body, at=at)


def close_conversation(
    db: Session, conversation_id: int, *, shop_id: int, at: datetime | None = None
) -> Conversation:
    now = at or clock.now()
    try:
        conversation = _lock_conversation(db, conversation_id)
        if conversation.shop_id != shop_id:
            raise NotFound("conversation not found", code="conversation_not_found")
        if conversation.closed_at is not None:
            raise Conflict(
                "this conversation is already closed", code="illegal_transition", details={"status": "closed"}
            )
        if now < conversation.last_message_at:
            raise InvalidInput(
                "a conversation cannot close before its last message", code="invalid_time", field="at"
            )
        conversation.closed_at = now
        publish_after_commit(db, chat_channel(conversation.id), {"type": "closed"})
        publish_after_commit(
            db, shop_channel(conversation.shop_id), {"type": "chat", "conversation_id": conversation.id}
        )
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return conversation


def first_response_seconds(conversation: Conversation) -> int | None:
    """Seconds from the customer's first message to the first human answer; None if unanswered."""
    if conversation.first_human_response_at is None:
        return None
    return int((conversation.first_human_response_at - conversation.started_at).total_seconds())


def get_user_conversation(db: Session, user_id: int, conversation_id: int) -> Conversation:
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != user_id:
        raise NotFound("conversation not found", code="conversation_not_found")
    return conversation


def get_shop_conversation(db: Session, shop_id: int, conversation_id: int) -> Conversation:
    conversation = db.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != shop_id:
        raise NotFound("conversation not found", code="conversation_not_found")
    return conversation


def conversation_messages(db: Session, conversation_id: int) -> list[Message]:
    return list(
        db.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.sent_at, Message.id)
        )
    )


def list_user_conversations(
    db: Session, user_id: int, params: PageParams, *, status: InboxFilter | None = None
) -> tuple[Sequence[Conversation], str | None]:
    """The shopper's conversations, newest first, optionally only the open or the closed ones."""
    stmt = select(Conversation).where(Conversation.user_id == user_id)
    if status == InboxFilter.open:
        stmt = stmt.where(Conversation.closed_at.is_(None))
    elif status == InboxFilter.closed:
        stmt = stmt.where(Conversation.closed_at.is_not(None))
    return paginate_by_id(db, stmt, Conversation.id, params)


class AssigneeFilter(enum.StrEnum):
    """``mine``: assigned to the agent asking; ``unassigned``: nobody's yet."""

    mine = "mine"
    unassigned = "unassigned"


def list_shop_conversations(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    status: InboxFilter | str | None = None,
    assignee: AssigneeFilter | str | None = None,
    agent_user_id: int | None = None,
) -> tuple[Sequence[Conversation], str | None]:
    """The shop's inbox, newest conversation first, optionally open / closed / unanswered, and
    ``mine`` (assigned to ``agent_user_id``) / ``unassigned``."""
    stmt = select(Conversation).where(Conversation.shop_id == shop_id)
    if assignee is not None:
        try:
            assignee = AssigneeFilter(assignee)
        except ValueError as exc:
            raise InvalidInput("unknown assignee filter", code="invalid_filter", field="assignee") from exc
        if assignee == AssigneeFilter.unassigned:
            stmt = stmt.where(Conversation.assignee_user_id.is_(None))
        else:
            stmt = stmt.where(Conversation.assignee_user_id == agent_user_id)
    if status is not None:
        try:
            status = InboxFilter(status)
        except ValueError as exc:
            raise InvalidInput("unknown inbox filter", code="invalid_filter", field="status") from exc
    if status == InboxFilter.open:
        stmt = stmt.where(Conversation.closed_at.is_(None))
    elif status == InboxFilter.closed:
        stmt = stmt.where(Conversation.closed_at.is_not(None))
    elif status == InboxFilter.unanswered:
        last_human_sender = (
            select(Message.sender)
            .where(Message.conversation_id == Conversation.id, Message.sender != Sender.bot)
            .order_by(Message.sent_at.desc(), Message.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = stmt.where(Conversation.closed_at.is_(None), last_human_sender == Sender.customer)
    return paginate_by_id(db, stmt, Conversation.id, params)


# --- complaints ----------------------------------------------------------------------------------


def file_complaint(
    db: Session,
    *,
    user_id: int,
    shop_id: int,
    reason: ComplaintReason | str,
    text: str = "",
    order_id: int | None = None,
    at: datetime | None = None,
) -> Complaint:
    try:
        reason = ComplaintReason(reason)
    except ValueError as exc:
        raise InvalidInput("unknown complaint reason", code="invalid_reason", field="reason") from exc
    text = (text or "").strip()
    if len(text) > COMPLAINT_TEXT_MAX:
        raise InvalidInput(
            f"text is longer than {COMPLAINT_TEXT_MAX} characters", code="text_too_long", field="text"
        )
    shops_service.get_shop(db, shop_id)
    _check_order(db, order_id, user_id=user_id, shop_id=shop_id)
    complaint = Complaint(
        user_id=user_id,
        shop_id=shop_id,
        order_id=order_id,
        reason=reason,
        text=text,
        status=ComplaintStatus.open,
        created_at=at or clock.now(),
    )
    db.add(complaint)
    db.commit()
    return complaint


def list_user_complaints(
    db: Session, user_id: int, params: PageParams
) -> tuple[Sequence[Complaint], str | None]:
    return paginate_by_id(db, select(Complaint).where(Complaint.user_id == user_id), Complaint.id, params)


def list_shop_complaints(
    db: Session, shop_id: int, params: PageParams, *, status: ComplaintStatus | None = None
) -> tuple[Sequence[Complaint], str | None]:
    stmt = select(Complaint).where(Complaint.shop_id == shop_id)
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    return paginate_by_id(db, stmt, Complaint.id, params)


def get_shop_complaint(db: Session, shop_id: int, complaint_id: int) -> Complaint:
    complaint = db.get(Complaint, complaint_id)
    if complaint is None or complaint.shop_id != shop_id:
        raise NotFound("complaint not found", code="complaint_not_found")
    return complaint


def get_complaint(db: Session, complaint_id: int) -> Complaint:
    complaint = db.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound("complaint not found", code="complaint_not_found")
    return complaint


def list_complaints(
    db: Session,
    params: PageParams,
    *,
    status: ComplaintStatus | None = None,
    shop_id: int | None = None,
    reason: ComplaintReason | None = None,
) -> tuple[Sequence[Complaint], str | None]:
    """Every complaint (operators), newest first, optionally by status, shop and reason."""
    stmt = select(Complaint)
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    if shop_id is not None:
        stmt = stmt.where(Complaint.shop_id == shop_id)
    if reason is not None:
        stmt = stmt.where(Complaint.reason == reason)
    return paginate_by_id(db, stmt, Complaint.id, params)


def open_complaint_count(db: Session) -> int:
    """Complaints waiting for an operator (the workbench's counter)."""
    return (
        db.scalar(select(func.count()).select_from(Complaint).where(Complaint.status == ComplaintStatus.open))
        or 0
    )


def resolve_complaint(
    db: Session,
    complaint_id: int,
    *,
    upheld: bool,
    note: str | None,
    actor_user_id: int | None = None,
    at: datetime | None = None,
) -> Complaint:
    """``open -> upheld`` (the merchant was at fault) or ``open -> dismissed``; once only. ``note``
    is the reason the shopper sees (``reason_required`` when blank); the decision goes to the audit
    log in the same transaction."""
    note = audit_service.require_reason(note)
    note = _clean_body(note, field="reason", limit=RESOLUTION_NOTE_MAX)
    complaint = get_complaint(db, complaint_id)
    new_status = ComplaintStatus.upheld if upheld else ComplaintStatus.dismissed
    # One conditional UPDATE: of two operators deciding at once, exactly one moves it.
    result = db.execute(
        update(Complaint)
        .where(Complaint.id == complaint_id, Complaint.status == ComplaintStatus.open)
        .values(status=new_status, resolution_note=note, resolved_at=at or clock.now())
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        db.rollback()
        db.refresh(complaint)
        raise Conflict(
            "only an open complaint can be resolved",
            code="illegal_transition",
            details={"status": complaint.status.value},
        )
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action="complaint.resolve",
        target_kind="complaint",
        target_id=complaint_id,
        reason=note,
        before={"status": ComplaintStatus.open},
        after={"status": new_status},
    )
    db.commit()
    db.refresh(complaint)
    return complaint


def complaint_counts(db: Session, since: datetime, until: datetime) -> dict[int, int]:
    """``shop id -> complaints filed in [since, until)``."""
    rows = db.execute(
        select(Complaint.shop_id, func.count())
        .where(Complaint.created_at >= since, Complaint.created_at < until)
        .group_by(Complaint.shop_id)
    )
    return {shop_id: n for shop_id, n in rows}


def conversation_rows(
    db: Session, since: datetime, until: datetime
) -> list[tuple[int, datetime, datetime | None]]:
    """Conversations started in [since, until): ``(shop id, started at, first human response at)``."""
    stmt = select(Conversation.shop_id, Conversation.started_at, Conversation.first_human_response_at).where(
        Conversation.started_at >= since, Conversation.started_at < until
    )
    return [(shop_id, started, answered) for shop_id, started, answered in db.execute(stmt)]


def first_response_seconds_by_order(db: Session, order_ids: Sequence[int]) -> dict[int, float | None]:
    """``order id -> seconds to the first human answer of its earliest conversation`` (``None`` when
    nobody has answered); orders without a conversation are absent."""
    ids = sorted(set(order_ids))
    out: dict[int, float | None] = {}
    for start in range(0, len(ids), 5000):
        rows = db.execute(
            select(Conversation.order_id, Conversation.started_at, Conversation.first_human_response_at)
            .where(Conversation.order_id.in_(ids[start : start + 5000]))
            .order_by(Conversation.id)
        )
        for order_id, started, answered in rows:
            if order_id is None or order_id in out:
                continue
            out[order_id] = None if answered is None else (answered - started).total_seconds()
    return out
