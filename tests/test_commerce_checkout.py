"""Checkout: orders per shop, snapshots, stock, attribution, subsidies, coupons, fees, commission."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.commerce_helpers import (
    ADDRESS,
    first_sku,
    give_coupon,
    make_campaign,
    make_content,
    make_plan,
    place,
)
from tests.factories import auth, make_category, make_creator, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.affiliate.models import PlanKind, PlanStatus
from zhongcao.campaigns.models import Campaign, UserCoupon, UserCouponStatus
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.commerce.models import Carrier, Checkout, CheckoutStatus, Order, OrderItem, OrderStatus
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.shops.models import ShopStatus
from zhongcao.users.models import Role


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def _body(items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"items": items, "shipping_address": ADDRESS, **extra}


def _stock(db, sku_id: int) -> int:
    db.expire_all()
    return db.get(Sku, sku_id).stock


def test_checkout_creates_one_order_per_shop_with_snapshots(client, db):
    buyer = make_user(db)
    shop_a = make_shop(db, shipping_fee_fen=800)
    shop_b = make_shop(db, shipping_fee_fen=600, free_shipping_threshold_fen=10_000)
    pa = make_product(db, shop_a.shop, price_fen=2500, stock=10)
    pb = make_product(db, shop_b.shop, price_fen=6000, stock=10)
    sa, sb = first_sku(db, pa), first_sku(db, pb)
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": sa.id, "quantity": 2}, {"sku_id": sb.id, "quantity": 2}]),
        headers={**auth(db, buyer), **_key()},
    )
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["status"] == "pending_payment"
    assert len(data["orders"]) == 2
    by_shop = {o["shop_id"]: o for o in data["orders"]}
    oa, ob = by_shop[shop_a.shop.id], by_shop[shop_b.shop.id]
    assert oa["item_total_fen"] == 5000 and oa["shipping_fen"] == 800 and oa["paid_fen"] == 5800
    # 12000 >= the 10000 free-shipping threshold
    assert ob["item_total_fen"] == 12000 and ob["shipping_fen"] == 0 and ob["paid_fen"] == 12000
    assert data["total_fen"] == 17800
    item = oa["items"][0]
    assert item["title_zh"] == pa.title_zh and item["unit_price_fen"] == 2500 and item["quantity"] == 2
    assert item["sku_attributes"] == sa.attributes
    assert item["attribution"]["carrier"] == "F" and item["attribution"]["frozen_at"] is None
    assert oa["shipping_address"] == ADDRESS
    assert _stock(db, sa.id) == 8 and _stock(db, sb.id) == 8
    # Expiry follows settings.payment_timeout_minutes (30 by default).
    checkout = db.get(Checkout, data["id"])
    assert checkout.expires_at - checkout.created_at == timedelta(minutes=30)
    # The snapshot does not follow later catalog edits.
    title = pa.title_zh
    db.get(Sku, sa.id).price_fen = 9999
    db.get(Product, pa.id).title_zh = "改名"
    db.commit()
    got = client.get(f"/api/orders/{oa['id']}", headers=auth(db, buyer)).json()
    assert got["items"][0]["unit_price_fen"] == 2500 and got["items"][0]["title_zh"] == title


def test_checkout_from_cart_takes_cart_lines_and_empties_them(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    creator_user, creator = make_creator(db)
    product = make_product(db, shop.shop, price_fen=1000)
    other = make_product(db, shop.shop, price_fen=300)
    content = make_content(db, creator, [product])
    make_plan(db, product, commission_bps=2000)
    sku, other_sku = first_sku(db, product), first_sku(db, other)
    r = client.post(
        "/api/cart/items",
        json={
            "sku_id": sku.id,
            "quantity": 2,
            "attribution": {"channel": "short_video", "content_id": content.id},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert (
        client.post(
            "/api/cart/items", json={"sku_id": other_sku.id, "quantity": 1}, headers=headers
        ).status_code
        == 201
    )
    r = client.post(
        "/api/checkout", json={"from_cart": True, "shipping_address": ADDRESS}, headers={**headers, **_key()}
    )
    assert r.status_code == 201, r.text
    items = {i["sku_id"]: i for i in r.json()["orders"][0]["items"]}
    assert items[sku.id]["quantity"] == 2
    assert items[sku.id]["attribution"]["account_id"] == creator.id
    assert items[sku.id]["attribution"]["carrier"] == "A"
    assert items[other_sku.id]["attribution"]["carrier"] == "F"
    assert client.get("/api/cart", headers=headers).json()["items"] == []
    # An empty cart cannot be checked out.
    r = client.post(
        "/api/checkout", json={"from_cart": True, "shipping_address": ADDRESS}, headers={**headers, **_key()}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "cart_empty"


def test_items_or_cart_is_required(client, db):
    buyer = make_user(db)
    r = client.post(
        "/api/checkout", json={"shipping_address": ADDRESS}, headers={**auth(db, buyer), **_key()}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "items_required"
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": sku.id, "quantity": 1}], from_cart=True),
        headers={**auth(db, buyer), **_key()},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "items_or_cart"


def test_idempotency_key_is_required(client, db):
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    r = client.post("/api/checkout", json=_body([{"sku_id": sku.id, "quantity": 1}]), headers=auth(db, buyer))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "idempotency_key_required" and err["details"]["field"] == "Idempotency-Key"
    assert db.scalar(select(func.count()).select_from(Checkout)) == 0
    assert _stock(db, sku.id) == 100
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": sku.id, "quantity": 1}]),
        headers={**auth(db, buyer), "Idempotency-Key": "has spaces"},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_idempotency_key"


def test_checkout_needs_a_shopper(client, db):
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    r = client.post("/api/checkout", json=_body([{"sku_id": sku.id, "quantity": 1}]), headers=_key())
    assert r.status_code == 401
    merchant = make_user(db, Role.merchant)
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": sku.id, "quantity": 1}]),
        headers={**auth(db, merchant), **_key()},
    )
    assert r.status_code == 403


# --- stock and sale state -----------------------------------------------------------------------


def test_insufficient_stock_rolls_back_every_line(client, db):
    buyer = make_user(db)
    shop = make_shop(db)
    plenty = first_sku(db, make_product(db, shop.shop, stock=50))
    scarce = first_sku(db, make_product(db, shop.shop, stock=1))
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": plenty.id, "quantity": 5}, {"sku_id": scarce.id, "quantity": 2}]),
        headers={**auth(db, buyer), **_key()},
    )
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "insufficient_stock" and err["details"]["sku_id"] == scarce.id
    assert err["details"]["field"] == "items[1].quantity"
    assert _stock(db, plenty.id) == 50 and _stock(db, scarce.id) == 1
    assert db.scalar(select(func.count()).select_from(Order)) == 0


def test_not_for_sale_and_unknown_skus(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    ok = first_sku(db, make_product(db, shop.shop))
    delisted = make_product(db, shop.shop)
    delisted.status = ProductStatus.delisted
    inactive_sku = first_sku(db, make_product(db, shop.shop))
    inactive_sku.is_active = False
    suspended = make_shop(db)
    suspended_sku = first_sku(db, make_product(db, suspended.shop))
    suspended.shop.status = ShopStatus.suspended
    db.commit()
    for bad in (first_sku(db, delisted).id, inactive_sku.id, suspended_sku.id):
        r = client.post(
            "/api/checkout",
            json=_body([{"sku_id": ok.id, "quantity": 1}, {"sku_id": bad, "quantity": 1}]),
            headers={**headers, **_key()},
        )
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "not_for_sale"
        assert r.json()["error"]["details"]["field"] == "items[1].sku_id"
    r = client.post(
        "/api/checkout", json=_body([{"sku_id": 987654, "quantity": 1}]), headers={**headers, **_key()}
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "sku_not_found"
    assert r.json()["error"]["details"]["field"] == "items[0].sku_id"
    assert _stock(db, ok.id) == 100
    assert db.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize(
    "items",
    [
        [{"sku_id": 1, "quantity": 0}],
        [{"sku_id": 1, "quantity": -3}],
        [{"sku_id": "abc", "quantity": 1}],
        [{"sku_id": 1}],
        [{"sku_id": 1, "quantity": 1, "colour": "red"}],
        [{"sku_id": 1, "quantity": 1000}],
        [{"sku_id": 1, "quantity": 1, "attribution": {"channel": "tv"}}],
        [{"sku_id": 2**70, "quantity": 1}],
        [],
        "not a list",
    ],
)
def test_malformed_items_are_422_and_change_nothing(client, db, items):
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    body = _body(items)
    r = client.post("/api/checkout", json=body, headers={**auth(db, buyer), **_key()})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["details"]["field"].startswith("items")
    assert _stock(db, sku.id) == 100
    assert db.scalar(select(func.count()).select_from(Checkout)) == 0


def test_bad_address_and_duplicate_skus(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    r = client.post(
        "/api/checkout",
        json={
            "items": [{"sku_id": sku.id, "quantity": 1}],
            "shipping_address": {**ADDRESS, "phone": "call me"},
        },
        headers={**headers, **_key()},
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "shipping_address.phone"
    r = client.post(
        "/api/checkout", json={"items": [{"sku_id": sku.id, "quantity": 1}]}, headers={**headers, **_key()}
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "shipping_address"
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": sku.id, "quantity": 1}, {"sku_id": sku.id, "quantity": 2}]),
        headers={**headers, **_key()},
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "duplicate_sku"
    assert r.json()["error"]["details"]["field"] == "items[1].sku_id"
    assert _stock(db, sku.id) == 100


# --- attribution ---------------------------------------------------------------------------------


def _one_line(db, buyer, product, attribution=None) -> OrderItem:
    item: dict[str, Any] = {"sku_id": first_sku(db, product).id, "quantity": 1}
    if attribution is not None:
        item["attribution"] = attribution
    checkout = place(db, buyer, [item])
    return checkout.orders[0].items[0]


def test_carrier_is_derived_from_the_account(db):
    buyer = make_user(db)
    shop = make_shop(db)
    other_shop = make_shop(db)
    product = make_product(db, shop.shop, stock=100)
    _, creator = make_creator(db)
    _, kol = make_creator(db, top_kol=True)
    own_video = make_content(db, shop.account, [product])
    creator_video = make_content(db, creator, [product])
    kol_video = make_content(db, kol, [product])
    foreign_video = make_content(db, other_shop.account, [product])

    item = _one_line(db, buyer, product, {"channel": "short_video", "content_id": own_video.id})
    assert (item.carrier, item.account_id) == (Carrier.field, shop.account.id)
    item = _one_line(db, buyer, product, {"channel": "live", "content_id": creator_video.id})
    assert (item.carrier, item.account_id, item.content_id) == (
        Carrier.alliance,
        creator.id,
        creator_video.id,
    )
    item = _one_line(db, buyer, product, {"channel": "short_video", "content_id": kol_video.id})
    assert item.carrier == Carrier.top_kol
    # Account without content (a creator's showcase) is accepted.
    item = _one_line(db, buyer, product, {"channel": "other", "account_id": creator.id})
    assert (item.carrier, item.content_id) == (Carrier.alliance, None)
    # Another shop's account is no FACT carrier for this shop's item.
    item = _one_line(db, buyer, product, {"channel": "short_video", "content_id": foreign_video.id})
    assert item.carrier == Carrier.field
    item = _one_line(db, buyer, product)
    assert (item.carrier, item.channel.value) == (Carrier.field, "other")
    # A campaign applies and no account: Campaign.
    campaign = make_campaign(db, [product], subsidy_per_item_fen=0, budget_fen=0)
    item = _one_line(db, buyer, product, {"channel": "search"})
    assert (item.carrier, item.campaign_id) == (Carrier.campaign, campaign.id)
    item = _one_line(db, buyer, product, {"channel": "live", "content_id": creator_video.id})
    assert (item.carrier, item.campaign_id) == (Carrier.alliance, campaign.id)


def test_invalid_attribution_is_422_with_the_field(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    product = make_product(db, shop.shop)
    unrelated = make_product(db, shop.shop)
    _, creator = make_creator(db)
    _, someone_else = make_creator(db)
    video = make_content(db, creator, [unrelated])
    anchored = make_content(db, creator, [product])
    sku = first_sku(db, product)
    cases = [
        ({"channel": "short_video", "content_id": 99999}, "items[0].attribution.content_id"),
        ({"channel": "short_video", "content_id": video.id}, "items[0].attribution.content_id"),
        (
            {"channel": "short_video", "content_id": anchored.id, "account_id": someone_else.id},
            "items[0].attribution.account_id",
        ),
        ({"channel": "other", "account_id": 99999}, "items[0].attribution.account_id"),
        ({"channel": "other", "campaign_id": 99999}, "items[0].attribution.campaign_id"),
    ]
    for attribution, field in cases:
        r = client.post(
            "/api/checkout",
            json=_body([{"sku_id": sku.id, "quantity": 1, "attribution": attribution}]),
            headers={**headers, **_key()},
        )
        assert r.status_code == 422, (attribution, r.text)
        assert r.json()["error"]["code"] == "invalid_attribution"
        assert r.json()["error"]["details"]["field"] == field
    # Naming the publisher explicitly is fine.
    r = client.post(
        "/api/checkout",
        json=_body(
            [
                {
                    "sku_id": sku.id,
                    "quantity": 1,
                    "attribution": {
                        "channel": "short_video",
                        "content_id": anchored.id,
                        "account_id": creator.id,
                    },
                }
            ]
        ),
        headers={**headers, **_key()},
    )
    assert r.status_code == 201, r.text
    assert _stock(db, sku.id) == 99


# --- campaign subsidy ----------------------------------------------------------------------------


def test_campaign_subsidy_is_reserved_from_the_budget(db):
    buyer = make_user(db)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=2000)
    campaign = make_campaign(db, [product], subsidy_per_item_fen=300, budget_fen=1000)
    sku = first_sku(db, product)
    item = place(db, buyer, [{"sku_id": sku.id, "quantity": 3}]).orders[0].items[0]
    assert item.campaign_subsidy_fen == 900 and item.campaign_id == campaign.id
    assert item.paid_fen == 6000 - 900
    db.refresh(campaign)
    assert campaign.spent_fen == 900
    # 2 more units would need 600 but only 100 is left: that line simply gets no subsidy.
    item = place(db, buyer, [{"sku_id": sku.id, "quantity": 2}]).orders[0].items[0]
    assert item.campaign_subsidy_fen == 0 and item.paid_fen == 4000
    assert item.campaign_id == campaign.id and item.carrier == Carrier.campaign
    db.refresh(campaign)
    assert campaign.spent_fen == 900


def test_subsidy_is_capped_at_the_line_and_skips_ended_or_withdrawn_campaigns(db):
    buyer = make_user(db)
    shop = make_shop(db)
    cheap = make_product(db, shop.shop, price_fen=100)
    make_campaign(db, [cheap], subsidy_per_item_fen=500, budget_fen=10_000)
    item = place(db, buyer, [{"sku_id": first_sku(db, cheap).id, "quantity": 2}]).orders[0].items[0]
    assert item.campaign_subsidy_fen == 200 and item.paid_fen == 0

    product = make_product(db, shop.shop, price_fen=1000)
    now = clock.now()
    make_campaign(db, [product], starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    make_campaign(db, [product], starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=3))
    withdrawn = make_campaign(db, [product])
    from zhongcao.campaigns.models import CampaignProduct

    db.scalar(select(CampaignProduct).where(CampaignProduct.campaign_id == withdrawn.id)).withdrawn_at = now
    db.commit()
    item = place(db, buyer, [{"sku_id": first_sku(db, product).id, "quantity": 1}]).orders[0].items[0]
    assert item.campaign_subsidy_fen == 0 and item.campaign_id is None and item.carrier == Carrier.field


# --- coupons -------------------------------------------------------------------------------------


def test_shop_and_platform_coupons_are_spread_and_reserved(db):
    buyer = make_user(db)
    shop_a = make_shop(db)
    shop_b = make_shop(db)
    a1 = make_product(db, shop_a.shop, price_fen=3000)
    a2 = make_product(db, shop_a.shop, price_fen=1000)
    b1 = make_product(db, shop_b.shop, price_fen=6000)
    shop_coupon = give_coupon(db, buyer, shop_id=shop_a.shop.id, threshold_fen=4000, discount_fen=1000)
    platform_coupon = give_coupon(db, buyer, threshold_fen=10_000, discount_fen=2001)
    checkout = place(
        db,
        buyer,
        [
            {"sku_id": first_sku(db, a1).id, "quantity": 1},
            {"sku_id": first_sku(db, a2).id, "quantity": 1},
            {"sku_id": first_sku(db, b1).id, "quantity": 1},
        ],
        shop_coupon_ids=[shop_coupon.id],
        platform_coupon_id=platform_coupon.id,
    )
    orders = {o.shop_id: o for o in checkout.orders}
    oa, ob = orders[shop_a.shop.id], orders[shop_b.shop.id]
    # Shop coupon 1000 over lines 3000:1000 -> 750 / 250.
    assert [i.shop_discount_fen for i in oa.items] == [750, 250]
    assert oa.shop_discount_fen == 1000 and ob.shop_discount_fen == 0
    assert oa.shop_coupon_id == shop_coupon.id
    # Platform coupon 2001 over orders by item total 4000:6000 -> 800 / 1201 (largest remainder).
    assert (oa.platform_discount_fen, ob.platform_discount_fen) == (800, 1201)
    assert [i.platform_discount_fen for i in oa.items] == [600, 200]
    assert oa.platform_coupon_id == ob.platform_coupon_id == platform_coupon.id
    assert checkout.total_fen == 10_000 - 1000 - 2001
    db.expire_all()
    for uc in (shop_coupon, platform_coupon):
        row = db.get(UserCoupon, uc.id)
        assert row.status == UserCouponStatus.reserved and row.checkout_id == checkout.id


def test_discounts_never_exceed_what_is_left(db):
    buyer = make_user(db)
    shop = make_shop(db, shipping_fee_fen=500)
    product = make_product(db, shop.shop, price_fen=1000)
    make_campaign(db, [product], subsidy_per_item_fen=400, budget_fen=10_000)
    shop_coupon = give_coupon(db, buyer, shop_id=shop.shop.id, discount_fen=500)
    platform_coupon = give_coupon(db, buyer, discount_fen=5000)
    order = place(
        db,
        buyer,
        [{"sku_id": first_sku(db, product).id, "quantity": 1}],
        shop_coupon_ids=[shop_coupon.id],
        platform_coupon_id=platform_coupon.id,
    ).orders[0]
    item = order.items[0]
    # 1000 - 500 (shop) - 400 (subsidy) leaves 100 for the 5000 platform coupon.
    assert (item.shop_discount_fen, item.campaign_subsidy_fen, item.platform_discount_fen) == (500, 400, 100)
    assert item.paid_fen == 0 and order.paid_fen == 500  # shipping is still paid


def test_coupon_rules(client, db):
    buyer = make_user(db)
    other_buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    other_shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, price_fen=1000))
    now = clock.now()
    cases = {
        "not_found": ("shop_coupon_ids", give_coupon(db, other_buyer, shop_id=shop.shop.id)),
        "below_threshold": (
            "shop_coupon_ids",
            give_coupon(db, buyer, shop_id=shop.shop.id, threshold_fen=1001),
        ),
        "shop_not_in_checkout": ("shop_coupon_ids", give_coupon(db, buyer, shop_id=other_shop.shop.id)),
        "not_a_shop_coupon": ("shop_coupon_ids", give_coupon(db, buyer)),
        "not_usable": (
            "shop_coupon_ids",
            give_coupon(db, buyer, shop_id=shop.shop.id, starts_at=now + timedelta(days=1)),
        ),
        "not_a_platform_coupon": ("platform_coupon_id", give_coupon(db, buyer, shop_id=shop.shop.id)),
        "below_threshold ": ("platform_coupon_id", give_coupon(db, buyer, threshold_fen=5000)),
    }
    expired = give_coupon(db, buyer, starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    cases["not_usable "] = ("platform_coupon_id", expired)
    for reason, (where, uc) in cases.items():
        extra = {"shop_coupon_ids": [uc.id]} if where == "shop_coupon_ids" else {"platform_coupon_id": uc.id}
        r = client.post(
            "/api/checkout",
            json=_body([{"sku_id": sku.id, "quantity": 1}], **extra),
            headers={**headers, **_key()},
        )
        assert r.status_code == 422, (reason, r.text)
        err = r.json()["error"]
        assert err["code"] == "coupon_not_applicable"
        assert err["details"]["reason"] == reason.strip()
        assert err["details"]["field"] == ("shop_coupon_ids[0]" if where == "shop_coupon_ids" else where)
    two = [give_coupon(db, buyer, shop_id=shop.shop.id).id, give_coupon(db, buyer, shop_id=shop.shop.id).id]
    r = client.post(
        "/api/checkout",
        json=_body([{"sku_id": sku.id, "quantity": 1}], shop_coupon_ids=two),
        headers={**headers, **_key()},
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "one_per_shop"
    assert r.json()["error"]["details"]["field"] == "shop_coupon_ids[1]"
    assert _stock(db, sku.id) == 100
    assert db.scalar(select(func.count()).select_from(Checkout)) == 0
    assert db.scalar(select(func.count()).select_from(UserCoupon).where(UserCoupon.status != "unused")) == 0


def test_a_reserved_coupon_cannot_be_used_twice(db):
    buyer = make_user(db)
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop))
    uc = give_coupon(db, buyer, shop_id=shop.shop.id)
    place(db, buyer, [{"sku_id": sku.id, "quantity": 1}], shop_coupon_ids=[uc.id])
    with pytest.raises(InvalidInput) as exc:
        place(db, buyer, [{"sku_id": sku.id, "quantity": 1}], shop_coupon_ids=[uc.id])
    assert exc.value.code == "coupon_not_applicable"
    assert _stock(db, sku.id) == 99


# --- platform fee and commission -----------------------------------------------------------------


def test_platform_fee_falls_back_from_leaf_to_parent_to_default(db):
    from zhongcao.catalog.models import Category

    buyer = make_user(db)
    shop = make_shop(db)
    leaf = make_category(db, platform_fee_bps=300)
    inherits = make_category(db)
    db.get(Category, inherits.parent_id).platform_fee_bps = 800
    bare = make_category(db)
    db.commit()
    products = [make_product(db, shop.shop, category=c, price_fen=1001) for c in (leaf, inherits, bare)]
    items = (
        place(db, buyer, [{"sku_id": first_sku(db, p).id, "quantity": 1} for p in products]).orders[0].items
    )
    assert [i.platform_fee_bps for i in items] == [300, 800, 500]
    # half up: 1001 * 3% = 30.03 -> 30; 8% = 80.08 -> 80; 5% = 50.05 -> 50
    assert [i.platform_fee_fen for i in items] == [30, 80, 50]


def test_platform_fee_and_commission_are_on_the_line_after_the_shop_discount(db):
    buyer = make_user(db)
    shop = make_shop(db)
    product = make_product(db, shop.shop, category=make_category(db, platform_fee_bps=500), price_fen=2000)
    _, creator = make_creator(db)
    content = make_content(db, creator, [product])
    plan = make_plan(db, product, commission_bps=1500)
    make_campaign(db, [product], subsidy_per_item_fen=100)
    uc = give_coupon(db, buyer, shop_id=shop.shop.id, discount_fen=200)
    pc = give_coupon(db, buyer, discount_fen=300)
    order = place(
        db,
        buyer,
        [
            {
                "sku_id": first_sku(db, product).id,
                "quantity": 1,
                "attribution": {"channel": "live", "content_id": content.id},
            }
        ],
        shop_coupon_ids=[uc.id],
        platform_coupon_id=pc.id,
    ).orders[0]
    item = order.items[0]
    assert item.platform_fee_fen == 90  # 5% of 1800
    assert (item.affiliate_plan_id, item.commission_bps, item.commission_fen) == (plan.id, 1500, 270)
    assert order.paid_fen == 2000 - 200 - 100 - 300
    # The shop gets what the buyer paid plus platform-funded money, less fee and commission.
    assert order.shop_settlement_fen == order.paid_fen + 300 + 100 - 90 - 270


def _commission_for(db, buyer, product, account) -> tuple[int | None, int]:
    content = make_content(db, account, [product])
    item = _one_line(db, buyer, product, {"channel": "short_video", "content_id": content.id})
    return item.affiliate_plan_id, item.commission_bps


def test_affiliate_plan_resolution(db):
    buyer = make_user(db)
    shop = make_shop(db)
    _, listed = make_creator(db)
    _, unlisted = make_creator(db)

    product = make_product(db, shop.shop)
    open_plan = make_plan(db, product, kind=PlanKind.open, commission_bps=1000)
    targeted = make_plan(db, product, kind=PlanKind.targeted, commission_bps=2500, creators=[listed])
    assert _commission_for(db, buyer, product, listed) == (targeted.id, 2500)
    assert _commission_for(db, buyer, product, unlisted) == (open_plan.id, 1000)
    # The shop's own account earns nothing.
    assert _commission_for(db, buyer, product, shop.account) == (None, 0)

    exclusive_product = make_product(db, shop.shop)
    exclusive = make_plan(
        db, exclusive_product, kind=PlanKind.exclusive, commission_bps=3000, creators=[listed]
    )
    assert _commission_for(db, buyer, exclusive_product, listed) == (exclusive.id, 3000)
    assert _commission_for(db, buyer, exclusive_product, unlisted) == (None, 0)

    ended_product = make_product(db, shop.shop)
    ended = make_plan(db, ended_product, commission_bps=1000)
    ended.status = PlanStatus.ended
    db.commit()
    assert _commission_for(db, buyer, ended_product, unlisted) == (None, 0)


# --- reading a checkout --------------------------------------------------------------------------


def test_get_checkout_is_the_buyers_only(client, db):
    buyer = make_user(db)
    stranger = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop))
    checkout = place(db, buyer, [{"sku_id": sku.id, "quantity": 1}])
    r = client.get(f"/api/checkouts/{checkout.id}", headers=auth(db, buyer))
    assert r.status_code == 200 and r.json()["total_fen"] == 9900 and r.json()["payments"] == []
    r = client.get(f"/api/checkouts/{checkout.id}", headers=auth(db, stranger))
    assert r.status_code == 404 and r.json()["error"]["code"] == "checkout_not_found"
    assert client.get("/api/checkouts/0", headers=auth(db, buyer)).status_code == 422


def test_service_errors_leave_nothing_behind(db):
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=2))
    with pytest.raises(NotFound):
        place(db, buyer, [{"sku_id": sku.id, "quantity": 1}, {"sku_id": 424242, "quantity": 1}])
    with pytest.raises(Conflict):
        place(db, buyer, [{"sku_id": sku.id, "quantity": 3}])
    assert _stock(db, sku.id) == 2
    assert db.scalar(select(func.count()).select_from(Checkout)) == 0
    assert db.scalar(select(func.count()).select_from(Campaign)) == 0
    assert all(c.status == CheckoutStatus.pending_payment for c in db.scalars(select(Checkout)))
    assert db.scalar(select(func.count()).select_from(Order).where(Order.status == OrderStatus.created)) == 0


def test_stale_cart_attribution_is_dropped_not_fatal(client, db):
    from zhongcao.content.models import ContentAnchor

    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=1000)
    _, creator = make_creator(db)
    video = make_content(db, creator, [product])
    campaign = make_campaign(db, [product], subsidy_per_item_fen=100)
    sku = first_sku(db, product)
    r = client.post(
        "/api/cart/items",
        json={
            "sku_id": sku.id,
            "quantity": 1,
            "attribution": {"channel": "live", "content_id": video.id, "campaign_id": campaign.id},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    # Since then the anchor was taken down and the campaign ended.
    db.execute(ContentAnchor.__table__.delete().where(ContentAnchor.content_id == video.id))
    db.get(Campaign, campaign.id).ends_at = clock.now() - timedelta(seconds=1)
    db.commit()
    r = client.post(
        "/api/checkout", json={"from_cart": True, "shipping_address": ADDRESS}, headers={**headers, **_key()}
    )
    assert r.status_code == 201, r.text
    item = r.json()["orders"][0]["items"][0]
    assert item["attribution"] == {
        "channel": "live",
        "content_id": None,
        "account_id": None,
        "campaign_id": None,
        "carrier": "F",
        "frozen_at": None,
    }
    assert item["campaign_subsidy_fen"] == 0
