"""Merchants see and edit their own shop; owners run its staff. The shop always comes from the caller."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.api_helpers import assert_error, snapshot, walk
from tests.catalog_helpers import CATALOG_TABLES
from tests.factories import add_staff, auth, make_product, make_shop, make_user
from zhongcao.errors import Conflict
from zhongcao.shops import service as shops
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


def test_any_staff_sees_the_shop_only_owners_edit_it(client, db):
    bundle = make_shop(db, shipping_fee_fen=500)
    other = make_shop(db)
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    operator = auth(db, add_staff(db, bundle.shop, StaffRole.operator))
    owner = auth(db, bundle.owner)
    for headers in (owner, agent, operator):
        r = client.get("/api/merchant/shop", headers=headers)
        assert (
            r.status_code == 200 and r.json()["id"] == bundle.shop.id and r.json()["shipping_fee_fen"] == 500
        )

    r = client.patch(
        "/api/merchant/shop",
        json={"description_zh": "  全场包邮 \n 欢迎 ", "shipping_fee_fen": 0, "name_en": " New name "},
        headers=owner,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description_zh"] == "全场包邮 \n 欢迎" and body["shipping_fee_fen"] == 0
    assert body["name_en"] == "New name" and body["name_zh"] == bundle.shop.name_zh
    assert body["free_shipping_threshold_fen"] == 0
    assert client.get(f"/api/shops/{bundle.shop.id}").json()["name_en"] == "New name"

    before = snapshot(db, CATALOG_TABLES)
    for headers in (agent, operator):
        assert_error(
            client.patch("/api/merchant/shop", json={"name_en": "x"}, headers=headers), 403, "wrong_shop_role"
        )
    for change, field in [
        ({"shipping_fee_fen": -1}, "shipping_fee_fen"),
        ({"free_shipping_threshold_fen": "10"}, "free_shipping_threshold_fen"),
        ({"name_zh": None}, "name_zh"),
        ({"name_zh": "  "}, "name_zh"),
        ({"status": "suspended"}, "status"),
        ({"id": other.shop.id}, "id"),
    ]:
        assert_error(
            client.patch("/api/merchant/shop", json=change, headers=owner), 422, "validation_error", field
        )
    assert snapshot(db, CATALOG_TABLES) == before


def test_non_merchants_and_shopless_merchants_are_refused(client, db):
    bundle = make_shop(db)
    shopless = auth(db, make_user(db, Role.merchant))
    calls = [
        ("GET", "/api/merchant/shop", None),
        ("PATCH", "/api/merchant/shop", {"name_en": "x"}),
        ("GET", "/api/merchant/staff", None),
        ("POST", "/api/merchant/staff", {"email": "a@example.com", "role": "operator"}),
        ("PATCH", "/api/merchant/staff/1", {"role": "operator"}),
        ("DELETE", "/api/merchant/staff/1", None),
    ]
    outsiders = [auth(db, make_user(db, role)) for role in (Role.shopper, Role.creator, Role.operator)]
    before = snapshot(db, CATALOG_TABLES)
    for method, url, body in calls:
        assert_error(client.request(method, url, json=body), 401, "not_authenticated")
        for headers in outsiders:
            assert_error(client.request(method, url, json=body, headers=headers), 403, "wrong_role")
        assert_error(client.request(method, url, json=body, headers=shopless), 403, "no_shop")
    assert snapshot(db, CATALOG_TABLES) == before
    assert client.get("/api/merchant/shop", headers=auth(db, bundle.owner)).status_code == 200


def test_owner_manages_staff(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    recruit = make_user(db, Role.merchant)
    r = client.post(
        "/api/merchant/staff",
        json={"email": f"  {recruit.email.upper()} ", "role": "operator"},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    staff = r.json()
    assert (
        staff["user_id"] == recruit.id and staff["role"] == "operator" and staff["shop_id"] == bundle.shop.id
    )
    assert staff["email"] == recruit.email and staff["display_name"] == recruit.display_name

    recruit_headers = auth(db, recruit)
    products = client.get("/api/merchant/products", headers=recruit_headers)
    assert products.status_code == 200
    # Operators do not manage staff.
    assert_error(client.get("/api/merchant/staff", headers=recruit_headers), 403, "wrong_shop_role")

    r = client.patch(f"/api/merchant/staff/{staff['id']}", json={"role": "service_agent"}, headers=owner)
    assert r.status_code == 200 and r.json()["role"] == "service_agent"
    r = client.patch(f"/api/merchant/staff/{staff['id']}", json={"role": "owner"}, headers=owner)
    assert r.status_code == 200 and r.json()["role"] == "owner"
    # The promoted owner now manages staff too.
    listed = client.get("/api/merchant/staff", headers=recruit_headers)
    assert listed.status_code == 200
    assert {(s["user_id"], s["role"]) for s in listed.json()["items"]} == {
        (bundle.owner.id, "owner"),
        (recruit.id, "owner"),
    }

    r = client.delete(f"/api/merchant/staff/{staff['id']}", headers=owner)
    assert r.status_code == 204, r.text
    assert_error(client.get("/api/merchant/shop", headers=recruit_headers), 403, "no_shop")
    # Once free, the same merchant can join another shop.
    elsewhere = make_shop(db)
    r = client.post(
        "/api/merchant/staff",
        json={"email": recruit.email, "role": "service_agent"},
        headers=auth(db, elsewhere.owner),
    )
    assert r.status_code == 201
    assert client.get("/api/merchant/shop", headers=recruit_headers).json()["id"] == elsewhere.shop.id


def test_adding_staff_checks_the_user(client, db):
    bundle = make_shop(db)
    other = make_shop(db)
    owner = auth(db, bundle.owner)
    shopper = make_user(db, Role.shopper)
    free = make_user(db, Role.merchant)
    before = snapshot(db, CATALOG_TABLES)

    def post(body):
        return client.post("/api/merchant/staff", json=body, headers=owner)

    assert_error(post({"email": "nobody@example.com", "role": "operator"}), 404, "user_not_found", "email")
    assert_error(post({"email": shopper.email, "role": "operator"}), 422, "not_a_merchant", "email")
    assert_error(post({"email": other.owner.email, "role": "operator"}), 409, "already_staff", "email")
    assert_error(post({"email": bundle.owner.email, "role": "operator"}), 409, "already_staff", "email")
    assert_error(post({"email": free.email, "role": "owner"}), 422, "validation_error", "role")
    assert_error(post({"email": free.email, "role": "boss"}), 422, "validation_error", "role")
    assert_error(post({"email": "not an email", "role": "operator"}), 422, "validation_error", "email")
    assert_error(post({"email": free.email}), 422, "validation_error", "role")
    assert_error(post({"user_id": free.id, "role": "operator"}), 422, "validation_error")
    assert snapshot(db, CATALOG_TABLES) == before


def test_last_owner_stays(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    other = make_shop(db)
    other_staff_id = shops.membership_for_user(db, other.owner.id).id
    own_id = shops.membership_for_user(db, bundle.owner.id).id
    db.rollback()
    before = snapshot(db, CATALOG_TABLES)
    assert_error(
        client.patch(f"/api/merchant/staff/{own_id}", json={"role": "operator"}, headers=owner),
        409,
        "last_owner",
        "role",
    )
    assert_error(client.delete(f"/api/merchant/staff/{own_id}", headers=owner), 409, "last_owner")
    # Another shop's staff ids are not found, whatever the action.
    assert_error(
        client.patch(f"/api/merchant/staff/{other_staff_id}", json={"role": "operator"}, headers=owner),
        404,
        "staff_not_found",
    )
    assert_error(
        client.delete(f"/api/merchant/staff/{other_staff_id}", headers=owner), 404, "staff_not_found"
    )
    assert_error(client.delete("/api/merchant/staff/999999", headers=owner), 404, "staff_not_found")
    assert_error(
        client.patch(f"/api/merchant/staff/{own_id}", json={"role": None}, headers=owner),
        422,
        "validation_error",
        "role",
    )
    assert_error(client.delete("/api/merchant/staff/abc", headers=owner), 422, "validation_error", "staff_id")
    assert snapshot(db, CATALOG_TABLES) == before

    # With a second owner the first may step down, after which the second is the last.
    second = add_staff(db, bundle.shop, StaffRole.owner)
    second_id = shops.membership_for_user(db, second.id).id
    db.rollback()
    r = client.patch(f"/api/merchant/staff/{own_id}", json={"role": "operator"}, headers=owner)
    assert r.status_code == 200 and r.json()["role"] == "operator"
    assert_error(client.get("/api/merchant/staff", headers=owner), 403, "wrong_shop_role")
    assert_error(
        client.delete(f"/api/merchant/staff/{second_id}", headers=auth(db, second)), 409, "last_owner"
    )


def test_staff_list_pages(client, db):
    bundle = make_shop(db)
    added = [add_staff(db, bundle.shop, StaffRole.service_agent) for _ in range(4)]
    ids = walk(client, "/api/merchant/staff", headers=auth(db, bundle.owner), limit=2)
    assert len(ids) == len(set(ids)) == 5
    members = {shops.membership_for_user(db, user.id).id for user in [bundle.owner, *added]}
    assert set(ids) == members
    db.rollback()


@pytest.mark.pg_only
def test_owners_demoting_each_other_at_once_leave_one_owner(database, db):
    bundle = make_shop(db)
    others = [add_staff(db, bundle.shop, StaffRole.owner) for _ in range(3)]
    shop_id = bundle.shop.id
    staff_ids = [shops.membership_for_user(db, u.id).id for u in (bundle.owner, *others)]
    db.rollback()
    barrier = Barrier(len(staff_ids))

    def demote(staff_id: int) -> str:
        session = database.session()
        try:
            barrier.wait(timeout=10)
            shops.change_staff_role(session, shop_id, staff_id, StaffRole.operator)
            return "ok"
        except Conflict as exc:
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(staff_ids)) as pool:
        outcomes = sorted(pool.map(demote, staff_ids))
    assert outcomes == ["last_owner", "ok", "ok", "ok"]
    assert len(shops.staff_user_ids(db, shop_id, roles=[StaffRole.owner])) == 1


def test_shop_pages_are_public(client, db):
    bundle = make_shop(db, shipping_fee_fen=600, free_shipping_threshold_fen=5000)
    other = make_shop(db)
    mine = [make_product(db, bundle.shop).id for _ in range(3)]
    make_product(db, other.shop)
    r = client.get(f"/api/shops/{bundle.shop.id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == bundle.shop.id and body["shipping_fee_fen"] == 600
    assert body["free_shipping_threshold_fen"] == 5000 and "status" not in body
    assert walk(client, f"/api/shops/{bundle.shop.id}/products", limit=2) == sorted(mine, reverse=True)
    assert_error(client.get("/api/shops/999999"), 404, "shop_not_found")
    assert_error(client.get("/api/shops/999999/products"), 404, "shop_not_found")
    assert_error(client.get("/api/shops/x"), 422, "validation_error", "shop_id")
