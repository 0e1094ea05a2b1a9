"""The real-time bus and shared presence: one contract, run on the in-process and the Redis
implementations (the Redis half needs the server; see tests/realtime_helpers.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.async_helpers import run_async
from tests.realtime_helpers import REDIS_URL, redis_settings
from zhongcao.config import Settings
from zhongcao.realtime.bus import MemoryBus, RedisBus
from zhongcao.realtime.service import ChannelKind, Realtime, channel, connect, live_channel, redis_health


def run(coro):
    return run_async(coro)


def test_a_message_reaches_the_subscribers_of_its_channel_only(realtime: Realtime):
    bus = realtime.bus

    async def scenario():
        async with bus.subscribe(["live:1", "live:2"]) as both, bus.subscribe(["live:2"]) as two:
            await bus.apublish("live:1", {"type": "sale", "item_ids": [7]})
            await bus.apublish("live:3", {"type": "sale", "item_ids": [8]})  # nobody listens
            await bus.apublish("live:2", {"type": "viewers", "note": "直播间"})
            first, second = await both.get(2), await both.get(2)
            only = await two.get(2)
            assert await both.get(0.2) is None and await two.get(0.2) is None
            return first, second, only

    first, second, only = run(scenario())
    assert (first.channel, first.data) == ("live:1", {"type": "sale", "item_ids": [7]})
    assert (second.channel, second.data) == ("live:2", {"type": "viewers", "note": "直播间"})
    assert only == second


def test_a_service_thread_publishes_to_subscribers_on_the_event_loop(realtime: Realtime):
    bus = realtime.bus

    async def scenario():
        async with bus.subscribe([live_channel(5)]) as sub:
            thread = threading.Thread(
                target=bus.publish, args=(live_channel(5), {"type": "status", "status": "ended"})
            )
            thread.start()
            message = await sub.get(5)
            thread.join()
            return message

    message = run(scenario())
    assert message is not None and message.data == {"type": "status", "status": "ended"}


def test_nothing_is_kept_for_later_subscribers_and_leaving_unsubscribes(realtime: Realtime):
    bus = realtime.bus

    async def scenario():
        await bus.apublish("chat:1", {"type": "message"})  # before anyone listens: gone
        async with bus.subscribe(["chat:1"]) as sub:
            early = await sub.get(0.2)
        async with bus.subscribe(["chat:1"]) as sub:
            await bus.apublish("chat:1", {"type": "message", "n": 2})
            later = await sub.get(2)
        await bus.aclose()
        return early, later

    early, later = run(scenario())
    assert early is None and later is not None and later.data["n"] == 2
    if isinstance(bus, MemoryBus):
        assert bus._subscribers == {}


def test_messages_are_json_objects(realtime: Realtime):
    with pytest.raises(TypeError):
        realtime.bus.publish("live:1", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        realtime.bus.publish("live:1", {"when": object()})


def test_presence_counts_arrivals_heartbeats_grace_and_expiry(realtime: Realtime):
    presence = realtime.presence

    async def scenario():
        place, t = "live:9", 1_000_000.0
        assert await presence.arrive(place, "a:1", t, t + 15) is True
        assert await presence.arrive(place, "a:1", t + 1, t + 16) is False  # still counted: not new
        assert await presence.arrive(place, "b:", t + 1, t + 16) is True
        assert await presence.count(place, t + 2) == 2
        await presence.keep(place, ["a:1"], t + 30)
        await presence.keep(place, ["a:1"], t + 20)  # never pulls back
        await presence.depart(place, "b:", t + 5)  # left: counts through its grace
        assert await presence.count(place, t + 4) == 2
        assert await presence.count(place, t + 6) == 1
        assert await presence.expire(place, t + 6) == ["b:"]
        assert await presence.expire(place, t + 6) == []  # reported once
        assert await presence.count(place, t + 29) == 1 and await presence.count(place, t + 31) == 0
        assert await presence.arrive(place, "a:1", t + 31, t + 46) is True  # aged out: a new arrival
        assert await presence.count("live:10", t) == 0
        await presence.keep(place, [], t + 99)
        return await presence.expire(place, t + 100)

    assert run(scenario()) == ["a:1"]


def test_two_redis_connections_are_two_workers_sharing_one_bus_and_count(redis_prefix):
    one, two = connect(redis_settings(redis_prefix)), connect(redis_settings(redis_prefix))
    elsewhere = connect(redis_settings(redis_prefix + "-other"))

    async def scenario():
        async with two.bus.subscribe(["live:3"]) as sub, elsewhere.bus.subscribe(["live:3"]) as other:
            one.bus.publish("live:3", {"type": "sale", "item_ids": [1]})
            got, stray = await sub.get(2), await other.get(0.3)
        t = 2_000_000.0
        await one.presence.arrive("live:3", "x:", t, t + 10)
        await two.presence.arrive("live:3", "y:", t, t + 10)
        counts = await one.presence.count("live:3", t + 1), await two.presence.count("live:3", t + 1)
        # Expiry races between workers: each departure goes to exactly one of them.
        gone = await asyncio.gather(
            one.presence.expire("live:3", t + 11), two.presence.expire("live:3", t + 11)
        )
        for made in (one, two, elsewhere):
            await made.aclose()
        return got, stray, counts, gone

    got, stray, counts, gone = run(scenario())
    assert got is not None and got.data == {"type": "sale", "item_ids": [1]} and stray is None
    assert counts == (2, 2)
    assert sorted(gone[0] + gone[1]) == ["x:", "y:"]
    for made in (one, two, elsewhere):
        made.close()


def test_more_presence_calls_at_once_than_pooled_connections_wait_for_one(redis_prefix, monkeypatch):
    """A thousand viewers arriving (or leaving) in the same second are more calls at once than the
    worker's pool holds: they wait for a connection instead of failing with "Too many connections"."""
    from zhongcao.realtime import bus as bus_module

    monkeypatch.setattr(bus_module, "MAX_REDIS_CONNECTIONS", 3)
    made = connect(redis_settings(redis_prefix))
    t = 2_000_000.0

    async def scenario():
        arrived = await asyncio.gather(
            *(made.presence.arrive("live:9", f"v{i}:", t, t + 10) for i in range(60))
        )
        count = await made.presence.count("live:9", t + 1)
        await made.aclose()
        return arrived, count

    arrived, count = run(scenario())
    assert all(arrived) and count == 60
    made.close()


def test_in_process_buses_are_separate():
    one, two = MemoryBus(), MemoryBus()

    async def scenario():
        async with two.subscribe(["live:1"]) as sub:
            one.publish("live:1", {"type": "sale"})
            return await sub.get(0.2)

    assert run(scenario()) is None


def test_settings_choose_the_bus_and_check_reports_redis(redis_prefix):
    assert isinstance(connect(Settings(redis_url=None)).bus, MemoryBus)
    redis_bus = connect(redis_settings(redis_prefix)).bus
    assert isinstance(redis_bus, RedisBus) and redis_bus.key("live:1") == f"{redis_prefix}:live:1"
    assert channel(ChannelKind.user, 12) == "user:12" and live_channel(3) == "live:3"
    ok, detail = redis_health(redis_settings(redis_prefix))
    assert ok and detail.startswith("Redis ") and "reachable" in detail
    ok, detail = redis_health(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert not ok and "cannot reach Redis" in detail
    ok, detail = redis_health(Settings(redis_url=None))
    assert ok and "in-process" in detail
    with pytest.raises(ValueError, match="ZHONGCAO_REDIS_URL"):
        Settings(redis_url="http://127.0.0.1:6379")


def test_zhongcao_check_reports_the_configured_redis(tmp_path, monkeypatch, redis_prefix):
    from typer.testing import CliRunner

    from zhongcao.cli import app
    from zhongcao.config import get_settings

    runner = CliRunner()
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        result = runner.invoke(app, ["check"])
        assert result.exit_code == 0 and "in-process" in result.output, result.output
        monkeypatch.setenv("ZHONGCAO_REDIS_URL", REDIS_URL)
        get_settings.cache_clear()
        result = runner.invoke(app, ["check"])
        assert result.exit_code == 0 and "reachable" in result.output, result.output
        monkeypatch.setenv("ZHONGCAO_REDIS_URL", "redis://127.0.0.1:1/0")
        get_settings.cache_clear()
        result = runner.invoke(app, ["check"])
        assert result.exit_code == 1 and "cannot reach Redis" in result.output, result.output
    finally:
        get_settings.cache_clear()
