"""The chat pages without JavaScript: a shopper contacts a shop from a product or an order, the
merchant's inbox answers (assignment, quick replies, cards), unread counts and their badges, and
HTML typed into a message is shown as text on both sides."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape

from tests.conftest import SessionAwareClient
from tests.factories import add_staff, make_product, make_shop, make_user
from tests.support_helpers import make_order
from tests.web_helpers import form_token, web_login
from zhongcao.shops.models import StaffRole
from zhongcao.support import chat
from zhongcao.support import service as support
from zhongcao.support.models import Conversation, Message

XSS = '<img src=x onerror="document.title=1">'


@pytest.fixture
def merchant_client(app, db):
    with SessionAwareClient(app, db) as second:
        yield second


def _post(client, url: str, data: dict, page: str | None = None):
    token = form_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _badge(page_html: str) -> str:
    found = re.search(r'<span class="count-badge" data-chat-badge[^>]*>(\d+)</span>', page_html)
    assert found, "no unread badge"
    hidden = "hidden" in found.group(0)
    return "hidden" if hidden else found.group(1)


def test_shopper_contacts_the_shop_from_a_product_and_the_merchant_answers(client, merchant_client, db):
    bundle = make_shop(db, "花漾美妆")
    product = make_product(db, bundle.shop)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    web_login(client, buyer.email)
    web_login(merchant_client, agent.email)

    page = client.get(f"/products/{product.id}").text
    link = f"/messages/new?shop={bundle.shop.id}&amp;product={product.id}"
    assert link in page
    compose = client.get(html.unescape(link))
    assert compose.status_code == 200 and f'name="product_id" value="{product.id}"' in compose.text
    # An empty message is refused; the card stays ready to send.
    refused = _post(
        client,
        "/messages",
        {"shop_id": bundle.shop.id, "product_id": product.id, "body": ""},
        html.unescape(link),
    )
    assert refused.status_code == 422 and 'id="f-body-error"' in refused.text
    assert f'name="product_id" value="{product.id}"' in refused.text
    sent = _post(
        client,
        "/messages",
        {"shop_id": bundle.shop.id, "product_id": product.id, "body": XSS},
        html.unescape(link),
    )
    assert sent.status_code == 303
    conversation = db.query(Conversation).filter_by(user_id=buyer.id).one()
    assert sent.headers["location"] == f"/messages/{conversation.id}#latest"

    # The merchant's nav badge and inbox show one unread message (the card comes with the text).
    inbox = merchant_client.get("/merchant/inbox").text
    assert _badge(inbox) == "2" and f'href="/merchant/inbox/{conversation.id}"' in inbox
    thread = merchant_client.get(f"/merchant/inbox/{conversation.id}").text
    i = thread.find(XSS)
    assert i < 0, thread[max(0, i - 300) : i + 100]
    assert str(escape(XSS)) in thread  # shown as text, never run
    assert "chat-card-product" in thread and f'href="/merchant/products/{product.id}"' in thread
    assert _badge(merchant_client.get("/merchant/inbox").text) == "hidden"  # read once viewed

    # Assign to me, save a quick reply, answer with it (no JavaScript: the select posts its id).
    url = f"/merchant/inbox/{conversation.id}"
    assert _post(merchant_client, f"{url}/assign", {"assignee": "me"}, url).status_code == 303
    assert (
        f'href="/merchant/inbox/{conversation.id}"'
        in merchant_client.get("/merchant/inbox?assignee=mine").text
    )
    assert (
        f'href="/merchant/inbox/{conversation.id}"'
        not in merchant_client.get("/merchant/inbox?assignee=unassigned").text
    )
    saved = _post(
        merchant_client, "/merchant/inbox/quick-replies", {"title": "发货", "body": "48 小时内发货"}
    )
    assert saved.status_code == 303
    quick = chat.list_quick_replies(db, bundle.shop.id)[0]
    assert _post(merchant_client, url, {"body": "", "quick_reply_id": quick.id}).status_code == 303
    assert _post(merchant_client, url, {"card_kind": "product", "card_id": product.id}).status_code == 303
    messages = support.conversation_messages(db, conversation.id)
    assert [(m.sender.value, m.body, m.card_kind and m.card_kind.value) for m in messages[-2:]] == [
        ("agent", "48 小时内发货", None),
        ("agent", "", "product"),
    ]
    db.refresh(conversation)
    assert conversation.assignee_user_id == agent.id and conversation.first_human_response_at is not None

    # The shopper: a badge of two, the list says so, the chat shows the answers and clears it.
    listing = client.get("/messages").text
    assert _badge(listing) == "2" and 'aria-label="2 条未读"' in listing
    assert "[商品]" in listing  # the newest message's preview: the agent's product card
    chat_page = client.get(f"/messages/{conversation.id}").text
    assert "48 小时内发货" in chat_page and XSS not in chat_page
    assert _badge(client.get("/messages").text) == "hidden"


def test_refused_replies_keep_what_was_typed_and_empty_states_say_what_to_do(client, merchant_client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    web_login(client, buyer.email)
    web_login(merchant_client, bundle.owner.email)
    assert "/orders" in client.get("/messages").text and "chat-list" not in client.get("/messages").text
    assert "还没有快捷回复" in merchant_client.get("/merchant/inbox/quick-replies").text
    convo = chat.contact_shop(db, user_id=buyer.id, shop_id=bundle.shop.id, message="在吗")
    url = f"/merchant/inbox/{convo.id}"
    refused = _post(merchant_client, url, {"body": "x" * 2001})
    assert refused.status_code == 422 and "x" * 2001 in refused.text
    refused = _post(merchant_client, "/merchant/inbox/quick-replies", {"title": "", "body": "留着"})
    assert refused.status_code == 422 and "留着" in refused.text
    refused = _post(client, f"/messages/{convo.id}", {"body": ""})
    assert refused.status_code == 422 and 'id="f-body-error"' in refused.text
    support.close_conversation(db, convo.id, shop_id=bundle.shop.id)
    closed = _post(client, f"/messages/{convo.id}", {"body": "还在吗"}, "/messages")
    assert closed.status_code == 409 and "还在吗" in closed.text and "这个对话已结束" in closed.text


def test_contact_from_an_order_continues_the_open_conversation(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    order = make_order(db, buyer, bundle.shop)
    web_login(client, buyer.email)
    assert (
        f"/messages/new?shop={bundle.shop.id}&amp;order={order.id}" in client.get(f"/orders/{order.id}").text
    )
    convo = chat.contact_shop(db, user_id=buyer.id, shop_id=bundle.shop.id, message="在吗")
    r = client.get(f"/messages/new?shop={bundle.shop.id}&order={order.id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/messages/{convo.id}?order={order.id}#composer"
    page = client.get(f"/messages/{convo.id}?order={order.id}").text
    assert f'name="order_id" value="{order.id}"' in page
    assert (
        _post(
            client, f"/messages/{convo.id}", {"order_id": order.id, "body": "什么时候发货"}, "/messages"
        ).status_code
        == 303
    )
    cards = db.query(Message).filter_by(conversation_id=convo.id, card_kind="order").count()
    assert cards == 1
    # Someone else's order cannot ride along: the card is not offered, and a forged post is refused.
    stranger_order = make_order(db, make_user(db), bundle.shop)
    assert 'name="order_id"' not in client.get(f"/messages/{convo.id}?order={stranger_order.id}").text
    forged = _post(client, f"/messages/{convo.id}", {"order_id": stranger_order.id, "body": "x"}, "/messages")
    assert forged.status_code == 422


def test_nobody_reads_another_shops_or_shoppers_conversation(client, merchant_client, db):
    bundle = make_shop(db)
    other = make_shop(db)
    buyer, someone = make_user(db), make_user(db)
    convo = chat.contact_shop(db, user_id=buyer.id, shop_id=bundle.shop.id, message="私密")
    web_login(merchant_client, other.owner.email)
    for url in (
        f"/merchant/inbox/{convo.id}",
        f"/merchant/inbox/{convo.id}/thread",
        f"/merchant/inbox/{convo.id}/events",
    ):
        r = merchant_client.get(url)
        assert r.status_code == 404 and "私密" not in r.text, url
    web_login(client, someone.email)
    for url in (f"/messages/{convo.id}", f"/messages/{convo.id}/thread", f"/messages/{convo.id}/events"):
        r = client.get(url)
        assert r.status_code == 404 and "私密" not in r.text, url
    quick = chat.create_quick_reply(db, bundle.shop.id, title="内部", body="内部")
    assert (
        _post(
            merchant_client,
            f"/merchant/inbox/quick-replies/{quick.id}/delete",
            {},
            "/merchant/inbox/quick-replies",
        ).status_code
        == 404
    )
    assert chat.list_quick_replies(db, bundle.shop.id)


def test_the_thread_fragment_has_the_messages_after_the_last_one_shown(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    add = add_staff(db, bundle.shop, StaffRole.service_agent)
    convo = chat.contact_shop(db, user_id=buyer.id, shop_id=bundle.shop.id, message="一")
    first = support.conversation_messages(db, convo.id)[-1].id
    support.post_agent_message(db, convo.id, shop_id=bundle.shop.id, agent_user_id=add.id, body=XSS)
    web_login(client, buyer.email)
    fragment = client.get(f"/messages/{convo.id}/thread?after={first}").text
    assert fragment.count("data-message-id") == 1 and XSS not in fragment
    assert str(escape(XSS)) in fragment
    assert chat.customer_unread_total(db, buyer.id) == 0
