"""Campaigns: operator management, the public listing, and merchants registering products."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from tests.api_helpers import assert_error, snapshot, walk
from tests.factories import add_staff, auth, make_category, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.campaigns import service as campaigns
from zhongcao.campaigns.models import Campaign
from zhongcao.catalog.models import Category
from zhongcao.experience import scores as experience_scores
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role

TABLES = ("campaigns", "campaign_categories", "campaign_products")


def _iso(delta: timedelta) -> str:
    return (clock.now() + delta).isoformat()


def _body(category_ids: list[int], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "spring-sale",
        "name_zh": "春季大促",
        "name_en": "Spring sale",
        "starts_at": _iso(-timedelta(hours=1)),
        "ends_at": _iso(timedelta(days=7)),
        "category_ids": category_ids,
        "subsidy_per_item_fen": 500,
        "budget_fen": 100_000,
    }
    body.update(overrides)
    return body


def _operator(db) -> dict[str, str]:
    return auth(db, make_user(db, Role.operator))


def _create(client, headers, category_ids: list[int], **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/ops/campaigns", json=_body(category_ids, **overrides), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _top_of(leaf: Category) -> int:
    assert leaf.parent_id is not None
    return leaf.parent_id


def test_operator_creates_a_campaign_the_public_can_see(client, db):
    ops = _operator(db)
    leaf = make_category(db)
    other_leaf = make_category(db)
    top = _top_of(other_leaf)
    created = _create(client, ops, [leaf.id, top, leaf.id], min_shop_score_centi=450)
    assert created["status"] == "active" and created["is_open"] is True
    assert created["budget_fen"] == 100_000 and created["spent_fen"] == 0
    assert created["budget_left_fen"] == 100_000
    assert created["min_shop_score_centi"] == 450
    assert sorted(c["id"] for c in created["categories"]) == sorted([leaf.id, top])
    # A listed top category covers its leaves.
    assert created["eligible_category_ids"] == sorted({leaf.id, top, other_leaf.id})

    public = client.get(f"/api/campaigns/{created['id']}")
    assert public.status_code == 200, public.text
    assert public.json()["budget_left_fen"] == 100_000
    assert public.json()["eligible_category_ids"] == created["eligible_category_ids"]
    listed = client.get("/api/campaigns").json()
    assert [c["id"] for c in listed["items"]] == [created["id"]]
    assert_error(client.get("/api/campaigns/999999"), 404, "campaign_not_found")


def test_public_list_shows_only_running_campaigns_and_pages(client, db):
    ops = _operator(db)
    leaf = make_category(db)
    running = [_create(client, ops, [leaf.id], slug=f"run-{i}")["id"] for i in range(5)]
    _create(client, ops, [leaf.id], slug="later", starts_at=_iso(timedelta(days=1)))
    cancelled = _create(client, ops, [leaf.id], slug="cancelled")["id"]
    r = client.patch(f"/api/ops/campaigns/{cancelled}", json={"status": "cancelled"}, headers=ops)
    assert r.status_code == 200, r.text
    assert walk(client, "/api/campaigns", limit=2) == sorted(running, reverse=True)
    # Operators see every campaign, and can filter by status.
    assert len(walk(client, "/api/ops/campaigns", headers=ops, limit=3)) == 7
    assert walk(client, "/api/ops/campaigns", headers=ops, status="cancelled") == [cancelled]


def test_create_refuses_bad_input_and_changes_nothing(client, db):
    ops = _operator(db)
    leaf = make_category(db)
    _create(client, ops, [leaf.id], slug="taken")
    before = snapshot(db, TABLES)
    cases = [
        (_body([leaf.id], ends_at=_iso(-timedelta(hours=2))), 422, "invalid_window", "ends_at"),
        (
            _body([leaf.id], starts_at=_iso(-timedelta(days=3)), ends_at=_iso(-timedelta(days=1))),
            422,
            "window_in_past",
            "ends_at",
        ),
        (_body([leaf.id, 987654]), 422, "category_not_found", "category_ids"),
        (_body([]), 422, "validation_error", "category_ids"),
        (_body([leaf.id], min_shop_score_centi=250), 422, "validation_error", "min_shop_score_centi"),
        (_body([leaf.id], min_shop_score_centi=501), 422, "validation_error", "min_shop_score_centi"),
        (_body([leaf.id], budget_fen=-1), 422, "validation_error", "budget_fen"),
        (_body([leaf.id], subsidy_per_item_fen=-5), 422, "validation_error", "subsidy_per_item_fen"),
        (_body([leaf.id], starts_at="2030-01-01T00:00:00"), 422, "validation_error", "starts_at"),
        (_body([leaf.id], slug="Not A Slug"), 422, "validation_error", "slug"),
        (_body([leaf.id], colour="red"), 422, "validation_error", "colour"),
        (_body([leaf.id], slug="taken"), 409, "slug_taken", "slug"),
    ]
    for body, status, code, field in cases:
        assert_error(client.post("/api/ops/campaigns", json=body, headers=ops), status, code, field)
    assert snapshot(db, TABLES) == before


def test_only_operators_manage_campaigns(client, db):
    leaf = make_category(db)
    bundle = make_shop(db)
    shopper = auth(db, make_user(db))
    merchant = auth(db, bundle.owner)
    for headers, status in (({}, 401), (shopper, 403), (merchant, 403)):
        r = client.post("/api/ops/campaigns", json=_body([leaf.id]), headers=headers)
        assert r.status_code == status, r.text
        assert client.get("/api/ops/campaigns", headers=headers).status_code == status
        assert (
            client.patch("/api/ops/campaigns/1", json={"budget_fen": 1}, headers=headers).status_code
            == status
        )
    assert snapshot(db, TABLES)["campaigns"] == []


def test_budget_changes_never_go_below_what_is_spent(client, db):
    ops = _operator(db)
    leaf = make_category(db)
    created = _create(client, ops, [leaf.id], budget_fen=10_000)
    url = f"/api/ops/campaigns/{created['id']}"
    raised = client.patch(url, json={"budget_fen": 50_000}, headers=ops)
    assert raised.status_code == 200, raised.text
    assert raised.json()["budget_left_fen"] == 50_000

    # Checkouts have taken 30_000 of it.
    db.execute(update(Campaign).where(Campaign.id == created["id"]).values(spent_fen=30_000))
    db.commit()
    before = snapshot(db, TABLES)
    error = assert_error(
        client.patch(url, json={"budget_fen": 29_999}, headers=ops), 409, "budget_below_spent"
    )
    assert error["details"]["spent_fen"] == 30_000
    assert snapshot(db, TABLES) == before

    exact = client.patch(url, json={"budget_fen": 30_000}, headers=ops)
    assert exact.status_code == 200, exact.text
    assert exact.json()["budget_left_fen"] == 0
    assert_error(
        client.patch(url, json={"budget_fen": -1}, headers=ops), 422, "validation_error", "budget_fen"
    )


def test_window_extends_and_campaign_cancels_once(client, db):
    ops = _operator(db)
    leaf = make_category(db)
    created = _create(client, ops, [leaf.id])
    url = f"/api/ops/campaigns/{created['id']}"
    later = _iso(timedelta(days=30))
    r = client.patch(url, json={"ends_at": later}, headers=ops)
    assert r.status_code == 200, r.text
    assert r.json()["ends_at"].startswith(later[:19])

    before = snapshot(db, TABLES)
    assert_error(
        client.patch(url, json={"ends_at": _iso(timedelta(days=2))}, headers=ops),
        422,
        "window_not_extended",
        "ends_at",
    )
    assert_error(client.patch(url, json={}, headers=ops), 422, "empty_update")
    assert_error(client.patch(url, json={"status": "active"}, headers=ops), 422, "validation_error", "status")
    assert snapshot(db, TABLES) == before

    cancelled = client.patch(url, json={"status": "cancelled"}, headers=ops)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["is_open"] is False
    assert_error(client.patch(url, json={"status": "cancelled"}, headers=ops), 409, "illegal_transition")
    assert_error(client.patch(url, json={"budget_fen": 1}, headers=ops), 409, "illegal_transition")
    assert_error(
        client.patch("/api/ops/campaigns/424242", json={"budget_fen": 1}, headers=ops),
        404,
        "campaign_not_found",
    )


# --- registrations -------------------------------------------------------------------------------


def _reg_url(campaign_id: int) -> str:
    return f"/api/merchant/campaigns/{campaign_id}/registrations"


def test_merchant_registers_withdraws_and_registers_again(client, db):
    ops = _operator(db)
    bundle = make_shop(db)
    leaf = make_category(db)
    under_top = make_category(db)
    product = make_product(db, bundle.shop, category=leaf)
    via_top = make_product(db, bundle.shop, category=under_top)
    campaign = _create(client, ops, [leaf.id, _top_of(under_top)])
    owner = auth(db, bundle.owner)
    operator = auth(db, add_staff(db, bundle.shop, StaffRole.operator))

    r = client.post(_reg_url(campaign["id"]), json={"product_id": product.id}, headers=owner)
    assert r.status_code == 201, r.text
    assert r.json()["shop_id"] == bundle.shop.id and r.json()["withdrawn_at"] is None
    r2 = client.post(_reg_url(campaign["id"]), json={"product_id": via_top.id}, headers=operator)
    assert r2.status_code == 201, r2.text
    assert campaigns.registered_campaign_ids(db, product.id) == [campaign["id"]]
    db.rollback()

    assert_error(
        client.post(_reg_url(campaign["id"]), json={"product_id": product.id}, headers=owner),
        409,
        "already_registered",
    )
    listed = client.get("/api/merchant/campaigns/registrations", headers=owner).json()["items"]
    assert [x["product_id"] for x in listed] == [via_top.id, product.id]

    gone = client.delete(f"{_reg_url(campaign['id'])}/{product.id}", headers=owner)
    assert gone.status_code == 200, gone.text
    assert gone.json()["withdrawn_at"] is not None
    assert campaigns.registered_campaign_ids(db, product.id) == []
    db.rollback()
    assert_error(
        client.delete(f"{_reg_url(campaign['id'])}/{product.id}", headers=owner), 409, "already_withdrawn"
    )
    active_only = client.get(
        "/api/merchant/campaigns/registrations", params={"include_withdrawn": "false"}, headers=owner
    ).json()["items"]
    assert [x["product_id"] for x in active_only] == [via_top.id]

    again = client.post(_reg_url(campaign["id"]), json={"product_id": product.id}, headers=owner)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == r.json()["id"] and again.json()["withdrawn_at"] is None


def test_registration_gates(client, db):
    ops = _operator(db)
    bundle = make_shop(db)
    leaf = make_category(db)
    elsewhere = make_category(db)
    product = make_product(db, bundle.shop, category=leaf)
    off_category = make_product(db, bundle.shop, category=elsewhere)
    foreign = make_product(db, make_shop(db).shop, category=leaf)
    campaign = _create(client, ops, [leaf.id])
    owner = auth(db, bundle.owner)
    before = snapshot(db, TABLES)

    error = assert_error(
        client.post(_reg_url(campaign["id"]), json={"product_id": off_category.id}, headers=owner),
        422,
        "category_not_eligible",
        "product_id",
    )
    assert error["details"]["category_id"] == elsewhere.id
    assert_error(
        client.post(_reg_url(campaign["id"]), json={"product_id": foreign.id}, headers=owner),
        404,
        "product_not_found",
    )
    assert_error(
        client.post(_reg_url(campaign["id"]), json={"product_id": 777777}, headers=owner),
        404,
        "product_not_found",
    )
    assert_error(
        client.post(_reg_url(888888), json={"product_id": product.id}, headers=owner),
        404,
        "campaign_not_found",
    )
    assert_error(
        client.post(_reg_url(campaign["id"]), json={"product_id": "x"}, headers=owner),
        422,
        "validation_error",
        "product_id",
    )
    assert_error(
        client.post(_reg_url(campaign["id"]), json={}, headers=owner), 422, "validation_error", "product_id"
    )
    assert snapshot(db, TABLES) == before


def test_closed_campaigns_take_no_registrations(client, db):
    ops = _operator(db)
    bundle = make_shop(db)
    leaf = make_category(db)
    product = make_product(db, bundle.shop, category=leaf)
    owner = auth(db, bundle.owner)
    short = _create(client, ops, [leaf.id], slug="short", ends_at=_iso(timedelta(hours=1)))
    cancelled = _create(client, ops, [leaf.id], slug="stopped")
    client.patch(f"/api/ops/campaigns/{cancelled['id']}", json={"status": "cancelled"}, headers=ops)
    upcoming = _create(client, ops, [leaf.id], slug="upcoming", starts_at=_iso(timedelta(days=1)))
    before = snapshot(db, TABLES)

    assert_error(
        client.post(_reg_url(cancelled["id"]), json={"product_id": product.id}, headers=owner),
        409,
        "campaign_closed",
    )
    with clock.travel(clock.now() + timedelta(hours=2)):
        assert_error(
            client.post(_reg_url(short["id"]), json={"product_id": product.id}, headers=owner),
            409,
            "campaign_closed",
        )
    assert snapshot(db, TABLES) == before
    # Registering ahead of the start is fine; the product counts only once the campaign runs.
    r = client.post(_reg_url(upcoming["id"]), json={"product_id": product.id}, headers=owner)
    assert r.status_code == 201, r.text
    assert campaigns.registered_campaign_ids(db, product.id) == []
    assert campaigns.registered_campaign_ids(db, product.id, clock.now() + timedelta(days=2)) == [
        upcoming["id"]
    ]
    db.rollback()


def test_shop_score_gate(client, db):
    ops = _operator(db)
    bundle = make_shop(db)
    leaf = make_category(db)
    product = make_product(db, bundle.shop, category=leaf)
    owner = auth(db, bundle.owner)
    gated = _create(client, ops, [leaf.id], min_shop_score_centi=450)
    url = _reg_url(gated["id"])
    before = snapshot(db, TABLES)

    error = assert_error(
        client.post(url, json={"product_id": product.id}, headers=owner), 409, "shop_not_scored"
    )
    assert error["details"]["required"] == 450
    # A computed "too few orders" row (score NULL) still means not scored.
    experience_scores.record_score(db, bundle.shop.id, None, computed_at=clock.now() - timedelta(days=2))
    assert_error(client.post(url, json={"product_id": product.id}, headers=owner), 409, "shop_not_scored")

    experience_scores.record_score(db, bundle.shop.id, 420, computed_at=clock.now() - timedelta(days=1))
    error = assert_error(
        client.post(url, json={"product_id": product.id}, headers=owner), 409, "shop_score_too_low"
    )
    assert error["details"] == {"score": 420, "required": 450, "gate": "campaign"}
    assert snapshot(db, TABLES) == before

    experience_scores.record_score(db, bundle.shop.id, 450)
    r = client.post(url, json={"product_id": product.id}, headers=owner)
    assert r.status_code == 201, r.text


def test_registration_roles_and_tenancy(client, db):
    ops = _operator(db)
    bundle = make_shop(db)
    rival = make_shop(db)
    leaf = make_category(db)
    product = make_product(db, bundle.shop, category=leaf)
    campaign = _create(client, ops, [leaf.id])
    url = _reg_url(campaign["id"])
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    shopper = auth(db, make_user(db))
    rival_owner = auth(db, rival.owner)

    assert_error(client.post(url, json={"product_id": product.id}, headers={}), 401, "not_authenticated")
    assert_error(client.post(url, json={"product_id": product.id}, headers=shopper), 403, "wrong_role")
    assert_error(client.post(url, json={"product_id": product.id}, headers=agent), 403, "wrong_shop_role")
    assert snapshot(db, TABLES)["campaign_products"] == []

    owner = auth(db, bundle.owner)
    assert client.post(url, json={"product_id": product.id}, headers=owner).status_code == 201
    # The rival shop can neither see nor withdraw it, and cannot register it as its own.
    assert client.get("/api/merchant/campaigns/registrations", headers=rival_owner).json()["items"] == []
    assert_error(client.delete(f"{url}/{product.id}", headers=rival_owner), 404, "registration_not_found")
    assert_error(
        client.post(url, json={"product_id": product.id}, headers=rival_owner), 404, "product_not_found"
    )
    assert_error(client.delete(f"{url}/{product.id}", headers=agent), 403, "wrong_shop_role")
    # Any staff may read the shop's registrations.
    assert len(client.get("/api/merchant/campaigns/registrations", headers=agent).json()["items"]) == 1


def test_open_campaigns_for_products(db):
    bundle = make_shop(db)
    leaf = make_category(db)
    p1 = make_product(db, bundle.shop, category=leaf)
    p2 = make_product(db, bundle.shop, category=leaf)
    now = clock.now()
    a = campaigns.create_campaign(
        db,
        slug="a-camp",
        name_zh="甲",
        name_en="A",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        category_ids=[leaf.id],
        subsidy_per_item_fen=100,
        budget_fen=1000,
    )
    b = campaigns.create_campaign(
        db,
        slug="b-camp",
        name_zh="乙",
        name_en="B",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        category_ids=[_top_of(leaf)],
    )
    campaigns.register_product(db, bundle.shop.id, a.id, p1.id)
    campaigns.register_product(db, bundle.shop.id, b.id, p1.id)
    campaigns.register_product(db, bundle.shop.id, b.id, p2.id)
    campaigns.withdraw_registration(db, bundle.shop.id, b.id, p2.id)
    found = campaigns.open_campaigns_for_products(db, [p1.id, p2.id, 123456])
    assert [c.id for c in found[p1.id]] == [a.id, b.id]
    assert found[p2.id] == [] and found[123456] == []
    assert campaigns.open_campaigns_for_products(db, [p1.id], now + timedelta(days=2))[p1.id] == []
    campaigns.update_campaign(db, a.id, cancel=True)
    assert campaigns.registered_campaign_ids(db, p1.id) == [b.id]


def test_platform_score_gate_applies_to_every_campaign(client, db, monkeypatch):
    from zhongcao.config import get_settings

    ops = _operator(db)
    leaf = make_category(db)
    campaign = _create(client, ops, [leaf.id])  # no gate of its own
    url = _reg_url(campaign["id"])
    new_shop, poor_shop = make_shop(db), make_shop(db)
    new_product = make_product(db, new_shop.shop, category=leaf)
    poor_product = make_product(db, poor_shop.shop, category=leaf)
    # Not scored yet: a new shop may start.
    r = client.post(url, json={"product_id": new_product.id}, headers=auth(db, new_shop.owner))
    assert r.status_code == 201, r.text
    experience_scores.record_score(db, poor_shop.shop.id, 390)
    error = assert_error(
        client.post(url, json={"product_id": poor_product.id}, headers=auth(db, poor_shop.owner)),
        409,
        "shop_score_too_low",
    )
    assert error["details"]["gate"] == "platform" and error["details"]["required"] == 400
    monkeypatch.setenv("ZHONGCAO_CAMPAIGN_MIN_SHOP_SCORE_CENTI", "none")
    get_settings.cache_clear()
    try:
        r = client.post(url, json={"product_id": poor_product.id}, headers=auth(db, poor_shop.owner))
        assert r.status_code == 201, r.text
    finally:
        monkeypatch.delenv("ZHONGCAO_CAMPAIGN_MIN_SHOP_SCORE_CENTI")
        get_settings.cache_clear()
