"""An API worker holds no background machinery of its own: started with its lifespan and serving the
feed, pages with like counts, search (the API and the page) and Compass, it runs no thread and no child
process besides those of the server that hosts it (here the test client's anyio portal and anyio's
worker-thread pool). The search index is built by the job worker (``search.indexing.build``, run here
before the app starts, as the job would); the API worker only opens it and follows its commits.

Python threads are counted, not libraries' native ones: opening a tantivy index from Python starts
tantivy's meta.json watcher thread (the binding's first reader has the on-commit reload policy; ours,
set right after, is manual), which polls the file every 0.5 s and does none of the worker's work."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factories import auth, make_product, make_shop
from tests.feed_helpers import token_for, trained
from zhongcao.api import create_app
from zhongcao.compass.likes import counts_path
from zhongcao.config import Settings
from zhongcao.feed.seen import TableMemory
from zhongcao.search import indexing

# Shares the tiny world and its model with test_feed_api.py on one worker (tests/world_snapshots.py).
pytestmark = pytest.mark.xdist_group("tiny_feed_world")


def _children() -> set[int]:
    """This process's child processes (Linux: /proc/<pid>/task/*/children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(pid) for pid in text)
    return found


# The only threads a running server may add: anyio's blocking portal that the test client runs the
# app's event loop in ("asyncio-portal-<id>"), and anyio's pool for sync endpoints.
SERVER_THREADS = re.compile(r"^(asyncio-portal-[0-9a-f]+|AnyIO worker thread)$")


def test_an_api_worker_runs_no_thread_or_process_of_its_own(database, tmp_path: Path) -> None:
    model, path, _store = trained(database, tmp_path)
    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        models_dir=path.parent.parent,
        events_dir=tmp_path / "events",
        events_backend="segments",
        analytics_dir=tmp_path / "analytics",
        search_index_dir=tmp_path / "search",
    )
    user = int(model.users.user_ids[0])
    video = int(model.catalog.content_ids[0])
    with database.session() as db:
        shop = make_shop(db)
        merchant_headers = auth(db, shop.owner)
        product = make_product(db, shop.shop)
        db.commit()
    indexing.build(database, settings)  # the job worker's work, in its own process in production
    before = set(threading.enumerate())
    children_before = _children()
    app = create_app(settings=settings, database=database)
    with TestClient(app) as client:
        assert app.state.feed_service.ready  # warmed by the lifespan, before any request
        headers = {"Authorization": f"Bearer {token_for(database, user)}"}
        for _ in range(3):
            feed = client.get("/api/feed", params={"limit": 10}, headers=headers)
            assert feed.status_code == 200, feed.text
        assert client.get("/api/feed", params={"limit": 5}).status_code == 200  # signed out
        for url in ("/", "/mall", f"/videos/{video}"):  # cards with like counts
            assert client.get(url).status_code == 200, url
        # Search, signed out and in: the API (products, shops) and the page.
        for params in ({"q": product.title_zh}, {"q": product.title_zh, "in_stock": "true"}):
            found = client.get("/api/search", params=params)
            assert found.status_code == 200, found.text
            assert product.id in [item["id"] for item in found.json()["items"]]
        found = client.get("/api/search", params={"q": product.title_en}, headers=headers)
        assert found.status_code == 200, found.text
        assert client.get("/api/search", params={"q": "店", "type": "shop"}).status_code == 200
        page = client.get("/search", params={"q": product.title_zh})
        assert page.status_code == 200 and f"/products/{product.id}" in page.text
        compass = client.get("/api/merchant/compass/core?days=7", headers=merchant_headers)
        assert compass.status_code == 200, compass.text
        assert client.get("/api/health/ready").status_code == 200
        added = [t for t in threading.enumerate() if t not in before]
        assert [t.name for t in added if not SERVER_THREADS.match(t.name)] == []
        assert _children() == children_before  # no catch-up child, no helper process
    # What the worker served was written without a writer thread (flushed on its event loop, or at
    # shutdown), and the like counts were published for other workers.
    with database.session(read_only=True) as db:
        assert len(TableMemory().read(db, user).served) >= 20
    assert counts_path(settings, database).is_file()
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert [t.name for t in left if t.name != "AnyIO worker thread"] == []
