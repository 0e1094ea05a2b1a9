"""One Redis pub/sub connection per worker, fanned out to every subscriber of that worker.

A worker with a thousand open chat pages used to hold a thousand pub/sub connections, one per
stream, each with its own SUBSCRIBE on every reconnect (benchmarks/RESULTS.md, "Customer-service
chat"). The hub holds one connection for its event loop (the worker process) and one reader task
on it, the accepted exception to "nothing runs in the background": it is the streams' own reading,
and it does no business work. Each subscriber gets an :class:`~zhongcao.realtime.subscription.Inbox`:

* channels are reference counted: the first subscriber of a channel sends ``SUBSCRIBE`` on the
  shared connection and waits for Redis to confirm it; later subscribers of a confirmed channel wait
  for nothing; when the last one leaves, ``UNSUBSCRIBE`` goes out (sent by a short task, since a
  stream that is being cancelled cannot wait for anything);
* the reader hands each message to the inboxes of its channel without waiting (an inbox that
  cannot keep up is dropped, never waited for), so a slow subscriber holds up nobody;
* if the connection fails, every subscriber's next ``get`` raises ``SubscriptionLost`` (they
  re-read the database or subscribe again) and the next subscription opens a new connection.
  Redis-py's silent reconnect is turned off on this connection: a reconnect that nobody notices
  would lose messages without any subscriber knowing to catch up.

Commands on the connection are sent under one lock, so the confirmations come back in the order in
which the per-channel waiters were queued (Redis answers in order).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from zhongcao.realtime.subscription import Inbox, Message, Subscription, SubscriptionLost

log = logging.getLogger("zhongcao.realtime")

CONFIRM_SECONDS = 5.0


class FanoutHub:
    """The subscriptions of one event loop over one Redis pub/sub connection.

    ``open_pubsub()`` makes a new ``redis.asyncio`` PubSub (on a client whose connections do not
    retry); ``prefix`` is the deployment's channel prefix, stripped from the channels subscribers see."""

    def __init__(self, open_pubsub: Callable[[], Any], prefix: str) -> None:
        self.open_pubsub = open_pubsub
        self.prefix = prefix
        self.subscribers: dict[str, set[Inbox]] = {}  # channel (unprefixed) -> its inboxes
        self.subscribed: set[str] = set()  # channels SUBSCRIBEd on the connection (confirmed or not)
        self.confirmations: dict[str, deque[asyncio.Future[None]]] = {}  # in the order they were sent
        self.to_unsubscribe: set[str] = set()
        self.pubsub: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.unsubscriber: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.closed = False

    def key(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    # --- subscribing --------------------------------------------------------------------------

    @asynccontextmanager
    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Subscription]:
        inbox = Inbox(frozenset(channels))
        try:
            waiting = await self._send_subscribe(inbox)
            if waiting:
                # asyncio.wait, not gather: a subscriber that gives up must not cancel the confirmation
                # another subscriber of the same channel is waiting for.
                done, pending = await asyncio.wait(waiting, timeout=CONFIRM_SECONDS)
                if pending:
                    raise TimeoutError(f"Redis did not confirm the subscription to {sorted(channels)}")
                for future in done:
                    future.result()  # SubscriptionLost when the connection failed meanwhile
            yield inbox
        finally:
            self._leave(inbox)

    async def _send_subscribe(self, inbox: Inbox) -> list[asyncio.Future[None]]:
        """Join the inbox to its channels and SUBSCRIBE what the connection lacks; the confirmations
        still to come for its channels."""
        async with self.lock:
            if self.closed:
                raise SubscriptionLost("the bus is closed")
            if self.pubsub is None:
                await self._connect()
            loop = asyncio.get_running_loop()
            new = sorted(c for c in inbox.channels if c not in self.subscribed)
            for channel in inbox.channels:
                self.subscribers.setdefault(channel, set()).add(inbox)
            for channel in new:
                self.subscribed.add(channel)
                self.confirmations.setdefault(channel, deque()).append(loop.create_future())
            waiting = [f for c in inbox.channels for f in self.confirmations.get(c, ()) if not f.done()]
            if new:
                try:
                    await self.pubsub.execute_command("SUBSCRIBE", *(self.key(c) for c in new))
                except Exception as exc:
                    self._fail(f"could not subscribe: {type(exc).__name__}: {exc}")
                    raise SubscriptionLost("could not subscribe") from exc
            return waiting

    async def _connect(self) -> None:
        pubsub = self.open_pubsub()
        try:
            await pubsub.connect()
        except Exception as exc:
            await _quietly_close(pubsub)
            raise SubscriptionLost(f"cannot reach Redis: {type(exc).__name__}: {exc}") from exc
        self.pubsub = pubsub
        self.reader = asyncio.get_running_loop().create_task(self._read(pubsub), name="realtime-hub-reader")

    def _leave(self, inbox: Inbox) -> None:
        """Synchronous, so it also runs in a stream that is being cancelled."""
        for channel in inbox.channels:
            inboxes = self.subscribers.get(channel)
            if inboxes is None:
                continue
            inboxes.discard(inbox)
            if not inboxes:
                del self.subscribers[channel]
                if channel in self.subscribed:
                    self.to_unsubscribe.add(channel)
        if self.to_unsubscribe and (self.unsubscriber is None or self.unsubscriber.done()):
            self.unsubscriber = asyncio.get_running_loop().create_task(self._unsubscribe())

    async def _unsubscribe(self) -> None:
        async with self.lock:
            # A channel someone subscribed to again meanwhile stays.
            gone = sorted(
                c for c in self.to_unsubscribe if c not in self.subscribers and c in self.subscribed
            )
            self.to_unsubscribe.clear()
            if not gone or self.pubsub is None:
                return
            self.subscribed.difference_update(gone)
            try:
                await self.pubsub.execute_command("UNSUBSCRIBE", *(self.key(c) for c in gone))
            except Exception as exc:  # the reader sees the same failure and tells the subscribers
                log.warning("could not unsubscribe from %d channels: %s", len(gone), exc)

    # --- reading ------------------------------------------------------------------------------

    async def _read(self, pubsub: Any) -> None:
        skip = len(self.prefix) + 1
        try:
            while True:
                reply = await pubsub.parse_response(block=True)
                if not isinstance(reply, list | tuple) or len(reply) < 3:
                    continue
                kind = _text(reply[0])
                channel = _text(reply[1])[skip:]
                if kind == "message":
                    self._dispatch(channel, reply[2])
                elif kind == "subscribe":
                    waiters = self.confirmations.get(channel)
                    if waiters:
                        waiter = waiters.popleft()
                        if not waiters:
                            del self.confirmations[channel]
                        if not waiter.done():
                            waiter.set_result(None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.pubsub is pubsub:
                log.warning("the real-time bus lost its Redis connection: %s: %s", type(exc).__name__, exc)
                self._fail(f"lost the Redis connection: {type(exc).__name__}")

    def _dispatch(self, channel: str, raw: Any) -> None:
        inboxes = self.subscribers.get(channel)
        if not inboxes:
            return
        try:
            data = json.loads(raw)
        except (ValueError, TypeError):
            log.warning("ignored a message that is not JSON on %s", channel)
            return
        if not isinstance(data, dict):
            return
        # One parsed message for all of them: subscribers only read what they are given.
        message = Message(channel, data)
        for inbox in list(inboxes):
            inbox.deliver(message)

    # --- failing and closing --------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        """The connection is gone: every subscriber is told, the next subscription starts afresh."""
        pubsub, self.pubsub = self.pubsub, None
        reader, self.reader = self.reader, None
        for inboxes in self.subscribers.values():
            for inbox in inboxes:
                inbox.fail(reason)
        for waiters in self.confirmations.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(SubscriptionLost(reason))
                    waiter.exception()  # retrieved: nobody may be waiting on it any more
        self.subscribers.clear()
        self.subscribed.clear()
        self.confirmations.clear()
        self.to_unsubscribe.clear()
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        if pubsub is not None:
            asyncio.get_running_loop().create_task(_quietly_close(pubsub))

    async def aclose(self) -> None:
        self.closed = True
        pubsub, self.pubsub = self.pubsub, None
        tasks = [t for t in (self.reader, self.unsubscriber) if t is not None and not t.done()]
        self.reader = self.unsubscriber = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for inboxes in self.subscribers.values():
            for inbox in inboxes:
                inbox.fail("the bus is closed")
        if pubsub is not None:
            await _quietly_close(pubsub)

    def stats(self) -> dict[str, int]:
        """How many channels and subscribers this worker holds (tests, diagnostics)."""
        return {
            "channels": len(self.subscribed),
            "subscribers": len({id(i) for inboxes in self.subscribers.values() for i in inboxes}),
            "connected": int(self.pubsub is not None),
        }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _quietly_close(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
        await pubsub.connection_pool.disconnect()  # the hub's client has a pool of its own
    except Exception as exc:  # already broken: nothing more to release
        log.debug("closing a broken pub/sub connection: %s", exc)
