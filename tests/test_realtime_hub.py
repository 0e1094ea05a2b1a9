"""The fan-out hub: one Redis pub/sub connection per worker shared by every subscriber, reference
counted channels, a slow subscriber that holds up nobody, a lost connection that every subscriber
hears of (and a chat stream that ends on it and resumes from its last event id)."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from tests.async_helpers import run_async
from tests.realtime_helpers import REDIS_URL, redis_settings
from zhongcao.realtime.bus import RedisBus, SubscriptionLost
from zhongcao.realtime.service import Realtime, connect
from zhongcao.realtime.subscription import INBOX_LIMIT, Inbox, Message
from zhongcao.web.chat_stream import BadgeCache, chat_events


def run(coro):
    return run_async(coro)


def _numsub(prefix: str, channel: str) -> int:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(dict(client.pubsub_numsub(f"{prefix}:{channel}"))[f"{prefix}:{channel}".encode()])
    finally:
        client.close()


async def _until(check, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


def test_many_subscribers_share_one_connection_and_each_gets_every_message(redis_prefix):
    bus = connect(redis_settings(redis_prefix)).bus
    assert isinstance(bus, RedisBus)

    async def scenario():
        async with (
            bus.subscribe(["chat:1", "user:7"]) as a,
            bus.subscribe(["chat:1"]) as b,
            bus.subscribe(["chat:1", "shop:2"]) as c,
        ):
            # Three subscribers, one Redis subscriber per channel: the worker's hub connection.
            counts = {ch: _numsub(redis_prefix, ch) for ch in ("chat:1", "user:7", "shop:2")}
            await bus.apublish("chat:1", {"type": "message", "id": 1})
            await bus.apublish("shop:2", {"type": "chat", "conversation_id": 1})
            got = [await s.get(2) for s in (a, b, c)] + [await c.get(2)]
            quiet = [await s.get(0.1) for s in (a, b, c)]
            stats = bus.hub().stats()
        await bus.aclose()
        return counts, got, quiet, stats

    counts, got, quiet, stats = run(scenario())
    assert counts == {"chat:1": 1, "user:7": 1, "shop:2": 1}
    assert [m.data for m in got[:3]] == [{"type": "message", "id": 1}] * 3
    assert got[3] == Message("shop:2", {"type": "chat", "conversation_id": 1})
    assert quiet == [None, None, None]
    assert stats == {"channels": 3, "subscribers": 3, "connected": 1}


def test_a_channel_is_unsubscribed_when_its_last_subscriber_leaves(redis_prefix):
    bus = connect(redis_settings(redis_prefix)).bus
    assert isinstance(bus, RedisBus)

    async def scenario():
        async with bus.subscribe(["chat:5"]) as stays:
            async with bus.subscribe(["chat:5", "chat:6"]):
                assert _numsub(redis_prefix, "chat:6") == 1
            # chat:6 had one subscriber: gone from Redis; chat:5 still has one here.
            assert await _until(lambda: _numsub(redis_prefix, "chat:6") == 0)
            assert _numsub(redis_prefix, "chat:5") == 1
            await bus.apublish("chat:5", {"type": "message", "id": 2})
            kept = await stays.get(2)
        assert await _until(lambda: _numsub(redis_prefix, "chat:5") == 0)
        stats = bus.hub().stats()
        await bus.aclose()
        return kept, stats

    kept, stats = run(scenario())
    assert kept is not None and kept.data["id"] == 2
    assert stats == {"channels": 0, "subscribers": 0, "connected": 1}


def test_leaving_and_coming_back_at_once_never_misses_a_message(redis_prefix):
    """An UNSUBSCRIBE still on its way and the next SUBSCRIBE of the same channel: the newcomer waits
    for its own confirmation, so what is published once it is in arrives."""
    bus = connect(redis_settings(redis_prefix)).bus

    async def scenario():
        got = []
        for n in range(30):
            async with bus.subscribe(["live:1"]) as sub:
                await bus.apublish("live:1", {"type": "status", "n": n})
                message = await sub.get(2)
                got.append(message.data["n"] if message else None)
        await bus.aclose()
        return got

    assert run(scenario()) == list(range(30))


def test_subscribers_arriving_together_all_wait_for_the_confirmation(redis_prefix):
    bus = connect(redis_settings(redis_prefix)).bus

    async def one(n: int) -> int | None:
        async with bus.subscribe(["live:9", f"user:{n}"]) as sub:
            await bus.apublish(f"user:{n}", {"type": "chat", "n": n})
            message = await sub.get(3)
            return message.data["n"] if message else None

    async def scenario():
        got = await asyncio.gather(*(one(n) for n in range(50)))
        await bus.aclose()
        return got

    assert run(scenario()) == list(range(50))


def test_a_subscriber_giving_up_does_not_cancel_the_others(redis_prefix):
    bus = connect(redis_settings(redis_prefix)).bus

    async def gives_up():
        async with bus.subscribe(["chat:3"]):
            await asyncio.sleep(10)

    async def scenario():
        quitter = asyncio.create_task(gives_up())
        await asyncio.sleep(0)  # it has sent the SUBSCRIBE and waits for Redis
        async with bus.subscribe(["chat:3"]) as sub:
            quitter.cancel()
            await asyncio.gather(quitter, return_exceptions=True)
            await bus.apublish("chat:3", {"type": "message", "id": 3})
            message = await sub.get(2)
        await bus.aclose()
        return message

    message = run(scenario())
    assert message is not None and message.data["id"] == 3


def test_a_slow_subscriber_is_dropped_and_holds_up_nobody(realtime: Realtime):
    bus = realtime.bus
    sent = INBOX_LIMIT + 50

    async def scenario():
        async with bus.subscribe(["live:4"]) as slow, bus.subscribe(["live:4"]) as fast:
            received = []
            for n in range(sent):
                await bus.apublish("live:4", {"type": "comment", "n": n})
                await asyncio.sleep(0)  # the in-process bus hands messages over through the loop
                while (message := fast.get_nowait()) is not None:
                    received.append(message.data["n"])
            while len(received) < sent and (message := await fast.get(2)) is not None:
                received.append(message.data["n"])
            # The slow one never read: it keeps what it had and then hears that it was dropped.
            kept = 0
            with pytest.raises(SubscriptionLost):
                while await slow.get(2) is not None:
                    kept += 1
        await bus.aclose()
        return received, kept

    received, kept = run(scenario())
    assert received == list(range(sent))
    assert kept == INBOX_LIMIT


def test_an_inbox_wakes_its_reader_and_times_out():
    async def scenario():
        inbox = Inbox(frozenset({"chat:1"}), limit=2)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, inbox.deliver, Message("chat:1", {"type": "message"}))
        started = loop.time()
        woke = await inbox.get(5)
        waited = loop.time() - started
        assert await inbox.get(0.05) is None and inbox.get_nowait() is None
        inbox.fail("gone")
        with pytest.raises(SubscriptionLost, match="gone"):
            await inbox.get(5)
        return woke, waited

    woke, waited = run(scenario())
    assert woke is not None and waited < 1


def _kill_hub_connection(prefix: str) -> int:
    """Close the worker's pub/sub connection from the server side (what a Redis restart does)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        killed = 0
        for info in client.client_list():
            if info.get("name") == f"{prefix}:hub":
                client.client_kill_filter(_id=info["id"])
                killed += 1
        return killed
    finally:
        client.close()


def test_a_lost_connection_tells_every_subscriber_and_the_next_subscription_reconnects(redis_prefix):
    bus = connect(redis_settings(redis_prefix)).bus
    assert isinstance(bus, RedisBus)

    async def scenario():
        async with bus.subscribe(["chat:8"]) as one, bus.subscribe(["shop:8"]) as two:
            killed = await asyncio.to_thread(_kill_hub_connection, redis_prefix)
            errors = []
            for sub in (one, two):
                try:
                    await sub.get(3)
                except SubscriptionLost as exc:
                    errors.append(str(exc))
        async with bus.subscribe(["chat:8"]) as again:
            await bus.apublish("chat:8", {"type": "message", "id": 9})
            message = await again.get(2)
        await bus.aclose()
        return killed, errors, message

    killed, errors, message = run(scenario())
    assert killed == 1
    assert len(errors) == 2 and all("lost the Redis connection" in e for e in errors)
    assert message is not None and message.data["id"] == 9


def test_subscribing_without_redis_fails_as_a_lost_subscription():
    bus = RedisBus("redis://127.0.0.1:1/0", "nowhere")

    async def scenario():
        with pytest.raises(SubscriptionLost, match="cannot reach Redis"):
            async with bus.subscribe(["chat:1"]):
                pass
        await bus.aclose()

    run(scenario())


# --- a chat stream over the hub: it ends on a lost subscription and resumes from its last id ------


class _Conversation:
    """Messages of one conversation as the catch-up reads them."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, message_id: int) -> dict:
        row = {"type": "message", "conversation_id": 1, "id": message_id, "sender": "agent"}
        row |= {"body": f"m{message_id}", "card": None, "sent_at": "2026-12-07T10:00:00+08:00"}
        self.rows.append(row)
        return row

    def after(self, after: int) -> list[dict]:
        return [r for r in self.rows if r["id"] > after]


async def _events(stream, until: tuple[str, str], seconds: float = 3.0) -> list[tuple[str, str]]:
    """(event, id) of the stream's events until ``until`` has come, the stream ended or time is up."""
    got: list[tuple[str, str]] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            text = await asyncio.wait_for(anext(stream), deadline - asyncio.get_running_loop().time())
        except (StopAsyncIteration, TimeoutError):
            break
        for block in text.split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "event" in fields:
                got.append((fields["event"], fields.get("id", "")))
        if until in got:
            break
    return got


def test_a_chat_stream_ends_on_a_lost_subscription_and_resumes_from_its_last_event_id(redis_prefix):
    realtime = connect(redis_settings(redis_prefix))
    conversation = _Conversation()
    conversation.add(1)

    def stream(after: int):
        return chat_events(
            realtime,
            ["chat:1", "user:5"],
            after=after,
            catch_up=conversation.after,
            unread_total=lambda: len(conversation.rows),
            badges=BadgeCache(),
            badge_key="user:5",
            stream_seconds=30,
        )

    async def scenario():
        first = stream(0)
        opened = await _events(first, ("unread", ""))  # the catch-up: message 1, then the badge
        realtime.bus.publish("chat:1", conversation.add(2))
        live = await _events(first, ("message", "2"))
        await asyncio.to_thread(_kill_hub_connection, redis_prefix)
        conversation.add(3)  # while the connection is down: nobody hears of it
        ended = await _events(first, ("message", "3"))
        resumed_stream = stream(2)  # the browser reconnects with Last-Event-ID: 2
        resumed = await _events(resumed_stream, ("unread", ""))
        realtime.bus.publish("chat:1", conversation.add(4))
        later = await _events(resumed_stream, ("message", "4"))
        await resumed_stream.aclose()
        await realtime.aclose()
        return opened, live, ended, resumed, later

    opened, live, ended, resumed, later = run(scenario())
    assert opened == [("message", "1"), ("unread", "")]
    assert live == [("message", "2")]
    assert ended == []  # the stream ended without an error: the browser reconnects
    assert resumed == [("message", "3"), ("unread", "")]
    assert later == [("message", "4")]


def test_a_slow_badge_read_does_not_hold_up_the_messages_behind_it(realtime: Realtime):
    conversation = _Conversation()
    reads = []

    def unread_total() -> int:
        reads.append(time.monotonic())
        if len(reads) > 1:
            time.sleep(1.0)  # the database is slow to answer the nudge's read
        return len(reads)

    async def scenario():
        stream = chat_events(
            realtime,
            ["chat:1", "shop:1"],
            after=0,
            catch_up=conversation.after,
            unread_total=unread_total,
            badges=BadgeCache(),
            badge_key="shop:1",
            stream_seconds=30,
        )
        await _events(stream, ("unread", ""))
        await realtime.bus.apublish("shop:1", {"type": "chat", "conversation_id": 1, "id": 1})
        await asyncio.sleep(0.1)  # the badge read has started
        sent = time.monotonic()
        await realtime.bus.apublish("chat:1", conversation.add(1))
        first = await _events(stream, ("message", "1"))
        took = time.monotonic() - sent
        then = await _events(stream, ("unread", ""))
        await stream.aclose()
        await realtime.aclose()
        return first, took, then

    first, took, then = run(scenario())
    assert first == [("message", "1")] and took < 0.5
    assert then == [("unread", "")] and len(reads) == 2
