"""Affiliate plans: the coexistence rules of open, targeted and exclusive plans, listed creators."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.api_helpers import assert_error, snapshot, walk_items
from tests.content_helpers import CONTENT_TABLES, make_plan
from tests.factories import add_staff, auth, make_creator, make_product, make_shop, make_user
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import AffiliatePlan, ApplicationStatus, PlanKind, PlanStatus
from zhongcao.errors import Conflict
from zhongcao.shops.models import StaffRole

URL = "/api/merchant/affiliate/plans"


def _plan(product_id: int, kind: str, bps: int, creators: list[int] | None = None) -> dict:
    body: dict = {"product_id": product_id, "kind": kind, "commission_bps": bps}
    if creators is not None:
        body["creator_account_ids"] = creators
    return body


def test_open_then_targeted_then_ending_open_ends_targeted(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    _, c1 = make_creator(db)
    _, c2 = make_creator(db)
    h = auth(db, bundle.owner)

    r = client.post(URL, json=_plan(product.id, "open", 1000), headers=h)
    assert r.status_code == 201, r.text
    open_plan = r.json()
    assert open_plan["status"] == "active" and open_plan["creator_account_ids"] == []
    assert open_plan["shop_id"] == bundle.shop.id and open_plan["ended_at"] is None

    before = snapshot(db, CONTENT_TABLES)
    assert_error(client.post(URL, json=_plan(product.id, "open", 800), headers=h), 409, "plan_exists")
    assert_error(
        client.post(URL, json=_plan(product.id, "targeted", 1000, [c1.id]), headers=h),
        422,
        "targeted_rate_not_higher",
        "commission_bps",
    )
    assert_error(
        client.post(URL, json=_plan(product.id, "exclusive", 3000, [c1.id]), headers=h), 409, "plan_conflict"
    )
    assert snapshot(db, CONTENT_TABLES) == before

    r = client.post(URL, json=_plan(product.id, "targeted", 1500, [c1.id, c2.id]), headers=h)
    assert r.status_code == 201, r.text
    targeted = r.json()
    assert targeted["creator_account_ids"] == [c1.id, c2.id]
    # Several targeted plans may stand side by side (different creator groups, different rates).
    second = client.post(URL, json=_plan(product.id, "targeted", 2500, [c2.id]), headers=h).json()
    assert_error(client.post(URL, json=_plan(product.id, "exclusive", 3000), headers=h), 409, "plan_conflict")
    assert {p.id for p in affiliate_service.active_plans_for_product(db, product.id)} == {
        open_plan["id"],
        targeted["id"],
        second["id"],
    }

    r = client.post(f"{URL}/{open_plan['id']}/end", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "ended" and r.json()["ended_at"] is not None
    for plan_id in (targeted["id"], second["id"]):
        assert client.get(f"{URL}/{plan_id}", headers=h).json()["status"] == "ended"
    assert affiliate_service.active_plans_for_product(db, product.id) == []
    assert_error(client.post(f"{URL}/{open_plan['id']}/end", headers=h), 409, "illegal_transition")
    assert_error(client.post(f"{URL}/{targeted['id']}/end", headers=h), 409, "illegal_transition")


def test_targeted_needs_an_open_plan(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    _, creator = make_creator(db)
    h = auth(db, bundle.owner)
    before = snapshot(db, CONTENT_TABLES)
    r = client.post(URL, json=_plan(product.id, "targeted", 2000, [creator.id]), headers=h)
    assert_error(r, 409, "open_plan_required")
    assert snapshot(db, CONTENT_TABLES) == before


def test_exclusive_excludes_open_and_targeted(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    _, creator = make_creator(db)
    h = auth(db, bundle.owner)
    r = client.post(URL, json=_plan(product.id, "exclusive", 3000, [creator.id]), headers=h)
    assert r.status_code == 201, r.text
    exclusive = r.json()
    assert exclusive["creator_account_ids"] == [creator.id]
    before = snapshot(db, CONTENT_TABLES)
    assert_error(client.post(URL, json=_plan(product.id, "open", 1000), headers=h), 409, "plan_conflict")
    assert_error(
        client.post(URL, json=_plan(product.id, "targeted", 4000, [creator.id]), headers=h),
        409,
        "plan_conflict",
    )
    assert_error(client.post(URL, json=_plan(product.id, "exclusive", 3500), headers=h), 409, "plan_exists")
    assert snapshot(db, CONTENT_TABLES) == before

    # Plans on another product are independent.
    other = make_product(db, bundle.shop)
    assert client.post(URL, json=_plan(other.id, "open", 1000), headers=h).status_code == 201

    client.post(f"{URL}/{exclusive['id']}/end", headers=h)
    assert client.post(URL, json=_plan(product.id, "open", 1000), headers=h).status_code == 201


def test_bad_plans_are_refused_and_change_nothing(client, db):
    bundle = make_shop(db)
    other_shop = make_shop(db)
    product = make_product(db, bundle.shop)
    theirs = make_product(db, other_shop.shop)
    _, creator = make_creator(db)
    h = auth(db, bundle.owner)
    cases = [
        (_plan(product.id, "open", 0), "validation_error", "commission_bps"),
        (_plan(product.id, "open", 9001), "validation_error", "commission_bps"),
        (_plan(product.id, "weekly", 100), "validation_error", "kind"),
        ({"kind": "open", "commission_bps": 100}, "validation_error", "product_id"),
        ({**_plan(product.id, "open", 100), "shop_id": other_shop.shop.id}, "validation_error", "shop_id"),
        (_plan(product.id, "open", 100, [creator.id]), "open_plan_has_no_creators", "creator_account_ids"),
        (_plan(theirs.id, "open", 100), "product_not_found", "product_id"),
        (_plan(987_654, "open", 100), "product_not_found", "product_id"),
        (
            _plan(product.id, "exclusive", 100, [creator.id, bundle.account.id]),
            "not_a_creator_account",
            "creator_account_ids[1]",
        ),
        (
            _plan(product.id, "exclusive", 100, [creator.id, 987_654]),
            "account_not_found",
            "creator_account_ids[1]",
        ),
        (
            _plan(product.id, "exclusive", 100, [creator.id, creator.id]),
            "duplicate_creator",
            "creator_account_ids[1]",
        ),
    ]
    before = snapshot(db, CONTENT_TABLES)
    for body, code, field in cases:
        assert_error(client.post(URL, json=body, headers=h), 422, code, field)
    assert snapshot(db, CONTENT_TABLES) == before
    # The bounds themselves are accepted.
    assert client.post(URL, json=_plan(product.id, "open", 1), headers=h).status_code == 201
    assert client.post(URL, json=_plan(product.id, "targeted", 9000, []), headers=h).status_code == 201


def test_listed_creators(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    _, c1 = make_creator(db)
    _, c2 = make_creator(db)
    h = auth(db, bundle.owner)
    open_plan = make_plan(db, product, PlanKind.open, 500)
    targeted = client.post(URL, json=_plan(product.id, "targeted", 900, [c1.id]), headers=h).json()
    base = f"{URL}/{targeted['id']}/creators"

    r = client.post(base, json={"account_id": c2.id}, headers=h)
    assert r.status_code == 200 and r.json()["creator_account_ids"] == [c1.id, c2.id]
    r = client.post(base, json={"account_id": c2.id}, headers=h)  # listing twice changes nothing
    assert r.status_code == 200 and r.json()["creator_account_ids"] == [c1.id, c2.id]

    before = snapshot(db, CONTENT_TABLES)
    assert_error(
        client.post(base, json={"account_id": bundle.account.id}, headers=h),
        422,
        "not_a_creator_account",
        "account_id",
    )
    assert_error(
        client.post(base, json={"account_id": 424_242}, headers=h), 422, "account_not_found", "account_id"
    )
    assert_error(client.post(base, json={}, headers=h), 422, "validation_error", "account_id")
    assert_error(
        client.post(f"{URL}/{open_plan.id}/creators", json={"account_id": c1.id}, headers=h),
        409,
        "open_plan_has_no_creators",
    )
    assert snapshot(db, CONTENT_TABLES) == before

    r = client.delete(f"{base}/{c1.id}", headers=h)
    assert r.status_code == 204
    assert client.get(f"{URL}/{targeted['id']}", headers=h).json()["creator_account_ids"] == [c2.id]
    assert_error(client.delete(f"{base}/{c1.id}", headers=h), 404, "plan_creator_not_found")

    client.post(f"{URL}/{targeted['id']}/end", headers=h)
    assert_error(client.post(base, json={"account_id": c1.id}, headers=h), 409, "plan_ended")


def test_plan_lists_and_filters(client, db):
    bundle = make_shop(db)
    p1, p2 = make_product(db, bundle.shop), make_product(db, bundle.shop)
    _, creator = make_creator(db)
    o1 = make_plan(db, p1, PlanKind.open, 500)
    t1 = make_plan(db, p1, PlanKind.targeted, 800, creators=[creator])
    x2 = make_plan(db, p2, PlanKind.exclusive, 2000, creators=[creator])
    affiliate_service.end_plan(db, bundle.shop.id, x2.id)
    o2 = make_plan(db, p2, PlanKind.open, 700)
    other = make_shop(db)
    make_plan(db, make_product(db, other.shop), PlanKind.open, 100)
    h = auth(db, bundle.owner)

    assert [p["id"] for p in walk_items(client, URL, h)] == [o2.id, x2.id, t1.id, o1.id]
    assert [p["id"] for p in walk_items(client, f"{URL}?product_id={p1.id}", h)] == [t1.id, o1.id]
    assert [p["id"] for p in walk_items(client, f"{URL}?kind=open", h)] == [o2.id, o1.id]
    assert [p["id"] for p in walk_items(client, f"{URL}?status=ended", h)] == [x2.id]
    listed = {p["id"]: p for p in walk_items(client, URL, h)}
    assert listed[t1.id]["creator_account_ids"] == [creator.id] and listed[o1.id]["creator_account_ids"] == []
    assert_error(client.get(f"{URL}?status=paused", headers=h), 422, "validation_error", "status")


def test_plans_roles_and_tenancy(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    _, creator = make_creator(db)
    plan = make_plan(db, product, PlanKind.open, 500)
    targeted = make_plan(db, product, PlanKind.targeted, 900, creators=[creator])

    stranger = make_shop(db)
    s = auth(db, stranger.owner)
    before = snapshot(db, CONTENT_TABLES)
    assert_error(client.get(f"{URL}/{plan.id}", headers=s), 404, "plan_not_found")
    assert_error(client.post(f"{URL}/{plan.id}/end", headers=s), 404, "plan_not_found")
    assert_error(
        client.post(f"{URL}/{targeted.id}/creators", json={"account_id": creator.id}, headers=s),
        404,
        "plan_not_found",
    )
    assert_error(
        client.delete(f"{URL}/{targeted.id}/creators/{creator.id}", headers=s), 404, "plan_not_found"
    )
    assert walk_items(client, URL, s) == []
    # Another shop cannot put a plan on this shop's product either.
    assert_error(
        client.post(URL, json=_plan(product.id, "open", 100), headers=s),
        422,
        "product_not_found",
        "product_id",
    )

    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    # Service agents read the shop's plans (they answer customers and creators) but change nothing.
    assert client.get(URL, headers=auth(db, agent)).status_code == 200
    assert_error(client.post(f"{URL}/{plan.id}/end", headers=auth(db, agent)), 403, "wrong_shop_role")
    assert_error(client.get(URL), 401, "not_authenticated")
    assert_error(client.get(URL, headers=auth(db, make_user(db))), 403, "wrong_role")
    assert snapshot(db, CONTENT_TABLES) == before

    operator = add_staff(db, bundle.shop, StaffRole.operator)
    assert client.get(f"{URL}/{plan.id}", headers=auth(db, operator)).status_code == 200


def test_ending_a_plan_closes_its_pending_applications(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    open_plan = make_plan(db, product, PlanKind.open, 500)
    targeted = make_plan(db, product, PlanKind.targeted, 900)
    _, creator = make_creator(db)
    application = affiliate_service.apply_to_plan(db, creator.id, targeted.id, "please")
    affiliate_service.end_plan(db, bundle.shop.id, open_plan.id)
    db.refresh(application)
    assert application.status == ApplicationStatus.rejected and application.decided_by_user_id is None
    assert db.get(AffiliatePlan, targeted.id).status == PlanStatus.ended


@pytest.mark.pg_only
def test_concurrent_open_plans_only_one_wins(database, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def create() -> None:
        session = database.session()
        try:
            barrier.wait()
            affiliate_service.create_plan(
                session, bundle.shop.id, product_id=product.id, kind=PlanKind.open, commission_bps=500
            )
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            session.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["plan_exists"] * 5
    active = db.scalar(
        select(func.count())
        .select_from(AffiliatePlan)
        .where(AffiliatePlan.product_id == product.id, AffiliatePlan.status == PlanStatus.active)
    )
    assert active == 1
