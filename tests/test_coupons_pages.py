"""Coupon and campaign pages, server side: the merchant's coupon list and editor, campaign
registration with the score gate's reason, the product page's coupon strip and claiming, "my
coupons", and checkout preselecting the best coupon (which the shopper may change or drop)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.web_helpers import form_token, seed_world, web_login
from zhongcao import clock
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.campaigns import service as campaigns_service
from zhongcao.campaigns.models import CampaignProduct, Coupon, CouponFunder, UserCoupon
from zhongcao.catalog.models import Product
from zhongcao.commerce.models import Order

MERCHANT = "owner-bloom_beauty@example.com"
OTHER_MERCHANT = "owner-wild_outdoors@example.com"
ADDRESS = {
    "name": "小王",
    "phone": "13800138000",
    "province_code": "330000",
    "city_code": "330100",
    "district_code": "330106",
    "line": "文三路 1 号",
}


@pytest.fixture
def world(db):
    return seed_world(db)


def _post(client, url: str, data: dict, page: str | None = None):
    token = form_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _flash(client, response) -> str:
    assert response.status_code == 303, response.text[:2000]
    page = client.get(response.headers["location"]).text
    found = re.search(r'<p class="flash" role="status">([^<]+)</p>', page)
    assert found, "no notice on the page redirected to"
    return found.group(1)


def _china(delta: timedelta) -> str:
    from zhongcao.web.templating import DISPLAY_TZ

    return (clock.now() + delta).astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M")


def _coupon_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "满99减10",
        "kind": "amount",
        "threshold": "99",
        "discount": "10",
        "percent": "",
        "per_user_limit": "1",
        "total_quantity": "100",
        "starts_at": _china(-timedelta(minutes=5)),
        "ends_at": _china(timedelta(days=7)),
    }
    form.update(overrides)
    return form


def _platform_coupon(db, **terms) -> Coupon:
    now = clock.now()
    return coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.platform,
        shop_id=None,
        name=terms.pop("name", "平台满减"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        **terms,
    )


# --- merchant: coupons ---------------------------------------------------------------------------


def test_create_edit_and_end_a_coupon(client, db, world):
    web_login(client, MERCHANT)
    html = client.get("/merchant/coupons").text
    assert "还没有优惠券" in html and 'href="/merchant/coupons/new"' in html

    # Refused: the amount off is not below the minimum; everything typed comes back.
    r = _post(client, "/merchant/coupons/new", _coupon_form(name="大额券", threshold="10", discount="10"))
    assert r.status_code == 422 and 'id="discount-error"' in r.text
    assert 'value="大额券"' in r.text and 'value="10"' in r.text and "优惠金额必须小于使用门槛" in r.text
    r = _post(client, "/merchant/coupons/new", _coupon_form(kind="percent", percent="120"))
    assert r.status_code == 422 and 'id="percent-error"' in r.text and 'value="120"' in r.text
    r = _post(client, "/merchant/coupons/new", _coupon_form(ends_at="tomorrow"))
    assert r.status_code == 422 and 'id="ends_at-error"' in r.text

    r = _post(client, "/merchant/coupons/new", _coupon_form(), "/merchant/coupons/new")
    assert _flash(client, r) == "优惠券已创建。"
    coupon = db.scalars(select(Coupon).where(Coupon.shop_id == world.shop_id)).one()
    assert (coupon.threshold_fen, coupon.discount_fen, coupon.total_quantity) == (9_900, 1_000, 100)
    url = f"/merchant/coupons/{coupon.id}"

    html = client.get("/merchant/coupons?state=running").text
    assert "满99减10" in html and "减 ¥10.00" in html and "满 ¥99.00 可用" in html
    assert "满99减10" not in client.get("/merchant/coupons?state=ended").text
    assert "满99减10" in client.get("/merchant/coupons?q=99").text
    assert "没有符合条件的优惠券" in client.get("/merchant/coupons?q=nothing").text

    coupons_service.claim_coupon(db, world.shopper_id, coupon.id)
    html = client.get(url).text
    assert "已有顾客领取" in html and "已领 1 · 已使用 0" in html
    r = _post(client, url, _coupon_form(discount="20"), url)
    assert r.status_code == 409 and 'id="discount-error"' in r.text and 'value="20"' in r.text
    r = _post(
        client,
        url,
        _coupon_form(
            name="周末满减",
            starts_at=client.get(url).text.split(
                'id="f-starts_at" name="starts_at" type="datetime-local" value="'
            )[1][:16],
        ),
        url,
    )
    assert _flash(client, r) == "已保存。"
    db.expire_all()
    assert db.get(Coupon, coupon.id).name == "周末满减"

    assert _flash(client, _post(client, url + "/end", {}, url)) == "优惠券已结束发放。"
    html = client.get("/merchant/coupons?state=ended").text
    assert "周末满减" in html
    assert "已结束，不能再修改" in client.get(url).text


def test_saving_a_claimed_coupon_as_shown_keeps_its_times(client, db, world):
    """Times are shown to the minute; a coupon made through the API has seconds. Saving the editor
    with only the name changed must not count as moving the start of a coupon shoppers hold."""
    now = clock.now().replace(second=37, microsecond=123456)
    coupon = coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.shop_id,
        name="接口建的券",
        threshold_fen=0,
        discount_fen=800,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(days=2),
    )
    coupons_service.claim_coupon(db, world.shopper_id, coupon.id)
    starts, ends = coupon.starts_at, coupon.ends_at
    web_login(client, MERCHANT)
    url = f"/merchant/coupons/{coupon.id}"
    html = client.get(url).text
    shown = {
        name: re.search(rf'name="{name}" type="datetime-local" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        for name in ("starts_at", "ends_at")
    }
    form = _coupon_form(name="改了名字", threshold="0", discount="8", total_quantity="", **shown)
    assert _flash(client, _post(client, url, form, url)) == "已保存。"
    db.expire_all()
    saved = db.get(Coupon, coupon.id)
    assert (saved.name, saved.starts_at, saved.ends_at) == ("改了名字", starts, ends)


def test_coupon_pages_are_the_shops_own(client, db, world):
    now = clock.now()
    theirs = coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.other_shop_id,
        name="山野专属券",
        threshold_fen=0,
        discount_fen=500,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
    )
    web_login(client, MERCHANT)
    assert client.get(f"/merchant/coupons/{theirs.id}").status_code == 404
    assert "山野专属券" not in client.get("/merchant/coupons").text
    r = _post(client, f"/merchant/coupons/{theirs.id}/end", {}, "/merchant/coupons")
    assert r.status_code == 404
    db.expire_all()
    assert db.get(Coupon, theirs.id).ended_at is None


def test_console_coupon_list_in_english(client, db, world):
    web_login(client, MERCHANT)
    client.get("/locale?to=en&next=/merchant")
    _post(
        client,
        "/merchant/coupons/new",
        _coupon_form(kind="percent", percent="10", discount="30", threshold="0"),
        "/merchant/coupons/new",
    )
    html = client.get("/merchant/coupons").text
    assert "10% off, at most ¥30.00" in html and "no minimum" in html and "Running" in html


# --- merchant: campaigns -------------------------------------------------------------------------


def test_campaign_registration_and_the_score_gate(client, db, world):
    serum = db.get(Product, world.product_ids[0])
    now = clock.now()
    open_campaign = campaigns_service.create_campaign(
        db,
        slug="autumn-care",
        name_zh="秋季护肤节",
        name_en="Autumn skincare week",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=6),
        category_ids=[serum.category_id],
        subsidy_per_item_fen=500,
        budget_fen=100_000,
    )
    gated = campaigns_service.create_campaign(
        db,
        slug="star-shops",
        name_zh="金牌店铺日",
        name_en="Star shops day",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=3),
        category_ids=[serum.category_id],
        min_shop_score_centi=490,
    )
    web_login(client, MERCHANT)
    html = client.get("/merchant/campaigns").text
    assert "秋季护肤节" in html and "金牌店铺日" in html
    assert "你的店铺体验分 4.68 低于本活动要求的 4.90。" in html

    url = f"/merchant/campaigns/{open_campaign.id}"
    r = _post(client, url + "/registrations", {"product_id": str(serum.id)}, url)
    assert _flash(client, r) == "商品已报名。"
    assert "已报名" in client.get(url).text
    r = _post(client, url + "/registrations", {"product_id": str(serum.id)}, url)
    assert r.status_code == 409 and "这个商品已经报名了" in r.text

    gated_url = f"/merchant/campaigns/{gated.id}"
    r = _post(client, gated_url + "/registrations", {"product_id": str(serum.id)}, gated_url)
    assert r.status_code == 409 and 'id="form-errors"' in r.text
    assert "你的店铺体验分 4.68 低于本活动要求的 4.90。" in r.text
    client.get("/locale?to=en&next=/merchant")
    r = _post(client, gated_url + "/registrations", {"product_id": str(serum.id)}, gated_url)
    assert "Your score 4.68 is below this campaign&#39;s 4.90." in r.text
    registered = db.scalars(
        select(CampaignProduct.campaign_id).where(CampaignProduct.product_id == serum.id)
    ).all()
    assert registered == [open_campaign.id]

    r = _post(client, url + "/registrations", {"product_id": str(serum.id), "action": "withdraw"}, url)
    assert _flash(client, r) == "Product withdrawn."
    # Another shop's product is not found, not registered.
    tent = world.product_ids[4]
    assert _post(client, url + "/registrations", {"product_id": str(tent)}, url).status_code == 404


# --- shopper ---------------------------------------------------------------------------------------


def test_product_strip_claim_and_checkout_preselects_the_best(client, db, world):
    now = clock.now()
    small = coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.shop_id,
        name="满99减10",
        threshold_fen=9_900,
        discount_fen=1_000,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    big = coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.shop_id,
        name="九折券",
        threshold_fen=0,
        discount_fen=5_000,
        percent_off=10,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    platform = _platform_coupon(db, name="平台无门槛", threshold_fen=0, discount_fen=300)
    serum = world.product_ids[0]

    anonymous = client.get(f"/products/{serum}").text
    assert "满99减10" in anonymous and "九折券" in anonymous and "平台无门槛" in anonymous
    # Nobody signed in: the claim button leads to sign-in and back to this product.
    assert f'href="/login?next=%2Fproducts%2F{serum}"' in anonymous

    web_login(client, world.shopper_email)
    page = f"/products/{serum}"
    for coupon in (small, big, platform):
        r = _post(client, f"/coupons/{coupon.id}/claim", {"next": page}, page)
        assert _flash(client, r).startswith("领取成功")
    r = _post(client, f"/coupons/{small.id}/claim", {"next": page}, page)
    assert _flash(client, r) == "你已领取过这张优惠券，达到每人限领数量。"
    assert client.get(page).text.count("已领取") >= 3
    assert "九折券" in client.get("/me/coupons").text

    # The serum's 30ml SKU is ¥129: 10% (¥12.90) beats ¥10; the platform coupon takes ¥3 more.
    html = client.get(f"/checkout?sku={world.sku_ids[0]}&qty=1").text
    mine = {
        uc.coupon_id: uc.id
        for uc in db.scalars(select(UserCoupon).where(UserCoupon.user_id == world.shopper_id))
    }
    assert re.search(rf'value="{mine[big.id]}" data-amount="1290" checked', html)
    assert re.search(rf'value="{mine[small.id]}" data-amount="1000">', html)
    assert re.search(rf'value="{mine[platform.id]}" data-amount="300" checked', html)
    # ¥129.00 − ¥12.90 − ¥3.00 + free shipping (over ¥99) = ¥113.10
    assert 'data-sum="total">¥113.10<' in html

    token = form_token(client, f"/checkout?sku={world.sku_ids[0]}&qty=1")
    chosen = {f"shop_coupon_{world.shop_id}": str(mine[small.id]), "platform_coupon": "none"}
    r = client.post(
        "/checkout",
        data={
            "sku": str(world.sku_ids[0]),
            "qty": "1",
            "idempotency_key": "k1",
            "csrf_token": token,
            **ADDRESS,
            **chosen,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:2000]
    order = db.scalars(
        select(Order).where(Order.user_id == world.shopper_id).order_by(Order.id.desc())
    ).first()
    assert order is not None
    assert (
        order.shop_discount_fen,
        order.platform_discount_fen,
        order.shop_coupon_id,
        order.platform_coupon_id,
    ) == (
        1_000,
        0,
        mine[small.id],
        None,
    )
    assert (
        order.item_total_fen - order.shop_discount_fen + order.shipping_fen - order.campaign_subsidy_fen
        == 11_900
    )
    # The coupon is held by the unpaid checkout; the page no longer offers it.
    html = client.get(f"/checkout?sku={world.sku_ids[0]}&qty=1").text
    assert f'value="{mine[small.id]}" data-amount' not in html
    assert f'value="{mine[big.id]}" data-amount="1290" checked' in html


def test_checkout_keeps_the_chosen_coupon_when_the_address_is_wrong(client, db, world):
    now = clock.now()
    coupon = coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.shop_id,
        name="无门槛5元",
        threshold_fen=0,
        discount_fen=500,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    held = coupons_service.claim_coupon(db, world.shopper_id, coupon.id)
    web_login(client, world.shopper_email)
    url = f"/checkout?sku={world.sku_ids[1]}&qty=1"
    token = form_token(client, url)
    r = client.post(
        "/checkout",
        data={
            "sku": str(world.sku_ids[1]),
            "qty": "1",
            "csrf_token": token,
            **{**ADDRESS, "phone": "12"},
            f"shop_coupon_{world.shop_id}": "none",
        },
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'id="phone-error"' in r.text
    assert re.search(rf'value="{held.id}" data-amount="500">', r.text)
    assert 'value="none" data-amount="0" checked' in r.text


def test_ending_soon_note_and_read_only_staff(client, db, world):
    from tests.factories import add_staff
    from zhongcao.shops.models import Shop, StaffRole

    now = clock.now()
    coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.shop_id,
        name="今晚截止券",
        threshold_fen=0,
        discount_fen=300,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(hours=20),
    )
    web_login(client, MERCHANT)
    html = client.get("/merchant/coupons").text
    assert "1 张优惠券将在 3 天内结束" in html and "今晚截止券" in html
    client.post("/logout", data={"csrf_token": form_token(client, "/merchant/coupons")})
    agent = add_staff(db, db.get(Shop, world.shop_id), StaffRole.service_agent)
    web_login(client, agent.email)
    html = client.get("/merchant/coupons").text
    assert "今晚截止券" in html and 'href="/merchant/coupons/new"' not in html
    assert client.get("/merchant/coupons/new").status_code == 403
    assert ">查看<" in html  # a service agent opens coupons to read them, not to edit


def test_my_coupons_empty_state(client, db, world):
    web_login(client, world.shopper_email)
    html = client.get("/me/coupons").text
    assert "还没有优惠券" in html and 'href="/mall"' in html
