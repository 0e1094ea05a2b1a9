"""Members-only shop coupons (issue #15 item 8): only members of the shop's running membership
programme can claim one, whether through ``flows.claim_coupon``, the JSON API or the pages; the
merchant's editor has the checkbox and the list a badge; shoppers see 会员专享 and a way to join."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.api_helpers import assert_error
from tests.factories import auth, make_shop, make_user
from tests.web_helpers import form_token, seed_world, web_login
from zhongcao import clock, flows
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.campaigns.models import Coupon, CouponFunder, UserCoupon
from zhongcao.errors import Forbidden, InvalidInput
from zhongcao.membership import service as membership_service

MERCHANT = "owner-bloom_beauty@example.com"


def _coupon(db, shop_id: int | None, *, members_only: bool = True, name: str = "会员满100减20") -> Coupon:
    now = clock.now()
    return coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop if shop_id else CouponFunder.platform,
        shop_id=shop_id,
        name=name,
        threshold_fen=10_000,
        discount_fen=2_000,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        members_only=members_only,
    )


def _held(db, user_id: int, coupon_id: int) -> int:
    return len(
        db.scalars(
            select(UserCoupon).where(UserCoupon.user_id == user_id, UserCoupon.coupon_id == coupon_id)
        ).all()
    )


def test_only_members_of_a_running_programme_claim(db):
    bundle = make_shop(db)
    shop_id = bundle.shop.id
    member, stranger = make_user(db), make_user(db)
    coupon = _coupon(db, shop_id)
    open_coupon = _coupon(db, shop_id, members_only=False, name="人人可领")

    # No programme yet: nobody is a member, the coupon is refused with a way to join.
    with pytest.raises(Forbidden) as info:
        flows.claim_coupon(db, member.id, coupon.id)
    assert info.value.code == "members_only"
    assert info.value.details["join_url"] == f"/shops/{shop_id}/membership"

    membership_service.configure(db, shop_id, enabled=True, tiers=membership_service.DEFAULT_TIERS)
    membership_service.join(db, shop_id, member.id, consent=True)
    assert flows.claim_coupon(db, member.id, coupon.id).coupon_id == coupon.id
    with pytest.raises(Forbidden):
        flows.claim_coupon(db, stranger.id, coupon.id)
    assert _held(db, stranger.id, coupon.id) == 0
    db.expire_all()
    assert db.get(Coupon, coupon.id).claimed_count == 1  # the refusal took nothing
    # A coupon open to everyone is claimed by anyone, through the flow as before.
    assert flows.claim_coupon(db, stranger.id, open_coupon.id).coupon_id == open_coupon.id

    # Campaigns alone cannot tell a member: without membership's answer it refuses.
    other_member = make_user(db)
    membership_service.join(db, shop_id, other_member.id, consent=True)
    with pytest.raises(Forbidden):
        coupons_service.claim_coupon(db, other_member.id, coupon.id)

    # A paused programme's members keep their membership but not its coupons.
    membership_service.configure(db, shop_id, enabled=False, tiers=membership_service.DEFAULT_TIERS)
    with pytest.raises(Forbidden):
        flows.claim_coupon(db, other_member.id, coupon.id)
    assert _held(db, member.id, coupon.id) == 1  # what was claimed stays


def test_platform_coupons_cannot_be_members_only(db):
    with pytest.raises(InvalidInput) as info:
        _coupon(db, None)
    assert info.value.code == "members_only_needs_shop" and info.value.details["field"] == "members_only"


def _body(**overrides: Any) -> dict[str, Any]:
    now = clock.now()
    body: dict[str, Any] = {
        "name": "会员券",
        "threshold_fen": 10_000,
        "discount_fen": 1_000,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "members_only": True,
    }
    body.update(overrides)
    return body


def test_api_create_update_and_claim(client, db):
    bundle = make_shop(db)
    shop_id = bundle.shop.id
    owner = auth(db, bundle.owner)
    created = client.post("/api/merchant/coupons", json=_body(), headers=owner)
    assert created.status_code == 201, created.text
    coupon = created.json()
    assert coupon["members_only"] is True
    assert client.get(f"/api/merchant/coupons/{coupon['id']}", headers=owner).json()["members_only"] is True
    listed = client.get("/api/coupons", params={"shop_id": shop_id}).json()["items"]
    assert [c["members_only"] for c in listed] == [True]
    assert_error(
        client.post("/api/merchant/coupons", json=_body(members_only="yes"), headers=owner),
        422,
        "validation_error",
        "members_only",
    )

    member_user, stranger_user = make_user(db), make_user(db)
    member, stranger = auth(db, member_user), auth(db, stranger_user)
    membership_service.configure(db, shop_id, enabled=True, tiers=membership_service.DEFAULT_TIERS)
    joined = client.post(f"/api/shops/{shop_id}/membership", json={"consent": True}, headers=member)
    assert joined.status_code == 200, joined.text

    refused = assert_error(
        client.post(f"/api/coupons/{coupon['id']}/claim", headers=stranger), 403, "members_only"
    )
    assert refused["details"]["join_url"] == f"/shops/{shop_id}/membership"
    claimed = client.post(f"/api/coupons/{coupon['id']}/claim", headers=member)
    assert claimed.status_code == 201 and claimed.json()["coupon"]["members_only"] is True

    # The shop opens it to everyone: the stranger can claim now.
    opened = client.put(
        f"/api/merchant/coupons/{coupon['id']}",
        json=_body(members_only=False, starts_at=coupon["starts_at"]),
        headers=owner,
    )
    assert opened.status_code == 200 and opened.json()["members_only"] is False
    assert client.post(f"/api/coupons/{coupon['id']}/claim", headers=stranger).status_code == 201

    # Operators cannot make a platform coupon members-only.
    from zhongcao.users.models import Role

    ops = auth(db, make_user(db, Role.operator))
    assert_error(client.post("/api/ops/coupons", json=_body(), headers=ops), 422, "members_only_needs_shop")


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return seed_world(db)


def _post(client, url: str, data: dict, page: str | None = None):
    token = form_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _flash(client, response) -> tuple[str, str]:
    """Where a 303 went, and the notice shown there."""
    assert response.status_code == 303, response.text[:2000]
    where = response.headers["location"]
    found = re.search(r'<p class="flash" role="status">([^<]+)</p>', client.get(where).text)
    assert found, "no notice on the page redirected to"
    return where, found.group(1)


def _china(delta: timedelta) -> str:
    from zhongcao.web.templating import DISPLAY_TZ

    return (clock.now() + delta).astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M")


def _coupon_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "会员满99减10",
        "kind": "amount",
        "threshold": "99",
        "discount": "10",
        "percent": "",
        "per_user_limit": "1",
        "total_quantity": "100",
        "starts_at": _china(-timedelta(minutes=5)),
        "ends_at": _china(timedelta(days=7)),
        "members_only": "on",
    }
    form.update(overrides)
    return form


def test_merchant_editor_checkbox_hint_and_badge(client, db, world):
    web_login(client, MERCHANT)
    html = client.get("/merchant/coupons/new").text
    assert 'name="members_only"' in html and "仅会员可领" in html
    # No membership running: the hint says nobody could claim it yet, and where to switch it on.
    assert "data-membership-off" in html and 'href="/merchant/members"' in html

    # A refused form keeps the box ticked.
    r = _post(client, "/merchant/coupons/new", _coupon_form(name=""), "/merchant/coupons/new")
    assert r.status_code == 422 and re.search(r'name="members_only" id="f-members_only"[^>]*checked', r.text)

    r = _post(client, "/merchant/coupons/new", _coupon_form(), "/merchant/coupons/new")
    assert r.status_code == 303
    coupon = db.scalars(select(Coupon).where(Coupon.shop_id == world.shop_id)).one()
    assert coupon.members_only is True
    listed = client.get("/merchant/coupons").text
    assert re.search(r"会员满99减10</a> <span class=\"badge\" data-members-only>仅会员</span>", listed)

    membership_service.configure(db, world.shop_id, enabled=True, tiers=membership_service.DEFAULT_TIERS)
    html = client.get(f"/merchant/coupons/{coupon.id}").text
    assert "data-membership-off" not in html and "只有本店会员能领取这张券" in html
    assert re.search(r'name="members_only" id="f-members_only"[^>]*checked', html)

    # Unticked on save: open to everyone again.
    form = _coupon_form()
    del form["members_only"]
    url = f"/merchant/coupons/{coupon.id}"
    assert _post(client, url, form, url).status_code == 303
    db.expire_all()
    assert db.get(Coupon, coupon.id).members_only is False
    assert "data-members-only" not in client.get("/merchant/coupons").text


def test_shopper_strip_join_then_claim(client, db, world):
    membership_service.configure(db, world.shop_id, enabled=True, tiers=membership_service.DEFAULT_TIERS)
    coupon = _coupon(db, world.shop_id, name="会员专享满100减20")
    product = f"/products/{world.product_ids[0]}"
    join_page = f"/shops/{world.shop_id}/membership"

    anonymous = client.get(product).text
    assert "会员专享" in anonymous and f'href="{join_page}#join-title" data-join-to-claim' in anonymous

    web_login(client, world.shopper_email)
    html = client.get(product).text
    assert "加入会员领取" in html and f'action="/coupons/{coupon.id}/claim"' not in html
    # Claiming anyway (an old tab): sent to the membership page with the reason.
    where, notice = _flash(client, _post(client, f"/coupons/{coupon.id}/claim", {"next": product}, product))
    assert where == join_page and "仅限本店会员领取" in notice
    html = client.get(join_page).text
    assert "会员专享券" in html and "会员专享满100减20" in html and "加入本店会员" in html

    r = _post(client, join_page, {"consent": "on", "phone": ""}, join_page)
    assert r.status_code == 303
    html = client.get(product).text
    assert f'action="/coupons/{coupon.id}/claim"' in html and "加入会员领取" not in html
    # The membership page lists it too, with a claim button that comes back to it.
    html = client.get(join_page).text
    assert "你是本店会员" in html and f'action="/coupons/{coupon.id}/claim"' in html
    where, notice = _flash(
        client, _post(client, f"/coupons/{coupon.id}/claim", {"next": join_page}, join_page)
    )
    assert where == join_page and notice.startswith("领取成功")
    assert _held(db, world.shopper_id, coupon.id) == 1
    assert "已领取" in client.get(join_page).text


def test_shopper_strip_in_english(client, db, world):
    membership_service.configure(db, world.shop_id, enabled=True, tiers=membership_service.DEFAULT_TIERS)
    _coupon(db, world.shop_id, name="Members ¥20 off")
    client.get("/locale?to=en&next=/")
    html = client.get(f"/products/{world.product_ids[0]}").text
    assert ">Members</span>" in html and "Join to claim" in html
    html = client.get(f"/shops/{world.shop_id}/membership").text
    assert "Members-only coupons" in html and "Join this shop" in html
