"""Recording many finished pre-sale conversations at once (the simulated world's history).

:func:`record_answered_questions` writes what ``service.start_conversation`` (with a product card),
``service.post_agent_message`` and ``service.close_conversation`` write for one question, its first
human answer and the close, for a whole batch: the same rows, the same clocks (``started_at``,
``first_human_response_at``, ``last_message_at``, ``closed_at``: the experience score's 3-minute reply
share reads them) and the same read marks, checked row by row before anything is written, with a few
multi-row statements instead of a dozen round trips per conversation. Nobody is nudged: the real-time
streams and the notification centre are for conversations people are having, and these were closed
before they are written. Kept apart from ``service`` because it is another way in to the same rules,
used by the world's simulation rather than by requests; it only flushes, the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from zhongcao.catalog import service as catalog_service
from zhongcao.db import insert_rows_returning_ids
from zhongcao.errors import Forbidden, InvalidInput, NotFound
from zhongcao.shops import service as shops_service
from zhongcao.support.models import CardKind, Conversation, Message, Sender
from zhongcao.support.service import _clean_body


@dataclass(frozen=True)
class AnsweredQuestion:
    """A shopper's question about a product, a shop agent's first answer, and the conversation closed."""

    user_id: int
    shop_id: int
    product_id: int
    question: str
    asked_at: datetime
    agent_user_id: int
    answer: str
    answered_at: datetime
    closed_at: datetime


def _check(db: Session, questions: Sequence[AnsweredQuestion]) -> list[tuple[str, str]]:
    """Every row as the one-at-a-time calls would check it; the cleaned (question, answer) bodies."""
    shops = shops_service.shops_by_ids(db, {q.shop_id for q in questions})
    products = catalog_service.product_briefs(db, {q.product_id for q in questions})
    staff: dict[int, int | None] = {}
    for agent in {q.agent_user_id for q in questions}:
        membership = shops_service.membership_for_user(db, agent)
        staff[agent] = membership.shop_id if membership is not None else None
    bodies = []
    for q in questions:
        if q.shop_id not in shops:
            raise NotFound("shop not found", code="shop_not_found")
        product = products.get(q.product_id)
        if product is None:
            raise InvalidInput("no such product", code="product_not_found", field="product_id")
        if product.shop_id != q.shop_id:
            raise InvalidInput(
                "this product is from another shop", code="product_shop_mismatch", field="product_id"
            )
        if staff[q.agent_user_id] != q.shop_id:
            raise Forbidden("this user does not work for the shop", code="not_shop_staff")
        if not q.asked_at <= q.answered_at <= q.closed_at:
            raise InvalidInput(
                "a conversation is asked, then answered, then closed",
                code="invalid_time",
                field="answered_at",
            )
        bodies.append((_clean_body(q.question, field="message"), _clean_body(q.answer)))
    return bodies


def record_answered_questions(db: Session, questions: Sequence[AnsweredQuestion]) -> list[int]:
    """Write the batch (flushes only); the new conversations' ids, in the order of ``questions``."""
    if not questions:
        return []
    bodies = _check(db, questions)
    conversation_ids = insert_rows_returning_ids(
        db,
        Conversation.__table__,
        [
            {
                "shop_id": q.shop_id,
                "user_id": q.user_id,
                "order_id": None,
                "product_id": q.product_id,
                "assignee_user_id": None,
                "customer_read_id": 0,
                "shop_read_id": 0,
                "started_at": q.asked_at,
                "first_human_response_at": q.answered_at,
                "last_message_at": q.answered_at,
                "closed_at": q.closed_at,
            }
            for q in questions
        ],
    )
    # Per conversation, in id order as the one-at-a-time path writes them: the product card, the
    # question (both at the question's time), the agent's answer.
    message_rows = []
    for conversation_id, q, (question, answer) in zip(conversation_ids, questions, bodies, strict=True):
        message_rows += [
            _message(conversation_id, Sender.customer, "", q.asked_at, card=(CardKind.product, q.product_id)),
            _message(conversation_id, Sender.customer, question, q.asked_at),
            _message(conversation_id, Sender.agent, answer, q.answered_at, agent=q.agent_user_id),
        ]
    message_ids = insert_rows_returning_ids(db, Message.__table__, message_rows)
    # Whoever writes has read everything before their own message.
    db.execute(  # an ORM bulk UPDATE by primary key: one executemany
        update(Conversation),
        [
            {"id": c, "customer_read_id": message_ids[3 * i + 1], "shop_read_id": message_ids[3 * i + 2]}
            for i, c in enumerate(conversation_ids)
        ],
    )
    db.flush()
    return conversation_ids


def _message(
    conversation_id: int,
    sender: Sender,
    body: str,
    sent_at: datetime,
    *,
    card: tuple[CardKind, int] | None = None,
    agent: int | None = None,
) -> dict[str, object]:
    return {
        "conversation_id": conversation_id,
        "sender": sender,
        "agent_user_id": agent,
        "body": body,
        "card_kind": card[0] if card else None,
        "card_ref_id": card[1] if card else None,
        "sent_at": sent_at,
    }
