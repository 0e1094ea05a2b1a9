"""Shop memberships: the programme's rules, joining (consent, phone), tiers by spend net of refunds,
the merchant's member analytics; API and pages."""

from __future__ import annotations

import pytest

from tests.commerce_helpers import paid_order
from tests.factories import add_staff, auth, make_shop, make_user
from tests.web_helpers import form_token, web_login
from zhongcao import flows
from zhongcao.errors import Conflict, InvalidInput
from zhongcao.membership import service
from zhongcao.shops.models import StaffRole

TIERS = [
    {"name_zh": "普通会员", "name_en": "Member", "threshold_fen": 0},
    {"name_zh": "银卡会员", "name_en": "Silver", "threshold_fen": 20_000},
    {"name_zh": "金卡会员", "name_en": "Gold", "threshold_fen": 50_000},
]


def test_tiers_are_validated(db):
    shop = make_shop(db)
    db.commit()
    bad = [
        ([], "tiers"),
        ([{**TIERS[0], "threshold_fen": 100}], "tiers.0"),
        ([TIERS[0], {**TIERS[1], "threshold_fen": 0}], "tiers.1"),
        ([TIERS[0], {**TIERS[1], "name_en": " "}], "tiers.1"),
        ([TIERS[0], {**TIERS[1], "threshold_fen": 1.5}], "tiers.1"),
    ]
    for tiers, field in bad:
        with pytest.raises(InvalidInput) as info:
            service.configure(db, shop.shop.id, enabled=True, tiers=tiers)
        assert info.value.details["field"] == field
    program = service.configure(db, shop.shop.id, enabled=True, tiers=TIERS)
    assert [t.name_en for t in service.tiers_of(program)] == ["Member", "Silver", "Gold"]
    assert service.tier_for(program, 19_999).name_en == "Member"
    assert service.tier_for(program, 20_000).name_en == "Silver"
    assert service.tier_for(program, 10**9).name_en == "Gold"


def test_joining_needs_an_open_programme_consent_and_a_valid_phone(db):
    shop = make_shop(db)
    buyer = make_user(db)
    db.commit()
    with pytest.raises(Conflict):
        service.join(db, shop.shop.id, buyer.id, consent=True)
    service.configure(db, shop.shop.id, enabled=True, tiers=TIERS)
    with pytest.raises(InvalidInput) as info:
        service.join(db, shop.shop.id, buyer.id, consent=False)
    assert info.value.code == "consent_required"
    for phone in ("12345", "23800138000", "1380013800x"):
        with pytest.raises(InvalidInput) as info:
            service.join(db, shop.shop.id, buyer.id, consent=True, phone=phone)
        assert info.value.details["field"] == "phone"
    member = service.join(db, shop.shop.id, buyer.id, consent=True, phone="138 0013 8000")
    assert member.phone == "13800138000"
    assert service.join(db, shop.shop.id, buyer.id, consent=True).id == member.id  # joining again: the same


def test_tier_follows_spend_and_analytics_compare_members_with_others(db):
    bundle = paid_order(db, price_fen=25_000)
    shop_id = bundle.shop.shop.id
    service.configure(db, shop_id, enabled=True, tiers=TIERS)
    service.join(db, shop_id, bundle.buyer.id, consent=True)
    status = flows.member_status(db, shop_id, bundle.buyer.id)
    assert (
        status.spend_fen == 25_000 and status.tier.name_en == "Silver" and status.next_tier.name_en == "Gold"
    )
    # The member buys again; another buyer (not a member) buys once.
    paid_order(db, buyer=bundle.buyer, shop=bundle.shop, product=bundle.product, price_fen=25_000)
    other = paid_order(db, shop=bundle.shop, product=bundle.product)
    a = flows.member_analytics(db, shop_id)
    assert a.members == 1 and a.member_buyers == 1
    assert a.member_gmv_fen == 50_000 and a.gmv_fen == 50_000 + other.order.paid_fen
    assert a.member_repurchase == 1.0 and a.other_repurchase == 0.0
    assert [n for _, n in a.tier_counts] == [0, 0, 1]  # 50,000 spent: gold


def test_membership_api(client, db):
    shop = make_shop(db)
    agent = add_staff(db, shop.shop, StaffRole.service_agent)
    buyer = make_user(db)
    db.commit()
    owner, shopper = auth(db, shop.owner), auth(db, buyer)
    assert client.get("/api/merchant/membership", headers=owner).json()["enabled"] is False
    body = {"enabled": True, "tiers": TIERS}
    assert client.put("/api/merchant/membership", json=body, headers=auth(db, agent)).status_code == 403
    r = client.put(
        "/api/merchant/membership",
        json={**body, "tiers": TIERS[:1] + [{**TIERS[1], "threshold_fen": 0}]},
        headers=owner,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "tiers.1"
    assert client.put("/api/merchant/membership", json=body, headers=owner).json()["enabled"] is True
    url = f"/api/shops/{shop.shop.id}/membership"
    assert client.get(url).json()["member"] is False  # anyone may read the programme
    r = client.post(url, json={"consent": False}, headers=shopper)
    assert r.status_code == 422 and r.json()["error"]["code"] == "consent_required"
    r = client.post(url, json={"consent": True, "phone": "13800138000"}, headers=shopper)
    assert r.status_code == 200 and r.json()["member"] is True and r.json()["tier"]["name_en"] == "Member"
    assert client.post(url, json={"consent": True}, headers=owner).status_code == 403  # shoppers only
    members = client.get("/api/merchant/members", headers=owner).json()["items"]
    assert [m["user_id"] for m in members] == [buyer.id]
    assert client.get("/api/merchant/members/analytics", headers=owner).json()["members"] == 1
    assert client.get("/api/shops/999999/membership").status_code == 404


def test_membership_pages(client, db):
    bundle = paid_order(db, price_fen=25_000)
    shop_id = bundle.shop.shop.id
    db.commit()
    web_login(client, bundle.shop.owner.email)
    html = client.get("/merchant/members").text
    assert "会员计划尚未开启" in html and 'aria-current="page">会员' in html
    token = form_token(client, "/merchant/members")
    form = {"csrf_token": token, "enabled": "on", "tier0_zh": "普通会员", "tier0_en": "Member"}
    form |= {
        "tier1_zh": "银卡会员",
        "tier1_en": "Silver",
        "tier1_yuan": "100",
        "tier2_zh": "金卡会员",
        "tier2_en": "Gold",
        "tier2_yuan": "50",
    }
    r = client.post("/merchant/members", data=form)
    assert r.status_code == 422 and "每一级的门槛要高于上一级" in r.text and 'value="50"' in r.text  # kept
    r = client.post("/merchant/members", data={**form, "tier2_yuan": "500"}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()

    web_login(client, bundle.buyer.email)
    assert "会员中心" in client.get(f"/shops/{shop_id}").text
    page = client.get(f"/shops/{shop_id}/membership").text
    assert "银卡会员" in page and "累计消费满 ¥100.00" in page
    token = form_token(client, f"/shops/{shop_id}/membership")
    r = client.post(f"/shops/{shop_id}/membership", data={"csrf_token": token, "phone": "1380013"})
    assert r.status_code == 422 and "请勾选同意会员规则" in r.text and 'value="1380013"' in r.text
    r = client.post(
        f"/shops/{shop_id}/membership", data={"csrf_token": token, "phone": "1380013", "consent": "on"}
    )
    assert r.status_code == 422 and "请填写 11 位手机号" in r.text
    r = client.post(f"/shops/{shop_id}/membership", data={"csrf_token": token, "consent": "on"})
    assert r.status_code == 200 and "欢迎加入" in r.text
    assert "银卡会员" in r.text and "再消费 ¥250.00 升级为金卡会员" in r.text
    client.cookies.clear()
    web_login(client, bundle.shop.owner.email)
    html = client.get("/merchant/members").text
    assert bundle.buyer.display_name in html, html[html.find("members-title") :][:1500]
    assert "100.0%" in html
    # The tier filter: ¥250 spent is silver (from ¥100), not gold (from ¥500).
    assert bundle.buyer.display_name in client.get("/merchant/members?tier=1").text
    gold = client.get("/merchant/members?tier=2").text
    assert bundle.buyer.display_name not in gold and "这个等级还没有会员" in gold
    assert bundle.buyer.display_name in client.get("/merchant/members?tier=7").text  # unknown: everyone


def test_members_pay_the_member_price_at_checkout_and_money_adds_up(client, db):
    from tests.commerce_helpers import ADDRESS, first_sku
    from tests.factories import make_product

    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=3_333, stock=20)
    member, stranger = make_user(db), make_user(db)
    db.commit()
    service.configure(db, shop.shop.id, enabled=True, tiers=TIERS, discount_bps=500)
    service.join(db, shop.shop.id, member.id, consent=True)
    sku = first_sku(db, product)
    body = {"items": [{"sku_id": sku.id, "quantity": 3}], "shipping_address": ADDRESS}
    orders = {}
    for who in (member, stranger):
        r = client.post(
            "/api/checkout", json=body, headers={**auth(db, who), "Idempotency-Key": f"m{who.id}"}
        )
        assert r.status_code == 201, r.text
        orders[who.id] = r.json()["orders"][0]
    paid = orders[member.id]
    assert paid["item_total_fen"] == 9_999 and paid["shop_discount_fen"] == 499  # 5% of 9,999, rounded down
    assert paid["paid_fen"] == 9_999 - 499 + paid["shipping_fen"]
    assert orders[stranger.id]["shop_discount_fen"] == 0
    from zhongcao.commerce.models import Order

    order = db.get(Order, paid["id"])
    assert sum(i.shop_discount_fen for i in order.items) == 499
    assert order.paid_fen + order.platform_discount_fen + order.campaign_subsidy_fen == (
        order.shop_settlement_fen + order.platform_fee_fen + order.commission_fen
    )
    # A programme switched off gives no member price.
    service.configure(db, shop.shop.id, enabled=False, tiers=TIERS, discount_bps=500)
    r = client.post("/api/checkout", json=body, headers={**auth(db, member), "Idempotency-Key": "again"})
    assert r.json()["orders"][0]["shop_discount_fen"] == 0
    with pytest.raises(InvalidInput):
        service.configure(db, shop.shop.id, enabled=True, tiers=TIERS, discount_bps=3_001)
