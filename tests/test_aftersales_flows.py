"""After-sales cases from request to refund, rejection, arbitration or withdrawal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.aftersales_helpers import buyer_headers, counts, money, open_case, owner_headers, sku_stock
from tests.api_helpers import error
from tests.commerce_helpers import completed_order, delivered_order
from tests.factories import add_staff, auth, make_shop, make_user
from zhongcao.affiliate import ledger
from zhongcao.aftersales.models import AfterSale
from zhongcao.commerce.models import Refund, SimulatedCharge
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


def _post(client, path, headers, json=None):
    return client.post(path, headers=headers, json=json)


def test_refund_only_approved_refunds_at_once(client, db):
    bundle = delivered_order(db, quantity=2, price_fen=5000)
    stock_before = sku_stock(db, bundle.sku.id)
    case = open_case(client, buyer_headers(db, bundle), bundle, quantity=1)
    assert money(db, bundle)["refunds"] == 0

    r = _post(client, f"/api/merchant/after-sales/{case['id']}/approve", owner_headers(db, bundle))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "refunded"
    assert body["decided_at"] is not None and body["refunded_at"] is not None
    assert body["returned_at"] is None and body["closed_at"] is None
    assert money(db, bundle) == {
        "order_refunded": 5000,
        "item_refunded": 5000,
        "item_refunded_quantity": 1,
        "payment_refunded": 5000,
        "refunds": 5000,
    }
    refund = db.scalar(select(Refund).where(Refund.after_sale_id == case["id"]))
    assert refund is not None and refund.amount_fen == 5000 and refund.reason == "after_sale"
    assert refund.order_item_id == bundle.item.id
    charge = db.scalar(select(SimulatedCharge))
    assert charge is not None and charge.refunded_fen == 5000
    # Nothing comes back to stock without a return.
    assert sku_stock(db, bundle.sku.id) == stock_before

    again = _post(client, f"/api/merchant/after-sales/{case['id']}/approve", owner_headers(db, bundle))
    assert again.status_code == 409 and error(again)["code"] == "illegal_transition"
    assert error(again)["details"]["from"] == "refunded"
    assert money(db, bundle)["refunds"] == 5000


def test_return_and_refund_goes_through_the_return(client, db):
    bundle = delivered_order(db, quantity=2, price_fen=5000)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    stock_before = sku_stock(db, bundle.sku.id)
    case = open_case(client, buyer, bundle, kind="return_and_refund", quantity=2)
    cid = case["id"]

    # The parcel cannot be received before it is approved and shipped.
    r = _post(client, f"/api/merchant/after-sales/{cid}/receive-return", owner)
    assert r.status_code == 409 and error(r)["details"] == {
        "from": "requested",
        "to": "refunded",
        "action": "receive_return",
    }
    r = _post(client, f"/api/after-sales/{cid}/return-shipped", buyer, {"tracking_number": "SF0001"})
    assert r.status_code == 409 and error(r)["details"]["to"] == "return_shipped"

    approved = _post(client, f"/api/merchant/after-sales/{cid}/approve", owner).json()
    assert approved["status"] == "awaiting_return" and approved["decided_at"] is not None
    assert money(db, bundle)["refunds"] == 0

    r = _post(client, f"/api/after-sales/{cid}/return-shipped", buyer, {"tracking_number": "bad number!"})
    assert r.status_code == 422 and error(r)["details"]["field"] == "tracking_number"
    shipped = _post(client, f"/api/after-sales/{cid}/return-shipped", buyer, {"tracking_number": "SF0001"})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "return_shipped"
    assert shipped.json()["return_tracking_number"] == "SF0001"
    assert shipped.json()["return_shipped_at"] is not None
    # Once shipped back the buyer can no longer withdraw.
    r = _post(client, f"/api/after-sales/{cid}/cancel", buyer)
    assert r.status_code == 409 and error(r)["details"] == {
        "from": "return_shipped",
        "to": "cancelled",
        "action": "cancel",
    }
    assert sku_stock(db, bundle.sku.id) == stock_before

    received = _post(client, f"/api/merchant/after-sales/{cid}/receive-return", owner).json()
    assert received["status"] == "refunded"
    assert received["returned_at"] is not None and received["refunded_at"] is not None
    assert sku_stock(db, bundle.sku.id) == stock_before + 2
    assert money(db, bundle) == {
        "order_refunded": 10_000,
        "item_refunded": 10_000,
        "item_refunded_quantity": 2,
        "payment_refunded": 10_000,
        "refunds": 10_000,
    }


def test_reject_needs_a_note_then_escalation_and_arbitration(client, db):
    bundle = delivered_order(db, quantity=1)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    operator = auth(db, make_user(db, Role.operator))
    cid = open_case(client, buyer, bundle)["id"]

    before = counts(db)
    for body, field in (({}, "note"), ({"note": "   "}, "note"), ({"note": "x" * 1001}, "note")):
        r = _post(client, f"/api/merchant/after-sales/{cid}/reject", owner, body)
        assert r.status_code == 422 and error(r)["details"]["field"] == field
    assert counts(db) == before
    assert client.get(f"/api/after-sales/{cid}", headers=buyer).json()["status"] == "requested"

    # Escalation is for rejected cases only.
    r = _post(client, f"/api/after-sales/{cid}/escalate", buyer)
    assert r.status_code == 409 and error(r)["details"]["to"] == "arbitrating"

    rejected = _post(client, f"/api/merchant/after-sales/{cid}/reject", owner, {"note": "人为损坏"}).json()
    assert rejected["status"] == "rejected" and rejected["merchant_note"] == "人为损坏"
    assert rejected["decided_at"] is not None
    r = _post(client, f"/api/after-sales/{cid}/cancel", buyer)
    assert r.status_code == 409

    # Arbitration only once escalated.
    r = _post(
        client, f"/api/ops/after-sales/{cid}/arbitrate", operator, {"merchant_at_fault": True, "note": "x"}
    )
    assert r.status_code == 409 and error(r)["details"]["from"] == "rejected"

    escalated = _post(client, f"/api/after-sales/{cid}/escalate", buyer).json()
    assert escalated["status"] == "arbitrating" and escalated["escalated_at"] is not None
    queue = client.get("/api/ops/after-sales", params={"status": "arbitrating"}, headers=operator).json()
    assert [c["id"] for c in queue["items"]] == [cid]

    r = _post(client, f"/api/ops/after-sales/{cid}/arbitrate", operator, {"merchant_at_fault": True})
    assert r.status_code == 422 and error(r)["details"]["field"] == "reason"
    assert error(r)["code"] == "reason_required"
    ruled = _post(
        client,
        f"/api/ops/after-sales/{cid}/arbitrate",
        operator,
        {"merchant_at_fault": True, "note": "质量问题"},
    ).json()
    assert ruled["status"] == "refunded"
    assert ruled["merchant_at_fault"] is True and ruled["arbitration_note"] == "质量问题"
    assert ruled["arbitrated_at"] is not None and ruled["refunded_at"] is not None
    assert money(db, bundle)["refunds"] == bundle.item.paid_fen
    assert client.get(f"/api/ops/after-sales/{cid}", headers=operator).json()["status"] == "refunded"


def test_arbitration_for_the_merchant_closes_without_refund(client, db):
    bundle = delivered_order(db, quantity=1)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    operator = auth(db, make_user(db, Role.operator))
    cid = open_case(client, buyer, bundle, kind="return_and_refund")["id"]
    _post(client, f"/api/merchant/after-sales/{cid}/reject", owner, {"note": "no"})
    _post(client, f"/api/after-sales/{cid}/escalate", buyer)
    ruled = _post(
        client, f"/api/ops/after-sales/{cid}/arbitrate", operator, {"merchant_at_fault": False, "note": "ok"}
    ).json()
    assert ruled["status"] == "closed" and ruled["merchant_at_fault"] is False
    assert ruled["closed_at"] is not None and ruled["refunded_at"] is None
    assert money(db, bundle)["refunds"] == 0
    # A closed case is final; the item is free for a new case.
    r = _post(
        client, f"/api/ops/after-sales/{cid}/arbitrate", operator, {"merchant_at_fault": True, "note": "x"}
    )
    assert r.status_code == 409
    assert open_case(client, buyer, bundle)["status"] == "requested"


def test_arbitration_for_the_buyer_on_a_return_waits_for_the_parcel(client, db):
    bundle = delivered_order(db, quantity=1)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    operator = auth(db, make_user(db, Role.operator))
    stock_before = sku_stock(db, bundle.sku.id)
    cid = open_case(client, buyer, bundle, kind="return_and_refund")["id"]
    _post(client, f"/api/merchant/after-sales/{cid}/reject", owner, {"note": "no"})
    _post(client, f"/api/after-sales/{cid}/escalate", buyer)
    ruled = _post(
        client, f"/api/ops/after-sales/{cid}/arbitrate", operator, {"merchant_at_fault": True, "note": "退"}
    ).json()
    assert ruled["status"] == "awaiting_return" and ruled["merchant_at_fault"] is True
    _post(client, f"/api/after-sales/{cid}/return-shipped", buyer, {"tracking_number": "YT123456"})
    done = _post(client, f"/api/merchant/after-sales/{cid}/receive-return", owner).json()
    assert done["status"] == "refunded" and done["merchant_at_fault"] is True
    assert sku_stock(db, bundle.sku.id) == stock_before + 1
    assert money(db, bundle)["item_refunded"] == bundle.item.paid_fen


def test_buyer_withdraws(client, db):
    bundle = delivered_order(db, quantity=1)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    cid = open_case(client, buyer, bundle, kind="return_and_refund")["id"]
    _post(client, f"/api/merchant/after-sales/{cid}/approve", owner)
    cancelled = _post(client, f"/api/after-sales/{cid}/cancel", buyer).json()
    assert cancelled["status"] == "cancelled" and cancelled["closed_at"] is not None
    r = _post(client, f"/api/merchant/after-sales/{cid}/approve", owner)
    assert r.status_code == 409 and error(r)["details"]["from"] == "cancelled"


@pytest.mark.parametrize("role", [StaffRole.owner, StaffRole.operator, StaffRole.service_agent])
def test_every_shop_role_reads_after_sales_and_managers_decide(client, db, role):
    """Owners and operators decide after-sales; a service agent reads the case (to answer the buyer in
    the inbox) but may not decide it (docs/security.md, "Shop roles")."""
    bundle = delivered_order(db, quantity=1)
    staff = bundle.shop.owner if role is StaffRole.owner else add_staff(db, bundle.shop.shop, role)
    headers = auth(db, staff)
    cid = open_case(client, buyer_headers(db, bundle), bundle)["id"]
    listed = client.get("/api/merchant/after-sales", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [cid]
    assert client.get(f"/api/merchant/after-sales/{cid}", headers=headers).status_code == 200
    decided = _post(client, f"/api/merchant/after-sales/{cid}/approve", headers)
    if role is StaffRole.service_agent:
        assert decided.status_code == 403 and error(decided)["code"] == "wrong_shop_role"
        assert client.get(f"/api/merchant/after-sales/{cid}", headers=headers).json()["status"] == "requested"
    else:
        assert decided.json()["status"] == "refunded"


def test_another_shop_sees_nothing(client, db):
    bundle = delivered_order(db, quantity=1)
    mine = delivered_order(db, quantity=1, buyer=bundle.buyer)
    cid = open_case(client, buyer_headers(db, bundle), bundle, kind="return_and_refund")["id"]
    own_cid = open_case(client, buyer_headers(db, mine), mine)["id"]
    other = make_shop(db)
    for role, headers in (
        (StaffRole.owner, auth(db, other.owner)),
        (StaffRole.service_agent, auth(db, add_staff(db, other.shop, StaffRole.service_agent))),
    ):
        assert client.get("/api/merchant/after-sales", headers=headers).json()["items"] == []
        for method, path, body in (
            ("get", f"/api/merchant/after-sales/{cid}", None),
            ("post", f"/api/merchant/after-sales/{cid}/approve", None),
            ("post", f"/api/merchant/after-sales/{cid}/reject", {"note": "no"}),
            ("post", f"/api/merchant/after-sales/{cid}/receive-return", None),
        ):
            r = client.request(method, path, headers=headers, json=body)
            if role is StaffRole.service_agent and method == "post":
                # A service agent may not decide any case: refused for the role before any lookup.
                assert r.status_code == 403 and error(r)["code"] == "wrong_shop_role"
            else:
                assert r.status_code == 404 and error(r)["code"] == "after_sale_not_found"
    # The case's own shop lists only its own case.
    listed = client.get("/api/merchant/after-sales", headers=owner_headers(db, mine)).json()
    assert [c["id"] for c in listed["items"]] == [own_cid]
    assert (
        client.get(f"/api/after-sales/{cid}", headers=buyer_headers(db, bundle)).json()["status"]
        == "requested"
    )


def test_roles_are_enforced(client, db):
    bundle = delivered_order(db, quantity=1)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    cid = open_case(client, buyer, bundle)["id"]
    creator = auth(db, make_user(db, Role.creator))
    for headers in (buyer, creator):
        r = client.get("/api/merchant/after-sales", headers=headers)
        assert r.status_code == 403 and error(r)["code"] == "wrong_role"
        assert _post(client, f"/api/merchant/after-sales/{cid}/approve", headers).status_code == 403
    for headers in (buyer, owner):
        assert client.get("/api/ops/after-sales", headers=headers).status_code == 403
        r = _post(
            client, f"/api/ops/after-sales/{cid}/arbitrate", headers, {"merchant_at_fault": True, "note": "x"}
        )
        assert r.status_code == 403
    # The merchant cannot act for the buyer.
    assert _post(client, f"/api/after-sales/{cid}/cancel", owner).status_code == 403
    assert client.get(f"/api/after-sales/{cid}", headers=buyer).json()["status"] == "requested"


def test_merchant_list_filters_by_status_and_rejects_bad_filters(client, db):
    bundle = delivered_order(db, quantity=1)
    second = delivered_order(db, quantity=1, shop=bundle.shop, buyer=bundle.buyer)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    a = open_case(client, buyer, bundle)["id"]
    b = open_case(client, buyer, second)["id"]
    _post(client, f"/api/merchant/after-sales/{a}/approve", owner)
    page = client.get("/api/merchant/after-sales", params={"status": "requested"}, headers=owner).json()
    assert [c["id"] for c in page["items"]] == [b]
    page = client.get("/api/merchant/after-sales", params={"status": "refunded"}, headers=owner).json()
    assert [c["id"] for c in page["items"]] == [a]
    r = client.get("/api/merchant/after-sales", params={"status": "nope"}, headers=owner)
    assert r.status_code == 422 and error(r)["details"]["field"] == "status"
    r = client.get("/api/merchant/after-sales", params={"cursor": "!!!"}, headers=owner)
    assert r.status_code == 422 and error(r)["details"]["field"] == "cursor"
    r = client.post("/api/merchant/after-sales/abc/approve", headers=owner)
    assert r.status_code == 422 and error(r)["details"]["field"] == "case_id"
    r = client.get(f"/api/merchant/after-sales/{2**63}", headers=owner)
    assert r.status_code == 422 and error(r)["details"]["field"] == "case_id"
    r = client.get(f"/api/after-sales/{2**64}", headers=buyer)
    assert r.status_code == 422 and error(r)["details"]["field"] == "case_id"
    r = client.post(
        f"/api/orders/{bundle.order.id}/after-sales",
        json={"order_item_id": 2**63, "kind": "refund_only", "reason": "quality"},
        headers=buyer,
    )
    assert r.status_code == 422 and error(r)["details"]["field"] == "order_item_id"


def test_refund_after_completion_reverses_commission(client, db):
    bundle = completed_order(db, quantity=2, price_fen=5000, creator=True, commission_bps=2000)
    item = bundle.item
    entries = ledger.entries_for_item(db, item.id)
    assert [e.amount_fen for e in entries] == [item.commission_fen]
    cid = open_case(client, buyer_headers(db, bundle), bundle, quantity=1)["id"]
    _post(client, f"/api/merchant/after-sales/{cid}/approve", owner_headers(db, bundle))
    db.expire_all()
    entries = ledger.entries_for_item(db, item.id)
    assert [e.kind.value for e in entries] == ["accrual", "reversal"]
    assert entries[1].amount_fen == -(item.commission_fen // 2)
    assert sum(e.amount_fen for e in entries) == ledger.net_commission(db.get(type(item), item.id))
    refund = db.scalar(select(Refund).where(Refund.after_sale_id == cid))
    assert refund is not None and entries[1].refund_id == refund.id


def test_case_rows_carry_every_timestamp_of_their_path(db, client):
    bundle = delivered_order(db, quantity=1)
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    cid = open_case(client, buyer, bundle, kind="return_and_refund")["id"]
    _post(client, f"/api/merchant/after-sales/{cid}/approve", owner)
    _post(client, f"/api/after-sales/{cid}/return-shipped", buyer, {"tracking_number": "SF9999"})
    _post(client, f"/api/merchant/after-sales/{cid}/receive-return", owner)
    db.expire_all()
    case = db.get(AfterSale, cid)
    assert case is not None
    assert case.requested_at <= case.decided_at <= case.return_shipped_at <= case.returned_at
    assert case.returned_at == case.refunded_at
    assert case.escalated_at is None and case.arbitrated_at is None and case.closed_at is None
