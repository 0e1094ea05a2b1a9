"""Complaints: shoppers file them, shops read theirs, operators decide them once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api_helpers import assert_error, count, snapshot, walk
from tests.factories import add_staff, auth, make_shop, make_user
from tests.support_helpers import make_order
from zhongcao.errors import DomainError
from zhongcao.shops.models import StaffRole
from zhongcao.support import service as support
from zhongcao.users.models import Role

TABLES = ("complaints",)


def _file(client, headers, shop_id: int, **extra) -> dict:
    body = {"shop_id": shop_id, "reason": "misleading_content", "text": "直播说是真丝，收到是涤纶", **extra}
    r = client.post("/api/complaints", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_complaint_lifecycle(client, db):
    bundle = make_shop(db)
    rival = make_shop(db)
    buyer = make_user(db)
    order = make_order(db, buyer, bundle.shop)
    shopper = auth(db, buyer)
    ops = auth(db, make_user(db, Role.operator))

    filed = _file(client, shopper, bundle.shop.id, order_id=order.id)
    assert filed["status"] == "open" and filed["order_id"] == order.id
    assert filed["resolved_at"] is None and filed["resolution_note"] is None
    second = _file(client, shopper, bundle.shop.id, reason="logistics", text="")
    assert [c["id"] for c in client.get("/api/complaints", headers=shopper).json()["items"]] == [
        second["id"],
        filed["id"],
    ]

    # The shop reads its complaints (any staff role); another shop sees nothing of them.
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    assert walk(client, "/api/merchant/complaints", headers=agent, limit=1) == [second["id"], filed["id"]]
    assert (
        client.get(f"/api/merchant/complaints/{filed['id']}", headers=agent).json()["text"] == filed["text"]
    )
    rival_owner = auth(db, rival.owner)
    assert client.get("/api/merchant/complaints", headers=rival_owner).json()["items"] == []
    assert_error(
        client.get(f"/api/merchant/complaints/{filed['id']}", headers=rival_owner), 404, "complaint_not_found"
    )

    assert walk(client, "/api/ops/complaints", headers=ops, status="open") == [second["id"], filed["id"]]
    upheld = client.post(
        f"/api/ops/complaints/{filed['id']}/resolve",
        json={"upheld": True, "note": "描述不符，判商家责任"},
        headers=ops,
    )
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld" and upheld.json()["resolved_at"] is not None
    assert upheld.json()["resolution_note"] == "描述不符，判商家责任"
    dismissed = client.post(
        f"/api/ops/complaints/{second['id']}/resolve", json={"upheld": False, "note": "物流正常"}, headers=ops
    )
    assert dismissed.json()["status"] == "dismissed"

    before = snapshot(db, TABLES)
    error = assert_error(
        client.post(
            f"/api/ops/complaints/{filed['id']}/resolve", json={"upheld": False, "note": "改判"}, headers=ops
        ),
        409,
        "illegal_transition",
    )
    assert error["details"]["status"] == "upheld"
    assert snapshot(db, TABLES) == before
    assert walk(client, "/api/ops/complaints", headers=ops, status="upheld") == [filed["id"]]
    assert walk(client, "/api/ops/complaints", headers=ops, status="open") == []
    assert walk(client, "/api/merchant/complaints", headers=agent, status="dismissed") == [second["id"]]
    assert walk(client, "/api/ops/complaints", headers=ops, shop_id=rival.shop.id) == []
    assert_error(
        client.post("/api/ops/complaints/999999/resolve", json={"upheld": True, "note": "x"}, headers=ops),
        404,
        "complaint_not_found",
    )


def test_complaint_input_rules(client, db):
    bundle = make_shop(db)
    other = make_shop(db)
    buyer = make_user(db)
    shopper = auth(db, buyer)
    their_order = make_order(db, make_user(db), bundle.shop)
    my_other_order = make_order(db, buyer, other.shop)
    ops = auth(db, make_user(db, Role.operator))
    before = snapshot(db, TABLES)

    def post(**body):
        return client.post(
            "/api/complaints", json={"shop_id": bundle.shop.id, "reason": "product", **body}, headers=shopper
        )

    assert_error(post(reason="rude"), 422, "validation_error", "reason")
    assert_error(post(text="x" * 2001), 422, "validation_error", "text")
    assert_error(post(order_id=-1), 422, "validation_error", "order_id")
    assert_error(post(status="upheld"), 422, "validation_error", "status")
    assert_error(post(shop_id=987_654), 404, "shop_not_found")
    assert_error(post(order_id=their_order.id), 404, "order_not_found", "order_id")
    assert_error(post(order_id=my_other_order.id), 422, "order_shop_mismatch", "order_id")
    assert snapshot(db, TABLES) == before

    filed = post().json()
    url = f"/api/ops/complaints/{filed['id']}/resolve"
    before = snapshot(db, TABLES)
    assert_error(client.post(url, json={"upheld": True}, headers=ops), 422, "reason_required", "reason")
    assert_error(
        client.post(url, json={"upheld": True, "note": "  "}, headers=ops), 422, "reason_required", "reason"
    )
    assert_error(
        client.post(url, json={"upheld": "yes", "note": "x"}, headers=ops), 422, "validation_error", "upheld"
    )
    assert_error(client.post(url, json={"note": "x"}, headers=ops), 422, "validation_error", "upheld")
    assert snapshot(db, TABLES) == before


def test_complaint_roles(client, db):
    bundle = make_shop(db)
    shopper = auth(db, make_user(db))
    owner = auth(db, bundle.owner)
    filed = _file(client, shopper, bundle.shop.id)
    before = snapshot(db, TABLES)
    resolve = f"/api/ops/complaints/{filed['id']}/resolve"
    assert_error(
        client.post("/api/complaints", json={"shop_id": bundle.shop.id, "reason": "other"}, headers=owner),
        403,
        "wrong_role",
    )
    assert_error(
        client.post("/api/complaints", json={"shop_id": bundle.shop.id, "reason": "other"}),
        401,
        "not_authenticated",
    )
    for headers, status in ((shopper, 403), (owner, 403), ({}, 401)):
        assert client.get("/api/ops/complaints", headers=headers).status_code == status
        assert client.post(resolve, json={"upheld": True, "note": "x"}, headers=headers).status_code == status
    assert_error(client.get("/api/merchant/complaints", headers=shopper), 403, "wrong_role")
    assert snapshot(db, TABLES) == before


@pytest.mark.pg_only
def test_concurrent_resolutions_decide_once(database, db):
    bundle = make_shop(db)
    complaint = support.file_complaint(db, user_id=make_user(db).id, shop_id=bundle.shop.id, reason="service")

    def resolve(i: int) -> str:
        session = database.session()
        try:
            support.resolve_complaint(session, complaint.id, upheld=i % 2 == 0, note=f"decision {i}")
            return "ok"
        except DomainError as exc:
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(resolve, range(10)))
    assert results.count("ok") == 1 and results.count("illegal_transition") == 9
    assert (
        count(db, "complaints", "id = :c AND status <> 'open' AND resolved_at IS NOT NULL", c=complaint.id)
        == 1
    )
