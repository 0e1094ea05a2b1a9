"""Opening an after-sales case: who may, when, for how many units and how much."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.aftersales_helpers import buyer_headers, counts, open_case
from tests.api_helpers import error
from tests.commerce_helpers import completed_order, delivered_order, paid_order, shipped_order
from tests.factories import auth, make_user
from zhongcao import clock
from zhongcao.aftersales import service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.commerce import service as order_service
from zhongcao.errors import Conflict
from zhongcao.money import proportional
from zhongcao.users.models import Role


def test_open_defaults_to_the_value_of_the_units(client, db):
    bundle = delivered_order(db, quantity=3, price_fen=3333)
    headers = buyer_headers(db, bundle)
    case = open_case(client, headers, bundle, kind="return_and_refund", quantity=2, description=" 破了 ")
    assert case["status"] == "requested"
    assert case["quantity"] == 2
    assert case["amount_fen"] == proportional(bundle.item.paid_fen, 2, 3)
    assert case["description"] == "破了"
    assert case["user_id"] == bundle.buyer.id and case["shop_id"] == bundle.shop.shop.id
    assert case["requested_at"] is not None
    for stamp in ("decided_at", "return_shipped_at", "returned_at", "escalated_at", "refunded_at"):
        assert case[stamp] is None
    assert case["merchant_at_fault"] is None

    mine = client.get("/api/after-sales", headers=headers).json()
    assert [c["id"] for c in mine["items"]] == [case["id"]]
    assert client.get(f"/api/after-sales/{case['id']}", headers=headers).json()["id"] == case["id"]


def test_units_add_up_to_what_the_line_paid(db):
    bundle = delivered_order(db, quantity=3, price_fen=3333)
    item = bundle.item
    values = [service.units_value_fen(item, i, 1) for i in range(3)]
    assert sum(values) == item.paid_fen
    assert service.units_value_fen(item, 0, 3) == item.paid_fen


def test_an_explicit_amount_within_the_refundable_is_kept(client, db):
    bundle = delivered_order(db, quantity=2, price_fen=5000)
    case = open_case(client, buyer_headers(db, bundle), bundle, quantity=1, amount_fen=9000)
    assert case["amount_fen"] == 9000


@pytest.mark.parametrize("make", [paid_order, shipped_order])
def test_only_delivered_or_completed_orders(client, db, make):
    bundle = make(db)
    before = counts(db)
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"},
        headers=buyer_headers(db, bundle),
    )
    assert r.status_code == 409
    assert error(r)["code"] == "illegal_transition"
    assert error(r)["details"]["from"] == bundle.order.status.value
    assert error(r)["details"]["to"] == "requested"
    assert counts(db) == before


def test_completed_orders_accept_cases(client, db):
    bundle = completed_order(db)
    assert open_case(client, buyer_headers(db, bundle), bundle)["status"] == "requested"


def test_changed_mind_only_within_seven_days_of_delivery(client, db):
    bundle = delivered_order(db, quantity=2)
    headers = buyer_headers(db, bundle)
    delivered_at = bundle.order.delivered_at
    assert delivered_at is not None
    body = {"order_item_id": bundle.item.id, "kind": "return_and_refund", "reason": "changed_mind"}
    with clock.travel(delivered_at + timedelta(days=7, seconds=1)):
        late = client.post(f"/api/orders/{bundle.order.id}/after-sales", json=body, headers=headers)
        assert late.status_code == 409 and error(late)["code"] == "window_closed"
        assert error(late)["details"]["window_days"] == 7
        # Other reasons are not bound to the 7-day window.
        quality = client.post(
            f"/api/orders/{bundle.order.id}/after-sales", json={**body, "reason": "quality"}, headers=headers
        )
        assert quality.status_code == 201, quality.text
        client.post(f"/api/after-sales/{quality.json()['id']}/cancel", headers=headers)
    with clock.travel(delivered_at + timedelta(days=7)):
        ok = client.post(f"/api/orders/{bundle.order.id}/after-sales", json=body, headers=headers)
        assert ok.status_code == 201, ok.text


def test_one_open_case_per_item(client, db):
    bundle = delivered_order(db, quantity=2)
    headers = buyer_headers(db, bundle)
    first = open_case(client, headers, bundle, quantity=1)
    before = counts(db)
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "logistics", "quantity": 1},
        headers=headers,
    )
    assert r.status_code == 409 and error(r)["code"] == "case_already_open"
    assert error(r)["details"]["after_sale_id"] == first["id"]
    assert counts(db) == before
    # A withdrawn case no longer blocks a new one.
    assert client.post(f"/api/after-sales/{first['id']}/cancel", headers=headers).status_code == 200
    assert open_case(client, headers, bundle, quantity=1)["status"] == "requested"


def test_quantity_and_amount_are_bounded_by_what_is_left(client, db):
    bundle = delivered_order(db, quantity=2, price_fen=5000)
    headers = buyer_headers(db, bundle)
    url = f"/api/orders/{bundle.order.id}/after-sales"
    base = {"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"}
    before = counts(db)

    r = client.post(url, json={**base, "quantity": 3}, headers=headers)
    assert r.status_code == 422 and error(r)["code"] == "quantity_exceeds_refundable"
    assert error(r)["details"] == {"field": "quantity", "max_quantity": 2}

    r = client.post(url, json={**base, "quantity": 1, "amount_fen": 10_001}, headers=headers)
    assert r.status_code == 422 and error(r)["code"] == "amount_exceeds_refundable"
    assert error(r)["details"]["field"] == "amount_fen"
    assert error(r)["details"]["refundable_fen"] == 10_000
    assert counts(db) == before

    # Refund one unit; then only one unit and what is left of the money remain.
    case = open_case(client, headers, bundle, quantity=1)
    owner = auth(db, bundle.shop.owner)
    assert client.post(f"/api/merchant/after-sales/{case['id']}/approve", headers=owner).status_code == 200
    r = client.post(url, json={**base, "quantity": 2}, headers=headers)
    assert r.status_code == 422 and error(r)["details"]["max_quantity"] == 1
    r = client.post(url, json={**base, "amount_fen": 5001}, headers=headers)
    assert r.status_code == 422 and error(r)["details"]["refundable_fen"] == 5000
    last = open_case(client, headers, bundle, quantity=1)
    assert last["amount_fen"] == 5000


def test_a_fully_refunded_line_has_nothing_left(client, db):
    bundle = delivered_order(db, quantity=1)
    headers = buyer_headers(db, bundle)
    case = open_case(client, headers, bundle)
    client.post(f"/api/merchant/after-sales/{case['id']}/approve", headers=auth(db, bundle.shop.owner))
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"},
        headers=headers,
    )
    assert r.status_code == 422 and error(r)["code"] == "quantity_exceeds_refundable"


def test_someone_elses_order_or_item_is_not_found(client, db):
    bundle = delivered_order(db)
    other = delivered_order(db)
    stranger = auth(db, make_user(db))
    body = {"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"}
    r = client.post(f"/api/orders/{bundle.order.id}/after-sales", json=body, headers=stranger)
    assert r.status_code == 404 and error(r)["code"] == "order_not_found"
    # The buyer's own order, but a line of another order.
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={**body, "order_item_id": other.item.id},
        headers=buyer_headers(db, bundle),
    )
    assert r.status_code == 404 and error(r)["code"] == "order_item_not_found"
    case = open_case(client, buyer_headers(db, bundle), bundle)
    r = client.get(f"/api/after-sales/{case['id']}", headers=stranger)
    assert r.status_code == 404 and error(r)["code"] == "after_sale_not_found"
    assert client.get("/api/after-sales", headers=stranger).json()["items"] == []
    r = client.post(f"/api/after-sales/{case['id']}/cancel", headers=stranger)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"kind": "exchange"}, "kind"),
        ({"reason": "bored"}, "reason"),
        ({"quantity": 0}, "quantity"),
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": "lots"}, "amount_fen"),
        ({"description": "长" * 1001}, "description"),
        ({"order_item_id": None}, "order_item_id"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_input_is_a_clean_422_and_writes_nothing(client, db, patch, field):
    bundle = delivered_order(db)
    before = counts(db)
    body = {"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality", **patch}
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales", json=body, headers=buyer_headers(db, bundle)
    )
    assert r.status_code == 422
    assert error(r)["code"] == "validation_error"
    assert error(r)["details"]["field"] == field
    assert counts(db) == before


def test_only_shoppers_open_cases(client, db):
    bundle = delivered_order(db)
    body = {"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"}
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales", json=body, headers=auth(db, bundle.shop.owner)
    )
    assert r.status_code == 403 and error(r)["code"] == "wrong_role"
    r = client.post(f"/api/orders/{bundle.order.id}/after-sales", json=body)
    assert r.status_code == 401
    operator = make_user(db, Role.operator)
    assert client.get("/api/after-sales", headers=auth(db, operator)).status_code == 403


def test_service_takes_its_own_now(db):
    bundle = delivered_order(db)
    delivered_at = bundle.order.delivered_at
    assert delivered_at is not None

    def open_at(at):
        return service.open_case(
            db,
            bundle.buyer.id,
            bundle.order.id,
            order_item_id=bundle.item.id,
            kind=AfterSaleKind.return_and_refund,
            reason=AfterSaleReason.changed_mind,
            now=at,
        )

    # The window is judged at the given time, not at the wall clock's.
    assert clock.now() < delivered_at + timedelta(days=7)
    with pytest.raises(Conflict) as refused:
        open_at(delivered_at + timedelta(days=8))
    assert refused.value.code == "window_closed"
    db.rollback()
    at = delivered_at + timedelta(days=6)
    assert open_at(at).requested_at == at


def test_buyer_list_filters_by_status(client, db):
    bundle = delivered_order(db, quantity=1)
    other = delivered_order(db, buyer=bundle.buyer)
    headers = buyer_headers(db, bundle)
    a = open_case(client, headers, bundle)
    b = open_case(client, headers, other)
    client.post(f"/api/after-sales/{a['id']}/cancel", headers=headers)
    page = client.get("/api/after-sales", params={"status": "requested"}, headers=headers).json()
    assert [c["id"] for c in page["items"]] == [b["id"]]
    first = client.get("/api/after-sales", params={"limit": 1}, headers=headers).json()
    assert [c["id"] for c in first["items"]] == [b["id"]] and first["next_cursor"]
    second = client.get(
        "/api/after-sales", params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [c["id"] for c in second["items"]] == [a["id"]] and second["next_cursor"] is None
    r = client.get("/api/after-sales", params={"status": "lost"}, headers=headers)
    assert r.status_code == 422 and error(r)["details"]["field"] == "status"


def test_cancelled_order_cannot_open_a_case(client, db):
    bundle = paid_order(db)
    order_service.cancel_order_as_buyer(db, bundle.buyer.id, bundle.order.id)
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"},
        headers=buyer_headers(db, bundle),
    )
    assert r.status_code == 409 and error(r)["details"]["from"] == "cancelled"


def test_nothing_left_to_refund_on_remaining_units(client, db):
    bundle = delivered_order(db, quantity=2, price_fen=5000)
    headers = buyer_headers(db, bundle)
    # One unit, but the whole line's money (e.g. the pair is useless without both).
    case = open_case(client, headers, bundle, quantity=1, amount_fen=10_000)
    client.post(f"/api/merchant/after-sales/{case['id']}/approve", headers=auth(db, bundle.shop.owner))
    before = counts(db)
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality"},
        headers=headers,
    )
    assert r.status_code == 409 and error(r)["code"] == "nothing_to_refund"
    assert counts(db) == before
