"""The notification centre's pages (no browser): each role's centre, words in the reader's language,
filters, the badge, opening (marks read, follows the link), mark all read, someone else's is 404."""

from __future__ import annotations

import re

import pytest

from tests.factories import add_staff, make_shop, make_user
from tests.web_helpers import form_token, web_login
from zhongcao.notifications import service
from zhongcao.notifications.models import NotificationKind
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role

K = NotificationKind


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:2000]
    assert "Traceback" not in response.text
    return response.text


def _badge(html: str) -> str | None:
    found = re.search(r'<span class="unread-badge" data-unread-badge( hidden)?[^>]*>([^<]*)</span>', html)
    assert found, "no badge"
    return None if found.group(1) else found.group(2)


@pytest.fixture
def merchant(db):
    shop = make_shop(db)
    db.commit()
    service.notify(
        db, [shop.owner.id], K.order_paid, {"order_id": 41, "paid_fen": 12_345}, "/merchant/orders/41"
    )
    service.notify(
        db,
        [shop.owner.id],
        K.low_stock,
        {"sku_id": 1, "product_id": 7, "title_zh": "保温杯", "title_en": "Vacuum flask", "stock": 3},
        "/merchant/products/7",
    )
    db.commit()
    return shop


def test_the_merchant_centre_words_notifications_in_the_readers_language(client, db, merchant):
    web_login(client, merchant.owner.email)
    html = _html(client.get("/merchant/notifications"))
    assert "订单 #41 已付款，实付 ¥123.45，请尽快发货。" in html
    assert "「保温杯」某规格仅剩 3 件" in html
    assert _badge(html) == "2"
    assert 'aria-current="page">通知' in html  # the console nav's entry is on
    client.get("/locale?to=en")
    html = _html(client.get("/merchant/notifications"))
    assert "Order #41 is paid (¥123.45). Ship it soon." in html and "“Vacuum flask”" in html
    # Every console page carries the badge.
    assert _badge(_html(client.get("/merchant/orders"))) == "2"


def test_filters_and_the_empty_states(client, db, merchant):
    web_login(client, merchant.owner.email)
    html = _html(client.get("/merchant/notifications?kind=low_stock"))
    assert "保温杯" in html and "订单 #41" not in html
    html = _html(client.get("/merchant/notifications?kind=coupon_ending"))
    assert "还没有通知" in html and "查看全部通知" in html
    html = _html(client.get("/merchant/notifications?show=unread&kind=bogus"))  # an unknown kind: all
    assert "保温杯" in html and "订单 #41" in html
    service.mark_all_read(db, merchant.owner.id)
    html = _html(client.get("/merchant/notifications?show=unread"))
    assert "没有未读通知" in html and "保温杯" not in html and _badge(html) is None


def test_opening_marks_read_and_follows_the_link_and_read_all(client, db, merchant):
    web_login(client, merchant.owner.email)
    token = form_token(client, "/merchant/notifications")
    (first, _), _ = service.list_for_user(db, merchant.owner.id, service.PageParams(limit=2))
    db.commit()  # end the test's transaction: SQLite has one writer
    r = client.post(f"/notifications/{first.id}/open", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == first.link
    assert service.unread_count(db, merchant.owner.id) == 1
    db.commit()
    r = client.post(
        "/notifications/read-all",
        data={"csrf_token": token, "next": "/merchant/notifications?show=unread"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/merchant/notifications?show=unread"
    assert service.unread_count(db, merchant.owner.id) == 0
    db.commit()
    assert "已全部标为已读" in _html(client.get("/merchant/notifications?show=unread"))
    # Without the form token nothing changes.
    service.notify(
        db, [merchant.owner.id], K.order_paid, {"order_id": 42, "paid_fen": 1}, "/merchant/orders/42"
    )
    db.commit()
    assert client.post("/notifications/read-all", data={}, follow_redirects=False).status_code == 403
    assert service.unread_count(db, merchant.owner.id) == 1


def test_someone_elses_notification_is_not_found(client, db, merchant):
    stranger = make_user(db)
    db.commit()
    web_login(client, stranger.email)
    token = form_token(client, "/notifications")
    (first, _), _ = service.list_for_user(db, merchant.owner.id, service.PageParams(limit=2))
    db.commit()  # end the test's transaction: SQLite has one writer
    r = client.post(f"/notifications/{first.id}/open", data={"csrf_token": token})
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert service.unread_count(db, merchant.owner.id) == 2


def test_the_shopper_centre_and_every_role_lands_in_its_own(client, db):
    shopper = make_user(db, name="小红")
    shop = make_shop(db)
    agent = add_staff(db, shop.shop, StaffRole.service_agent)
    operator = make_user(db, Role.operator)
    db.commit()
    service.notify(
        db,
        [shopper.id],
        K.chat_message,
        {"conversation_id": 1, "name_zh": "花漾", "name_en": "Bloom", "preview": "<b>在的</b>"},
        f"/shops/{shop.shop.id}",
    )
    db.commit()
    web_login(client, shopper.email)
    html = _html(client.get("/notifications"))
    assert "花漾：&lt;b&gt;在的&lt;/b&gt;" in html  # user text is escaped, never markup
    assert _badge(html) == "1" and 'class="bell"' in html
    assert "kind=low_stock" not in html  # a shopper's filters are a shopper's kinds
    assert _badge(_html(client.get("/orders"))) == "1"  # the header's bell on every page
    html = _html(client.get("/notifications?kind=application_rejected"))
    assert "还没有通知" in html
    for user, centre in ((agent, "/merchant/notifications"), (operator, "/operator/notifications")):
        client.cookies.clear()
        web_login(client, user.email)
        r = client.get("/notifications", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == centre
        assert "还没有通知" in _html(client.get(centre))


def test_the_stream_needs_a_signed_in_person(client):
    assert client.get("/notifications/events").status_code == 401
    r = client.get("/notifications", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
