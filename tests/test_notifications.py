"""Notifications: who hears of what (the producers wired in flows), the inbox API, real-time hints."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.aftersales_helpers import buyer_headers, open_case, owner_headers
from tests.commerce_helpers import created_order, delivered_order, paid_order, pay
from tests.factories import add_staff, auth, make_category, make_product, make_shop, make_user
from tests.test_shop_applications import GOOD_CODE
from zhongcao import clock, flows, signals
from zhongcao.campaigns.models import Coupon, CouponFunder
from zhongcao.notifications import service
from zhongcao.notifications.models import Notification, NotificationKind
from zhongcao.shops import applications as shop_applications
from zhongcao.shops.models import StaffRole
from zhongcao.support import service as support
from zhongcao.users.models import Role

API = "/api/me/notifications"


def _of(db, user_id: int, *, but: NotificationKind | None = None) -> list[Notification]:
    db.expire_all()
    rows = db.scalars(select(Notification).where(Notification.user_id == user_id).order_by(Notification.id))
    return [n for n in rows if n.kind is not but]


def test_a_paid_order_notifies_every_staff_member_once_and_only_after_payment(db):
    bundle = created_order(db, price_fen=12_300, quantity=2)
    agent = add_staff(db, bundle.shop.shop, StaffRole.service_agent)
    db.commit()
    assert _of(db, bundle.shop.owner.id) == []  # placed, not paid: nothing yet
    pay(db, bundle.buyer, bundle.checkout)
    for user in (bundle.shop.owner, agent):
        (row,) = _of(db, user.id)
        assert row.kind is NotificationKind.order_paid and row.read_at is None
        assert row.params == {"order_id": bundle.order.id, "paid_fen": 24_600}
        assert row.link == f"/merchant/orders/{bundle.order.id}"
    assert _of(db, bundle.buyer.id) == []


def test_a_declined_payment_notifies_nobody(db):
    bundle = created_order(db)
    db.commit()
    try:
        pay(db, bundle.buyer, bundle.checkout, "pm_card_declined")
    except Exception:
        db.rollback()
    assert _of(db, bundle.shop.owner.id) == []


def test_after_sales_opened_and_escalated_reach_staff_and_operators(client, db):
    bundle = delivered_order(db, quantity=1)
    operator = make_user(db, Role.operator)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    case_id = open_case(client, buyer, bundle)["id"]
    (opened,) = _of(db, bundle.shop.owner.id, but=NotificationKind.order_paid)
    assert opened.kind is NotificationKind.after_sale_opened and opened.params["case_id"] == case_id
    assert opened.link == f"/merchant/after-sales/{case_id}"
    assert _of(db, operator.id) == []
    r = client.post(f"/api/merchant/after-sales/{case_id}/reject", json={"note": "人为损坏"}, headers=owner)
    assert r.status_code == 200, r.text
    assert client.post(f"/api/after-sales/{case_id}/escalate", headers=buyer).status_code == 200
    kinds = [n.kind for n in _of(db, bundle.shop.owner.id, but=NotificationKind.order_paid)]
    assert kinds == [NotificationKind.after_sale_opened, NotificationKind.after_sale_escalated]
    (escalated,) = _of(db, operator.id)
    assert escalated.kind is NotificationKind.after_sale_escalated and escalated.params["case_id"] == case_id


def test_support_messages_notify_the_other_side_and_bots_nobody(db):
    shop = make_shop(db)
    agent = add_staff(db, shop.shop, StaffRole.service_agent)
    buyer = make_user(db, name="小红")
    db.commit()
    conversation, _ = support.start_conversation(
        db, user_id=buyer.id, shop_id=shop.shop.id, message="在吗？" * 30
    )
    for user in (shop.owner, agent):
        (row,) = _of(db, user.id)
        assert row.kind is NotificationKind.chat_message and row.params["sender"] == "小红"
        assert row.params["preview"].endswith("…") and len(row.params["preview"]) == flows.PREVIEW_CHARS
        assert row.link == f"/merchant/inbox/{conversation.id}"
    support.post_bot_message(db, conversation.id, "自动回复")
    assert _of(db, buyer.id) == []
    support.post_agent_message(db, conversation.id, shop_id=shop.shop.id, agent_user_id=agent.id, body="在的")
    (row,) = _of(db, buyer.id)
    assert row.params["preview"] == "在的" and row.params["name_zh"] == shop.shop.name_zh


def test_low_stock_is_told_once_when_a_sale_crosses_the_line(db):
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=12)
    db.commit()
    created_order(db, shop=shop, product=product, quantity=2)  # 12 -> 10: not below 10 yet
    assert _of(db, shop.owner.id) == []
    created_order(db, shop=shop, product=product, quantity=1)  # 10 -> 9: crossed
    (row,) = _of(db, shop.owner.id)
    assert row.kind is NotificationKind.low_stock and row.params["stock"] == 9
    assert row.params["product_id"] == product.id and row.link == f"/merchant/products/{product.id}"
    created_order(db, shop=shop, product=product, quantity=1)  # 9 -> 8: already below, no repeat
    assert len(_of(db, shop.owner.id)) == 1


def test_shop_application_decisions_reach_the_applicant(db):
    operator = make_user(db, Role.operator)
    category = make_category(db)
    people = [make_user(db), make_user(db)]
    db.commit()
    rows = [
        shop_applications.apply(
            db,
            p.id,
            name_zh=f"小店{i}",
            name_en=f"Shop {i}",
            category_id=category.id,
            credit_code=GOOD_CODE,
            contact_name="张三",
            contact_phone="13800138000",
        )
        for i, p in enumerate(people)
    ]
    shop_applications.approve(db, rows[0].id, operator.id, reason="核验通过")
    shop_applications.reject(db, rows[1].id, operator.id, reason="执照照片看不清")
    (approved,) = _of(db, people[0].id)
    assert approved.kind is NotificationKind.application_approved and approved.link == "/merchant"
    assert approved.params["name_zh"] == "小店0"
    (rejected,) = _of(db, people[1].id)
    assert rejected.kind is NotificationKind.application_rejected and rejected.link == "/open-shop"


def test_coupon_ending_job_notifies_once_per_coupon(db):
    shop = make_shop(db)
    now = clock.now()
    soon = Coupon(
        funded_by=CouponFunder.shop,
        shop_id=shop.shop.id,
        name="满100减10",
        threshold_fen=10_000,
        discount_fen=1_000,
        starts_at=now - timedelta(days=5),
        ends_at=now + timedelta(days=2),
    )
    later = Coupon(
        funded_by=CouponFunder.shop,
        shop_id=shop.shop.id,
        name="later",
        threshold_fen=10_000,
        discount_fen=1_000,
        starts_at=now - timedelta(days=5),
        ends_at=now + timedelta(days=4),
    )
    db.add_all([soon, later])
    db.commit()
    assert flows.notify_coupons_ending(db, now) == 1
    assert flows.notify_coupons_ending(db, now + timedelta(hours=1)) == 0  # idempotent
    (row,) = _of(db, shop.owner.id)
    assert row.kind is NotificationKind.coupon_ending and row.params["coupon_id"] == soon.id
    assert flows.notify_coupons_ending(db, now + timedelta(days=1, hours=1)) == 1  # now `later` is due


def test_quiet_sessions_notify_nobody(database):
    with database.session() as db:
        signals.quiet(db)
        bundle = paid_order(db)
        assert _of(db, bundle.shop.owner.id) == []


def test_inbox_api_lists_filters_pages_and_marks_read(client, db):
    user = make_user(db)
    other = make_user(db)
    db.commit()
    for i in range(5):
        kind = NotificationKind.order_paid if i % 2 else NotificationKind.low_stock
        service.notify(db, [user.id], kind, {"i": i}, f"/x/{i}")
    service.notify(db, [other.id], NotificationKind.order_paid, {"i": 99}, "/y")
    db.commit()
    headers = auth(db, user)
    page = client.get(API, params={"limit": 2}, headers=headers).json()
    assert [n["params"]["i"] for n in page["items"]] == [4, 3] and page["next_cursor"]
    rest = client.get(API, params={"limit": 10, "cursor": page["next_cursor"]}, headers=headers).json()
    assert [n["params"]["i"] for n in rest["items"]] == [2, 1, 0] and rest["next_cursor"] is None
    only = client.get(API, params={"kind": "order_paid"}, headers=headers).json()["items"]
    assert [n["params"]["i"] for n in only] == [3, 1]
    assert client.get(API + "/unread", headers=headers).json() == {"unread": 5}

    first = only[0]["id"]
    r = client.post(f"{API}/{first}/read", headers=headers)
    assert r.status_code == 200 and r.json()["read"] is True
    assert client.post(f"{API}/{first}/read", headers=headers).status_code == 200  # again: no change
    unread = client.get(API, params={"unread": True}, headers=headers).json()["items"]
    assert first not in {n["id"] for n in unread} and len(unread) == 4
    # Someone else's notification is not found, and reading it changes nothing.
    theirs = _of(db, other.id)[0].id
    r = client.post(f"{API}/{theirs}/read", headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "notification_not_found"
    assert _of(db, other.id)[0].read_at is None
    assert client.post(API + "/read-all", headers=headers).json() == {"marked": 4}
    assert client.get(API + "/unread", headers=headers).json() == {"unread": 0}
    assert client.get(API + "/unread", headers=auth(db, other)).json() == {"unread": 1}
    assert client.get(API, params={"kind": "nonsense"}, headers=headers).status_code == 422
    assert client.get(API).status_code == 401


def test_unread_count_is_capped_for_the_badge(db):
    user = make_user(db)
    db.commit()
    service.notify(db, [user.id], NotificationKind.order_paid, {}, "/")
    db.commit()
    assert service.unread_count(db, user.id, cap=3) == 1
    for _ in range(5):
        service.notify(db, [user.id], NotificationKind.order_paid, {}, "/")
    db.commit()
    assert service.unread_count(db, user.id, cap=3) == 4  # "3+"
