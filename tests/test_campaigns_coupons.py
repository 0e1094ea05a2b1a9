"""Coupons: shop- and platform-funded coupons, claiming them, and the limits under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.api_helpers import assert_error, count, snapshot, walk
from tests.factories import add_staff, auth, make_shop, make_user
from zhongcao import clock
from zhongcao.campaigns import coupons as campaigns
from zhongcao.campaigns.models import CouponFunder, UserCoupon, UserCouponStatus
from zhongcao.errors import DomainError
from zhongcao.shops.models import Shop, ShopStatus, StaffRole
from zhongcao.users.models import Role

TABLES = ("coupons", "user_coupons")


def _iso(delta: timedelta) -> str:
    return (clock.now() + delta).isoformat()


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "满100减10",
        "threshold_fen": 10_000,
        "discount_fen": 1_000,
        "per_user_limit": 1,
        "total_quantity": 100,
        "starts_at": _iso(-timedelta(hours=1)),
        "ends_at": _iso(timedelta(days=3)),
    }
    body.update(overrides)
    return body


def _shop_coupon(client, headers, **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/merchant/coupons", json=_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _claim(client, coupon_id: int, headers):
    return client.post(f"/api/coupons/{coupon_id}/claim", headers=headers)


def test_shop_coupon_is_claimed_and_listed(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    coupon = _shop_coupon(client, owner, total_quantity=5)
    assert coupon["funded_by"] == "shop" and coupon["shop_id"] == bundle.shop.id
    assert coupon["remaining_quantity"] == 5 and coupon["claimed_count"] == 0

    public = client.get("/api/coupons", params={"shop_id": bundle.shop.id}).json()["items"]
    assert [c["id"] for c in public] == [coupon["id"]]
    assert client.get("/api/coupons").json()["items"] == []  # no shop: platform coupons only

    shopper = auth(db, make_user(db))
    r = _claim(client, coupon["id"], shopper)
    assert r.status_code == 201, r.text
    claimed = r.json()
    assert claimed["status"] == "unused" and claimed["checkout_id"] is None
    assert claimed["coupon"]["id"] == coupon["id"] and claimed["coupon"]["remaining_quantity"] == 4

    mine = client.get("/api/me/coupons", headers=shopper).json()["items"]
    assert [c["id"] for c in mine] == [claimed["id"]]
    assert client.get("/api/me/coupons", params={"status": "used"}, headers=shopper).json()["items"] == []
    assert_error(
        client.get("/api/me/coupons", params={"status": "lost"}, headers=shopper),
        422,
        "validation_error",
        "status",
    )
    merchant_view = client.get(f"/api/merchant/coupons/{coupon['id']}", headers=owner).json()
    assert merchant_view["claimed_count"] == 1


def test_platform_coupon_by_operator(client, db):
    ops = auth(db, make_user(db, Role.operator))
    r = client.post("/api/ops/coupons", json=_body(threshold_fen=0, discount_fen=500), headers=ops)
    assert r.status_code == 201, r.text
    coupon = r.json()
    assert coupon["funded_by"] == "platform" and coupon["shop_id"] is None
    assert [c["id"] for c in client.get("/api/coupons").json()["items"]] == [coupon["id"]]
    assert [c["id"] for c in client.get("/api/ops/coupons", headers=ops).json()["items"]] == [coupon["id"]]
    shopper = auth(db, make_user(db))
    assert _claim(client, coupon["id"], shopper).status_code == 201


def test_coupon_input_rules(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    ops = auth(db, make_user(db, Role.operator))
    before = snapshot(db, TABLES)
    cases = [
        (_body(discount_fen=10_000), 422, "discount_not_below_threshold", "discount_fen"),
        (_body(discount_fen=20_000), 422, "discount_not_below_threshold", "discount_fen"),
        (_body(discount_fen=0), 422, "validation_error", "discount_fen"),
        (_body(threshold_fen=-1), 422, "validation_error", "threshold_fen"),
        (_body(per_user_limit=0), 422, "validation_error", "per_user_limit"),
        (_body(total_quantity=0), 422, "validation_error", "total_quantity"),
        (_body(ends_at=_iso(-timedelta(hours=2))), 422, "invalid_window", "ends_at"),
        (_body(starts_at="2030-01-01T00:00:00"), 422, "validation_error", "starts_at"),
        (_body(name="   "), 422, "validation_error", "name"),
        (_body(shop_id=5), 422, "validation_error", "shop_id"),
    ]
    for body, status, code, field in cases:
        assert_error(client.post("/api/merchant/coupons", json=body, headers=owner), status, code, field)
        assert_error(client.post("/api/ops/coupons", json=body, headers=ops), status, code, field)
    assert snapshot(db, TABLES) == before
    # Without a threshold any positive discount is fine (a no-threshold coupon, 无门槛).
    assert _shop_coupon(client, owner, threshold_fen=0, discount_fen=99_999)["threshold_fen"] == 0


def test_claim_rules(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    one_each = _shop_coupon(client, owner, total_quantity=2, per_user_limit=1)
    later = _shop_coupon(client, owner, starts_at=_iso(timedelta(days=1)), ends_at=_iso(timedelta(days=2)))
    short = _shop_coupon(client, owner, ends_at=_iso(timedelta(hours=1)))
    shoppers = [auth(db, make_user(db)) for _ in range(3)]

    assert _claim(client, one_each["id"], shoppers[0]).status_code == 201
    before = snapshot(db, TABLES)
    error = assert_error(_claim(client, one_each["id"], shoppers[0]), 409, "coupon_limit_reached")
    assert error["details"]["per_user_limit"] == 1
    assert_error(_claim(client, later["id"], shoppers[0]), 409, "coupon_not_active")
    assert_error(_claim(client, 999_999, shoppers[0]), 404, "coupon_not_found")
    with clock.travel(clock.now() + timedelta(hours=2)):
        assert_error(_claim(client, short["id"], shoppers[0]), 409, "coupon_not_active")
    assert snapshot(db, TABLES) == before

    assert _claim(client, one_each["id"], shoppers[1]).status_code == 201
    before = snapshot(db, TABLES)
    assert_error(_claim(client, one_each["id"], shoppers[2]), 409, "coupon_sold_out")
    assert snapshot(db, TABLES) == before
    # Sold-out, future and ended coupons are not offered.
    offered = client.get("/api/coupons", params={"shop_id": bundle.shop.id}).json()["items"]
    assert [c["id"] for c in offered] == [short["id"]]
    with clock.travel(clock.now() + timedelta(days=1, hours=1)):
        offered = client.get("/api/coupons", params={"shop_id": bundle.shop.id}).json()["items"]
        assert [c["id"] for c in offered] == [later["id"]]


def test_suspended_shop_hands_out_no_coupons(client, db):
    bundle = make_shop(db)
    coupon = _shop_coupon(client, auth(db, bundle.owner))
    shopper = auth(db, make_user(db))
    db.execute(update(Shop).where(Shop.id == bundle.shop.id).values(status=ShopStatus.suspended))
    db.commit()
    assert_error(_claim(client, coupon["id"], shopper), 409, "coupon_not_active")
    assert client.get("/api/coupons", params={"shop_id": bundle.shop.id}).json()["items"] == []
    assert_error(client.get("/api/coupons", params={"shop_id": 987_654}), 404, "shop_not_found")


def test_coupon_roles_and_tenancy(client, db):
    bundle = make_shop(db)
    rival = make_shop(db)
    owner = auth(db, bundle.owner)
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    shopper = auth(db, make_user(db))
    rival_owner = auth(db, rival.owner)

    assert_error(client.post("/api/merchant/coupons", json=_body(), headers={}), 401, "not_authenticated")
    assert_error(client.post("/api/merchant/coupons", json=_body(), headers=shopper), 403, "wrong_role")
    assert_error(client.post("/api/merchant/coupons", json=_body(), headers=agent), 403, "wrong_shop_role")
    assert_error(client.post("/api/ops/coupons", json=_body(), headers=owner), 403, "wrong_role")
    assert snapshot(db, TABLES)["coupons"] == []

    coupon = _shop_coupon(client, owner)
    assert_error(_claim(client, coupon["id"], {}), 401, "not_authenticated")
    assert_error(_claim(client, coupon["id"], owner), 403, "wrong_role")
    assert_error(
        client.get(f"/api/merchant/coupons/{coupon['id']}", headers=rival_owner), 404, "coupon_not_found"
    )
    assert client.get("/api/merchant/coupons", headers=rival_owner).json()["items"] == []
    # Every staff role may read the shop's own coupons.
    assert [c["id"] for c in client.get("/api/merchant/coupons", headers=agent).json()["items"]] == [
        coupon["id"]
    ]
    assert_error(client.get("/api/me/coupons"), 401, "not_authenticated")


def test_my_coupons_filter_and_pages(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    user = make_user(db)
    shopper = auth(db, user)
    claimed = []
    for _ in range(5):
        coupon = _shop_coupon(client, owner)
        claimed.append(_claim(client, coupon["id"], shopper).json()["id"])
    db.execute(
        update(UserCoupon)
        .where(UserCoupon.id == claimed[1])
        .values(status=UserCouponStatus.used, used_at=clock.now())
    )
    db.commit()
    assert walk(client, "/api/me/coupons", headers=shopper, limit=2) == sorted(claimed, reverse=True)
    used = client.get("/api/me/coupons", params={"status": "used"}, headers=shopper).json()["items"]
    assert [c["id"] for c in used] == [claimed[1]]
    assert walk(client, "/api/me/coupons", headers=shopper, status="unused") == sorted(
        set(claimed) - {claimed[1]}, reverse=True
    )
    # Someone else's coupons never show.
    assert client.get("/api/me/coupons", headers=auth(db, make_user(db))).json()["items"] == []


def _claim_in_thread(database, user_id: int, coupon_id: int) -> str:
    session = database.session()
    try:
        campaigns.claim_coupon(session, user_id, coupon_id)
        return "ok"
    except DomainError as exc:
        return exc.code
    finally:
        session.close()


def _coupon(db, **overrides: Any):
    bundle = make_shop(db)
    now = clock.now()
    fields: dict[str, Any] = {
        "funded_by": CouponFunder.shop,
        "shop_id": bundle.shop.id,
        "name": "抢券",
        "threshold_fen": 0,
        "discount_fen": 100,
        "per_user_limit": 1,
        "total_quantity": None,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(days=1),
    }
    fields.update(overrides)
    return campaigns.create_coupon(db, **fields)


@pytest.mark.pg_only
def test_concurrent_claims_never_exceed_total_quantity(database, db):
    coupon = _coupon(db, total_quantity=10)
    users = [make_user(db).id for _ in range(30)]
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda uid: _claim_in_thread(database, uid, coupon.id), users))
    assert results.count("ok") == 10
    assert results.count("coupon_sold_out") == 20
    assert count(db, "user_coupons", "coupon_id = :c", c=coupon.id) == 10
    assert count(db, "coupons", "id = :c AND claimed_count = 10", c=coupon.id) == 1


@pytest.mark.pg_only
def test_one_user_hammering_gets_exactly_the_per_user_limit(database, db):
    coupon = _coupon(db, per_user_limit=2)
    user_id = make_user(db).id
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: _claim_in_thread(database, user_id, coupon.id), range(20)))
    assert results.count("ok") == 2
    assert results.count("coupon_limit_reached") == 18
    assert count(db, "user_coupons", "coupon_id = :c AND user_id = :u", c=coupon.id, u=user_id) == 2
    assert count(db, "coupons", "id = :c AND claimed_count = 2", c=coupon.id) == 1
