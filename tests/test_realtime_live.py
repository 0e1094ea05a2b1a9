"""Live rooms through the real-time bus: messages leave on commit, a paid sale reaches an open stream
within a second, and two API worker processes on one Redis show the same live room."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.async_helpers import run_async
from tests.commerce_helpers import ADDRESS, pay, place
from tests.factories import PASSWORD
from tests.realtime_helpers import REDIS_URL, SSEReader
from tests.web_helpers import LiveServer, free_port, seed_world
from zhongcao.realtime import outbox
from zhongcao.realtime.bus import MemoryBus
from zhongcao.users.models import User

SALE_WITHIN_SECONDS = 1.0


def test_messages_queued_on_a_session_leave_when_it_commits_and_never_on_rollback(database):
    bus = MemoryBus()
    outbox.attach(database, bus)

    def work() -> None:
        with database.session() as session:
            session.execute(text("SELECT 1"))
            outbox.publish_after_commit(session, "live:1", {"type": "sale", "n": 1})
            session.rollback()
            session.execute(text("SELECT 1"))
            outbox.publish_after_commit(session, "live:1", {"type": "sale", "n": 2})
            assert bus._subscribers  # still queued: nothing leaves before the commit
            session.commit()

    async def scenario():
        async with bus.subscribe(["live:1"]) as sub:
            await asyncio.to_thread(work)
            return await sub.get(2), await sub.get(0.2)

    first, second = run_async(scenario())
    assert first is not None and first.data == {"type": "sale", "n": 2} and second is None


def _page_viewers(base_url: str, live_id: int) -> int:
    html = httpx.get(f"{base_url}/live/{live_id}", timeout=15).text
    found = re.search(r'class="viewer-count"[^>]*data-count="(\d+)"', html)
    assert found, "the live page shows a viewer count"
    return int(found.group(1))


def _newest_sale_id(base_url: str, live_id: int) -> int:
    html = httpx.get(f"{base_url}/live/{live_id}", timeout=15).text
    found = re.search(r'data-after="(\d+)"', html)
    assert found
    return int(found.group(1))


def test_a_sale_paid_in_the_service_reaches_an_open_stream_within_a_second(app, db, database):
    world = seed_world(db)
    with LiveServer(app) as server:
        after = _newest_sale_id(server.url, world.live_id)
        events = f"{server.url}/live/{world.live_id}/events?viewer=viewer-one&after={after}"
        with SSEReader(events) as stream:
            assert stream.next("viewers").data == {"count": 1}
            assert _page_viewers(server.url, world.live_id) == 1
            with database.session() as session:
                buyer = session.get(User, world.shopper_id)
                line = {
                    "sku_id": world.sku_ids[3],
                    "quantity": 2,
                    "attribution": {"channel": "live", "content_id": world.live_id},
                }
                checkout = place(session, buyer, [line])
                paid_at = time.monotonic()
                pay(session, buyer, checkout)
            sale = stream.next("sale", timeout=5)
            assert sale.at - paid_at < SALE_WITHIN_SECONDS
            assert sale.data["quantity"] == 2 and sale.data["buyer"] == "小**"
            assert sale.data["product_id"] == world.product_ids[3] and sale.data["item_id"] > after
            # A stream that reconnects while the room is open gets the sales sent since its last
            # event id from the room's memory: a reconnect misses nothing.
            with SSEReader(events) as again:
                assert again.next("sale", timeout=5).data == sale.data


# --- two API worker processes -----------------------------------------------------------------------


def _worker_url(database) -> str:
    """The URL a separate process uses to reach the test's database (its schema, on PostgreSQL)."""
    url = database.engine.url.render_as_string(hide_password=False)
    if database.dialect == "postgresql":
        with database.engine.connect() as conn:
            schema = conn.execute(text("SHOW search_path")).scalar()
        url += f"?options=-csearch_path%3D{schema}"
    return url


@contextmanager
def _api_workers(env: dict[str, str], logs: list[Path]) -> Iterator[list[str]]:
    """``uvicorn --factory zhongcao.api:create_app``, one process per log, each on a free port; started
    together (their imports overlap), yielded once every one answers."""
    processes, urls = [], []
    try:
        for log in logs:
            port = free_port()
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "uvicorn", "--factory", "zhongcao.api:create_app"]
                        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 90
        for process, url, log in zip(processes, urls, logs, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the API worker exited: {log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/api/health/live", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API worker did not start: {log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.slow  # starts two uvicorn processes (a few seconds each)
def test_two_api_workers_on_one_redis_show_the_same_live_room(db, database, redis_prefix, tmp_path):
    world = seed_world(db)
    db.commit()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent.parent / "src"), os.environ.get("PYTHONPATH", "")]
        ),
        "ZHONGCAO_DATABASE_URL": _worker_url(database),
        "ZHONGCAO_REDIS_URL": REDIS_URL,
        "ZHONGCAO_REDIS_PREFIX": redis_prefix,
    }
    with _api_workers(env, [tmp_path / "a.log", tmp_path / "b.log"]) as (a, b):
        token = httpx.post(
            f"{a}/api/auth/login", json={"email": world.shopper_email, "password": PASSWORD}, timeout=15
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        after = _newest_sale_id(b, world.live_id)
        with SSEReader(f"{b}/live/{world.live_id}/events?viewer=viewer-on-b&after={after}") as on_b:
            assert on_b.next("viewers").data == {"count": 1}
            assert _page_viewers(a, world.live_id) == _page_viewers(b, world.live_id) == 1
            # A second viewer, on worker A: both workers count two.
            with SSEReader(f"{a}/live/{world.live_id}/events?viewer=viewer-on-a&after={after}") as on_a:
                assert on_a.next("viewers").data == {"count": 2}
                assert on_b.next_with("viewers", {"count": 2}, timeout=3).data == {"count": 2}
                assert _page_viewers(a, world.live_id) == _page_viewers(b, world.live_id) == 2
                # An order placed and paid through worker A reaches the stream on worker B.
                line = {
                    "sku_id": world.sku_ids[3],
                    "quantity": 3,
                    "attribution": {"channel": "live", "content_id": world.live_id},
                }
                checkout = httpx.post(
                    f"{a}/api/checkout",
                    json={"items": [line], "shipping_address": ADDRESS},
                    headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    timeout=15,
                )
                assert checkout.status_code == 201, checkout.text
                paid_at = time.monotonic()  # from the moment the payment is asked for
                paid = httpx.post(
                    f"{a}/api/checkouts/{checkout.json()['id']}/pay",
                    json={"payment_method": "pm_card_ok"},
                    headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    timeout=15,
                )
                assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
                item_id = paid.json()["orders"][0]["items"][0]["id"]
                sale = on_b.next("sale", timeout=5)
                assert sale.data["item_id"] == item_id and sale.data["quantity"] == 3
                assert sale.at - paid_at < SALE_WITHIN_SECONDS, f"{sale.at - paid_at:.3f} s"
                assert on_a.next("sale", timeout=5).data["item_id"] == item_id
                # A comment posted through worker A reaches both rooms, as written.
                posted_at = time.monotonic()
                posted = httpx.post(
                    f"{a}/api/live/{world.live_id}/comments",
                    json={"body": "这个色号还有吗？"},
                    headers=auth,
                    timeout=15,
                )
                assert posted.status_code == 201, posted.text
                comment = on_b.next("comment", timeout=5)
                assert (
                    comment.data["id"] == posted.json()["id"] and comment.data["body"] == "这个色号还有吗？"
                )
                assert comment.data["who"] == "小**"
                assert comment.at - posted_at < SALE_WITHIN_SECONDS, f"{comment.at - posted_at:.3f} s"
                assert on_a.next("comment", timeout=5).data["id"] == posted.json()["id"]
                # The host pins another product through worker A: the card reaches the room on worker B;
                # unpinning too.
                host = httpx.post(
                    f"{a}/api/auth/login",
                    json={"email": "owner-bloom_beauty@example.com", "password": PASSWORD},
                    timeout=15,
                ).json()["token"]
                host_auth = {"Authorization": f"Bearer {host}"}
                pinned_at = time.monotonic()
                pinned = httpx.post(
                    f"{a}/api/merchant/content/{world.live_id}/pin",
                    json={"product_id": world.product_ids[2]},
                    headers=host_auth,
                    timeout=15,
                )
                assert pinned.status_code == 200, pinned.text
                card = on_b.next("pin", timeout=5)
                assert card.data["product_id"] == world.product_ids[2] and card.data["title_zh"]
                assert card.at - pinned_at < SALE_WITHIN_SECONDS, f"{card.at - pinned_at:.3f} s"
                assert on_a.next("pin", timeout=5).data["product_id"] == world.product_ids[2]
                unpinned = httpx.delete(
                    f"{a}/api/merchant/content/{world.live_id}/pin", headers=host_auth, timeout=15
                )
                assert unpinned.status_code == 200, unpinned.text
                assert on_b.next("pin", timeout=5).data == {"product_id": None}


class _Recorder:
    """An event store that keeps what the live rooms record (live_enter / live_exit)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def append(self, batch: dict) -> None:
        self.events.extend(zip(batch["type"], batch["user_id"], strict=True))


def test_arrivals_and_departures_are_recorded_once_across_two_workers(database, redis_prefix):
    from tests.realtime_helpers import redis_settings
    from zhongcao.realtime.service import connect
    from zhongcao.web.live import LiveHub

    recorder = _Recorder()
    one, two = connect(redis_settings(redis_prefix)), connect(redis_settings(redis_prefix))
    hubs = [LiveHub(database, made, recorder) for made in (one, two)]
    for hub in hubs:
        hub.tick_seconds, hub.grace_seconds = 0.05, 0.3

    async def scenario():
        a = await hubs[0].join(77, "viewer-x", 42, 0)
        b = await hubs[1].join(77, "viewer-x", 42, 0)  # the same viewer reconnected to the other worker
        c = await hubs[1].join(77, "visitor-y", None, 0)
        counts = [await hub.count(77) for hub in hubs]
        entered = list(recorder.events)
        hubs[0].leave(77, "viewer-x", 42, a)
        hubs[1].leave(77, "viewer-x", 42, b)
        hubs[1].leave(77, "visitor-y", None, c)
        during_grace = await hubs[0].count(77)
        deadline = asyncio.get_running_loop().time() + 5
        while (hubs[0].rooms or hubs[1].rooms) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        after = [await hub.count(77) for hub in hubs], [bool(hub.rooms) for hub in hubs]
        for made in (one, two):
            await made.aclose()
        return counts, entered, during_grace, after

    counts, entered, during_grace, (after, rooms_left) = run_async(scenario())
    assert counts == [2, 2] and entered == [("live_enter", 42)]
    assert during_grace == 2
    assert after == [0, 0] and rooms_left == [False, False]
    assert recorder.events == [("live_enter", 42), ("live_exit", 42)]
    for made in (one, two):
        made.close()


def test_a_room_whose_subscription_fails_retries_and_keeps_its_streams(database, monkeypatch):
    from contextlib import asynccontextmanager

    from zhongcao.config import Settings
    from zhongcao.realtime.service import Realtime, connect
    from zhongcao.web import live

    class FlakyBus(MemoryBus):
        failures = 2

        @asynccontextmanager
        async def subscribe(self, channels):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("Redis is restarting")
            async with super().subscribe(channels) as subscription:
                yield subscription

    monkeypatch.setattr(live, "RETRY_SECONDS", 0.05)
    bus = FlakyBus()
    hub = live.LiveHub(database, Realtime(bus, connect(Settings(redis_url=None)).presence))

    async def scenario():
        queue = await hub.join(5, "viewer-z", None, 0)  # does not wait for the failing subscription
        first = await asyncio.wait_for(queue.get(), 2)
        while bus.failures or not bus._subscribers:
            await asyncio.sleep(0.02)
        await bus.apublish("live:5", {"type": "status", "status": "ended"})
        messages = [await asyncio.wait_for(queue.get(), 2) for _ in range(2)]
        hub.leave(5, "viewer-z", None, queue)
        return first, messages

    first, messages = run_async(scenario())
    assert first == live.sse("viewers", {"count": 1})
    # Once subscribed the room re-reads its state (room 5 does not exist: "removed"), then hears "ended".
    assert messages == [live.sse("status", {"status": "removed"}), live.sse("status", {"status": "ended"})]
