"""Publishing accounts (shop and creator), Top-KOL marking, and follows."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.api_helpers import assert_error, snapshot, walk_items
from tests.content_helpers import CONTENT_TABLES
from tests.factories import add_staff, auth, make_creator, make_shop, make_user
from zhongcao.content import service as content_service
from zhongcao.content.models import Account, Follow
from zhongcao.errors import Forbidden, InvalidInput
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


def test_merchant_creates_and_lists_own_accounts(client, db):
    bundle = make_shop(db)
    operator = add_staff(db, bundle.shop, StaffRole.operator)
    r = client.post(
        "/api/merchant/accounts",
        json={"handle": "  Brand_Live  ", "name": "品牌直播间", "niche": "beauty"},
        headers=auth(db, bundle.owner),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["handle"] == "brand_live"  # trimmed and lower-cased
    assert body["kind"] == "shop" and body["shop_id"] == bundle.shop.id
    assert body["follower_count"] == 0 and body["is_top_kol"] is False
    r = client.post(
        "/api/merchant/accounts", json={"handle": "brand_daily", "name": "日常"}, headers=auth(db, operator)
    )
    assert r.status_code == 201, r.text

    other = make_shop(db)
    client.post(
        "/api/merchant/accounts", json={"handle": "other_x", "name": "x"}, headers=auth(db, other.owner)
    )

    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    listed = walk_items(client, "/api/merchant/accounts", auth(db, agent), limit=2)
    assert [a["handle"] for a in listed] == ["brand_daily", "brand_live", bundle.account.handle]


def test_account_roles(client, db):
    bundle = make_shop(db)
    body = {"handle": "brand_x", "name": "x"}
    assert_error(client.post("/api/merchant/accounts", json=body), 401, "not_authenticated")
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    assert_error(
        client.post("/api/merchant/accounts", json=body, headers=auth(db, agent)), 403, "wrong_shop_role"
    )
    shopper = make_user(db)
    assert_error(
        client.post("/api/merchant/accounts", json=body, headers=auth(db, shopper)), 403, "wrong_role"
    )
    assert_error(client.post("/api/creator/account", json=body, headers=auth(db, shopper)), 403, "wrong_role")
    assert_error(
        client.post("/api/creator/account", json=body, headers=auth(db, bundle.owner)), 403, "wrong_role"
    )


@pytest.mark.parametrize(
    ("handle", "code", "field"),
    [
        ("ab", "validation_error", "handle"),
        ("x" * 41, "validation_error", "handle"),
        ("bad-handle", "validation_error", "handle"),
        ("中文名字", "validation_error", "handle"),
        ("has space", "validation_error", "handle"),
    ],
)
def test_bad_handles_are_refused(client, db, handle, code, field):
    bundle = make_shop(db)
    before = snapshot(db, CONTENT_TABLES)
    r = client.post(
        "/api/merchant/accounts", json={"handle": handle, "name": "x"}, headers=auth(db, bundle.owner)
    )
    assert_error(r, 422, code, field)
    assert snapshot(db, CONTENT_TABLES) == before


def test_bad_account_bodies_are_refused(client, db):
    bundle = make_shop(db)
    headers = auth(db, bundle.owner)
    before = snapshot(db, CONTENT_TABLES)
    assert_error(
        client.post("/api/merchant/accounts", json={"handle": "okay"}, headers=headers),
        422,
        "validation_error",
        "name",
    )
    assert_error(
        client.post(
            "/api/merchant/accounts", json={"handle": "okay", "name": "x", "shop_id": 9}, headers=headers
        ),
        422,
        "validation_error",
        "shop_id",
    )
    assert_error(
        client.post(
            "/api/merchant/accounts", json={"handle": "okay", "name": "x", "niche": "n" * 41}, headers=headers
        ),
        422,
        "validation_error",
        "niche",
    )
    assert snapshot(db, CONTENT_TABLES) == before


def test_handles_are_unique_across_shops_and_creators(client, db):
    bundle = make_shop(db)
    r = client.post(
        "/api/merchant/accounts", json={"handle": "taken_one", "name": "x"}, headers=auth(db, bundle.owner)
    )
    assert r.status_code == 201
    before = snapshot(db, CONTENT_TABLES)
    other = make_shop(db)
    before = snapshot(db, CONTENT_TABLES)
    r = client.post(
        "/api/merchant/accounts", json={"handle": "TAKEN_ONE", "name": "y"}, headers=auth(db, other.owner)
    )
    assert_error(r, 409, "handle_taken", "handle")
    creator = make_user(db, Role.creator)
    before = snapshot(db, CONTENT_TABLES)
    r = client.post(
        "/api/creator/account", json={"handle": "taken_one", "name": "c"}, headers=auth(db, creator)
    )
    assert_error(r, 409, "handle_taken", "handle")
    assert snapshot(db, CONTENT_TABLES) == before


def test_creator_account_lifecycle(client, db):
    creator = make_user(db, Role.creator)
    headers = auth(db, creator)
    assert_error(client.get("/api/creator/account", headers=headers), 404, "account_not_found")
    # Creator endpoints that need the account say so until it exists.
    assert_error(client.get("/api/creator/content", headers=headers), 403, "no_creator_account")

    r = client.post(
        "/api/creator/account", json={"handle": "xiaohong", "name": "小红", "niche": "美妆"}, headers=headers
    )
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["kind"] == "creator" and account["shop_id"] is None and account["niche"] == "美妆"
    assert "user_id" not in account
    assert client.get("/api/creator/account", headers=headers).json()["id"] == account["id"]
    assert client.get("/api/creator/content", headers=headers).status_code == 200

    before = snapshot(db, CONTENT_TABLES)
    r = client.post("/api/creator/account", json={"handle": "xiaohong2", "name": "again"}, headers=headers)
    assert_error(r, 409, "creator_account_exists")
    assert snapshot(db, CONTENT_TABLES) == before


def test_service_refuses_bad_handles_and_non_creators(db):
    bundle = make_shop(db)
    with pytest.raises(InvalidInput) as info:
        content_service.create_shop_account(db, bundle.shop.id, handle="Bad Handle", name="x")
    assert info.value.code == "invalid_handle"
    with pytest.raises(Forbidden):
        content_service.create_creator_account(db, bundle.owner.id, handle="owner_acc", name="x")


def test_operator_marks_top_kol(client, db):
    operator = make_user(db, Role.operator)
    _, account = make_creator(db)
    bundle = make_shop(db)
    headers = auth(db, operator)
    r = client.patch(f"/api/ops/accounts/{account.id}", json={"is_top_kol": True}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_top_kol"] is True
    assert client.get(f"/api/accounts/{account.id}").json()["is_top_kol"] is True
    r = client.patch(f"/api/ops/accounts/{account.id}", json={"is_top_kol": False}, headers=headers)
    assert r.json()["is_top_kol"] is False

    before = snapshot(db, CONTENT_TABLES)
    r = client.patch(f"/api/ops/accounts/{bundle.account.id}", json={"is_top_kol": True}, headers=headers)
    assert_error(r, 422, "not_a_creator_account", "is_top_kol")
    assert_error(
        client.patch("/api/ops/accounts/999999", json={"is_top_kol": True}, headers=headers),
        404,
        "account_not_found",
    )
    r = client.patch(f"/api/ops/accounts/{account.id}", json={"is_top_kol": "maybe"}, headers=headers)
    assert_error(r, 422, "validation_error", "is_top_kol")
    r = client.patch(
        f"/api/ops/accounts/{account.id}", json={"is_top_kol": True}, headers=auth(db, bundle.owner)
    )
    assert_error(r, 403, "wrong_role")
    assert snapshot(db, CONTENT_TABLES) == before


def test_public_account(client, db):
    _, account = make_creator(db)
    shopper = make_user(db)
    r = client.get(f"/api/accounts/{account.id}")
    assert r.status_code == 200
    assert r.json()["following"] is None and r.json()["handle"] == account.handle
    assert client.get(f"/api/accounts/{account.id}", headers=auth(db, shopper)).json()["following"] is False
    client.put(f"/api/accounts/{account.id}/follow", headers=auth(db, shopper))
    assert client.get(f"/api/accounts/{account.id}", headers=auth(db, shopper)).json()["following"] is True
    assert_error(client.get("/api/accounts/424242"), 404, "account_not_found")


def _follower_count(db, account_id: int) -> int:
    db.expire_all()
    return db.get(Account, account_id).follower_count


def test_follow_and_unfollow_are_idempotent_and_counts_exact(client, db):
    _, account = make_creator(db)
    alice, bob = make_user(db), make_user(db)
    a, b = auth(db, alice), auth(db, bob)
    url = f"/api/accounts/{account.id}/follow"

    for _ in range(3):
        r = client.put(url, headers=a)
        assert r.status_code == 200, r.text
        assert r.json() == {"account_id": account.id, "following": True, "follower_count": 1}
    assert client.put(url, headers=b).json()["follower_count"] == 2
    assert _follower_count(db, account.id) == 2

    for _ in range(3):
        r = client.delete(url, headers=a)
        assert r.json() == {"account_id": account.id, "following": False, "follower_count": 1}
    assert content_service.follows(db, bob.id, account.id) is True
    assert content_service.follows(db, alice.id, account.id) is False
    client.delete(url, headers=b)
    assert _follower_count(db, account.id) == 0
    client.delete(url, headers=b)
    assert _follower_count(db, account.id) == 0
    assert db.scalar(select(func.count()).select_from(Follow)) == 0

    assert_error(client.put(url), 401, "not_authenticated")
    assert_error(client.put("/api/accounts/777777/follow", headers=a), 404, "account_not_found")
    assert_error(client.delete("/api/accounts/777777/follow", headers=a), 404, "account_not_found")


def test_my_follows_are_paginated(client, db):
    user = make_user(db)
    headers = auth(db, user)
    accounts = [make_creator(db)[1] for _ in range(3)] + [make_shop(db).account]
    for account in accounts:
        assert client.put(f"/api/accounts/{account.id}/follow", headers=headers).status_code == 200
    listed = walk_items(client, "/api/me/follows", headers, limit=3)
    assert [f["account"]["id"] for f in listed] == [a.id for a in reversed(accounts)]
    assert all(f["account"]["follower_count"] == 1 for f in listed)
    assert content_service.followed_account_ids(db, user.id) == [a.id for a in accounts]
    assert_error(client.get("/api/me/follows"), 401, "not_authenticated")
    assert_error(client.get("/api/me/follows?cursor=%%%", headers=headers), 422, "invalid_cursor", "cursor")
    assert_error(client.get("/api/me/follows?limit=0", headers=headers), 422, "validation_error", "limit")


@pytest.mark.pg_only
def test_concurrent_follows_keep_the_count_exact(database, db):
    _, account = make_creator(db)
    users = [make_user(db) for _ in range(8)]
    barrier = threading.Barrier(len(users) * 2)
    errors: list[BaseException] = []

    def churn(user_id: int, rounds: int) -> None:
        session = database.session()
        try:
            barrier.wait()
            for _ in range(rounds):
                content_service.follow_account(session, user_id, account.id)
                content_service.follow_account(session, user_id, account.id)
                content_service.unfollow_account(session, user_id, account.id)
            content_service.follow_account(session, user_id, account.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            session.close()

    # Two threads per user: the same follow row is raced for, as well as the shared counter.
    threads = [threading.Thread(target=churn, args=(u.id, 5)) for u in users for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = db.scalar(select(func.count()).select_from(Follow).where(Follow.account_id == account.id))
    assert rows == len(users)
    assert _follower_count(db, account.id) == len(users)
