"""Customer-service chat in real time: the Server-Sent Events of a conversation and of a badge.

A stream subscribes to bus channels (docs/realtime.md) for as long as it is open: a conversation's
``chat:<id>`` plus its viewer's ``user:<shopper>`` or ``shop:<shop>`` channel, or only the latter
for the unread badge. It sends

* ``message`` ``{"id", "sender", ...}`` (SSE id = the message id): a new message; the page fetches
  the rendered messages after the last one it shows (so the HTML is the server's, escaped by the
  template, and a card looks the same as on a reload);
* ``read`` ``{"side", "id"}``: the other side has read up to ``id``;
* ``assigned`` / ``closed``: the conversation changed;
* ``unread`` ``{"total"}``: the viewer's unread total after any change in their inbox.

Pub/sub delivers at most once and only while subscribed, so a stream first sends the messages
newer than the last one the page has (``after``, or the browser's ``Last-Event-ID`` on reconnect),
read from the database after subscribing: nothing falls between the two. The subscription is an
inbox on the worker's one pub/sub connection (``realtime/hub.py``); a stream whose subscription is
lost ends, and the browser's reconnect catches up the same way. Each stream ends after about
:data:`STREAM_SECONDS` (keep-alive comments every :data:`KEEPALIVE_SECONDS` meanwhile); a server
stopping ends them sooner (``zhongcao serve`` gives open streams a few seconds, then closes them).
No thread or task outlives its request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from anyio import to_thread
from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout

from zhongcao.db import Database
from zhongcao.realtime.bus import SubscriptionLost
from zhongcao.realtime.service import Realtime
from zhongcao.support import chat as support_chat
from zhongcao.support import service as support_service
from zhongcao.web.live import sse

log = logging.getLogger("zhongcao.web")

# A stream lives this long, give or take a fifth (so the streams opened together do not all come back
# together), then ends for the browser to reconnect from its last event id. Reconnecting costs a
# sign-in check, an ownership check, a catch-up read and a badge read: with 30 s streams, a thousand
# open chats cost a reconnect every 30 ms; with ten minutes, one every 0.6 s.
STREAM_SECONDS = 600.0
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000
# Messages handled at once before the stream writes (a burst on a busy shop's channel).
DRAIN_AT_ONCE = 100
# ``user:`` and ``shop:`` messages after which the viewer's chat badge may have changed (a
# notification does not change the chat's unread count).
BADGE_NUDGES = frozenset({"chat", "read"})
# A badge total is shared by every stream of this worker that shows it, for this long: a busy
# shop's inbox nudges all its agents' streams at once, and one query answers them all.
BADGE_SECONDS = 1.0


class BadgeCache:
    """Per-worker memo of unread totals (``key -> (read started at, total)``), one reader per key at
    a time.
    It lives in the app (``app.state``) and holds no task or thread."""

    def __init__(self, ttl: float = BADGE_SECONDS) -> None:
        self.ttl = ttl
        self.values: dict[str, tuple[float, int]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    async def total(self, key: str, read: Callable[[], int], *, fresh: bool = False) -> int:
        lock = self.locks.setdefault(key, asyncio.Lock())
        asked = time.monotonic()
        async with lock:
            cached = self.values.get(key)
            # Fresh: read after the nudge that asked (a value read before it may miss the change).
            if cached is not None and (cached[0] >= asked if fresh else asked - cached[0] < self.ttl):
                return cached[1]
            started = time.monotonic()  # a read that starts after the nudge sees its change
            value = await to_thread.run_sync(read)
            self.values[key] = (started, value)
            if len(self.values) > 10_000:  # forget the oldest half rather than grow without end
                for old in sorted(self.values, key=lambda k: self.values[k][0])[:5_000]:
                    self.values.pop(old, None)
                    self.locks.pop(old, None)
            return value


def stream_lifetime(app: Any = None) -> float:
    """How long a stream of this app lives: about :data:`STREAM_SECONDS`, unless the app says
    otherwise (``app.state.chat_stream_seconds``: tests that read a whole stream set 0, so it sends
    its catch-up and badge, then ends)."""
    fixed = getattr(app.state, "chat_stream_seconds", None) if app is not None else None
    return float(fixed) if fixed is not None else STREAM_SECONDS * random.uniform(0.8, 1.0)


def badge_cache(app: Any) -> BadgeCache:
    cache: BadgeCache | None = getattr(app.state, "chat_badge_cache", None)
    if cache is None:
        cache = app.state.chat_badge_cache = BadgeCache()
    return cache


def last_event_id(request: Request, after: int) -> int:
    seen = request.headers.get("last-event-id", "")
    return max(after, int(seen)) if seen.isdigit() and len(seen) < 20 else after


def catch_up_reader(database: Database, conversation_id: int) -> Callable[[int], list[dict[str, Any]]]:
    """Reads the conversation's messages newer than a given id, in a session of its own."""

    def read(after: int) -> list[dict[str, Any]]:
        with database.session(read_only=True) as db:
            return [
                support_service.message_data(m)
                for m in support_chat.messages_after(db, conversation_id, after)
            ]

    return read


def message_event(data: dict[str, Any]) -> str:
    event = {key: data.get(key) for key in ("id", "conversation_id", "sender", "body", "card", "sent_at")}
    return sse("message", event, int(data["id"]))


async def chat_events(
    realtime: Realtime,
    channels: Sequence[str],
    *,
    after: int,
    catch_up: Callable[[int], list[dict[str, Any]]] | None,
    unread_total: Callable[[], int],
    badges: BadgeCache,
    badge_key: str,
    stream_seconds: float | None = None,
) -> AsyncIterator[str]:
    """The SSE text of one stream. ``catch_up(after)`` reads the conversation's messages newer than
    ``after`` (as bus-message dicts); ``unread_total()`` the viewer's badge, shared through
    ``badges`` under ``badge_key`` by the streams of the same viewer. Both run in a thread.

    The stream ends (the browser reconnects after ``retry``, sending its last event id) when its
    time is up, when every database connection is busy, and when its subscription is lost (the
    worker's Redis connection failed, or this stream fell too far behind): the reconnect's catch-up
    brings whatever it missed."""
    last = after
    deadline = time.monotonic() + (stream_seconds if stream_seconds is not None else stream_lifetime())
    try:
        async with realtime.bus.subscribe(list(channels)) as subscription:
            yield f"retry: {RETRY_MS}\n\n"
            try:
                backlog = await to_thread.run_sync(catch_up, after) if catch_up is not None else []
                total = await badges.total(badge_key, unread_total)
            except PoolTimeout:
                # Every database connection is busy (a burst of streams opening at once): the response
                # has started, so no 503 can be sent; end the stream and let the browser reconnect
                # after ``retry``, from the same last event id, instead of failing with a server error.
                return
            for data in backlog:
                last = max(last, int(data["id"]))
                yield message_event(data)
            yield sse("unread", {"total": total})
            # The badge is read beside the stream, not in its way: a message that arrives while the
            # unread count is being read goes out at once (the database may be slow; the bus is not).
            badge: asyncio.Task[int] | None = None
            badge_by: Any = None
            read_again, nudged_by = False, None
            try:
                while (left := deadline - time.monotonic()) > 0:
                    # A badge read that finished while the last events were being written: no wait.
                    waiting = 0.0 if badge is not None and badge.done() else min(left, KEEPALIVE_SECONDS)
                    message = await subscription.get(waiting)
                    out: list[str] = []
                    if message is not None:
                        # Everything already here goes out together.
                        batch = [message]
                        while len(batch) < DRAIN_AT_ONCE and (more := subscription.get_nowait()) is not None:
                            batch.append(more)
                        for message in batch:
                            data, kind = message.data, message.data.get("type")
                            if message.channel.startswith("chat:"):
                                if kind == "message" and int(data.get("id", 0)) > last:
                                    last = int(data["id"])
                                    out.append(message_event(data))
                                elif kind in ("read", "assigned", "closed"):
                                    out.append(sse(str(kind), {k: v for k, v in data.items() if k != "type"}))
                            elif kind in BADGE_NUDGES:  # the viewer's inbox changed somewhere
                                read_again, nudged_by = True, data.get("conversation_id")
                    if badge is not None and badge.done():
                        try:
                            total = badge.result()
                        except PoolTimeout:
                            return  # as above: the browser reconnects and reads the badge then
                        badge = None
                        out.append(sse("unread", {"total": total, "conversation_id": badge_by}))
                    if read_again and badge is None:
                        # One read answers every stream of this viewer nudged by the same change (an
                        # agent's inbox, the shopper's open tabs), started after the nudge so it
                        # includes it; nudges meanwhile ask for one more read once it is done.
                        badge = asyncio.ensure_future(badges.total(badge_key, unread_total, fresh=True))
                        badge.add_done_callback(lambda _: subscription.wake())
                        badge_by, read_again = nudged_by, False
                    if out:
                        yield "".join(out)
                    elif message is None and badge is None:
                        yield ": keep-alive\n\n"
            finally:
                if badge is not None:
                    badge.cancel()
    except SubscriptionLost as exc:
        log.info("a chat stream on %s ends: %s", ",".join(channels), exc)


def event_stream(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
