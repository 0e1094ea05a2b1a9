"""Paying checkouts, idempotent retries, declines, provider outages and payment timeouts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.commerce_helpers import (
    ADDRESS,
    first_sku,
    give_coupon,
    make_campaign,
    make_content,
    make_plan,
    place,
)
from tests.factories import auth, make_creator, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.campaigns.models import Campaign, UserCoupon, UserCouponStatus
from zhongcao.catalog.models import Sku
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import idempotency
from zhongcao.commerce.models import (
    Checkout,
    CheckoutStatus,
    IdempotencyRecord,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    SimulatedCharge,
)
from zhongcao.commerce.service import AttributionFrozen
from zhongcao.errors import Conflict


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def _sku_state(db, sku_id: int) -> tuple[int, int]:
    db.expire_all()
    sku = db.get(Sku, sku_id)
    return sku.stock, sku.sold_count


def _checkout_body(sku_id: int, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"items": [{"sku_id": sku_id, "quantity": quantity}], "shipping_address": ADDRESS, **extra}


def _pay(client, headers, checkout_id, key=None, method="pm_card_ok"):
    return client.post(
        f"/api/checkouts/{checkout_id}/pay",
        json={"payment_method": method},
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


def test_pay_marks_everything_paid(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop_a, shop_b = make_shop(db), make_shop(db)
    _, creator = make_creator(db)
    pa = make_product(db, shop_a.shop, price_fen=1000, stock=5)
    pb = make_product(db, shop_b.shop, price_fen=2000, stock=5)
    content = make_content(db, creator, [pa])
    make_plan(db, pa, commission_bps=1000)
    uc = give_coupon(db, buyer, discount_fen=100)
    sa, sb = first_sku(db, pa), first_sku(db, pb)
    r = client.post(
        "/api/checkout",
        json={
            "items": [
                {
                    "sku_id": sa.id,
                    "quantity": 2,
                    "attribution": {"channel": "short_video", "content_id": content.id},
                },
                {"sku_id": sb.id, "quantity": 1},
            ],
            "shipping_address": ADDRESS,
            "platform_coupon_id": uc.id,
        },
        headers={**headers, "Idempotency-Key": "ck-1"},
    )
    assert r.status_code == 201, r.text
    checkout_id = r.json()["id"]
    r = _pay(client, headers, checkout_id)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["status"] == "paid" and data["paid_at"] is not None
    assert [p["status"] for p in data["payments"]] == ["captured"]
    assert data["payments"][0]["amount_fen"] == 4000 - 100
    for order in data["orders"]:
        assert order["status"] == "paid" and order["paid_at"] is not None
        assert [e["event"] for e in order["timeline"]] == ["created", "paid"]
        for item in order["items"]:
            assert item["attribution"]["frozen_at"] is not None
    assert _sku_state(db, sa.id) == (3, 2)
    assert _sku_state(db, sb.id) == (4, 1)
    db.expire_all()
    assert db.get(UserCoupon, uc.id).status == UserCouponStatus.used
    assert db.get(UserCoupon, uc.id).used_at is not None
    assert _count(db, SimulatedCharge, SimulatedCharge.status == "captured") == 1


def test_paid_attribution_is_frozen(db):
    buyer = make_user(db)
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop))
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 1}])
    item = checkout.orders[0].items[0]
    item.channel = "live"  # still allowed before payment
    db.commit()
    checkout_service.pay_checkout(db, buyer.id, checkout.id, payment_method="pm_card_ok", client_key="k")
    db.refresh(item)
    with pytest.raises(AttributionFrozen):
        item.account_id = shop.account.id
    with pytest.raises(AttributionFrozen):
        item.channel = "search"
    db.rollback()


def test_checkout_replay_returns_the_same_answer_and_reserves_once(client, db):
    buyer = make_user(db)
    headers = {**auth(db, buyer), "Idempotency-Key": "same-key"}
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=10))
    first = client.post("/api/checkout", json=_checkout_body(sku.id, 3), headers=headers)
    again = client.post("/api/checkout", json=_checkout_body(sku.id, 3), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _count(db, Checkout) == 1
    assert _sku_state(db, sku.id) == (7, 0)
    # The same key for another body is refused and changes nothing.
    other = client.post("/api/checkout", json=_checkout_body(sku.id, 4), headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert _count(db, Checkout) == 1 and _sku_state(db, sku.id) == (7, 0)
    # Keys belong to a user: another buyer may use the same string.
    stranger = make_user(db)
    r = client.post(
        "/api/checkout",
        json=_checkout_body(sku.id, 1),
        headers={**auth(db, stranger), "Idempotency-Key": "same-key"},
    )
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]


def test_a_4xx_answer_is_replayed_too(client, db):
    buyer = make_user(db)
    headers = {**auth(db, buyer), "Idempotency-Key": "k-409"}
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=1))
    first = client.post("/api/checkout", json=_checkout_body(sku.id, 2), headers=headers)
    assert first.status_code == 409 and first.json()["error"]["code"] == "insufficient_stock"
    db.get(Sku, sku.id).stock = 5
    db.commit()
    again = client.post("/api/checkout", json=_checkout_body(sku.id, 2), headers=headers)
    assert again.status_code == 409 and again.json() == first.json()
    assert _count(db, Checkout) == 0


def test_a_key_in_flight_is_409_and_a_stale_one_is_taken_over(client, db):
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    body = _checkout_body(sku.id)
    from zhongcao.commerce.schemas import CheckoutCreate

    digest = idempotency.request_hash(CheckoutCreate.model_validate(body).model_dump(mode="json"))
    db.add(IdempotencyRecord(user_id=buyer.id, scope="checkout", key="busy", request_hash=digest))
    db.commit()
    headers = {**auth(db, buyer), "Idempotency-Key": "busy"}
    r = client.post("/api/checkout", json=body, headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_in_progress"
    assert _count(db, Checkout) == 0
    # A record left in flight past the lease (its request died) is taken over by the retry.
    with clock.travel(clock.now() + idempotency.IN_FLIGHT_LEASE + timedelta(seconds=1)):
        r = client.post("/api/checkout", json=body, headers=headers)
    assert r.status_code == 201, r.text
    replay = client.post("/api/checkout", json=body, headers=headers)
    assert replay.json() == r.json()
    assert _count(db, Checkout) == 1


def test_pay_replay_charges_once_and_a_second_key_is_refused(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=10))
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 2}])
    first = _pay(client, headers, checkout.id, key="pay-1")
    again = _pay(client, headers, checkout.id, key="pay-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = _pay(client, headers, checkout.id, key="pay-2")
    assert other.status_code == 409 and other.json()["error"]["code"] == "checkout_not_payable"
    db.expire_all()
    assert _count(db, SimulatedCharge) == 1
    assert db.scalar(select(func.sum(SimulatedCharge.captured_fen))) == 2 * 9900
    assert _count(db, Payment) == 1
    assert _sku_state(db, sku.id) == (8, 2)


def test_declined_card_then_success_with_a_new_key(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=5000, stock=3)
    sku = first_sku(db, product)
    uc = give_coupon(db, buyer, shop_id=shop.shop.id, discount_fen=500)
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 1}], shop_coupon_ids=[uc.id])
    declined = _pay(client, headers, checkout.id, key="try-1", method="pm_card_insufficient")
    assert declined.status_code == 402, declined.text
    err = declined.json()["error"]
    assert err["code"] == "payment_failed" and err["details"]["decline_code"] == "insufficient_funds"
    db.expire_all()
    payment = db.scalar(select(Payment))
    assert payment.status == PaymentStatus.failed and payment.failure_code == "insufficient_funds"
    assert db.get(Checkout, checkout.id).status == CheckoutStatus.pending_payment
    assert db.get(UserCoupon, uc.id).status == UserCouponStatus.reserved
    # The same key replays the decline without asking the provider again.
    replay = _pay(client, headers, checkout.id, key="try-1", method="pm_card_insufficient")
    assert replay.status_code == 402 and replay.json() == declined.json()
    assert _count(db, SimulatedCharge) == 1
    ok = _pay(client, headers, checkout.id, key="try-2")
    assert ok.status_code == 200, ok.text
    assert [p["status"] for p in ok.json()["payments"]] == ["failed", "captured"]
    db.expire_all()
    assert db.get(UserCoupon, uc.id).status == UserCouponStatus.used
    assert _count(db, SimulatedCharge, SimulatedCharge.status == "captured") == 1
    assert _sku_state(db, sku.id) == (2, 1)


def test_provider_unavailable_is_503_and_changes_nothing(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 1}])
    r = _pay(client, headers, checkout.id, key="retry-me", method="pm_provider_error")
    assert r.status_code == 503 and r.json()["error"]["code"] == "payment_provider_unavailable"
    assert _count(db, Payment) == 0 and _count(db, SimulatedCharge) == 0
    # A 5xx is not remembered: the key may be retried.
    assert _count(db, IdempotencyRecord, IdempotencyRecord.key == "retry-me") == 0
    db.expire_all()
    assert db.get(Checkout, checkout.id).status == CheckoutStatus.pending_payment
    r = client.post(
        f"/api/checkouts/{checkout.id}/pay",
        json={"payment_method": "pm_provider_error"},
        headers={**headers, "Idempotency-Key": "retry-me"},
    )
    assert r.status_code == 503


def test_pay_errors(client, db):
    buyer = make_user(db)
    stranger = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 1}])
    r = _pay(client, auth(db, stranger), checkout.id)
    assert r.status_code == 404 and r.json()["error"]["code"] == "checkout_not_found"
    r = _pay(client, auth(db, buyer), 987654)
    assert r.status_code == 404
    r = client.post(
        f"/api/checkouts/{checkout.id}/pay", json={"payment_method": "pm_card_ok"}, headers=auth(db, buyer)
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_required"
    r = client.post(
        f"/api/checkouts/{checkout.id}/pay", json={}, headers={**auth(db, buyer), "Idempotency-Key": "x"}
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "payment_method"
    r = client.post(
        f"/api/checkouts/{checkout.id}/pay",
        json={"payment_method": 12},
        headers={**auth(db, buyer), "Idempotency-Key": "x"},
    )
    assert r.status_code == 422
    assert _count(db, Payment) == 0 and _count(db, SimulatedCharge) == 0
    db.expire_all()
    assert db.get(Checkout, checkout.id).status == CheckoutStatus.pending_payment


def _held_checkout(db):
    """A checkout holding stock, a coupon and campaign budget."""
    buyer = make_user(db)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=3000, stock=5)
    campaign = make_campaign(db, [product], subsidy_per_item_fen=200, budget_fen=1000)
    uc = give_coupon(db, buyer, shop_id=shop.shop.id, discount_fen=300)
    sku = first_sku(db, product)
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 2}], shop_coupon_ids=[uc.id])
    db.refresh(campaign)
    assert campaign.spent_fen == 400 and _sku_state(db, sku.id) == (3, 0)
    return buyer, sku, campaign, uc, checkout


def _assert_released(db, sku, campaign, uc, checkout):
    db.expire_all()
    assert _sku_state(db, sku.id) == (5, 0)
    assert db.get(Campaign, campaign.id).spent_fen == 0
    coupon = db.get(UserCoupon, uc.id)
    assert coupon.status == UserCouponStatus.unused and coupon.checkout_id is None
    row = db.get(Checkout, checkout.id)
    assert row.status == CheckoutStatus.cancelled and row.cancelled_at is not None
    for order in db.scalars(select(Order).where(Order.checkout_id == checkout.id)):
        assert order.status == OrderStatus.cancelled and order.cancel_reason == "payment_timeout"


def test_expire_unpaid_checkouts_releases_everything(db):
    buyer, sku, campaign, uc, checkout = _held_checkout(db)
    paid = place(db, buyer, [{"sku_id": sku.id, "quantity": 1}])
    checkout_service.pay_checkout(db, buyer.id, paid.id, payment_method="pm_card_ok", client_key="k")
    assert checkout_service.expire_unpaid_checkouts(db) == 0
    later = clock.now() + timedelta(minutes=31)
    assert checkout_service.expire_unpaid_checkouts(db, now=later) == 1
    db.expire_all()
    assert db.get(Checkout, paid.id).status == CheckoutStatus.paid
    stock, sold = _sku_state(db, sku.id)
    assert (stock, sold) == (4, 1)  # the paid unit stays taken
    assert db.get(Campaign, campaign.id).spent_fen == 200
    coupon = db.get(UserCoupon, uc.id)
    assert coupon.status == UserCouponStatus.unused
    assert checkout_service.expire_unpaid_checkouts(db, now=later) == 0


def test_paying_an_expired_checkout_cancels_it(client, db):
    buyer, sku, campaign, uc, checkout = _held_checkout(db)
    with clock.travel(clock.now() + timedelta(minutes=30, seconds=1)):
        r = _pay(client, auth(db, buyer), checkout.id, key="late")
    assert r.status_code == 409 and r.json()["error"]["code"] == "checkout_expired"
    _assert_released(db, sku, campaign, uc, checkout)
    assert _count(db, SimulatedCharge) == 0
    r = _pay(client, auth(db, buyer), checkout.id)
    assert r.status_code == 409 and r.json()["error"]["code"] == "checkout_not_payable"


def test_cancelling_an_unpaid_order_cancels_the_checkout(client, db):
    buyer, sku, campaign, uc, checkout = _held_checkout(db)
    order_id = checkout.orders[0].id
    r = client.post(
        f"/api/orders/{order_id}/cancel", json={"reason": "payment_timeout"}, headers=auth(db, buyer)
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    _assert_released(db, sku, campaign, uc, checkout)


def test_free_checkout_can_be_paid(db):
    buyer = make_user(db)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=100)
    make_campaign(db, [product], subsidy_per_item_fen=100)
    checkout = place(db, buyer, [{"sku_id": first_sku(db, product).id, "quantity": 1}])
    assert checkout.total_fen == 0
    checkout_service.pay_checkout(db, buyer.id, checkout.id, payment_method="pm_card_ok", client_key="k")
    db.expire_all()
    assert db.get(Checkout, checkout.id).status == CheckoutStatus.paid
    with pytest.raises(Conflict):
        checkout_service.pay_checkout(db, buyer.id, checkout.id, payment_method="pm_card_ok", client_key="k2")
    assert (
        db.scalar(
            select(func.count()).select_from(OrderItem).where(OrderItem.attribution_frozen_at.is_(None))
        )
        == 0
    )


def test_a_key_whose_request_died_is_taken_over_at_once(client, db, database):
    """Issue #14, item 7: a request killed mid-work (kill -9) leaves its key in flight; the client's
    retry runs it at once instead of getting 409 for the lease's two minutes. Another process claims
    the key and dies inside the work: on PostgreSQL its advisory lock goes with its connection, on
    SQLite its pid is gone."""
    import subprocess
    import sys
    import time

    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    body = _checkout_body(sku.id)
    db.commit()
    from zhongcao.commerce.schemas import CheckoutCreate

    canonical = CheckoutCreate.model_validate(body).model_dump(mode="json")
    url = database.engine.url.render_as_string(hide_password=False)
    connect_args = {}
    if database.dialect == "postgresql":  # the test run's own schema
        connect_args = {"options": f"-csearch_path={db.scalar(text('SHOW search_path'))}"}
    child = f"""
import os
import zhongcao.tables  # every table registered, as in a server
from zhongcao.commerce import idempotency
from zhongcao.db import Database

database = Database({url!r}, connect_args={connect_args!r})
with database.session() as db:
    def die():
        os._exit(9)  # killed in the middle of the work, after the claim committed
    idempotency.execute(db, user_id={buyer.id}, scope="checkout", key="dies", body={canonical!r}, action=die)
"""
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    db.expire_all()
    record = db.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "dies"))
    assert record is not None and record.status_code is None and record.holder
    # On PostgreSQL the claim is trusted for CLAIM_GRACE after it was made (the claim-to-work gap).
    wait = (record.created_at + idempotency.CLAIM_GRACE - clock.now()).total_seconds()
    if database.dialect == "postgresql" and wait > 0:
        time.sleep(wait + 0.05)
    headers = {**auth(db, buyer), "Idempotency-Key": "dies"}
    retry = client.post("/api/checkout", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert _count(db, Checkout) == 1


def test_a_key_held_by_a_live_request_is_409_with_retry_after_even_past_the_lease(client, db, database):
    """A long request is not run twice: its key stays in progress while its holder lives."""
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    body = _checkout_body(sku.id)
    from zhongcao.commerce.schemas import CheckoutCreate

    digest = idempotency.request_hash(CheckoutCreate.model_validate(body).model_dump(mode="json"))
    record = IdempotencyRecord(
        user_id=buyer.id, scope="checkout", key="slow", request_hash=digest, holder=idempotency.this_holder()
    )
    db.add(record)
    db.commit()
    headers = {**auth(db, buyer), "Idempotency-Key": "slow"}
    with database.engine.connect() as holder:  # the live request's work transaction
        if database.dialect == "postgresql":
            holder.execute(idempotency.HOLD_LOCK, {"id": record.id})
        with clock.travel(clock.now() + idempotency.IN_FLIGHT_LEASE + timedelta(minutes=1)):
            r = client.post("/api/checkout", json=body, headers=headers)
        holder.rollback()
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_in_progress"
    assert r.headers["Retry-After"] == "1"
    assert _count(db, Checkout) == 0
