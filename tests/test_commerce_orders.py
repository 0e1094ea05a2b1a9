"""The order state machine: shipping, carrier events, completion, cancellation, refunds, reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.commerce_helpers import (
    completed_order,
    created_order,
    delivered_order,
    first_sku,
    give_coupon,
    make_campaign,
    paid_order,
    place,
    shipped_order,
)
from tests.factories import add_staff, auth, make_product, make_shop, make_user
from zhongcao import clock, flows
from zhongcao.affiliate import ledger
from zhongcao.affiliate.models import CommissionEntry, CommissionKind
from zhongcao.campaigns.models import Campaign, UserCoupon, UserCouponStatus
from zhongcao.catalog.models import Sku
from zhongcao.commerce import service as order_service
from zhongcao.commerce import states
from zhongcao.commerce.models import (
    Checkout,
    CheckoutStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    Shipment,
    SimulatedCharge,
    SimulatedRefund,
)
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role

SHIP = {"carrier_name": "顺丰", "tracking_number": "SF1234567890"}


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def _ops(db) -> dict[str, str]:
    return auth(db, make_user(db, Role.operator))


# --- the state machine ---------------------------------------------------------------------------

ACTIONS = ("buyer_cancel", "merchant_cancel", "ship", "picked_up", "delivered", "confirm")
ALLOWED = {
    ("created", "buyer_cancel"),
    ("paid", "buyer_cancel"),
    ("paid", "merchant_cancel"),
    ("paid", "ship"),
    ("shipped", "picked_up"),
    ("shipped", "delivered"),
    ("delivered", "confirm"),
}
BUILDERS = {
    "created": created_order,
    "paid": paid_order,
    "shipped": shipped_order,
    "delivered": delivered_order,
    "completed": completed_order,
}


def _order_in(db, state: str, **shared: Any):
    if state == "cancelled":
        bundle = paid_order(db, **shared)
        order_service.cancel_order_as_buyer(db, bundle.buyer.id, bundle.order.id)
        return bundle.refresh(db)
    return BUILDERS[state](db, **shared)


def _act(client, db, bundle, action: str, ops: dict[str, str]):
    oid = bundle.order.id
    owner = auth(db, bundle.shop.owner)
    if action == "buyer_cancel":
        return client.post(f"/api/orders/{oid}/cancel", headers=auth(db, bundle.buyer))
    if action == "merchant_cancel":
        return client.post(
            f"/api/merchant/orders/{oid}/cancel", json={"reason": "out_of_stock"}, headers=owner
        )
    if action == "ship":
        return client.post(f"/api/merchant/orders/{oid}/ship", json=SHIP, headers=owner)
    if action == "picked_up":
        return client.post(f"/api/ops/shipments/{oid}/picked-up", headers=ops)
    if action == "delivered":
        return client.post(f"/api/ops/shipments/{oid}/delivered", headers=ops)
    return client.post(f"/api/orders/{oid}/confirm-receipt", headers=auth(db, bundle.buyer))


@pytest.mark.parametrize("state", ["created", "paid", "shipped", "delivered", "completed", "cancelled"])
def test_every_action_in_every_state(client, db, state):
    shop = make_shop(db)
    shared = {"buyer": make_user(db), "shop": shop, "product": make_product(db, shop.shop, stock=1000)}
    ops = _ops(db)
    for action in ACTIONS:
        bundle = _order_in(db, state, **shared)
        r = _act(client, db, bundle, action, ops)
        if (state, action) in ALLOWED:
            assert r.status_code == 200, (state, action, r.text)
            continue
        assert r.status_code == 409, (state, action, r.text)
        err = r.json()["error"]
        assert err["code"] == "illegal_transition", (state, action)
        assert err["details"]["from"] == state
        db.expire_all()
        assert db.get(Order, bundle.order.id).status.value == state


def test_the_transition_table_is_the_single_source():
    assert states.TRANSITIONS[OrderStatus.created] == {OrderStatus.paid, OrderStatus.cancelled}
    assert states.TRANSITIONS[OrderStatus.completed] == frozenset()
    assert all(target in states.STAMPS for targets in states.TRANSITIONS.values() for target in targets)


# --- shipping and delivery -----------------------------------------------------------------------


def test_ship_deliver_confirm_with_timeline(client, db):
    bundle = paid_order(db, creator=True, commission_bps=1000)
    owner = auth(db, bundle.shop.owner)
    oid = bundle.order.id
    # Only the platform warehouse's own hand-over ships as the platform warehouse (docs/warehouse.md).
    r = client.post(
        f"/api/merchant/orders/{oid}/ship", json={**SHIP, "platform_warehouse": True}, headers=owner
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "platform_warehouse_not_yours"
    r = client.post(f"/api/merchant/orders/{oid}/ship", json=SHIP, headers=owner)
    assert r.status_code == 200, r.text
    shipment = r.json()["shipment"]
    # The carrier as typed (顺丰) is stored as its code.
    assert shipment["carrier_name"] == "sf" and shipment["platform_warehouse"] is False
    assert r.json()["status"] == "shipped"
    ops = _ops(db)
    assert client.post(f"/api/ops/shipments/{oid}/picked-up", headers=ops).status_code == 200
    r = client.post(f"/api/ops/shipments/{oid}/picked-up", headers=ops)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_picked_up"
    r = client.post(f"/api/ops/shipments/{oid}/delivered", headers=ops)
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    # Nothing accrues before completion.
    assert _count(db, CommissionEntry) == 0
    r = client.post(f"/api/orders/{oid}/confirm-receipt", headers=auth(db, bundle.buyer))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed"
    assert [e["event"] for e in body["timeline"]] == [
        "created",
        "paid",
        "shipped",
        "picked_up",
        "delivered",
        "completed",
    ]
    entries = ledger.entries_for_item(db, bundle.item.id)
    assert [(e.kind, e.amount_fen, e.account_id) for e in entries] == [
        (CommissionKind.accrual, 990, bundle.creator.id)
    ]


def test_carrier_event_times(client, db):
    bundle = shipped_order(db)
    oid = bundle.order.id
    ops = _ops(db)
    shipped_at = bundle.order.shipped_at
    future = (clock.now() + timedelta(hours=1)).isoformat()
    r = client.post(f"/api/ops/shipments/{oid}/picked-up", json={"at": future}, headers=ops)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_event_time"
    before = (shipped_at - timedelta(minutes=1)).isoformat()
    r = client.post(f"/api/ops/shipments/{oid}/picked-up", json={"at": before}, headers=ops)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "at"
    r = client.post(f"/api/ops/shipments/{oid}/picked-up", json={"at": "2024-01-01T00:00:00"}, headers=ops)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"  # naive time
    assert db.get(Shipment, db.scalar(select(Shipment.id))).picked_up_at is None
    with clock.travel(shipped_at + timedelta(hours=5)):
        pickup = shipped_at + timedelta(hours=2)
        r = client.post(f"/api/ops/shipments/{oid}/picked-up", json={"at": pickup.isoformat()}, headers=ops)
        assert r.status_code == 200
        early = (pickup - timedelta(minutes=1)).isoformat()
        r = client.post(f"/api/ops/shipments/{oid}/delivered", json={"at": early}, headers=ops)
        assert r.status_code == 422
        delivered = shipped_at + timedelta(hours=4)
        r = client.post(
            f"/api/ops/shipments/{oid}/delivered", json={"at": delivered.isoformat()}, headers=ops
        )
        assert r.status_code == 200, r.text
    db.expire_all()
    order = db.get(Order, oid)
    assert order.delivered_at == delivered
    assert db.scalar(select(Shipment).where(Shipment.order_id == oid)).delivered_at == delivered


def test_roles_for_fulfilment(client, db):
    bundle = paid_order(db)
    oid = bundle.order.id
    agent = add_staff(db, bundle.shop.shop, StaffRole.service_agent)
    r = client.post(f"/api/merchant/orders/{oid}/ship", json=SHIP, headers=auth(db, agent))
    assert r.status_code == 403
    r = client.post(f"/api/merchant/orders/{oid}/cancel", json={"reason": "x"}, headers=auth(db, agent))
    assert r.status_code == 403
    # A service agent may read the shop's orders.
    assert client.get(f"/api/merchant/orders/{oid}", headers=auth(db, agent)).status_code == 200
    operator_staff = add_staff(db, bundle.shop.shop, StaffRole.operator)
    other_shop = make_shop(db)
    r = client.post(f"/api/merchant/orders/{oid}/ship", json=SHIP, headers=auth(db, other_shop.owner))
    assert r.status_code == 404 and r.json()["error"]["code"] == "order_not_found"
    r = client.post(f"/api/ops/shipments/{oid}/delivered", headers=auth(db, bundle.shop.owner))
    assert r.status_code == 403
    r = client.post(
        f"/api/merchant/orders/{oid}/ship", json={"carrier_name": "顺丰"}, headers=auth(db, operator_staff)
    )
    assert r.status_code == 422
    assert _count(db, Shipment) == 0
    r = client.post(f"/api/merchant/orders/{oid}/ship", json=SHIP, headers=auth(db, operator_staff))
    assert r.status_code == 200


def test_buyer_endpoints_scope_to_the_buyer(client, db):
    bundle = delivered_order(db)
    stranger = auth(db, make_user(db))
    oid = bundle.order.id
    for method, path in [
        ("get", f"/api/orders/{oid}"),
        ("post", f"/api/orders/{oid}/cancel"),
        ("post", f"/api/orders/{oid}/confirm-receipt"),
    ]:
        r = client.request(method, path, headers=stranger)
        assert r.status_code == 404 and r.json()["error"]["code"] == "order_not_found", path
    db.expire_all()
    assert db.get(Order, oid).status == OrderStatus.delivered
    assert client.get("/api/orders/abc", headers=stranger).status_code == 422
    assert client.get("/api/orders/99999999", headers=stranger).status_code == 404


def test_complete_due_orders(db):
    due = delivered_order(db, creator=True)
    fresh = delivered_order(db)
    # Pretend the first was delivered 8 days ago.
    order = db.get(Order, due.order.id)
    order.delivered_at = clock.now() - timedelta(days=8)
    db.commit()
    assert flows.complete_due_orders(db) == 1
    db.expire_all()
    assert db.get(Order, due.order.id).status == OrderStatus.completed
    assert db.get(Order, fresh.order.id).status == OrderStatus.delivered
    assert _count(db, CommissionEntry, CommissionEntry.order_id == due.order.id) == 1
    assert flows.complete_due_orders(db, now=clock.now() + timedelta(days=7, seconds=1)) == 1
    assert flows.complete_due_orders(db, now=clock.now() + timedelta(days=30)) == 0


# --- cancellation of paid orders -----------------------------------------------------------------


def test_buyer_cancels_a_paid_order_and_is_refunded(client, db):
    buyer = make_user(db)
    shop_a, shop_b = make_shop(db, shipping_fee_fen=500), make_shop(db)
    pa = make_product(db, shop_a.shop, price_fen=3000, stock=5)
    pb = make_product(db, shop_b.shop, price_fen=1000, stock=5)
    campaign = make_campaign(db, [pa], subsidy_per_item_fen=100, budget_fen=1000)
    uc = give_coupon(db, buyer, shop_id=shop_a.shop.id, discount_fen=200)
    sa, sb = first_sku(db, pa), first_sku(db, pb)
    checkout = place(
        db,
        buyer,
        [{"sku_id": sa.id, "quantity": 2}, {"sku_id": sb.id, "quantity": 1}],
        shop_coupon_ids=[uc.id],
    )
    from tests.commerce_helpers import pay

    pay(db, buyer, checkout)
    oa = next(o for o in checkout.orders if o.shop_id == shop_a.shop.id)
    assert oa.paid_fen == 6000 - 200 - 200 + 500
    r = client.post(f"/api/orders/{oa.id}/cancel", json={"reason": "changed_mind"}, headers=auth(db, buyer))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["refunded_fen"] == oa.paid_fen
    assert r.json()["cancel_reason"] == "changed_mind"
    db.expire_all()
    refund = db.scalar(select(Refund))
    assert (refund.order_id, refund.amount_fen, refund.reason, refund.order_item_id) == (
        oa.id,
        6100,
        "cancel",
        None,
    )
    payment = db.scalar(select(Payment))
    assert payment.refunded_fen == 6100 and payment.status == PaymentStatus.partially_refunded
    assert db.scalar(select(SimulatedCharge)).refunded_fen == 6100
    sku = db.get(Sku, sa.id)
    assert (sku.stock, sku.sold_count) == (5, 0)
    assert db.get(Sku, sb.id).sold_count == 1
    assert db.get(Campaign, campaign.id).spent_fen == 0
    # Coupons are spent once paid: not returned by a cancellation.
    assert db.get(UserCoupon, uc.id).status == UserCouponStatus.used
    assert db.get(Checkout, checkout.id).status == CheckoutStatus.paid
    for item in db.scalars(select(OrderItem).where(OrderItem.order_id == oa.id)):
        assert item.refunded_fen == item.paid_fen and item.refunded_quantity == item.quantity
    # The other order is untouched; cancelling it refunds the rest of the payment.
    ob = next(o for o in checkout.orders if o.shop_id == shop_b.shop.id)
    r = client.post(f"/api/orders/{ob.id}/cancel", headers=auth(db, buyer))
    assert r.status_code == 200 and r.json()["cancel_reason"] == "buyer_cancelled"
    db.expire_all()
    assert db.scalar(select(Payment)).status == PaymentStatus.refunded
    assert _count(db, SimulatedRefund) == 2


def test_merchant_cancels_a_paid_order(client, db):
    bundle = paid_order(db, quantity=2, stock=2)
    r = client.post(
        f"/api/merchant/orders/{bundle.order.id}/cancel",
        json={"reason": "out_of_stock"},
        headers=auth(db, bundle.shop.owner),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["cancel_reason"] == "out_of_stock"
    db.expire_all()
    assert db.get(Sku, bundle.sku.id).stock == 2
    assert db.scalar(select(Payment)).status == PaymentStatus.refunded
    r = client.post(
        f"/api/merchant/orders/{bundle.order.id}/cancel", json={}, headers=auth(db, bundle.shop.owner)
    )
    assert r.status_code == 422
    unpaid = created_order(db, shop=bundle.shop)
    with pytest.raises(Conflict) as exc:
        order_service.cancel_order_as_merchant(db, bundle.shop.shop.id, unpaid.order.id, reason="x")
    assert exc.value.details == {"from": "created", "to": "cancelled"}
    with pytest.raises(NotFound):
        order_service.cancel_order_as_merchant(db, make_shop(db).shop.id, bundle.order.id, reason="x")


# --- refunds -------------------------------------------------------------------------------------


def test_refund_order_item_before_and_after_completion(db):
    bundle = delivered_order(db, quantity=2, price_fen=5000, creator=True, commission_bps=1000)
    item = order_service.get_order_item(db, bundle.order.id, bundle.item.id)
    assert item.paid_fen == 10_000 and item.commission_fen == 1000
    refund = order_service.refund_order_item(db, item, amount_fen=5000, quantity=1, reason="after_sale")
    db.commit()
    assert refund.amount_fen == 5000 and refund.order_item_id == item.id
    db.expire_all()
    item = db.get(OrderItem, item.id)
    assert (item.refunded_fen, item.refunded_quantity) == (5000, 1)
    assert db.get(Order, bundle.order.id).refunded_fen == 5000
    assert db.scalar(select(Payment)).status == PaymentStatus.partially_refunded
    # Completion accrues the net commission only.
    order_service.confirm_receipt(db, bundle.buyer.id, bundle.order.id)
    assert [e.amount_fen for e in ledger.entries_for_item(db, item.id)] == [500]
    # A refund after completion reverses its share.
    order_service.refund_order_item(db, item, amount_fen=2500)
    db.commit()
    assert [e.amount_fen for e in ledger.entries_for_item(db, item.id)] == [500, -250]
    with pytest.raises(Conflict) as exc:
        order_service.refund_order_item(db, item, amount_fen=2501)
    assert exc.value.code == "refund_exceeds_paid"
    db.rollback()
    with pytest.raises(Conflict) as exc:
        order_service.refund_order_item(db, item, amount_fen=1, quantity=2)
    assert exc.value.code == "refund_exceeds_quantity"
    db.rollback()
    with pytest.raises(InvalidInput):
        order_service.refund_order_item(db, item, amount_fen=0)
    order_service.refund_order_item(db, item, amount_fen=2500, quantity=1)
    db.commit()
    db.expire_all()
    assert db.scalar(select(Payment)).status == PaymentStatus.refunded
    assert ledger.balance_for_account(db, bundle.creator.id) == 0
    assert db.scalar(select(func.sum(SimulatedRefund.amount_fen))) == 10_000


def test_refund_of_an_unpaid_order_is_refused(db):
    bundle = created_order(db)
    with pytest.raises(Conflict) as exc:
        order_service.refund_order_item(db, bundle.item, amount_fen=1)
    assert exc.value.code == "order_not_refundable"


def test_order_lookups(db):
    bundle = paid_order(db)
    assert order_service.get_order_for_buyer(db, bundle.buyer.id, bundle.order.id).id == bundle.order.id
    assert order_service.get_order_for_shop(db, bundle.shop.shop.id, bundle.order.id).id == bundle.order.id
    with pytest.raises(NotFound):
        order_service.get_order_for_buyer(db, bundle.buyer.id + 1000, bundle.order.id)
    with pytest.raises(NotFound):
        order_service.get_order_for_shop(db, bundle.shop.shop.id + 1000, bundle.order.id)
    with pytest.raises(NotFound) as exc:
        order_service.get_order_item(db, bundle.order.id + 1000, bundle.item.id)
    assert exc.value.code == "order_item_not_found"


# --- lists ---------------------------------------------------------------------------------------


def _ids(page: dict[str, Any]) -> list[int]:
    return [o["id"] for o in page["items"]]


def test_order_lists_page_and_filter(client, db):
    buyer = make_user(db)
    shop = make_shop(db)
    product = make_product(db, shop.shop)
    bundles = [created_order(db, buyer=buyer, shop=shop, product=product) for _ in range(3)]
    paid = paid_order(db, buyer=buyer, shop=shop, product=product)
    other = paid_order(db)  # another buyer, another shop
    headers = auth(db, buyer)
    page = client.get("/api/orders", params={"limit": 2}, headers=headers).json()
    assert _ids(page) == [paid.order.id, bundles[2].order.id]
    rest = client.get(
        "/api/orders", params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers
    ).json()
    assert _ids(rest) == [bundles[1].order.id, bundles[0].order.id] and rest["next_cursor"] is None
    page = client.get("/api/orders", params={"status": "paid"}, headers=headers).json()
    assert _ids(page) == [paid.order.id]
    assert "platform_fee_fen" not in page["items"][0]
    assert client.get("/api/orders", params={"status": "lost"}, headers=headers).status_code == 422
    assert client.get("/api/orders", params={"cursor": "%%%"}, headers=headers).status_code == 422

    owner = auth(db, shop.owner)
    page = client.get("/api/merchant/orders", headers=owner).json()
    assert other.order.id not in _ids(page) and len(page["items"]) == 4
    page = client.get("/api/merchant/orders", params={"status": "paid"}, headers=owner).json()
    assert _ids(page) == [paid.order.id]
    detail = page["items"][0]
    assert detail["user_id"] == buyer.id and "shop_settlement_fen" in detail
    assert "commission_bps" in detail["items"][0]
    r = client.get(f"/api/merchant/orders/{other.order.id}", headers=owner)
    assert r.status_code == 404
    assert client.get("/api/merchant/orders", headers=headers).status_code == 403
