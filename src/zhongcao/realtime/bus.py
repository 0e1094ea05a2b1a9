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
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from zhongcao.realtime.hub import FanoutHub
from zhongcao.realtime.subscription import Inbox, Message, Subscription, SubscriptionLost, encode

__all__ = ["Bus", "MemoryBus", "Message", "RedisBus", "Subscription", "SubscriptionLost", "encode"]

log = logging.getLogger("zhongcao.realtime")

# Publishing and presence share a worker's pool; subscribing takes one more connection per worker
# (the fan-out hub's), however many streams are open.
MAX_REDIS_CONNECTIONS = 200
POOL_WAIT_SECONDS = 10.0  # how long a call waits for a free connection of the pool before it fails


class Bus(ABC):
    kind: str

    @abstractmethod
    def publish(self, channel: str, data: dict[str, Any]) -> None:
        """Send ``data`` to the channel's current subscribers (from any thread)."""

    def publish_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """``publish`` each ``(channel, data)`` in order (Redis: one round trip for them all); a
        message that is not a JSON object is logged and skipped, the others still go."""
        for channel, data in messages:
            try:
                self.publish(channel, data)
            except TypeError:
                log.exception("not a JSON object: a message to %s", channel)

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


class MemoryBus(Bus):
    """Subscribers of this process only: right for one server process (the embedded default)."""

    kind = "in-process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # channel -> (the subscriber's event loop, its inbox)
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, Inbox]]] = {}

    def publish(self, channel: str, data: dict[str, Any]) -> None:
        message = Message(channel, json.loads(encode(data)))  # a copy: no subscriber shares the sender's dict
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for loop, inbox in subscribers:
            # A closed event loop refuses the call: its subscriber is gone, nobody is listening.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(inbox.deliver, message)

    async def apublish(self, channel: str, data: dict[str, Any]) -> None:
        self.publish(channel, data)

    @asynccontextmanager
    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Subscription]:
        inbox = Inbox(frozenset(channels))
        subscriber = (asyncio.get_running_loop(), inbox)
        with self._lock:
            for channel in inbox.channels:
                self._subscribers.setdefault(channel, set()).add(subscriber)
        try:
            yield inbox
        finally:
            with self._lock:
                for channel in inbox.channels:
                    subscribers = self._subscribers.get(channel)
                    if subscribers is not None:
                        subscribers.discard(subscriber)
                        if not subscribers:
                            del self._subscribers[channel]

    async def aclose(self) -> None:
        """Nothing to release: no connections."""

    def close(self) -> None:
        """Nothing to release: no connections."""


# --- Redis -----------------------------------------------------------------------------------------


class RedisBus(Bus):
    """Redis pub/sub: every process that publishes or subscribes with the same URL and prefix shares it.

    Channel ``c`` is the Redis channel ``<prefix>:c``. Asyncio connections belong to one event loop,
    so each loop gets its own client and its own :class:`~zhongcao.realtime.hub.FanoutHub`: one
    pub/sub connection that every subscriber of the loop shares (a server process has one loop; a
    test client may start several)."""

    kind = "redis"

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._sync: redis.Redis | None = None
        self._lock = threading.Lock()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FanoutHub] = (
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
            # A blocking pool: when every connection is busy (a thousand viewers arriving or leaving
            # in the same second) a call waits for one instead of failing with "Too many connections".
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url,
                socket_connect_timeout=5,
                max_connections=MAX_REDIS_CONNECTIONS,
                timeout=POOL_WAIT_SECONDS,
            )
            client = redis.asyncio.Redis.from_pool(pool)
            self._clients[loop] = client
        return client

    def publish(self, channel: str, data: dict[str, Any]) -> None:
        self.sync_client().publish(self.key(channel), encode(data))

    def publish_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        # A chat message goes to its conversation, its shop, its shopper and each notified person:
        # one pipelined round trip instead of one each.
        encoded = []
        for channel, data in messages:
            try:
                encoded.append((self.key(channel), encode(data)))
            except TypeError:
                log.exception("not a JSON object: a message to %s", channel)
        if not encoded:
            return
        if len(encoded) == 1:
            self.sync_client().publish(*encoded[0])
            return
        pipe = self.sync_client().pipeline(transaction=False)
        for channel, text in encoded:
            pipe.publish(channel, text)
        pipe.execute()

    async def apublish(self, channel: str, data: dict[str, Any]) -> None:
        await self.client().publish(self.key(channel), encode(data))

    def hub(self) -> FanoutHub:
        """This event loop's fan-out hub (made on first use)."""
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None or hub.closed:
            hub = self._hubs[loop] = FanoutHub(self._open_pubsub, self.prefix)
        return hub

    def _open_pubsub(self) -> Any:
        # No silent reconnects on the hub's connection: a reconnect would drop the messages published
        # meanwhile without any subscriber knowing it should catch up (the hub tells them instead).
        client = redis.asyncio.Redis.from_url(
            self.url,
            socket_connect_timeout=5,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{self.prefix}:hub",
        )
        return client.pubsub()

    def subscribe(self, channels: Sequence[str]) -> Any:
        return self.hub().subscribe(channels)

    async def aclose(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        hub = self._hubs.pop(loop, None)
        if hub is not None:
            await hub.aclose()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        with self._lock:
            if self._sync is not None:
                self._sync.close()
                self._sync = None
