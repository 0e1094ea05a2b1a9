"""Short videos and live sessions: publishing, anchor rules, the live lifecycle, who sees what."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.api_helpers import assert_error, snapshot, walk_items
from tests.content_helpers import CONTENT_TABLES, future, make_plan
from tests.factories import add_staff, auth, make_creator, make_product, make_shop, make_user
from zhongcao import clock, flows
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog.models import ProductStatus
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus
from zhongcao.errors import Conflict, InvalidInput
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


def _video(account_id: int, anchors: list[int], **extra) -> dict:
    return {
        "account_id": account_id,
        "kind": "short_video",
        "title_zh": "夏日穿搭",
        "title_en": "Summer outfits",
        "topic": "fashion",
        "duration_seconds": 45,
        "anchors": anchors,
        **extra,
    }


def _live(account_id: int, anchors: list[int], **extra) -> dict:
    return {
        "account_id": account_id,
        "kind": "live",
        "title_zh": "周五直播",
        "title_en": "Friday live",
        "scheduled_at": future(),
        "anchors": anchors,
        **extra,
    }


def _creator_body(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "account_id"}


def test_merchant_publishes_a_short_video(client, db):
    bundle = make_shop(db)
    p1, p2, p3 = (make_product(db, bundle.shop, price_fen=price) for price in (1990, 2990, 3990))
    headers = auth(db, bundle.owner)
    r = client.post(
        "/api/merchant/content", json=_video(bundle.account.id, [p3.id, p1.id, p2.id]), headers=headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "short_video" and body["status"] == "published"
    assert body["anchor_product_ids"] == [p3.id, p1.id, p2.id]
    assert [a["product_id"] for a in body["anchors"]] == [p3.id, p1.id, p2.id]
    assert [a["position"] for a in body["anchors"]] == [0, 1, 2]
    assert body["anchors"][0]["price_fen"] == 3990 and body["anchors"][0]["title_zh"] == p3.title_zh
    assert body["anchors"][0]["on_sale"] is True
    assert body["account"]["id"] == bundle.account.id and body["product_sets"] == []

    public = client.get(f"/api/content/{body['id']}")
    assert public.status_code == 200
    assert public.json()["anchor_product_ids"] == [p3.id, p1.id, p2.id]
    assert content_service.anchored_product_ids(db, body["id"]) == [p3.id, p1.id, p2.id]
    assert content_service.get_content(db, body["id"]).status == ContentStatus.published


def test_merchant_runs_a_live_session(client, db):
    bundle = make_shop(db)
    products = [make_product(db, bundle.shop) for _ in range(4)]
    ids = [p.id for p in products]
    headers = auth(db, bundle.owner)
    body = _live(
        bundle.account.id,
        ids,
        product_sets=[
            {"name": "福利款", "product_ids": [ids[2], ids[0]]},
            {"name": "主推款", "product_ids": [ids[3]]},
        ],
    )
    r = client.post("/api/merchant/content", json=body, headers=headers)
    assert r.status_code == 201, r.text
    live = r.json()
    cid = live["id"]
    assert live["status"] == "scheduled" and live["scheduled_at"] is not None
    assert [(s["name"], s["position"], s["product_ids"]) for s in live["product_sets"]] == [
        ("福利款", 0, [ids[0], ids[2]]),  # in anchor order
        ("主推款", 1, [ids[3]]),
    ]
    by_product = {a["product_id"]: a["product_set_id"] for a in live["anchors"]}
    assert by_product[ids[1]] is None and by_product[ids[3]] == live["product_sets"][1]["id"]

    base = f"/api/merchant/content/{cid}"
    assert_error(
        client.post(f"{base}/pin", json={"product_id": ids[0]}, headers=headers), 409, "content_not_live"
    )
    assert_error(client.post(f"{base}/end", headers=headers), 409, "illegal_transition")

    r = client.post(f"{base}/start", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "live" and r.json()["started_at"] is not None
    assert_error(client.post(f"{base}/start", headers=headers), 409, "illegal_transition")
    assert_error(client.post(f"{base}/remove", headers=headers), 409, "illegal_transition")

    other = make_product(db, bundle.shop)
    before = snapshot(db, CONTENT_TABLES)
    r = client.post(f"{base}/pin", json={"product_id": other.id}, headers=headers)
    assert_error(r, 422, "product_not_anchored", "product_id")
    assert_error(
        client.post(f"{base}/pin", json={"product_id": "x"}, headers=headers),
        422,
        "validation_error",
        "product_id",
    )
    assert snapshot(db, CONTENT_TABLES) == before

    r = client.post(f"{base}/pin", json={"product_id": ids[2]}, headers=headers)
    assert r.status_code == 200 and r.json()["pinned_product_id"] == ids[2]
    r = client.post(f"{base}/pin", json={"product_id": ids[1]}, headers=headers)
    assert r.json()["pinned_product_id"] == ids[1]
    public = client.get(f"/api/content/{cid}").json()
    assert public["status"] == "live" and public["pinned_product"]["product_id"] == ids[1]

    r = client.delete(f"{base}/pin", headers=headers)
    assert r.status_code == 200 and r.json()["pinned_product_id"] is None
    client.post(f"{base}/pin", json={"product_id": ids[3]}, headers=headers)

    r = client.post(f"{base}/end", headers=headers)
    assert r.status_code == 200
    ended = r.json()
    assert ended["status"] == "ended" and ended["ended_at"] is not None
    assert ended["pinned_product_id"] is None  # the pin ends with the session
    assert_error(client.post(f"{base}/end", headers=headers), 409, "illegal_transition")
    assert_error(client.post(f"{base}/start", headers=headers), 409, "illegal_transition")
    assert_error(client.delete(f"{base}/pin", headers=headers), 409, "content_not_live")
    # An ended session stays visible (replays), with its products.
    assert client.get(f"/api/content/{cid}").json()["anchor_product_ids"] == ids


def test_short_video_removal(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    headers = auth(db, bundle.owner)
    kept = client.post(
        "/api/merchant/content", json=_video(bundle.account.id, [product.id]), headers=headers
    ).json()
    gone = client.post("/api/merchant/content", json=_video(bundle.account.id, []), headers=headers).json()

    assert_error(
        client.post(f"/api/merchant/content/{gone['id']}/start", headers=headers), 409, "illegal_transition"
    )
    assert_error(
        client.post(
            f"/api/merchant/content/{gone['id']}/pin", json={"product_id": product.id}, headers=headers
        ),
        409,
        "content_not_live",
    )
    r = client.post(f"/api/merchant/content/{gone['id']}/remove", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "removed"
    assert_error(
        client.post(f"/api/merchant/content/{gone['id']}/remove", headers=headers), 409, "illegal_transition"
    )

    assert_error(client.get(f"/api/content/{gone['id']}"), 404, "content_not_found")
    public = walk_items(client, f"/api/accounts/{bundle.account.id}/content")
    assert [c["id"] for c in public] == [kept["id"]]
    # The owner still sees it.
    assert client.get(f"/api/merchant/content/{gone['id']}", headers=headers).json()["status"] == "removed"
    listed = walk_items(client, "/api/merchant/content?status=removed", headers)
    assert [c["id"] for c in listed] == [gone["id"]]


def test_account_content_is_paginated_and_filtered(client, db):
    bundle = make_shop(db)
    headers = auth(db, bundle.owner)
    second = client.post(
        "/api/merchant/accounts", json={"handle": "second_acc", "name": "2"}, headers=headers
    ).json()
    made = []
    for i in range(5):
        body = _video(bundle.account.id, []) if i % 2 == 0 else _live(bundle.account.id, [])
        made.append(client.post("/api/merchant/content", json=body, headers=headers).json()["id"])
    other = client.post("/api/merchant/content", json=_video(second["id"], []), headers=headers).json()["id"]

    assert [c["id"] for c in walk_items(client, f"/api/accounts/{bundle.account.id}/content")] == made[::-1]
    lives = walk_items(client, f"/api/accounts/{bundle.account.id}/content?kind=live")
    assert [c["id"] for c in lives] == [made[3], made[1]]
    mine = walk_items(client, "/api/merchant/content", headers)
    assert [c["id"] for c in mine] == [other, *made[::-1]]
    only_second = walk_items(client, f"/api/merchant/content?account_id={second['id']}", headers)
    assert [c["id"] for c in only_second] == [other]
    assert_error(client.get("/api/accounts/99999/content"), 404, "account_not_found")
    assert_error(
        client.get("/api/merchant/content?kind=podcast", headers=headers), 422, "validation_error", "kind"
    )


def test_bad_content_is_refused_and_changes_nothing(client, db):
    bundle = make_shop(db)
    other_shop = make_shop(db)
    mine = [make_product(db, bundle.shop) for _ in range(3)]
    theirs = make_product(db, other_shop.shop)
    delisted = make_product(db, bundle.shop)
    delisted.status = ProductStatus.delisted
    db.commit()
    ids = [p.id for p in mine]
    headers = auth(db, bundle.owner)
    aid = bundle.account.id
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    cases = [
        (_video(aid, [ids[0], ids[1], ids[0]]), "duplicate_anchor", "anchors[2]"),
        (_video(aid, [ids[0], theirs.id]), "product_not_found", "anchors[1]"),
        (_video(aid, [999_999]), "product_not_found", "anchors[0]"),
        (_video(aid, [delisted.id]), "product_not_on_sale", "anchors[0]"),
        (_video(aid, ids, scheduled_at=future()), "not_for_short_video", "scheduled_at"),
        (
            _video(aid, ids, product_sets=[{"name": "a", "product_ids": [ids[0]]}]),
            "not_for_short_video",
            "product_sets",
        ),
        (_live(aid, ids, duration_seconds=60), "not_for_live", "duration_seconds"),
        (_live(aid, ids, scheduled_at=past), "scheduled_at_not_in_future", "scheduled_at"),
        (
            _live(aid, ids[:2], product_sets=[{"name": "a", "product_ids": [ids[2]]}]),
            "product_not_anchored",
            "product_sets[0].product_ids[0]",
        ),
        (
            _live(
                aid,
                ids,
                product_sets=[
                    {"name": "a", "product_ids": [ids[0]]},
                    {"name": "b", "product_ids": [ids[1], ids[0]]},
                ],
            ),
            "product_already_in_a_set",
            "product_sets[1].product_ids[1]",
        ),
        (
            _live(
                aid,
                ids,
                product_sets=[{"name": "a", "product_ids": [ids[0]]}, {"name": "a", "product_ids": [ids[1]]}],
            ),
            "duplicate_product_set_name",
            "product_sets[1].name",
        ),
        (_video(other_shop.account.id, []), "account_not_found", "account_id"),
        (_video(aid, list(range(1, 52))), "validation_error", "anchors"),
        (_video(aid, [0]), "validation_error", "anchors[0]"),
        (_video(aid, [], kind="podcast"), "validation_error", "kind"),
        (_video(aid, [], title_zh=""), "validation_error", "title_zh"),
        (_video(aid, [], duration_seconds=0), "validation_error", "duration_seconds"),
        (_video(aid, [], colour="red"), "validation_error", "colour"),
        (_live(aid, [], scheduled_at="2030-01-01T10:00:00"), "validation_error", "scheduled_at"),
        (
            _live(aid, ids, product_sets=[{"name": "a", "product_ids": []}]),
            "validation_error",
            "product_sets[0].product_ids",
        ),
        ({k: v for k, v in _video(aid, []).items() if k != "account_id"}, "validation_error", "account_id"),
    ]
    before = snapshot(db, CONTENT_TABLES)
    for body, code, field in cases:
        assert_error(client.post("/api/merchant/content", json=body, headers=headers), 422, code, field)
    assert snapshot(db, CONTENT_TABLES) == before


def test_merchant_content_roles_and_tenancy(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    headers = auth(db, bundle.owner)
    live = client.post(
        "/api/merchant/content", json=_live(bundle.account.id, [product.id]), headers=headers
    ).json()
    cid = live["id"]

    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    agent_headers = auth(db, agent)
    # Service agents may read what the shop published, not publish or run it.
    assert client.get(f"/api/merchant/content/{cid}", headers=agent_headers).status_code == 200
    assert_error(
        client.post("/api/merchant/content", json=_video(bundle.account.id, []), headers=agent_headers),
        403,
        "wrong_shop_role",
    )
    assert_error(
        client.post(f"/api/merchant/content/{cid}/start", headers=agent_headers), 403, "wrong_shop_role"
    )
    assert_error(client.get("/api/merchant/content"), 401, "not_authenticated")
    creator, _ = make_creator(db)
    assert_error(client.get("/api/merchant/content", headers=auth(db, creator)), 403, "wrong_role")

    stranger = make_shop(db)
    s = auth(db, stranger.owner)
    before = snapshot(db, CONTENT_TABLES)
    assert_error(client.get(f"/api/merchant/content/{cid}", headers=s), 404, "content_not_found")
    for action in ("start", "end", "remove"):
        assert_error(
            client.post(f"/api/merchant/content/{cid}/{action}", headers=s), 404, "content_not_found"
        )
    assert_error(
        client.post(f"/api/merchant/content/{cid}/pin", json={"product_id": product.id}, headers=s),
        404,
        "content_not_found",
    )
    assert_error(client.delete(f"/api/merchant/content/{cid}/pin", headers=s), 404, "content_not_found")
    assert walk_items(client, "/api/merchant/content", s) == []
    assert snapshot(db, CONTENT_TABLES) == before
    # A creator's content is not a shop's either.
    _, account = make_creator(db)
    video = flows.publish_content(db, account.id, kind=ContentKind.short_video, title_zh="x", title_en="x")
    assert_error(client.get(f"/api/merchant/content/{video.id}", headers=headers), 404, "content_not_found")


def test_creator_anchor_rules(client, db):
    bundle = make_shop(db)
    open_product, exclusive_product, no_plan, delisted = (make_product(db, bundle.shop) for _ in range(4))
    creator, account = make_creator(db)
    _, rival = make_creator(db)
    make_plan(db, open_product, PlanKind.open, 1000)
    make_plan(db, exclusive_product, PlanKind.exclusive, 2000, creators=[rival])
    make_plan(db, delisted, PlanKind.open, 1000)
    delisted.status = ProductStatus.delisted
    db.commit()
    headers = auth(db, creator)

    before = snapshot(db, CONTENT_TABLES)
    for anchors, index in (
        ([open_product.id, no_plan.id], 1),
        ([exclusive_product.id], 0),
        ([open_product.id, delisted.id], 1),
        ([999_999], 0),
    ):
        r = client.post("/api/creator/content", json=_creator_body(_video(0, anchors)), headers=headers)
        assert_error(r, 422, "product_not_promotable", f"anchors[{index}]")
    assert snapshot(db, CONTENT_TABLES) == before

    r = client.post("/api/creator/content", json=_creator_body(_video(0, [open_product.id])), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["account"]["id"] == account.id

    # Listed on the exclusive plan, the creator may anchor it.
    affiliate_service.add_plan_creator(
        db, bundle.shop.id, _exclusive_plan_id(db, exclusive_product.id), account.id
    )
    r = client.post(
        "/api/creator/content",
        json=_creator_body(_live(0, [exclusive_product.id, open_product.id])),
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert affiliate_service.promotable_product_ids(
        db, account.id, [open_product.id, exclusive_product.id, no_plan.id, delisted.id]
    ) == {open_product.id, exclusive_product.id}
    # A shop account is not a creator: affiliate plans let it promote nothing.
    assert affiliate_service.promotable_product_ids(db, bundle.account.id, [open_product.id]) == set()


def _exclusive_plan_id(db, product_id: int) -> int:
    (plan,) = [
        p for p in affiliate_service.active_plans_for_product(db, product_id) if p.kind == PlanKind.exclusive
    ]
    return plan.id


def test_creator_targeted_listing_and_live_lifecycle(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    creator, account = make_creator(db)
    make_plan(db, product, PlanKind.open, 500)
    make_plan(db, product, PlanKind.targeted, 1500, creators=[account])
    headers = auth(db, creator)
    r = client.post("/api/creator/content", json=_creator_body(_live(0, [product.id])), headers=headers)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    base = f"/api/creator/content/{cid}"
    assert client.post(f"{base}/start", headers=headers).json()["status"] == "live"
    assert (
        client.post(f"{base}/pin", json={"product_id": product.id}, headers=headers).json()[
            "pinned_product_id"
        ]
        == product.id
    )
    assert client.delete(f"{base}/pin", headers=headers).json()["pinned_product_id"] is None
    assert client.post(f"{base}/end", headers=headers).json()["status"] == "ended"
    assert_error(client.post(f"{base}/remove", headers=headers), 409, "illegal_transition")
    assert client.get(base, headers=headers).json()["status"] == "ended"
    assert [c["id"] for c in walk_items(client, "/api/creator/content", headers)] == [cid]
    assert walk_items(client, "/api/creator/content?status=live", headers) == []


def test_creator_content_tenancy_and_roles(client, db):
    creator, account = make_creator(db)
    other_creator, _ = make_creator(db)
    headers = auth(db, creator)
    video = client.post("/api/creator/content", json=_creator_body(_video(0, [])), headers=headers).json()
    o = auth(db, other_creator)
    before = snapshot(db, CONTENT_TABLES)
    assert_error(client.get(f"/api/creator/content/{video['id']}", headers=o), 404, "content_not_found")
    assert_error(
        client.post(f"/api/creator/content/{video['id']}/remove", headers=o), 404, "content_not_found"
    )
    assert walk_items(client, "/api/creator/content", o) == []
    assert snapshot(db, CONTENT_TABLES) == before

    bundle = make_shop(db)
    shop_video = client.post(
        "/api/merchant/content", json=_video(bundle.account.id, []), headers=auth(db, bundle.owner)
    ).json()
    assert_error(
        client.get(f"/api/creator/content/{shop_video['id']}", headers=headers), 404, "content_not_found"
    )

    shopper = make_user(db)
    assert_error(
        client.post("/api/creator/content", json=_creator_body(_video(0, [])), headers=auth(db, shopper)),
        403,
        "wrong_role",
    )
    assert_error(
        client.post("/api/creator/content", json=_creator_body(_video(0, []))), 401, "not_authenticated"
    )
    no_account = make_user(db, Role.creator)
    assert_error(
        client.post("/api/creator/content", json=_creator_body(_video(0, [])), headers=auth(db, no_account)),
        403,
        "no_creator_account",
    )
    # The creator body has no account_id: the account always comes from who is calling.
    assert_error(
        client.post("/api/creator/content", json=_video(bundle.account.id, []), headers=headers),
        422,
        "validation_error",
        "account_id",
    )
    assert (
        client.post(f"/api/creator/content/{video['id']}/remove", headers=headers).json()["status"]
        == "removed"
    )


def test_public_content_views(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop, price_fen=12_300)
    live = flows.publish_content(
        db,
        bundle.account.id,
        kind=ContentKind.live,
        title_zh="直播",
        title_en="Live",
        anchors=[product.id],
        product_sets=[content_service.ProductSetSpec(name="主推", product_ids=[product.id])],
    )
    body = client.get(f"/api/content/{live.id}").json()
    assert body["status"] == "scheduled" and body["scheduled_at"] is None
    assert body["anchors"][0]["price_fen"] == 12_300 and body["pinned_product"] is None
    assert body["product_sets"][0]["product_ids"] == [product.id]
    content_service.start_live(db, live.id)
    content_service.pin_product(db, live.id, product.id)
    body = client.get(f"/api/content/{live.id}").json()
    assert (
        body["pinned_product"]["product_id"] == product.id and body["pinned_product"]["price_fen"] == 12_300
    )
    assert_error(client.get("/api/content/5555555"), 404, "content_not_found")


def test_pinning_a_product_taken_off_sale_is_refused(db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    live = flows.publish_content(
        db, bundle.account.id, kind=ContentKind.live, title_zh="x", title_en="x", anchors=[product.id]
    )
    content_service.start_live(db, live.id)
    product.status = ProductStatus.delisted
    db.commit()
    with pytest.raises(InvalidInput) as info:
        content_service.pin_product(db, live.id, product.id)
    assert info.value.code == "product_not_on_sale"
    assert content_service.get_content(db, live.id).pinned_product_id is None


@pytest.mark.pg_only
def test_concurrent_starts_only_one_wins(database, db):
    bundle = make_shop(db)
    live = flows.publish_content(db, bundle.account.id, kind=ContentKind.live, title_zh="x", title_en="x")
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def start() -> None:
        session = database.session()
        try:
            barrier.wait()
            content_service.start_live(session, live.id)
            outcomes.append("started")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            session.close()

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["illegal_transition"] * 5 + ["started"]
    db.expire_all()
    assert content_service.get_content(db, live.id).status == ContentStatus.live
