"""Finished pre-sale conversations written many at a time (the simulated world's history) are the
rows the one-at-a-time calls write: same clocks, same messages, same read marks; bad rows are refused
before anything is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.api_helpers import snapshot
from tests.factories import make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.errors import DomainError
from zhongcao.support import bulk as support_bulk
from zhongcao.support import service as support
from zhongcao.support.models import Conversation, Message

T0 = timedelta(hours=5)


def _rows(db, conversation_id: int) -> tuple[dict, list[dict]]:  # type: ignore[type-arg]
    c = db.get(Conversation, conversation_id)
    messages = list(
        db.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
    )
    first_id = messages[0].id
    conversation = {
        k: getattr(c, k)
        for k in ("shop_id", "product_id", "order_id", "assignee_user_id", "started_at", "first_human_response_at",
                  "last_message_at", "closed_at")
    }  # fmt: skip
    conversation["read"] = (c.customer_read_id - first_id, c.shop_read_id - first_id)
    return conversation, [
        {k: getattr(m, k) for k in ("sender", "agent_user_id", "body", "card_kind", "card_ref_id", "sent_at")}
        for m in messages
    ]


def test_a_batch_writes_what_the_one_at_a_time_calls_write(db) -> None:
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    one, many = make_user(db), make_user(db)
    asked = clock.now().replace(microsecond=0) - T0
    answered, closed = asked + timedelta(minutes=4), asked + timedelta(minutes=4)
    convo, _ = support.start_conversation(
        db, user_id=one.id, shop_id=bundle.shop.id, message="有货吗", product_id=product.id, at=asked
    )
    support.post_agent_message(
        db, convo.id, shop_id=bundle.shop.id, agent_user_id=bundle.owner.id, body="有的", at=answered
    )
    support.close_conversation(db, convo.id, shop_id=bundle.shop.id, at=closed)
    (bulk_id,) = support_bulk.record_answered_questions(
        db,
        [
            support_bulk.AnsweredQuestion(
                user_id=many.id, shop_id=bundle.shop.id, product_id=product.id, question=" 有货吗 ",
                asked_at=asked, agent_user_id=bundle.owner.id, answer="有的", answered_at=answered, closed_at=closed,
            )
        ],
    )  # fmt: skip
    db.commit()
    db.expire_all()
    assert _rows(db, bulk_id) == _rows(db, convo.id)
    assert support.first_response_seconds(db.get(Conversation, bulk_id)) == 240


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"product_id": "other"}, "product_shop_mismatch"),
        ({"agent_user_id": "stranger"}, "not_shop_staff"),
        ({"answered_at": "before"}, "invalid_time"),
        ({"question": " "}, "invalid_message"),
    ],
)
def test_a_bad_row_refuses_the_whole_batch(db, change: dict, code: str) -> None:  # type: ignore[type-arg]
    bundle, other = make_shop(db), make_shop(db)
    product, foreign = make_product(db, bundle.shop), make_product(db, other.shop)
    buyer, stranger = make_user(db), make_user(db)
    db.commit()
    asked = clock.now() - T0
    good = {
        "user_id": buyer.id, "shop_id": bundle.shop.id, "product_id": product.id, "question": "在吗",
        "asked_at": asked, "agent_user_id": bundle.owner.id, "answer": "在的",
        "answered_at": asked + timedelta(minutes=1), "closed_at": asked + timedelta(minutes=2),
    }  # fmt: skip
    values = {"other": foreign.id, "stranger": stranger.id, "before": asked - timedelta(minutes=1)}
    bad = {**good, **{k: values.get(v, v) for k, v in change.items()}}
    before = snapshot(db, ("cs_conversations", "cs_messages"))
    with pytest.raises(DomainError) as caught:
        support_bulk.record_answered_questions(
            db, [support_bulk.AnsweredQuestion(**good), support_bulk.AnsweredQuestion(**bad)]
        )
    db.rollback()
    assert caught.value.code == code
    assert snapshot(db, ("cs_conversations", "cs_messages")) == before
