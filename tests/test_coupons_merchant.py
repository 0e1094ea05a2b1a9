"""Shop coupons from the merchant's side (percentage coupons, editing, ending, filters, used counts,
coupons ending soon) and what checkout takes off for them, with the order's money identities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api_helpers import assert_error
from tests.commerce_helpers import first_sku, pay, place
from tests.factories import add_staff, auth, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.campaigns import coupons
from zhongcao.campaigns.models import CouponFunder
from zhongcao.errors import DomainError
from zhongcao.pagination import PageParams
from zhongcao.shops.models import StaffRole


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


def _create(client, headers, **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/merchant/coupons", json=_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    ("threshold", "cap", "percent", "goods", "expected"),
    [
        (0, 1_000, None, 5_000, 1_000),  # amount off
        (0, 1_000, None, 600, 600),  # never more than the goods
        (10_000, 1_000, None, 9_999, 0),  # below the threshold
        (0, 3_000, 10, 12_900, 1_290),  # 10% off
        (0, 1_000, 10, 12_900, 1_000),  # 10% off, capped
        (0, 1_000, 15, 999, 149),  # rounded down to the fen
        (5_000, 2_000, 20, 5_000, 1_000),  # exactly at the threshold
    ],
)
def test_discount_for(threshold, cap, percent, goods, expected):
    assert coupons.discount_for(threshold, cap, percent, goods) == expected


def test_percentage_coupon_is_created_and_read_back(client, db):
    owner = auth(db, make_shop(db).owner)
    coupon = _create(client, owner, percent_off=15, discount_fen=5_000, threshold_fen=20_000)
    assert coupon["percent_off"] == 15 and coupon["state"] == "running" and coupon["ended_at"] is None
    # A percentage coupon's cap may exceed its threshold (the amount-off rule does not apply).
    _create(client, owner, percent_off=50, discount_fen=50_000, threshold_fen=10_000)
    for bad in (0, 100, "10"):
        assert_error(
            client.post("/api/merchant/coupons", json=_body(percent_off=bad), headers=owner),
            422,
            "validation_error",
            "percent_off",
        )


def test_edit_before_and_after_a_claim(client, db):
    owner = auth(db, make_shop(db).owner)
    coupon = _create(client, owner, total_quantity=10)
    url = f"/api/merchant/coupons/{coupon['id']}"
    r = client.put(url, json=_body(name="满200减30", threshold_fen=20_000, discount_fen=3_000), headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["threshold_fen"] == 20_000 and r.json()["name"] == "满200减30"

    shopper = auth(db, make_user(db))
    assert client.post(f"/api/coupons/{coupon['id']}/claim", headers=shopper).status_code == 201
    held = _body(name="满200减30", threshold_fen=20_000, discount_fen=3_000)
    held["starts_at"] = r.json()["starts_at"]
    # What shoppers hold is fixed once claimed...
    assert_error(
        client.put(url, json={**held, "discount_fen": 5_000}, headers=owner),
        409,
        "coupon_terms_locked",
        "discount_fen",
    )
    assert_error(
        client.put(url, json={**held, "percent_off": 10}, headers=owner),
        409,
        "coupon_terms_locked",
        "percent_off",
    )
    assert_error(
        client.put(url, json={**held, "total_quantity": 0}, headers=owner),
        422,
        "validation_error",
        "total_quantity",
    )
    # ...the name, limits, quantity (not below what is claimed) and the end may change.
    r = client.put(
        url,
        json={**held, "name": "周末券", "per_user_limit": 2, "ends_at": _iso(timedelta(days=9))},
        headers=owner,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "周末券" and r.json()["per_user_limit"] == 2 and r.json()["claimed_count"] == 1
    assert_error(
        client.put(url, json={**held, "ends_at": _iso(-timedelta(minutes=1))}, headers=owner),
        422,
        "window_in_past",
        "ends_at",
    )


def test_quantity_never_below_claimed(db):
    bundle = make_shop(db)
    now = clock.now()
    coupon = coupons.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=bundle.shop.id,
        name="券",
        threshold_fen=0,
        discount_fen=100,
        per_user_limit=1,
        total_quantity=5,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
    )
    for _ in range(3):
        coupons.claim_coupon(db, make_user(db).id, coupon.id)
    terms = {
        "name": "券",
        "threshold_fen": 0,
        "discount_fen": 100,
        "percent_off": None,
        "per_user_limit": 1,
        "starts_at": coupon.starts_at,
        "ends_at": coupon.ends_at,
    }
    with pytest.raises(DomainError) as refused:
        coupons.update_shop_coupon(db, bundle.shop.id, coupon.id, total_quantity=2, **terms)
    assert refused.value.code == "quantity_below_claimed"
    assert (
        coupons.update_shop_coupon(db, bundle.shop.id, coupon.id, total_quantity=3, **terms).total_quantity
        == 3
    )


def test_ending_stops_claims_but_held_copies_stay_usable(client, db):
    bundle = make_shop(db)
    owner = auth(db, bundle.owner)
    product = make_product(db, bundle.shop, price_fen=5_000)
    coupon = _create(client, owner, threshold_fen=0, discount_fen=500, per_user_limit=2)
    buyer = make_user(db)
    shopper = auth(db, buyer)
    claimed = client.post(f"/api/coupons/{coupon['id']}/claim", headers=shopper).json()

    r = client.post(f"/api/merchant/coupons/{coupon['id']}/end", headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "ended" and r.json()["ended_at"] is not None
    assert_error(client.post(f"/api/merchant/coupons/{coupon['id']}/end", headers=owner), 409, "coupon_ended")
    assert_error(client.post(f"/api/coupons/{coupon['id']}/claim", headers=shopper), 409, "coupon_not_active")
    assert client.get("/api/coupons", params={"shop_id": bundle.shop.id}).json()["items"] == []
    assert_error(
        client.put(f"/api/merchant/coupons/{coupon['id']}", json=_body(), headers=owner), 409, "coupon_ended"
    )
    # The copy claimed before the end still takes its amount off.
    checkout = pay(
        db,
        buyer,
        place(
            db, buyer, [{"sku_id": first_sku(db, product).id, "quantity": 1}], shop_coupon_ids=[claimed["id"]]
        ),
    )
    order = checkout.orders[0]
    assert order.shop_discount_fen == 500 and order.paid_fen == 4_500
    listed = client.get("/api/merchant/coupons", headers=owner).json()["items"]
    assert [(c["id"], c["claimed_count"], c["used_count"]) for c in listed] == [(coupon["id"], 1, 1)]


def test_service_agents_cannot_change_coupons(client, db):
    bundle = make_shop(db)
    coupon = _create(client, auth(db, bundle.owner))
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    assert client.get(f"/api/merchant/coupons/{coupon['id']}", headers=agent).status_code == 200
    assert client.put(f"/api/merchant/coupons/{coupon['id']}", json=_body(), headers=agent).status_code == 403
    assert client.post(f"/api/merchant/coupons/{coupon['id']}/end", headers=agent).status_code == 403


def test_list_filters_by_state_and_name(client, db):
    owner = auth(db, make_shop(db).owner)
    running = _create(client, owner, name="新客立减")
    scheduled = _create(client, owner, name="双十一预热", starts_at=_iso(timedelta(days=1)))
    sold_out = _create(client, owner, name="秒杀券", total_quantity=1, threshold_fen=0, discount_fen=100)
    ended = _create(client, owner, name="旧券")
    client.post(f"/api/coupons/{sold_out['id']}/claim", headers=auth(db, make_user(db)))
    client.post(f"/api/merchant/coupons/{ended['id']}/end", headers=owner)

    def ids(**params: str) -> list[int]:
        r = client.get("/api/merchant/coupons", params=params, headers=owner)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert ids(state="running") == [running["id"]]
    assert ids(state="scheduled") == [scheduled["id"]]
    assert ids(state="sold_out") == [sold_out["id"]]
    assert ids(state="ended") == [ended["id"]]
    assert set(ids()) == {running["id"], scheduled["id"], sold_out["id"], ended["id"]}
    assert ids(q="立减") == [running["id"]]
    assert ids(q="%") == []  # a wildcard is a character, not a pattern
    assert_error(
        client.get("/api/merchant/coupons", params={"state": "lost"}, headers=owner),
        422,
        "validation_error",
        "state",
    )


def test_coupons_ending_within(db):
    bundle, other = make_shop(db), make_shop(db)
    now = clock.now()

    def coupon(shop_id: int, ends_in: timedelta, name: str):
        return coupons.create_coupon(
            db,
            funded_by=CouponFunder.shop,
            shop_id=shop_id,
            name=name,
            threshold_fen=0,
            discount_fen=100,
            starts_at=now - timedelta(hours=1),
            ends_at=now + ends_in,
        )

    later = coupon(bundle.shop.id, timedelta(days=2), "later")
    soon = coupon(bundle.shop.id, timedelta(hours=5), "soon")
    coupon(bundle.shop.id, timedelta(days=10), "far")
    ended = coupon(bundle.shop.id, timedelta(days=1), "ended")
    coupons.end_shop_coupon(db, bundle.shop.id, ended.id)
    coupon(other.shop.id, timedelta(days=1), "other shop")
    assert [c.id for c in coupons.coupons_ending_within(db, bundle.shop.id, 3)] == [soon.id, later.id]
    assert [c.id for c in coupons.coupons_ending_within(db, bundle.shop.id, 1)] == [soon.id]
    assert coupons.coupons_ending_within(db, bundle.shop.id, 0) == []
    assert [
        c.id for c in coupons.coupons_ending_within(db, bundle.shop.id, 30, now=now + timedelta(days=3))
    ] == [c.id for c in coupons.list_shop_coupons(db, bundle.shop.id, PageParams(), query="far")[0]]


def test_best_coupon_and_money_identities_with_percentage_coupons(db):
    bundle = make_shop(db, shipping_fee_fen=800)
    product = make_product(db, bundle.shop, price_fen=12_900)
    buyer = make_user(db)
    now = clock.now()

    def claim(shop_id: int | None, **terms: Any) -> int:
        coupon = coupons.create_coupon(
            db,
            funded_by=CouponFunder.shop if shop_id else CouponFunder.platform,
            shop_id=shop_id,
            name="券",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            **terms,
        )
        return coupons.claim_coupon(db, buyer.id, coupon.id).id

    flat = claim(bundle.shop.id, threshold_fen=0, discount_fen=1_000)
    percent = claim(bundle.shop.id, threshold_fen=10_000, discount_fen=3_000, percent_off=10)
    claim(bundle.shop.id, threshold_fen=30_000, discount_fen=5_000)  # out of reach
    platform = claim(None, threshold_fen=0, discount_fen=2_000, percent_off=5)
    held = coupons.usable_user_coupons(db, buyer.id)
    shop_held = [h for h in held if h.coupon.shop_id == bundle.shop.id]
    best = coupons.best_coupon(shop_held, 12_900)
    assert best is not None and best.user_coupon_id == percent  # 12.90 beats 10.00
    assert coupons.best_coupon(shop_held, 9_000).user_coupon_id == flat  # type: ignore[union-attr]
    assert coupons.best_coupon(shop_held, 0) is None

    checkout = place(
        db,
        buyer,
        [{"sku_id": first_sku(db, product).id, "quantity": 1}],
        shop_coupon_ids=[percent],
        platform_coupon_id=platform,
    )
    checkout = pay(db, buyer, checkout)
    order = checkout.orders[0]
    assert order.shop_discount_fen == 1_290 and order.platform_discount_fen == 645
    assert (
        order.item_total_fen
        - order.shop_discount_fen
        - order.platform_discount_fen
        - order.campaign_subsidy_fen
        + order.shipping_fen
        == order.paid_fen
        == 12_900 - 1_290 - 645 + 800
    )
    assert (
        order.paid_fen + order.platform_discount_fen + order.campaign_subsidy_fen
        == order.shop_settlement_fen + order.platform_fee_fen + order.commission_fen
    )
    assert {h.user_coupon_id for h in coupons.usable_user_coupons(db, buyer.id)} == {flat} | {
        h.user_coupon_id for h in held if h.user_coupon_id not in (flat, percent, platform)
    }


def test_settlement_of_an_order_with_coupons(db):
    """The shop pays for its own coupon and the platform for its coupon: the settlement holds its
    identity, the shop receives what the order says, and the platform coupon counts as subsidy."""
    from sqlalchemy import select

    from zhongcao.commerce import service as order_service
    from zhongcao.finance import service as finance_service
    from zhongcao.finance.models import Settlement

    bundle = make_shop(db, shipping_fee_fen=800)
    product = make_product(db, bundle.shop, price_fen=20_000)
    buyer = make_user(db)
    now = clock.now()

    def claim(shop_id: int | None, **terms: Any) -> int:
        coupon = coupons.create_coupon(
            db,
            funded_by=CouponFunder.shop if shop_id else CouponFunder.platform,
            shop_id=shop_id,
            name="券",
            threshold_fen=0,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            **terms,
        )
        return coupons.claim_coupon(db, buyer.id, coupon.id).id

    shop_coupon = claim(bundle.shop.id, discount_fen=3_000, percent_off=12)  # 12% of ¥200 = ¥24
    platform_coupon = claim(None, discount_fen=1_500)
    checkout = place(
        db,
        buyer,
        [{"sku_id": first_sku(db, product).id, "quantity": 1}],
        shop_coupon_ids=[shop_coupon],
        platform_coupon_id=platform_coupon,
    )
    order = pay(db, buyer, checkout).orders[0]
    assert (order.shop_discount_fen, order.platform_discount_fen) == (2_400, 1_500)
    order_service.ship_order(
        db, bundle.shop.id, order.id, carrier_name="顺丰", tracking_number="SF1234567890"
    )
    order_service.record_delivery(db, order.id)
    order_service.confirm_receipt(db, buyer.id, order.id)
    finance_service.run_settlements(db, clock.now())
    db.expire_all()
    settlement = db.scalars(select(Settlement).where(Settlement.order_id == order.id)).one()
    assert settlement.paid_fen == 20_000 - 2_400 - 1_500 + 800 == order.paid_fen
    assert settlement.subsidy_fen == order.platform_discount_fen + order.campaign_subsidy_fen == 1_500
    assert settlement.settlement_fen == order.shop_settlement_fen
    assert (
        settlement.settlement_fen
        == settlement.paid_fen
        + settlement.subsidy_fen
        - settlement.platform_fee_fen
        - settlement.commission_fen
    )
