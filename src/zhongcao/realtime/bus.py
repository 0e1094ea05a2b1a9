"""The real-time bus: publish a JSON message to a channel; subscribe to channels from asyncio code.

Two implementations with one contract (tests/test_realtime_bus.py runs the same cases on both):

* :class:`MemoryBus`, the embedded default: subscribers in this process only.
* :class:`RedisBus`: Redis pub/sub, so a message published by any process (an API worker, the job
  worker, a CLI command) reaches the subscribers of every API worker.

Delivery is at most once and only to subscribers connected at the time (pub/sub keeps nothing), so a
subscriber that must not miss state re-reads it from the database: messages say *that* something
changed and carry what the reader needs to show it at once; the database stays the record.

``publish`` is synchronous and thread-safe: services run in worker threads and publish after their
transaction commits (:mod:`zhongcao.realtime.outbox`). ``apublish`` is for code on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio

log = logging.getLogger("zhongcao.realtime")


# Each open stream (a live room, a chat, the notification badge) holds its own pub/sub connection, so
# a worker needs one per open page: redis-py's default pool of 100 would refuse the 101st viewer.
# Redis itself allows 10,000 clients by default; a per-worker fan-out hub is the next step past that.
MAX_REDIS_CONNECTIONS = 5_000


@dataclass(frozen=True)
class Message:
    channel: str  # as published, without the deployment's Redis prefix
    data: dict[str, Any]


def encode(data: dict[str, Any]) -> str:
    """Messages are JSON objects on both buses, so a message that Redis could not carry fails in-process too."""
    if not isinstance(data, dict):
        raise TypeError("a bus message is a JSON object (a dict)")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Subscription(ABC):
    @abstractmethod
    async def get(self, timeout: float) -> Message | None:
        """The next message, or None when none arrives within ``timeout`` seconds."""


class Bus(ABC):
    kind: str

    @abstractmethod
    def publish(self, channel: str, data: dict[str, Any]) -> None:
        """Send ``data`` to the channel's current subscribers (from any thread)."""

    @abstractmethod
    async def apublish(self, channel: str, data: dict[str, Any]) -> None:
        """``publish`` for code running on the event loop (never blocks it)."""

    @abstractmethod
    def subscribe(self, channels: Sequence[str]) -> Any:
        """``async with bus.subscribe([...]) as sub``: messages published once the block is entered."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections held for the running event loop."""

    @abstractmethod
    def close(self) -> None:
        """Release connections held for synchronous publishing."""


# --- in-process ------------------------------------------------------------------------------------


class _MemorySubscription(Subscription):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Message] = asyncio.Queue()

    def deliver(self, message: Message) -> None:
        # A closed event loop refuses the call: its subscriber is gone, nobody is listening.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.queue.put_nowait, message)

    async def get(self, timeout: float) -> Message | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=max(timeout, 0.0))
        except TimeoutError:
            return None


class MemoryBus(Bus):
    """Subscribers of this process only: right for one server process (the embedded default)."""

    kind = "in-process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[_MemorySubscription]] = {}

    def publish(self, channel: str, data: dict[str, Any]) -> None:
        message = Message(channel, json.loads(encode(data)))  # a copy: no subscriber shares the sender's dict
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for subscriber in subscribers:
            subscriber.deliver(message)

    async def apublish(self, channel: str, data: dict[str, Any]) -> None:
        self.publish(channel, data)

    @asynccontextmanager
    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Subscription]:
        subscription = _MemorySubscription(asyncio.get_running_loop())
        with self._lock:
            for channel in channels:
                self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                for channel in channels:
                    subscribers = self._subscribers.get(channel)
                    if subscribers is not None:
                        subscribers.discard(subscription)
                        if not subscribers:
                            del self._subscribers[channel]

    async def aclose(self) -> None:
        """Nothing to release: no connections."""

    def close(self) -> None:
        """Nothing to release: no connections."""


# --- Redis -----------------------------------------------------------------------------------------


class _RedisSubscription(Subscription):
    def __init__(self, pubsub: Any, prefix_length: int, early: list[dict[str, Any]]) -> None:
        self.pubsub = pubsub
        self.prefix_length = prefix_length
        self.early = early  # messages that arrived between the confirmations of several channels

    async def get(self, timeout: float) -> Message | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            left = deadline - loop.time()
            if self.early:
                raw = self.early.pop(0)
            else:
                raw = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=max(left, 0.0))
            if raw is not None and raw.get("type") == "message":
                channel = raw["channel"].decode() if isinstance(raw["channel"], bytes) else raw["channel"]
                try:
                    data = json.loads(raw["data"])
                except (ValueError, TypeError):
                    log.warning("ignored a message that is not JSON on %s", channel)
                    continue
                if isinstance(data, dict):
                    return Message(channel[self.prefix_length :], data)
            if left <= 0:
                return None


class RedisBus(Bus):
    """Redis pub/sub: every process that publishes or subscribes with the same URL and prefix shares it.

    Channel ``c`` is the Redis channel ``<prefix>:c``. Asyncio connections belong to one event loop,
    so each loop gets its own client (a server has one; a test client may start several)."""

    kind = "redis"

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._sync: redis.Redis | None = None
        self._lock = threading.Lock()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def sync_client(self) -> redis.Redis:
        with self._lock:
            if self._sync is None:
                self._sync = redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
            return self._sync

    def client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = redis.asyncio.Redis.from_url(
                self.url, socket_connect_timeout=5, max_connections=MAX_REDIS_CONNECTIONS
            )
            self._clients[loop] = client
        return client

    def publish(self, channel: str, data: dict[str, Any]) -> None:
        self.sync_client().publish(self.key(channel), encode(data))

    async def apublish(self, channel: str, data: dict[str, Any]) -> None:
        await self.client().publish(self.key(channel), encode(data))

    @asynccontextmanager
    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Subscription]:
        pubsub = self.client().pubsub()
        try:
            await pubsub.subscribe(*(self.key(c) for c in channels))
            # SUBSCRIBE is only sent by then; wait for the server's confirmations, so that a message
            # published after this block is entered is certain to arrive.
            confirmed, early = 0, []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5.0
            while confirmed < len(set(channels)):
                reply = await pubsub.get_message(timeout=max(deadline - loop.time(), 0.0))
                if reply is not None and reply.get("type") == "subscribe":
                    confirmed += 1
                elif reply is not None:
                    early.append(reply)
                elif loop.time() >= deadline:
                    raise TimeoutError(f"Redis did not confirm the subscription to {list(channels)}")
            yield _RedisSubscription(pubsub, len(self.prefix) + 1, early)
        finally:
            await pubsub.aclose()

    async def aclose(self) -> None:
        try:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        except RuntimeError:
            return
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        with self._lock:
            if self._sync is not None:
                self._sync.close()
                self._sync = None
