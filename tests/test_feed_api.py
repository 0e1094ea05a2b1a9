"""GET /api/feed and POST /api/feed/feedback on a tiny simulated world with a trained model."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.async_helpers import run_async
from tests.feed_helpers import token_for, trained
from zhongcao.events.store import SegmentEventStore
from zhongcao.feed.seen import InMemoryMemory, TableMemory
from zhongcao.feed.service import FeedService

# The tiny world and its model are built once per worker and backend (tests/world_snapshots.py):
# one worker runs every test that uses them, so they are built once per backend.
pytestmark = pytest.mark.xdist_group("tiny_feed_world")


@pytest.fixture
def feed(app, database, db, tmp_path):
    model, _path, _store = trained(database, tmp_path)
    app.state.feed_service = FeedService(lambda: model, TableMemory())
    app.state.event_store = SegmentEventStore(tmp_path / "api-events")
    user_id = int(model.users.user_ids[len(model.users.user_ids) // 2])
    return model, user_id, {"Authorization": f"Bearer {token_for(database, user_id)}"}


def test_pages_never_repeat_and_what_the_user_does_changes_the_next_page(client, feed, db):
    _model, _user, headers = feed
    seen: list[int] = []
    cursor = None
    for _ in range(4):
        r = client.get(
            "/api/feed", params={"limit": 10, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["request_id"] and body["next_cursor"]
        cursor = body["next_cursor"]
        assert len(body["items"]) == 10
        for position, item in enumerate(body["items"]):
            assert item["position"] == position
            assert item["tracking_id"] == f"{body['request_id']}.{position}"
            assert item["reason"]["code"] and item["reason"]["zh"] and item["reason"]["en"]
            assert item["kind"] in ("short_video", "live", "product")
            if item["kind"] == "product":
                assert len(item["anchors"]) == 1
            else:
                assert item["content_id"] and item["account"]["name"]
        seen.extend(i["content_id"] for i in body["items"] if i["content_id"])
    assert len(seen) == len(set(seen))  # nothing the user saw recently repeats, across pages

    # (one world per test: building and training it is the slow part, so the reactions are checked here)
    model, user, headers = feed
    page = client.get("/api/feed", params={"limit": 10}, headers=headers).json()
    target = next(i for i in page["items"] if i["account"])
    r = client.post(
        "/api/feed/feedback",
        json={
            "content_id": target["content_id"],
            "action": "not_interested",
            "request_id": page["request_id"],
        },
        headers=headers,
    )
    assert r.status_code == 202
    for _ in range(3):
        nxt = client.get("/api/feed", params={"limit": 10}, headers=headers).json()
        assert all((i["account"] or {}).get("id") != target["account"]["id"] for i in nxt["items"])
    # Follow an account the user does not follow yet: its content is on the next page.
    from zhongcao.content import service as content_service

    followed = set(content_service.followed_account_ids(db, user))
    for old in followed:  # a clean slate, so the new follow is the only one
        assert client.delete(f"/api/accounts/{old}/follow", headers=headers).status_code == 200
    catalog = model.catalog
    accounts, counts = np.unique(catalog.account_ids[catalog.available], return_counts=True)
    fresh = [int(a) for a, n in zip(accounts, counts, strict=True) if n >= 5 and int(a) not in followed]
    fresh = [a for a in fresh if a != target["account"]["id"]]
    account = fresh[len(fresh) // 2]
    assert client.put(f"/api/accounts/{account}/follow", headers=headers).status_code == 200
    after = client.get("/api/feed", params={"limit": 10}, headers=headers).json()
    mine = [i for i in after["items"] if (i["account"] or {}).get("id") == account]
    assert mine and mine[0]["reason"]["code"] == "followed"
    assert (
        client.post(
            "/api/feed/feedback", json={"content_id": 10**9, "action": "like"}, headers=headers
        ).status_code
        == 404
    )
    assert client.get("/api/feed", params={"limit": 0}, headers=headers).status_code == 422
    assert client.get("/api/feed", headers={"Authorization": "Bearer nope"}).status_code == 401

    _purchase_and_like(model, db)


def test_signed_out_visitors_get_a_trending_feed_that_never_repeats_within_a_visit(client, feed):
    model, _user, _headers = feed
    served: list[int] = []
    cursor = None
    sources = set()
    for _ in range(4):
        r = client.get("/api/feed", params={"limit": 10, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["items"], body
        for item in body["items"]:
            assert item["kind"] in ("short_video", "live")
            assert item["reason"]["zh"] and item["reason"]["en"]
            sources.add(item["source"])
        ids = [i["content_id"] for i in body["items"]]
        assert not set(ids) & set(served), "a signed-out visit never repeats an item"
        served.extend(ids)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert "trending" in sources
    # Trending first: the first page leads with the model's most trending available item.
    first = client.get("/api/feed", params={"limit": 10}).json()["items"]
    trending = [i for i in first if i["source"] == "trending"]
    codes = [model.catalog.code_of[i["content_id"]] for i in trending]
    scores = model.sources.popularity.trending[codes]
    assert list(scores) == sorted(scores, reverse=True)
    bad = client.get("/api/feed", params={"cursor": "bm9wZQ"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


def _purchase_and_like(model, db) -> None:  # type: ignore[no-untyped-def]
    service = FeedService(lambda: model, InMemoryMemory())
    user = int(model.users.user_ids[3])
    base = service.page(db, user, 20, rng=np.random.default_rng(1), follows=[], purchases=[])
    anchored = [i for i in base.items if i.code >= 0 and model.catalog.anchors_of(i.code)]
    bought = anchored[0]
    now_s = int(__import__("time").time())
    purchases = [(p, now_s) for p in model.catalog.anchors_of(bought.code)]
    after = service.page(db, user, 20, rng=np.random.default_rng(1), follows=[], purchases=purchases)
    assert bought.content_id not in [i.content_id for i in after.items]
    # A like moves the user's context (recent items, vector): the ranking changes.
    liked = service.feedback(None, user, int(anchored[-1].content_id), "like", catalog=model.catalog)
    after_like = service.page(
        db, user, 20, rng=np.random.default_rng(1), memory=liked, follows=[], purchases=[]
    )
    assert [i.content_id for i in after_like.items] != [i.content_id for i in base.items]


def test_no_model_yet_is_a_clear_503(client, app, database, db):
    app.state.feed_service = FeedService(lambda: None, TableMemory())
    from zhongcao.users.models import Role, User

    user = User(email="feed-503@example.com", password_hash="x", role=Role.shopper, display_name="x")
    db.add(user)
    db.commit()
    r = client.get("/api/feed", headers={"Authorization": f"Bearer {token_for(database, user.id)}"})
    assert r.status_code == 503 and r.json()["error"]["code"] == "feed_model_not_ready"


def test_write_behind_memory_reads_its_own_writes_and_flushes_them_in_one_batch(database):
    from zhongcao.feed.seen import UserMemory, WriteBehindMemory
    from zhongcao.users.models import Role, User

    with database.session() as db:
        users = [
            User(email=f"wb{i}@example.com", password_hash="x", role=Role.shopper, display_name="x")
            for i in range(3)
        ]
        db.add_all(users)
        db.commit()
        ids = [u.id for u in users]
    memory = WriteBehindMemory(database, interval=0.05)
    table = TableMemory()

    async def serve() -> None:  # as in a worker: writes made on its event loop, flushed on it
        for i, user_id in enumerate(ids):
            memory.write(None, user_id, UserMemory(served=[(100 + i, 1_000)]))
        with database.session(read_only=True) as db:
            # The worker that wrote sees it at once (its next page never repeats); nothing written yet.
            assert memory.read(db, ids[1]).served == [(101, 1_000)]
            assert table.read(db, ids[1]).served == []
        await asyncio.sleep(0.3)  # the flush the first write scheduled, on this loop
        # ... and every worker sees it once flushed: all three rows, written in one transaction.
        with database.session(read_only=True) as db:
            assert [table.read(db, u).served for u in ids] == [[(100, 1_000)], [(101, 1_000)], [(102, 1_000)]]
        memory.write(None, ids[0], UserMemory(served=[(100, 1_000), (200, 2_000)]))

    run_async(serve())
    memory.close()  # flushes what is pending
    with database.session(read_only=True) as db:
        assert table.read(db, ids[0]).served == [(100, 1_000), (200, 2_000)]
