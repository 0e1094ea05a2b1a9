"""Operators open shops for merchant users, list them, suspend and reinstate them."""

from __future__ import annotations

import pytest

from tests.api_helpers import assert_error, snapshot, walk
from tests.catalog_helpers import CATALOG_TABLES
from tests.factories import auth, make_product, make_shop, make_user
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.shops import service as shops
from zhongcao.shops.models import ShopStaff, ShopStatus, StaffRole
from zhongcao.users.models import Role


@pytest.fixture
def ops(db):
    return auth(db, make_user(db, Role.operator))


def _shop_body(owner_id: int, **extra):
    return {
        "name_zh": "小王的店",
        "name_en": "Wang's shop",
        "owner_user_id": owner_id,
        "shipping_fee_fen": 800,
        "free_shipping_threshold_fen": 9900,
        **extra,
    }


def test_open_a_shop(client, db, ops):
    owner = make_user(db, Role.merchant)
    owner_headers = auth(db, owner)
    assert_error(client.get("/api/merchant/shop", headers=owner_headers), 403, "no_shop")
    r = client.post(
        "/api/ops/shops",
        json=_shop_body(owner.id, name_zh="  小王的店 ", description_zh="好物\n推荐", description_en="  "),
        headers=ops,
    )
    assert r.status_code == 201, r.text
    shop = r.json()
    assert shop["name_zh"] == "小王的店" and shop["status"] == "active"
    assert shop["description_zh"] == "好物\n推荐" and shop["description_en"] == ""
    assert shop["shipping_fee_fen"] == 800 and shop["free_shipping_threshold_fen"] == 9900
    membership = shops.membership_for_user(db, owner.id)
    assert membership is not None and membership.shop_id == shop["id"] and membership.role is StaffRole.owner
    db.rollback()
    mine = client.get("/api/merchant/shop", headers=owner_headers)
    assert mine.status_code == 200 and mine.json()["id"] == shop["id"]
    staff = client.get("/api/merchant/staff", headers=owner_headers).json()["items"]
    assert [(s["user_id"], s["role"]) for s in staff] == [(owner.id, "owner")]


def test_owner_must_be_a_free_merchant(client, db, ops):
    shopper = make_user(db, Role.shopper)
    taken = make_shop(db).owner
    before = snapshot(db, CATALOG_TABLES)
    assert_error(
        client.post("/api/ops/shops", json=_shop_body(shopper.id), headers=ops),
        422,
        "not_a_merchant",
        "owner_user_id",
    )
    assert_error(
        client.post("/api/ops/shops", json=_shop_body(taken.id), headers=ops),
        409,
        "already_staff",
        "owner_user_id",
    )
    assert_error(
        client.post("/api/ops/shops", json=_shop_body(999_999), headers=ops),
        404,
        "user_not_found",
        "owner_user_id",
    )
    assert snapshot(db, CATALOG_TABLES) == before


BAD_SHOPS = [
    ({"shipping_fee_fen": -1}, "shipping_fee_fen"),
    ({"shipping_fee_fen": "800"}, "shipping_fee_fen"),
    ({"shipping_fee_fen": 8.5}, "shipping_fee_fen"),
    ({"free_shipping_threshold_fen": 100_000_001}, "free_shipping_threshold_fen"),
    ({"free_shipping_threshold_fen": True}, "free_shipping_threshold_fen"),
    ({"name_zh": ""}, "name_zh"),
    ({"name_zh": "店" * 81}, "name_zh"),
    ({"name_en": "two\nlines"}, "name_en"),
    ({"name_en": None}, "name_en"),
    ({"description_en": "x" * 5001}, "description_en"),
    ({"owner_user_id": "1"}, "owner_user_id"),
    ({"owner_user_id": 0}, "owner_user_id"),
    ({"status": "active"}, "status"),
]


def test_create_shop_bad_input(client, db, ops):
    owner = make_user(db, Role.merchant)
    before = snapshot(db, CATALOG_TABLES)
    for change, field in BAD_SHOPS:
        r = client.post("/api/ops/shops", json=_shop_body(owner.id, **change), headers=ops)
        assert_error(r, 422, "validation_error", field)
    missing = _shop_body(owner.id)
    del missing["name_en"]
    assert_error(client.post("/api/ops/shops", json=missing, headers=ops), 422, "validation_error", "name_en")
    assert snapshot(db, CATALOG_TABLES) == before


def test_suspend_and_reinstate(client, db, ops):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    r = client.patch(
        f"/api/ops/shops/{bundle.shop.id}", json={"status": "suspended", "reason": "售假"}, headers=ops
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert_error(client.get(f"/api/shops/{bundle.shop.id}"), 404, "shop_not_found")
    assert_error(client.get(f"/api/shops/{bundle.shop.id}/products"), 404, "shop_not_found")
    assert client.get("/api/products").json()["items"] == []
    assert_error(client.get(f"/api/products/{product.id}"), 404, "product_not_found")
    # Its staff still see their shop, with its status.
    assert client.get("/api/merchant/shop", headers=auth(db, bundle.owner)).json()["status"] == "suspended"
    r = client.patch(
        f"/api/ops/shops/{bundle.shop.id}", json={"status": "active", "reason": "整改完成"}, headers=ops
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert client.get(f"/api/products/{product.id}").status_code == 200

    before = snapshot(db, CATALOG_TABLES)
    url = f"/api/ops/shops/{bundle.shop.id}"
    assert_error(client.patch(url, json={"status": "closed"}, headers=ops), 422, "validation_error", "status")
    assert_error(client.patch(url, json={}, headers=ops), 422, "validation_error", "status")
    assert_error(
        client.patch(url, json={"status": "active", "reason": "x", "name_zh": "x"}, headers=ops),
        422,
        "validation_error",
        "name_zh",
    )
    assert_error(
        client.patch("/api/ops/shops/999999", json={"status": "active", "reason": "x"}, headers=ops),
        404,
        "shop_not_found",
    )
    assert snapshot(db, CATALOG_TABLES) == before


def test_list_all_shops(client, db, ops):
    ids = [make_shop(db).shop.id for _ in range(5)]
    shops.set_shop_status(db, ids[1], ShopStatus.suspended)
    assert walk(client, "/api/ops/shops", headers=ops, limit=2) == sorted(ids, reverse=True)
    r = client.get("/api/ops/shops", params={"status": "suspended"}, headers=ops)
    assert [s["id"] for s in r.json()["items"]] == [ids[1]]
    assert r.json()["items"][0]["status"] == "suspended"
    assert_error(
        client.get("/api/ops/shops", params={"status": "x"}, headers=ops), 422, "validation_error", "status"
    )


def test_only_operators_manage_shops(client, db):
    bundle = make_shop(db)
    free_merchant = make_user(db, Role.merchant)
    outsiders = [
        auth(db, user) for user in (make_user(db, Role.shopper), bundle.owner, make_user(db, Role.creator))
    ]
    before = snapshot(db, CATALOG_TABLES)
    calls = [
        ("GET", "/api/ops/shops", None),
        ("POST", "/api/ops/shops", _shop_body(free_merchant.id)),
        ("PATCH", f"/api/ops/shops/{bundle.shop.id}", {"status": "suspended"}),
    ]
    for method, url, body in calls:
        assert_error(client.request(method, url, json=body), 401, "not_authenticated")
        for headers in outsiders:
            assert_error(client.request(method, url, json=body, headers=headers), 403, "wrong_role")
    assert snapshot(db, CATALOG_TABLES) == before


def test_shop_service_functions(db):
    owner = make_user(db, Role.merchant)
    shop = shops.create_shop(db, name_zh="店", name_en="Shop", owner_user_id=owner.id, commit=False)
    colleague = make_user(db, Role.merchant)  # commits the shop too
    staff = shops.add_staff(db, shop.id, user_id=colleague.id, role=StaffRole.operator)
    assert staff.role is StaffRole.operator
    assert shops.staff_user_ids(db, shop.id) == [owner.id, colleague.id]
    assert shops.staff_user_ids(db, shop.id, roles=[StaffRole.owner]) == [owner.id]
    assert shops.is_shop_active(db, shop.id) and not shops.is_shop_active(db, 999_999)
    with pytest.raises(Conflict) as exc:
        shops.add_staff(db, shop.id, user_id=colleague.id, role=StaffRole.operator)
    assert exc.value.code == "already_staff"
    with pytest.raises(InvalidInput) as exc:
        shops.create_shop(db, name_zh="店", name_en="S", owner_user_id=owner.id, shipping_fee_fen=-5)
    assert exc.value.details["field"] == "shipping_fee_fen"
    with pytest.raises(NotFound):
        shops.add_staff(db, 999_999, user_id=make_user(db, Role.merchant).id, role=StaffRole.operator)
    db.rollback()
    assert db.query(ShopStaff).filter_by(shop_id=shop.id).count() == 2
