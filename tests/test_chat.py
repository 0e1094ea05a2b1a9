"""Customer-service chat: contacting a shop (reusing the open conversation), cards, unread counts,
assignment, quick replies, what the bus carries, and the first human response time that feeds the
experience score."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.api_helpers import assert_error
from tests.async_helpers import run_async
from tests.factories import add_staff, auth, make_product, make_shop, make_user
from tests.support_helpers import make_order
from zhongcao import clock, flows
from zhongcao.errors import InvalidInput
from zhongcao.experience import indicators
from zhongcao.realtime import outbox
from zhongcao.realtime.bus import MemoryBus
from zhongcao.shops.models import StaffRole
from zhongcao.support import chat
from zhongcao.support import service as support
from zhongcao.support.models import CardKind

CONTACT = "/api/support/contact"
MINE = "/api/support/conversations"
INBOX = "/api/merchant/support/conversations"
QUICK = "/api/merchant/support/quick-replies"


def _contact(client, headers, **body) -> dict:
    r = client.post(CONTACT, json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_contact_continues_the_open_conversation_and_never_reopens_a_closed_one(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    buyer = make_user(db)
    order = make_order(db, buyer, bundle.shop)
    shopper = auth(db, buyer)

    first = _contact(client, shopper, shop_id=bundle.shop.id, product_id=product.id, message="有货吗")
    assert first["product_id"] == product.id
    assert [(m["card"], m["body"]) for m in first["messages"]] == [
        ({"kind": "product", "id": product.id}, ""),
        (None, "有货吗"),
    ]
    again = _contact(
        client, shopper, shop_id=bundle.shop.id, order_id=order.id, message="这个订单什么时候发货"
    )
    assert again["id"] == first["id"] and again["started_at"] == first["started_at"]
    assert [(m["card"], m["body"]) for m in again["messages"][2:]] == [
        ({"kind": "order", "id": order.id}, ""),
        (None, "这个订单什么时候发货"),
    ]
    support.close_conversation(db, first["id"], shop_id=bundle.shop.id)
    third = _contact(client, shopper, shop_id=bundle.shop.id, message="还有个问题")
    assert third["id"] != first["id"] and third["status"] == "open"

    # Refusals: another shop's product or order, an empty message; nothing is posted.
    other = make_shop(db, "别家")
    foreign = make_product(db, other.shop)
    count = len(client.get(f"{MINE}/{third['id']}", headers=shopper).json()["messages"])
    r = client.post(
        CONTACT, json={"shop_id": bundle.shop.id, "product_id": foreign.id, "message": "x"}, headers=shopper
    )
    assert_error(r, 422, "product_shop_mismatch", "product_id")
    assert_error(
        client.post(CONTACT, json={"shop_id": bundle.shop.id, "message": " "}, headers=shopper),
        422,
        "validation_error",
        "message",
    )
    assert len(client.get(f"{MINE}/{third['id']}", headers=shopper).json()["messages"]) == count


def test_cards_from_both_sides_belong_to_the_conversation(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    buyer, stranger = make_user(db), make_user(db)
    order = make_order(db, buyer, bundle.shop)
    strangers_order = make_order(db, stranger, bundle.shop)
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    convo = _contact(client, auth(db, buyer), shop_id=bundle.shop.id, message="你好")
    url = f"{INBOX}/{convo['id']}/messages"

    r = client.post(url, json={"card": {"kind": "product", "id": product.id}}, headers=agent)
    assert r.status_code == 201 and r.json()["card"] == {"kind": "product", "id": product.id}
    assert r.json()["body"] == ""
    r = client.post(url, json={"body": "您的订单", "card": {"kind": "order", "id": order.id}}, headers=agent)
    assert r.status_code == 201 and r.json()["card"] == {"kind": "order", "id": order.id}

    foreign = make_product(db, make_shop(db, "别家").shop)
    assert_error(
        client.post(url, json={"card": {"kind": "product", "id": foreign.id}}, headers=agent),
        422,
        "product_shop_mismatch",
        "product_id",
    )
    assert_error(
        client.post(url, json={"card": {"kind": "order", "id": strangers_order.id}}, headers=agent),
        422,
        "order_not_found",
        "order_id",
    )
    assert_error(
        client.post(url, json={"card": {"kind": "coupon", "id": 1}}, headers=agent), 422, "validation_error"
    )


def test_unread_counts_on_both_sides_and_reading_clears_them(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    shopper = auth(db, buyer)
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    a = _contact(client, shopper, shop_id=bundle.shop.id, message="一")
    client.post(f"{MINE}/{a['id']}/messages", json={"body": "二"}, headers=shopper)
    assert client.get("/api/merchant/support/unread", headers=agent).json() == {"unread": 2}
    listed = {c["id"]: c["unread"] for c in client.get(INBOX, headers=agent).json()["items"]}
    assert listed == {a["id"]: 2}
    assert client.get("/api/support/unread", headers=shopper).json() == {"unread": 0}  # own messages

    # The agent answers: the shop has read everything before its answer; the shopper has one unread.
    client.post(f"{INBOX}/{a['id']}/messages", json={"body": "在的"}, headers=agent)
    assert client.get("/api/merchant/support/unread", headers=agent).json() == {"unread": 0}
    assert client.get("/api/support/unread", headers=shopper).json() == {"unread": 1}
    assert client.get(MINE, headers=shopper).json()["items"][0]["unread"] == 1

    r = client.post(f"{MINE}/{a['id']}/read", headers=shopper)
    assert r.status_code == 200 and r.json()["unread"] == 0
    assert client.get("/api/support/unread", headers=shopper).json() == {"unread": 0}
    # A bot's message counts for the shopper; a customer message read by the shop stays read.
    support.post_bot_message(db, a["id"], "自动回复")
    client.post(f"{MINE}/{a['id']}/messages", json={"body": "三"}, headers=shopper)
    assert client.get("/api/support/unread", headers=shopper).json() == {"unread": 0}  # writing reads
    assert client.get("/api/merchant/support/unread", headers=agent).json() == {"unread": 1}
    assert client.post(f"{INBOX}/{a['id']}/read", headers=agent).json()["unread"] == 0
    assert client.get("/api/merchant/support/unread", headers=agent).json() == {"unread": 0}


def test_the_streams_badge_reads_agree_with_the_sessions(db, database):
    """The chat streams read the badges on a bare connection (``Database.read_connection``): the
    same counts as through a session, on both databases."""
    bundle = make_shop(db)
    buyer = make_user(db)
    convo, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="一")
    support.post_customer_message(db, convo.id, user_id=buyer.id, body="二")
    support.post_bot_message(db, convo.id, "自动回复")
    with database.read_connection() as connection:
        bare = (
            chat.shop_unread_total(connection, bundle.shop.id),
            chat.customer_unread_total(connection, buyer.id),
        )
    assert (
        bare
        == (chat.shop_unread_total(db, bundle.shop.id), chat.customer_unread_total(db, buyer.id))
        == (2, 1)
    )


def test_assignment_and_the_mine_and_unassigned_filters(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    me_user = add_staff(db, bundle.shop, StaffRole.service_agent)
    colleague = add_staff(db, bundle.shop, StaffRole.service_agent)
    me = auth(db, me_user)
    a, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="a")
    b, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="b")
    c, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="c")

    r = client.post(f"{INBOX}/{a.id}/assign", json={"assignee_user_id": me_user.id}, headers=me)
    assert r.status_code == 200 and r.json()["assignee_user_id"] == me_user.id
    client.post(f"{INBOX}/{b.id}/assign", json={"assignee_user_id": colleague.id}, headers=me)

    def ids(**params):
        return {x["id"] for x in client.get(INBOX, params=params, headers=me).json()["items"]}

    assert ids(assignee="mine") == {a.id}
    assert ids(assignee="unassigned") == {c.id}
    assert ids() == {a.id, b.id, c.id}
    assert_error(
        client.get(INBOX, params={"assignee": "theirs"}, headers=me), 422, "validation_error", "assignee"
    )

    outsider = make_shop(db, "别家").owner
    assert_error(
        client.post(f"{INBOX}/{c.id}/assign", json={"assignee_user_id": outsider.id}, headers=me),
        422,
        "not_shop_staff",
        "assignee_user_id",
    )
    r = client.post(f"{INBOX}/{b.id}/assign", json={"assignee_user_id": None}, headers=me)
    assert r.json()["assignee_user_id"] is None and ids(assignee="unassigned") == {b.id, c.id}


def test_quick_replies_crud_and_rules(client, db):
    bundle = make_shop(db)
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    r = client.post(QUICK, json={"title": "发货时间", "body": "48 小时内发货"}, headers=agent)
    assert r.status_code == 201, r.text
    qid = r.json()["id"]
    r = client.put(f"{QUICK}/{qid}", json={"title": "发货", "body": "24 小时内发货"}, headers=agent)
    assert r.status_code == 200 and r.json()["body"] == "24 小时内发货"
    assert [q["title"] for q in client.get(QUICK, headers=agent).json()] == ["发货"]
    assert_error(
        client.post(QUICK, json={"title": "", "body": "x"}, headers=agent), 422, "validation_error", "title"
    )
    assert_error(
        client.post(QUICK, json={"title": "t" * 61, "body": "x"}, headers=agent),
        422,
        "validation_error",
        "title",
    )
    assert_error(
        client.post(QUICK, json={"title": "t", "body": " "}, headers=agent), 422, "validation_error", "body"
    )
    assert client.delete(f"{QUICK}/{qid}", headers=agent).status_code == 204
    assert_error(client.delete(f"{QUICK}/{qid}", headers=agent), 404, "quick_reply_not_found")
    for n in range(chat.QUICK_REPLIES_PER_SHOP):
        chat.create_quick_reply(db, bundle.shop.id, title=f"q{n}", body="b")
    assert_error(
        client.post(QUICK, json={"title": "one more", "body": "b"}, headers=agent),
        409,
        "too_many_quick_replies",
    )


def test_messages_reach_the_conversation_shop_and_shopper_channels_after_commit(db, database):
    assert flows.notify_coupons_ending  # flows connects the notification handlers, as in the app
    bus = MemoryBus()
    outbox.attach(database, bus)
    bundle = make_shop(db)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    convo, _ = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="在吗")
    channels = [f"chat:{convo.id}", f"shop:{bundle.shop.id}", f"user:{buyer.id}"]

    def work() -> int:
        with database.session() as session:
            message = support.post_agent_message(
                session, convo.id, shop_id=bundle.shop.id, agent_user_id=agent.id, body="<b>在的</b>"
            )
            with pytest.raises(InvalidInput):  # a refused message publishes nothing
                support.post_agent_message(
                    session, convo.id, shop_id=bundle.shop.id, agent_user_id=agent.id, body=""
                )
            return message.id

    async def scenario():
        async with bus.subscribe(channels) as sub:
            message_id = await asyncio.to_thread(work)
            # The message on each channel, and the shopper's notification of it (notifications.md).
            got = [await sub.get(2) for _ in range(4)]
            return message_id, got, await sub.get(0.2)

    message_id, got, extra = run_async(scenario())
    assert extra is None
    notices = [m for m in got if m is not None and m.data.get("type") == "notification"]
    assert [(m.channel, m.data["kind"]) for m in notices] == [(f"user:{buyer.id}", "chat_message")]
    by_channel = {m.channel: m.data for m in got if m is not None and m not in notices}
    assert by_channel[f"chat:{convo.id}"]["body"] == "<b>在的</b>"  # carried as text, escaped when shown
    assert by_channel[f"chat:{convo.id}"]["id"] == message_id
    assert by_channel[f"chat:{convo.id}"]["sender"] == "agent"
    assert (
        by_channel[f"shop:{bundle.shop.id}"]
        == by_channel[f"user:{buyer.id}"]
        == {
            "type": "chat",
            "conversation_id": convo.id,
            "id": message_id,
        }
    )


def _china(hour: int, day: int = 1) -> datetime:
    """``hour``:00 China time, as UTC, ``day`` days ago."""
    local = (clock.now().astimezone(indicators.CHINA) - timedelta(days=day)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return local.astimezone(UTC)


@pytest.mark.parametrize(
    ("first_reply", "seconds", "share"),
    [("agent_text", 120, 1.0), ("agent_card", 180, 1.0), ("agent_text", 181, 0.0), ("bot", 10, 0.0)],
)
def test_the_first_human_response_is_what_the_score_reads(db, first_reply, seconds, share):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    started = _china(10)
    convo = chat.contact_shop(
        db, user_id=buyer.id, shop_id=bundle.shop.id, message="在吗", product_id=product.id, at=started
    )
    assert convo.started_at == started  # the customer's first message, the product card with it
    at = started + timedelta(seconds=seconds)
    if first_reply == "bot":
        support.post_bot_message(db, convo.id, "您好，客服马上就来", at=at)
    else:
        card = (CardKind.product, product.id) if first_reply == "agent_card" else None
        support.post_agent_message(
            db,
            convo.id,
            shop_id=bundle.shop.id,
            agent_user_id=agent.id,
            body="" if card else "在的",
            card=card,
            at=at,
        )
    # A later message in the same conversation never moves the first response.
    chat.contact_shop(
        db, user_id=buyer.id, shop_id=bundle.shop.id, message="再问一下", at=at + timedelta(minutes=1)
    )
    support.post_agent_message(
        db, convo.id, shop_id=bundle.shop.id, agent_user_id=agent.id, body="好", at=at + timedelta(minutes=5)
    )
    db.refresh(convo)
    expected = seconds if first_reply != "bot" else seconds + 300  # a bot's reply never counts
    assert support.first_response_seconds(convo) == expected
    inputs = {s.shop_id: s for s in indicators.gather(db, clock.now())}[bundle.shop.id]
    assert inputs.values["cs_3min_share"] == share


def test_conversations_started_outside_service_hours_do_not_count(db):
    bundle = make_shop(db)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    convo = chat.contact_shop(db, user_id=buyer.id, shop_id=bundle.shop.id, message="在吗", at=_china(23))
    support.post_agent_message(
        db,
        convo.id,
        shop_id=bundle.shop.id,
        agent_user_id=agent.id,
        body="在",
        at=_china(23) + timedelta(hours=9),
    )
    inputs = {s.shop_id: s for s in indicators.gather(db, clock.now())}[bundle.shop.id]
    assert inputs.values["cs_3min_share"] is None
