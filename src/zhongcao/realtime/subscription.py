"""What a subscriber holds: a :class:`Message`, the :class:`Subscription` contract and the
:class:`Inbox` both buses fill (docs/realtime.md).

An inbox is one subscriber's queue of messages, filled by whoever fans messages out (the in-process
bus, or a worker's one Redis pub/sub reader) without ever waiting for the subscriber. So a
subscriber that stops reading (a browser on a slow network whose stream cannot be written) cannot
hold up anybody else: once it has :data:`INBOX_LIMIT` messages unread it is dropped, and its next
``get`` raises :class:`SubscriptionLost`. The same happens to every subscriber of a worker whose
Redis connection fails. Delivery is at most once anyway, so a dropped subscriber does what any
subscriber that must not miss state does: it re-reads the database (a chat stream ends, the
browser reconnects with the last event id it saw and gets what it missed).
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any

# Messages one subscriber may leave unread before it is dropped. A chat stream reads each message
# within milliseconds; a thousand unread means its client has stopped reading.
INBOX_LIMIT = 1_000


@dataclass(frozen=True)
class Message:
    channel: str  # as published, without the deployment's Redis prefix
    data: dict[str, Any]


def encode(data: dict[str, Any]) -> str:
    """Messages are JSON objects on both buses, so a message that Redis could not carry fails in-process too."""
    if not isinstance(data, dict):
        raise TypeError("a bus message is a JSON object (a dict)")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class SubscriptionLost(ConnectionError):
    """The subscription ended under its subscriber (it fell too far behind, or the worker's Redis
    connection failed): messages may have been missed, so re-read the state (or subscribe again)."""


class Subscription(ABC):
    @abstractmethod
    async def get(self, timeout: float) -> Message | None:
        """The next message, or None when none arrives within ``timeout`` seconds.

        Raises :class:`SubscriptionLost` once the subscription has ended under its subscriber."""

    @abstractmethod
    def get_nowait(self) -> Message | None:
        """The next message already here, without waiting (None when there is none)."""

    @abstractmethod
    def wake(self) -> None:
        """End a ``get`` that is waiting now (it returns None): the subscriber has other news (on its
        own event loop only)."""


class Inbox(Subscription):
    """One subscriber's messages. :meth:`deliver` and :meth:`fail` run on the subscriber's event
    loop (a publishing thread hands them over with ``call_soon_threadsafe``) and never wait."""

    def __init__(self, channels: frozenset[str], limit: int = INBOX_LIMIT) -> None:
        self.channels = channels
        self.limit = limit
        self.lost: str | None = None  # why the subscription ended; messages already queued still come
        self._queue: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def deliver(self, message: Message) -> None:
        if self.lost is not None:
            return
        if len(self._queue) >= self.limit:
            self.fail(f"fell {self.limit} messages behind")
            return
        self._queue.append(message)
        self._wake()

    def fail(self, reason: str) -> None:
        if self.lost is None:
            self.lost = reason
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def wake(self) -> None:
        self._wake()

    def pending(self) -> int:
        return len(self._queue)

    async def get(self, timeout: float) -> Message | None:
        if not self._queue and self.lost is None and timeout > 0:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _settle, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self._queue:
            return self._queue.popleft()
        if self.lost is not None:
            raise SubscriptionLost(self.lost)
        return None

    def get_nowait(self) -> Message | None:
        """The next message already here, without waiting (None when there is none)."""
        if self._queue:
            return self._queue.popleft()
        if self.lost is not None:
            raise SubscriptionLost(self.lost)
        return None


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
