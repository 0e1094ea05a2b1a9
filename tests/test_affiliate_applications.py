"""The creator plaza, applications to targeted plans, and creators' commission statements."""

from __future__ import annotations

from datetime import timedelta

from tests.api_helpers import assert_error, snapshot, walk_items
from tests.content_helpers import CONTENT_TABLES, make_commissioned_item, make_plan
from tests.factories import add_staff, auth, make_creator, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.affiliate import ledger
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog.models import ProductStatus
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role

APPS = "/api/creator/applications"
MERCHANT_APPS = "/api/merchant/affiliate/applications"


def test_plaza_shows_what_a_creator_may_browse(client, db):
    bundle = make_shop(db, "花西子")
    p_open, p_targeted, p_excl_mine, p_excl_other, p_ended, p_delisted = (
        make_product(db, bundle.shop, price_fen=10_000) for _ in range(6)
    )
    creator, me = make_creator(db)
    _, rival = make_creator(db)
    o = make_plan(db, p_open, PlanKind.open, 1000)
    make_plan(db, p_targeted, PlanKind.open, 500)
    t = make_plan(db, p_targeted, PlanKind.targeted, 1500, creators=[rival])
    x_mine = make_plan(db, p_excl_mine, PlanKind.exclusive, 2000, creators=[me])
    make_plan(db, p_excl_other, PlanKind.exclusive, 2500, creators=[rival])
    ended = make_plan(db, p_ended, PlanKind.open, 1000)
    affiliate_service.end_plan(db, bundle.shop.id, ended.id)
    make_plan(db, p_delisted, PlanKind.open, 1000)
    p_delisted.status = ProductStatus.delisted
    db.commit()
    open_of_targeted = affiliate_service.active_plans_for_product(db, p_targeted.id)[0]

    entries = walk_items(client, "/api/creator/plaza", auth(db, creator))
    assert [e["plan_id"] for e in entries] == [x_mine.id, t.id, open_of_targeted.id, o.id]
    by_plan = {e["plan_id"]: e for e in entries}
    assert by_plan[o.id]["can_promote"] is True and by_plan[o.id]["kind"] == "open"
    assert by_plan[t.id]["can_promote"] is False  # targeted, not (yet) listed
    assert by_plan[x_mine.id]["can_promote"] is True
    first = by_plan[o.id]
    assert first["product_title_zh"] == p_open.title_zh and first["price_fen"] == 10_000
    assert first["estimated_commission_fen"] == 1_000 and first["commission_bps"] == 1000
    assert first["shop_id"] == bundle.shop.id and first["shop_name_zh"] == "花西子"
    assert first["application_status"] is None

    only_targeted = walk_items(client, "/api/creator/plaza?kind=targeted", auth(db, creator))
    assert [e["plan_id"] for e in only_targeted] == [t.id]
    by_product = walk_items(client, f"/api/creator/plaza?product_id={p_targeted.id}", auth(db, creator))
    assert {e["plan_id"] for e in by_product} == {t.id, open_of_targeted.id}

    assert_error(client.get("/api/creator/plaza", headers=auth(db, make_user(db))), 403, "wrong_role")
    assert_error(client.get("/api/creator/plaza", headers=auth(db, bundle.owner)), 403, "wrong_role")
    assert_error(client.get("/api/creator/plaza"), 401, "not_authenticated")


def _targeted_setup(db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    open_plan = make_plan(db, product, PlanKind.open, 500)
    targeted = make_plan(db, product, PlanKind.targeted, 1200)
    return bundle, product, open_plan, targeted


def test_apply_and_approve(client, db):
    bundle, product, open_plan, targeted = _targeted_setup(db)
    creator, account = make_creator(db)
    h = auth(db, creator)
    m = auth(db, bundle.owner)

    r = client.post(APPS, json={"plan_id": targeted.id, "message": "  我有十万粉丝  "}, headers=h)
    assert r.status_code == 201, r.text
    application = r.json()
    assert application["status"] == "pending" and application["message"] == "我有十万粉丝"
    assert application["account_id"] == account.id and application["shop_id"] == bundle.shop.id

    before = snapshot(db, CONTENT_TABLES)
    assert_error(client.post(APPS, json={"plan_id": targeted.id}, headers=h), 409, "application_pending")
    assert_error(client.post(APPS, json={"plan_id": open_plan.id}, headers=h), 409, "no_application_needed")
    assert_error(client.post(APPS, json={"plan_id": 999_999}, headers=h), 404, "plan_not_found")
    assert_error(
        client.post(APPS, json={"plan_id": targeted.id, "message": "x" * 1001}, headers=h),
        422,
        "validation_error",
        "message",
    )
    assert_error(
        client.post(APPS, json={"plan_id": targeted.id, "account_id": 1}, headers=h),
        422,
        "validation_error",
        "account_id",
    )
    assert snapshot(db, CONTENT_TABLES) == before

    pending = walk_items(client, f"{MERCHANT_APPS}?status=pending", m)
    assert [a["id"] for a in pending] == [application["id"]]
    assert pending[0]["applicant"]["handle"] == account.handle and pending[0]["product_id"] == product.id
    plaza = {e["plan_id"]: e for e in walk_items(client, "/api/creator/plaza", h)}
    assert plaza[targeted.id]["application_status"] == "pending"

    r = client.post(f"{MERCHANT_APPS}/{application['id']}/approve", headers=m)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_at"] is not None
    assert affiliate_service.plan_creator_ids(db, targeted.id) == [account.id]
    plaza = {e["plan_id"]: e for e in walk_items(client, "/api/creator/plaza", h)}
    assert (
        plaza[targeted.id]["can_promote"] is True and plaza[targeted.id]["application_status"] == "approved"
    )

    assert_error(
        client.post(f"{MERCHANT_APPS}/{application['id']}/approve", headers=m), 409, "illegal_transition"
    )
    assert_error(
        client.post(f"{MERCHANT_APPS}/{application['id']}/reject", headers=m), 409, "illegal_transition"
    )
    assert_error(client.post(f"{APPS}/{application['id']}/withdraw", headers=h), 409, "illegal_transition")
    assert_error(client.post(APPS, json={"plan_id": targeted.id}, headers=h), 409, "already_on_plan")
    assert walk_items(client, f"{MERCHANT_APPS}?status=pending", m) == []
    assert [a["status"] for a in walk_items(client, APPS, h)] == ["approved"]


def test_reject_and_withdraw(client, db):
    bundle, _, _, targeted = _targeted_setup(db)
    creator, account = make_creator(db)
    h = auth(db, creator)
    m = auth(db, bundle.owner)

    first = client.post(APPS, json={"plan_id": targeted.id}, headers=h).json()
    r = client.post(f"{MERCHANT_APPS}/{first['id']}/reject", headers=m)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert affiliate_service.plan_creator_ids(db, targeted.id) == []

    # Rejected, the creator may try again; then change their mind.
    second = client.post(APPS, json={"plan_id": targeted.id}, headers=h).json()
    r = client.post(f"{APPS}/{second['id']}/withdraw", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert_error(client.post(f"{APPS}/{second['id']}/withdraw", headers=h), 409, "illegal_transition")
    assert_error(client.post(f"{MERCHANT_APPS}/{second['id']}/approve", headers=m), 409, "illegal_transition")

    assert [a["id"] for a in walk_items(client, APPS, h)] == [second["id"], first["id"]]
    assert [a["id"] for a in walk_items(client, f"{APPS}?status=rejected", h)] == [first["id"]]
    assert [a["id"] for a in walk_items(client, f"{MERCHANT_APPS}?plan_id={targeted.id}", m)] == [
        second["id"],
        first["id"],
    ]
    assert [a["id"] for a in walk_items(client, f"{MERCHANT_APPS}?status=withdrawn", m)] == [second["id"]]


def test_exclusive_and_ended_plans(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    creator, account = make_creator(db)
    _, listed = make_creator(db)
    exclusive = make_plan(db, product, PlanKind.exclusive, 3000, creators=[listed])
    h = auth(db, creator)
    before = snapshot(db, CONTENT_TABLES)
    # By invitation only: an unlisted creator cannot even see it.
    assert_error(client.post(APPS, json={"plan_id": exclusive.id}, headers=h), 404, "plan_not_found")
    assert snapshot(db, CONTENT_TABLES) == before

    other = make_product(db, bundle.shop)
    make_plan(db, other, PlanKind.open, 500)
    targeted = make_plan(db, other, PlanKind.targeted, 900)
    affiliate_service.end_plan(db, bundle.shop.id, targeted.id)
    assert_error(client.post(APPS, json={"plan_id": targeted.id}, headers=h), 409, "plan_ended")


def test_applications_tenancy_and_roles(client, db):
    bundle, _, _, targeted = _targeted_setup(db)
    creator, _ = make_creator(db)
    application = client.post(APPS, json={"plan_id": targeted.id}, headers=auth(db, creator)).json()

    stranger = make_shop(db)
    s = auth(db, stranger.owner)
    other_creator, _ = make_creator(db)
    o = auth(db, other_creator)
    before = snapshot(db, CONTENT_TABLES)
    assert walk_items(client, MERCHANT_APPS, s) == []
    assert_error(
        client.post(f"{MERCHANT_APPS}/{application['id']}/approve", headers=s), 404, "application_not_found"
    )
    assert_error(
        client.post(f"{MERCHANT_APPS}/{application['id']}/reject", headers=s), 404, "application_not_found"
    )
    assert walk_items(client, APPS, o) == []
    assert_error(client.post(f"{APPS}/{application['id']}/withdraw", headers=o), 404, "application_not_found")
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    assert_error(
        client.post(f"{MERCHANT_APPS}/{application['id']}/approve", headers=auth(db, agent)),
        403,
        "wrong_shop_role",
    )
    assert_error(
        client.post(APPS, json={"plan_id": targeted.id}, headers=auth(db, bundle.owner)), 403, "wrong_role"
    )
    no_account = make_user(db, Role.creator)
    assert_error(
        client.post(APPS, json={"plan_id": targeted.id}, headers=auth(db, no_account)),
        403,
        "no_creator_account",
    )
    assert snapshot(db, CONTENT_TABLES) == before


def test_commission_statement(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    creator, account = make_creator(db)
    _, other = make_creator(db)
    items = [make_commissioned_item(db, product, account, commission_fen=fen) for fen in (1_000, 250, 499)]
    make_commissioned_item(db, product, other, commission_fen=7_777)
    # Half of the first item comes back after completion: half its commission is reversed.
    first = items[0]
    first.refunded_fen = first.paid_fen // 2
    ledger.reverse_for_refund(db, first, refunded_before_fen=0, refund_id=None)
    db.commit()

    h = auth(db, creator)
    r = client.get("/api/creator/commissions?limit=2", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["balance_fen"] == 1_000 + 250 + 499 - 500
    assert [e["amount_fen"] for e in body["entries"]["items"]] == [-500, 499]
    assert body["entries"]["items"][0]["kind"] == "reversal"
    cursor = body["entries"]["next_cursor"]
    rest = client.get(f"/api/creator/commissions?limit=2&cursor={cursor}", headers=h).json()
    assert [e["amount_fen"] for e in rest["entries"]["items"]] == [250, 1_000]
    assert rest["entries"]["next_cursor"] is None and rest["balance_fen"] == body["balance_fen"]
    # No settlement yet: all of it is pending; the refund took 500 back.
    assert (body["pending_fen"], body["settled_fen"], body["reversed_fen"]) == (body["balance_fen"], 0, 500)
    assert all(
        e["order_item_id"] in {i.id for i in items}
        for e in body["entries"]["items"] + rest["entries"]["items"]
    )

    fresh, _ = make_creator(db)
    assert client.get("/api/creator/commissions", headers=auth(db, fresh)).json() == {
        "balance_fen": 0,
        "pending_fen": 0,
        "settled_fen": 0,
        "reversed_fen": 0,
        "entries": {"items": [], "next_cursor": None},
    }
    assert_error(client.get("/api/creator/commissions", headers=auth(db, bundle.owner)), 403, "wrong_role")


def test_shops_scored_below_the_gate_leave_the_plaza(client, db):
    from zhongcao.experience import scores as experience_scores

    good, poor, new = make_shop(db), make_shop(db), make_shop(db)
    plans = {}
    for name, bundle in (("good", good), ("poor", poor), ("new", new)):
        plans[name] = make_plan(db, make_product(db, bundle.shop, price_fen=5_000), PlanKind.open, 1000)
    experience_scores.record_score(db, good.shop.id, 330)
    experience_scores.record_score(db, poor.shop.id, 450, computed_at=clock.now() - timedelta(days=2))
    experience_scores.record_score(db, poor.shop.id, 310)  # its current score: below 3.20
    creator, _ = make_creator(db)
    shown = {e["plan_id"] for e in walk_items(client, "/api/creator/plaza", auth(db, creator))}
    assert plans["good"].id in shown and plans["new"].id in shown  # a shop not scored yet stays
    assert plans["poor"].id not in shown
