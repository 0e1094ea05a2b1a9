"""The operator's workbench (issue #16, item 4) through the API and the service: arbitration with a
reason and the merchant-at-fault flag that reaches the experience score, complaints, shop warnings
and suspensions, user disable/restore, the audit log, the queue counts; reasons are required and
only operators reach any of it."""

from __future__ import annotations

from datetime import timedelta

from tests.aftersales_helpers import buyer_headers, open_case, owner_headers
from tests.api_helpers import assert_error
from tests.commerce_helpers import delivered_order
from tests.factories import auth, make_category, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.experience import computation as score_computation
from zhongcao.experience import indicators
from zhongcao.experience import scores as experience_scores
from zhongcao.experience.scoring import ScoreConfig, ScoreRules
from zhongcao.feed import catalog as feed_catalog
from zhongcao.users.models import Role

RULES = ScoreRules(default=ScoreConfig(min_orders=1))


def _escalated(client, db, bundle) -> int:
    buyer, owner = buyer_headers(db, bundle), owner_headers(db, bundle)
    cid = open_case(client, buyer, bundle, kind="refund_only")["id"]
    assert (
        client.post(
            f"/api/merchant/after-sales/{cid}/reject", headers=owner, json={"note": "人为损坏"}
        ).status_code
        == 200
    )
    assert client.post(f"/api/after-sales/{cid}/escalate", headers=buyer).json()["status"] == "arbitrating"
    return cid


def _audit(client, ops, **params):
    r = client.get("/api/ops/audit", params=params, headers=ops)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_arbitration_needs_a_reason_and_a_ruling_against_the_merchant_counts_in_its_score(client, db):
    ours, theirs = delivered_order(db, quantity=1), delivered_order(db, quantity=1)
    ops_user = make_user(db, Role.operator)
    ops = auth(db, ops_user)
    case_ours, case_theirs = _escalated(client, db, ours), _escalated(client, db, theirs)
    queue = client.get("/api/ops/workbench", headers=ops).json()["queues"]
    assert {q["key"]: q["count"] for q in queue}["after_sales"] == 2

    url = f"/api/ops/after-sales/{case_ours}/arbitrate"
    assert_error(
        client.post(url, json={"merchant_at_fault": True}, headers=ops), 422, "reason_required", "reason"
    )
    assert_error(
        client.post(url, json={"merchant_at_fault": True, "reason": "   "}, headers=ops),
        422,
        "reason_required",
        "reason",
    )
    assert_error(
        client.post(url, json={"merchant_at_fault": True, "refund": False, "reason": "x"}, headers=ops),
        422,
        "fault_without_refund",
        "merchant_at_fault",
    )
    assert _audit(client, ops) == []

    # The next computation after the ruling scores our shop lower than the one before it.
    now = clock.now() + timedelta(minutes=1)
    before = {r.shop_id: r.score_centi for r in score_computation.compute_scores(db, now, RULES)}
    assert before[ours.shop.shop.id] is not None

    ruled = client.post(url, json={"merchant_at_fault": True, "reason": "商品确有质量问题"}, headers=ops)
    assert ruled.status_code == 200, ruled.text
    assert ruled.json()["status"] == "refunded" and ruled.json()["merchant_at_fault"] is True
    # A refund without blaming the merchant (the carrier lost it) does not count against the shop.
    other = client.post(
        f"/api/ops/after-sales/{case_theirs}/arbitrate",
        json={"merchant_at_fault": False, "refund": True, "reason": "快递丢件，平台先行赔付"},
        headers=ops,
    ).json()
    assert other["status"] == "refunded" and other["merchant_at_fault"] is False

    later = now + timedelta(minutes=1)
    gathered = {s.shop_id: s.values for s in indicators.gather(db, later, RULES)}
    assert gathered[ours.shop.shop.id]["dispute_rate"] == 1.0
    assert gathered[theirs.shop.shop.id]["dispute_rate"] == 0.0
    after = {r.shop_id: r.score_centi for r in score_computation.compute_scores(db, later, RULES)}
    assert after[ours.shop.shop.id] < before[ours.shop.shop.id]
    assert experience_scores.latest_score(db, ours.shop.shop.id).score_centi == after[ours.shop.shop.id]

    (entry,) = _audit(client, ops, action="after_sale.arbitrate", target_id=case_ours)
    assert entry["actor_user_id"] == ops_user.id and entry["reason"] == "商品确有质量问题"
    assert entry["before"] == {"status": "arbitrating", "merchant_at_fault": None}
    assert entry["after"] == {"status": "refunded", "merchant_at_fault": True, "refund": True}
    assert client.get("/api/ops/workbench", headers=ops).json()["queues"][1]["count"] == 0


def test_complaints_resolve_with_a_note_the_shopper_sees(client, db):
    bundle = make_shop(db)
    shopper = auth(db, make_user(db))
    ops = auth(db, make_user(db, Role.operator))
    filed = client.post(
        "/api/complaints",
        json={"shop_id": bundle.shop.id, "reason": "service", "text": "客服骂人"},
        headers=shopper,
    ).json()
    client.post("/api/complaints", json={"shop_id": bundle.shop.id, "reason": "logistics"}, headers=shopper)
    listed = client.get("/api/ops/complaints", params={"reason": "service"}, headers=ops).json()["items"]
    assert [c["id"] for c in listed] == [filed["id"]]
    url = f"/api/ops/complaints/{filed['id']}/resolve"
    assert_error(client.post(url, json={"upheld": True}, headers=ops), 422, "reason_required", "reason")
    done = client.post(url, json={"upheld": True, "reason": "核实属实，已处罚店铺"}, headers=ops)
    assert done.status_code == 200 and done.json()["status"] == "upheld"
    mine = client.get("/api/complaints", headers=shopper).json()["items"]
    assert {c["id"]: c["resolution_note"] for c in mine}[filed["id"]] == "核实属实，已处罚店铺"
    (entry,) = _audit(client, ops, target_kind="complaint")
    assert entry["before"] == {"status": "open"} and entry["after"] == {"status": "upheld"}


def test_shop_warnings_and_suspensions_with_reasons_the_merchant_sees(client, db):
    ops_user = make_user(db, Role.operator)
    ops = auth(db, ops_user)
    bundle = make_shop(db, "山野茶舍")
    leaf = make_category(db)
    product = make_product(db, bundle.shop, category=leaf)
    owner = auth(db, bundle.owner)
    campaign = client.post(
        "/api/ops/campaigns",
        json={
            "slug": "tea-week",
            "name_zh": "茶叶节",
            "name_en": "Tea week",
            "starts_at": (clock.now() - timedelta(hours=1)).isoformat(),
            "ends_at": (clock.now() + timedelta(days=7)).isoformat(),
            "category_ids": [leaf.parent_id],
            "subsidy_per_item_fen": 0,
            "budget_fen": 0,
        },
        headers=ops,
    ).json()
    act = f"/api/ops/shops/{bundle.shop.id}/actions"
    assert_error(client.post(act, json={"action": "warn"}, headers=ops), 422, "reason_required", "reason")
    assert_error(
        client.post(act, json={"action": "ban", "reason": "x"}, headers=ops),
        422,
        "validation_error",
        "action",
    )
    assert_error(
        client.post(act, json={"action": "restore", "reason": "x"}, headers=ops), 409, "nothing_to_restore"
    )
    assert client.post(act, json={"action": "warn", "reason": "发货超时较多"}, headers=ops).status_code == 200

    r = client.post(act, json={"action": "suspend_campaigns", "reason": "虚假宣传"}, headers=ops)
    assert r.status_code == 200 and r.json()["campaign_registration_suspended"] is True
    refused = assert_error(
        client.post(
            f"/api/merchant/campaigns/{campaign['id']}/registrations",
            json={"product_id": product.id},
            headers=owner,
        ),
        409,
        "campaign_registration_suspended",
    )
    assert refused["details"]["reason"] == "虚假宣传"

    r = client.post(act, json={"action": "suspend", "reason": "售假"}, headers=ops)
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert_error(client.get(f"/api/products/{product.id}"), 404, "product_not_found")
    notices = client.get("/api/merchant/shop/notices", headers=owner).json()
    assert [(n["action"], n["reason"]) for n in notices] == [
        ("shop.suspend", "售假"),
        ("shop.suspend_campaigns", "虚假宣传"),
        ("shop.warn", "发货超时较多"),
    ]
    found = client.get("/api/ops/shops", params={"q": "茶舍", "status": "suspended"}, headers=ops).json()[
        "items"
    ]
    assert [s["id"] for s in found] == [bundle.shop.id]

    r = client.post(act, json={"action": "restore", "reason": "整改完成"}, headers=ops)
    assert r.json()["status"] == "active" and r.json()["campaign_registration_suspended"] is False
    assert client.get(f"/api/products/{product.id}").status_code == 200
    r = client.post(
        f"/api/merchant/campaigns/{campaign['id']}/registrations",
        json={"product_id": product.id},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    entries = _audit(client, ops, target_kind="shop", target_id=bundle.shop.id)
    assert [e["action"] for e in entries] == [
        "shop.restore",
        "shop.suspend",
        "shop.suspend_campaigns",
        "shop.warn",
    ]
    assert entries[0]["before"] == {"status": "suspended", "campaign_registration_suspended": True}
    assert entries[0]["after"] == {"status": "active", "campaign_registration_suspended": False}
    assert all(e["actor_user_id"] == ops_user.id for e in entries)
    # The PATCH of old needs a reason too.
    assert_error(
        client.patch(f"/api/ops/shops/{bundle.shop.id}", json={"status": "suspended"}, headers=ops),
        422,
        "reason_required",
        "reason",
    )


def test_a_suspended_shops_content_leaves_the_feed_until_restored(db):
    from tests.commerce_helpers import make_content
    from tests.factories import make_creator
    from zhongcao.shops import sanctions

    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    _user, creator = make_creator(db)
    video = make_content(db, creator, [product])
    db.commit()
    catalog = feed_catalog.load_catalog(db)
    code = catalog.code_of[video.id]
    assert catalog.available[code]
    sanctions.act(db, bundle.shop.id, "suspend", reason="售假", actor_user_id=None)
    catalog = catalog.refreshed(db)
    assert not catalog.available[code]
    sanctions.act(db, bundle.shop.id, "restore", reason="整改完成", actor_user_id=None)
    assert catalog.refreshed(db).available[code]


def test_disabling_a_user_ends_their_sessions_and_refuses_sign_in(client, db):
    ops_user = make_user(db, Role.operator)
    ops = auth(db, ops_user)
    user = make_user(db, name="小红")
    headers = auth(db, user)
    assert client.get("/api/me", headers=headers).status_code == 200
    found = client.get("/api/ops/users", params={"q": user.email}, headers=ops).json()["items"]
    assert [u["id"] for u in found] == [user.id] and found[0]["is_active"] is True

    url = f"/api/ops/users/{user.id}/disable"
    assert_error(client.post(url, json={}, headers=ops), 422, "reason_required", "reason")
    assert_error(
        client.post(f"/api/ops/users/{ops_user.id}/disable", json={"reason": "x"}, headers=ops),
        403,
        "cannot_disable_self",
    )
    r = client.post(url, json={"reason": "批量刷单"}, headers=ops)
    assert r.status_code == 200 and r.json()["is_active"] is False and r.json()["sessions_revoked"] >= 1
    assert client.get("/api/me", headers=headers).status_code == 401
    login = client.post("/api/auth/login", json={"email": user.email, "password": "correct horse battery"})
    assert login.status_code in (401, 403)
    disabled = client.get("/api/ops/users", params={"disabled": True}, headers=ops).json()["items"]
    assert [u["id"] for u in disabled] == [user.id]
    assert_error(client.post(url, json={"reason": "again"}, headers=ops), 409, "already_disabled")

    r = client.post(f"/api/ops/users/{user.id}/restore", json={"reason": "申诉通过"}, headers=ops)
    assert r.status_code == 200 and r.json()["is_active"] is True
    entries = _audit(client, ops, target_kind="user")
    assert [(e["action"], e["reason"]) for e in entries] == [
        ("user.restore", "申诉通过"),
        ("user.disable", "批量刷单"),
    ]
    assert _audit(client, ops, q="刷单")[0]["action"] == "user.disable"
    assert _audit(client, ops, actor_id=ops_user.id, action="user.restore")[0]["target_id"] == user.id
    future = (clock.now() + timedelta(days=1)).isoformat()
    assert _audit(client, ops, since=future) == []
    assert len(_audit(client, ops, until=future)) == 2
    assert_error(
        client.get("/api/ops/audit", params={"since": "2026-01-01T00:00:00"}, headers=ops),
        422,
        "naive_datetime",
        "since",
    )


def test_only_operators_reach_the_workbench(client, db):
    bundle = make_shop(db)
    others = [auth(db, u) for u in (make_user(db), bundle.owner, make_user(db, Role.creator))]
    calls = [
        ("GET", "/api/ops/audit", None),
        ("GET", "/api/ops/workbench", None),
        ("GET", "/api/ops/users", None),
        ("POST", f"/api/ops/users/{bundle.owner.id}/disable", {"reason": "x"}),
        ("POST", f"/api/ops/users/{bundle.owner.id}/restore", {"reason": "x"}),
        ("POST", f"/api/ops/shops/{bundle.shop.id}/actions", {"action": "warn", "reason": "x"}),
        ("GET", "/api/ops/after-sales/1/evidence", None),
    ]
    for method, url, body in calls:
        assert_error(client.request(method, url, json=body), 401, "not_authenticated")
        for headers in others:
            assert_error(client.request(method, url, json=body, headers=headers), 403, "wrong_role")
