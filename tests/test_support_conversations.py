"""Customer service: shoppers write to shops, agents answer, response time is the human's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api_helpers import assert_error, snapshot, walk
from tests.factories import add_staff, auth, make_shop, make_user
from tests.support_helpers import make_order
from zhongcao import clock
from zhongcao.errors import Conflict, Forbidden, InvalidInput
from zhongcao.shops.models import StaffRole
from zhongcao.support import service as support

TABLES = ("cs_conversations", "cs_messages")
START = "/api/support/conversations"
INBOX = "/api/merchant/support/conversations"


def _start(client, headers, shop_id: int, message: str = "在吗？尺码偏大吗", **extra) -> dict:
    r = client.post(START, json={"shop_id": shop_id, "message": message, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_conversation_round_trip(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    order = make_order(db, buyer, bundle.shop)
    shopper = auth(db, buyer)
    agent_user = add_staff(db, bundle.shop, StaffRole.service_agent)
    agent = auth(db, agent_user)

    convo = _start(client, shopper, bundle.shop.id, order_id=order.id)
    assert convo["status"] == "open" and convo["order_id"] == order.id
    assert convo["first_human_response_at"] is None and convo["first_response_seconds"] is None
    # The order goes first as a card, then the question.
    assert [(m["sender"], m["body"], m["card"]) for m in convo["messages"]] == [
        ("customer", "", {"kind": "order", "id": order.id}),
        ("customer", "在吗？尺码偏大吗", None),
    ]
    cid = convo["id"]

    more = client.post(f"{START}/{cid}/messages", json={"body": "  我平时穿M  "}, headers=shopper)
    assert more.status_code == 201, more.text
    assert more.json()["body"] == "我平时穿M" and more.json()["sender"] == "customer"

    reply = client.post(f"{INBOX}/{cid}/messages", json={"body": "亲，建议拍S"}, headers=agent)
    assert reply.status_code == 201, reply.text
    assert reply.json()["sender"] == "agent" and reply.json()["agent_user_id"] == agent_user.id
    seen = client.get(f"{INBOX}/{cid}", headers=agent).json()
    first = seen["first_human_response_at"]
    assert first is not None and seen["first_response_seconds"] >= 0
    client.post(f"{INBOX}/{cid}/messages", json={"body": "还有别的问题吗"}, headers=auth(db, bundle.owner))
    again = client.get(f"{START}/{cid}", headers=shopper).json()
    assert again["first_human_response_at"] == first  # only the first answer counts
    assert [m["sender"] for m in again["messages"]] == ["customer", "customer", "customer", "agent", "agent"]
    assert [c["id"] for c in client.get(START, headers=shopper).json()["items"]] == [cid]

    closed = client.post(f"{INBOX}/{cid}/close", headers=agent)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"] is not None
    before = snapshot(db, TABLES)
    assert_error(
        client.post(f"{START}/{cid}/messages", json={"body": "?"}, headers=shopper),
        409,
        "conversation_closed",
    )
    assert_error(
        client.post(f"{INBOX}/{cid}/messages", json={"body": "?"}, headers=agent), 409, "conversation_closed"
    )
    assert_error(client.post(f"{INBOX}/{cid}/close", headers=agent), 409, "illegal_transition")
    assert snapshot(db, TABLES) == before


def test_response_time_counts_humans_not_bots(db):
    bundle = make_shop(db)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    t0 = clock.now() - timedelta(hours=3)
    convo, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="hi", at=t0)
    support.post_bot_message(db, convo.id, "您好，我是智能客服", at=t0 + timedelta(seconds=2))
    db.refresh(convo)
    assert convo.first_human_response_at is None and support.first_response_seconds(convo) is None

    support.post_customer_message(db, convo.id, user_id=buyer.id, body="人工", at=t0 + timedelta(seconds=30))
    support.post_agent_message(
        db,
        convo.id,
        shop_id=bundle.shop.id,
        agent_user_id=agent.id,
        body="在的",
        at=t0 + timedelta(seconds=95),
    )
    support.post_agent_message(
        db,
        convo.id,
        shop_id=bundle.shop.id,
        agent_user_id=agent.id,
        body="请讲",
        at=t0 + timedelta(seconds=200),
    )
    db.refresh(convo)
    assert support.first_response_seconds(convo) == 95
    assert convo.last_message_at == t0 + timedelta(seconds=200)
    assert [m.sender.value for m in support.conversation_messages(db, convo.id)] == [
        "customer",
        "bot",
        "customer",
        "agent",
        "agent",
    ]

    with pytest.raises(InvalidInput) as predates:
        support.post_bot_message(db, convo.id, "too early", at=t0 - timedelta(seconds=1))
    assert predates.value.details["field"] == "at"
    with pytest.raises(InvalidInput):
        support.post_bot_message(db, convo.id, "x" * (support.MESSAGE_MAX + 1))
    with pytest.raises(Forbidden):
        support.post_agent_message(
            db, convo.id, shop_id=bundle.shop.id, agent_user_id=make_shop(db).owner.id, body="not mine"
        )
    support.close_conversation(db, convo.id, shop_id=bundle.shop.id, at=t0 + timedelta(seconds=300))
    with pytest.raises(Conflict):
        support.post_bot_message(db, convo.id, "after close", at=t0 + timedelta(seconds=301))
    assert len(support.conversation_messages(db, convo.id)) == 5


def test_conversation_input_rules(client, db):
    bundle = make_shop(db)
    other_shop = make_shop(db)
    buyer = make_user(db)
    shopper = auth(db, buyer)
    their_order = make_order(db, make_user(db), bundle.shop)
    my_other_order = make_order(db, buyer, other_shop.shop)
    before = snapshot(db, TABLES)

    def post(body):
        return client.post(START, json=body, headers=shopper)

    sid = bundle.shop.id
    assert_error(post({"shop_id": sid, "message": ""}), 422, "validation_error", "message")
    assert_error(post({"shop_id": sid, "message": "   "}), 422, "validation_error", "message")
    assert_error(post({"shop_id": sid, "message": "x" * 2001}), 422, "validation_error", "message")
    assert_error(post({"shop_id": sid}), 422, "validation_error", "message")
    assert_error(post({"shop_id": 0, "message": "hi"}), 422, "validation_error", "shop_id")
    assert_error(post({"shop_id": sid, "message": "hi", "priority": 1}), 422, "validation_error", "priority")
    assert_error(post({"shop_id": 987_654, "message": "hi"}), 404, "shop_not_found")
    assert_error(
        post({"shop_id": sid, "message": "hi", "order_id": their_order.id}),
        404,
        "order_not_found",
        "order_id",
    )
    assert_error(
        post({"shop_id": sid, "message": "hi", "order_id": 876_543}), 404, "order_not_found", "order_id"
    )
    assert_error(
        post({"shop_id": sid, "message": "hi", "order_id": my_other_order.id}),
        422,
        "order_shop_mismatch",
        "order_id",
    )
    assert snapshot(db, TABLES) == before

    convo = _start(client, shopper, sid, message="x" * 2000)
    assert_error(
        client.post(f"{START}/{convo['id']}/messages", json={"body": "x" * 2001}, headers=shopper),
        422,
        "validation_error",
        "body",
    )
    assert_error(
        client.post(f"{START}/{convo['id']}/messages", json={}, headers=shopper),
        422,
        "invalid_message",  # neither text nor a card
        "body",
    )


def test_inbox_filters(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    waiting, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="a")
    answered, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="b")
    support.post_agent_message(db, answered.id, shop_id=bundle.shop.id, agent_user_id=agent.id, body="ok")
    bot_only, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="c")
    support.post_bot_message(db, bot_only.id, "自动回复")
    asked_again, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="d")
    support.post_agent_message(db, asked_again.id, shop_id=bundle.shop.id, agent_user_id=agent.id, body="ok")
    support.post_customer_message(db, asked_again.id, user_id=buyer.id, body="还有一个问题")
    done, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="e")
    support.close_conversation(db, done.id, shop_id=bundle.shop.id)
    headers = auth(db, agent)

    def ids(status=None):
        return walk(client, INBOX, headers=headers, **({"status": status} if status else {}))

    assert ids() == [done.id, asked_again.id, bot_only.id, answered.id, waiting.id]
    assert ids("open") == [asked_again.id, bot_only.id, answered.id, waiting.id]
    assert ids("closed") == [done.id]
    assert ids("unanswered") == [asked_again.id, bot_only.id, waiting.id]
    assert_error(
        client.get(INBOX, params={"status": "spam"}, headers=headers), 422, "validation_error", "status"
    )


def test_conversation_roles_and_tenancy(client, db):
    bundle = make_shop(db)
    rival = make_shop(db)
    buyer = make_user(db)
    shopper = auth(db, buyer)
    convo = _start(client, shopper, bundle.shop.id)
    cid = convo["id"]
    rival_agent = auth(db, add_staff(db, rival.shop, StaffRole.service_agent))
    rival_owner = auth(db, rival.owner)
    stranger = auth(db, make_user(db))
    owner = auth(db, bundle.owner)
    before = snapshot(db, TABLES)

    for headers in (rival_agent, rival_owner):
        assert_error(client.get(f"{INBOX}/{cid}", headers=headers), 404, "conversation_not_found")
        assert_error(
            client.post(f"{INBOX}/{cid}/messages", json={"body": "x"}, headers=headers),
            404,
            "conversation_not_found",
        )
        assert_error(client.post(f"{INBOX}/{cid}/close", headers=headers), 404, "conversation_not_found")
        assert client.get(INBOX, headers=headers).json()["items"] == []
    assert_error(client.get(f"{START}/{cid}", headers=stranger), 404, "conversation_not_found")
    assert_error(
        client.post(f"{START}/{cid}/messages", json={"body": "x"}, headers=stranger),
        404,
        "conversation_not_found",
    )
    assert client.get(START, headers=stranger).json()["items"] == []
    assert_error(client.get(INBOX, headers=shopper), 403, "wrong_role")
    assert_error(client.get(f"{INBOX}/{cid}", headers=shopper), 403, "wrong_role")
    assert_error(
        client.post(START, json={"shop_id": bundle.shop.id, "message": "hi"}, headers=owner),
        403,
        "wrong_role",
    )
    assert_error(client.get(START), 401, "not_authenticated")
    assert_error(client.get(INBOX), 401, "not_authenticated")
    assert snapshot(db, TABLES) == before
    # The shop's own owner sees it.
    assert [c["id"] for c in client.get(INBOX, headers=owner).json()["items"]] == [cid]
