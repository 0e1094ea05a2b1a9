"""Live rooms in real time: the purchase ticker, the viewer count and the on-air status, pushed over
Server-Sent Events, through the real-time bus (docs/realtime.md).

Each API worker keeps a :class:`Room` for every live room someone watches through it. The room has one
asyncio task (only while it has viewers here) subscribed to the room's channel ``live:<id>``:

* ``sale``: a payment with lines attributed to the room committed (in any worker, or the job worker);
  the room reads the paid lines newer than the last it sent and pushes them to its streams;
* ``status``: the room went on air or ended;
* ``viewers``: someone arrived or left somewhere; the room re-reads the shared count on its next tick
  (at most once a second, however many arrived);
* ``pin``: the host pinned a product (or unpinned: ``product_id`` null); the room reads the product's
  card once and pushes it (the shopper's page shows it within a second);
* ``comment`` and ``likes``: a viewer commented or liked; the message carries what to show, pushed as is.

Pub/sub delivers at most once, so the room also re-reads its sales and status every
:data:`RESYNC_SECONDS`. So a thousand viewers of one room cost one subscription and a small query per
sale per worker, not a thousand.

Viewers: each open stream is a viewer, keyed by the page's random viewer id (kept across the stream's
reconnects) and the signed-in user, counted in the shared presence (Redis when configured, so every
worker reports the same count). An open stream's viewer is pushed forward every :data:`TICK_SECONDS`
and counts for :data:`PRESENCE_SECONDS` more (a crashed worker's viewers age out after that); a viewer
who leaves still counts for :data:`GRACE_SECONDS`, so a reconnect does not make the count flicker. A
signed-in viewer's arrival and departure are recorded as ``live_enter`` / ``live_exit`` behaviour
events, as the feed's training reads them, each exactly once across the workers.

A stream ends itself after :data:`STREAM_SECONDS`, less up to a fifth (the browser reconnects at once,
sending the last event id it saw); a server shutting down closes open streams after its grace
(``cli_support.SHUTDOWN_GRACE_SECONDS``). The spread matters: thousands of viewers who opened the room
together must not all come back in the same second. A stream that reconnects gets the sales the room
sent since its last event id from the room's memory (:data:`TICKER_SIZE` newest), not from the
database, so a reconnect misses nothing and costs no query.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from anyio import from_thread, to_thread

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.content import service as content_service
from zhongcao.content.live import mask_name as mask_name  # re-exported: pages and tests use it here
from zhongcao.content.models import ContentStatus
from zhongcao.db import Database
from zhongcao.events import service as events_service
from zhongcao.realtime.bus import Message
from zhongcao.realtime.service import Realtime, live_channel
from zhongcao.users import service as users_service
from zhongcao.web import i18n
from zhongcao.web.templating import money

log = logging.getLogger("zhongcao.web")

TICK_SECONDS = 1.0
RESYNC_SECONDS = 10.0
PRESENCE_SECONDS = 15.0
GRACE_SECONDS = 10.0
RETRY_SECONDS = 1.0
STREAM_SECONDS = 600.0
KEEPALIVE_SECONDS = 10.0
TICKER_SIZE = 20


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


@dataclass(frozen=True)
class Sale:
    item_id: int
    buyer: str
    product_id: int
    title_zh: str
    title_en: str
    quantity: int
    paid_at: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def read_sales(database: Database, content_id: int, limit: int = TICKER_SIZE) -> list[Sale]:
    """The room's recent paid lines, newest first, with masked buyer names (one worker-thread call)."""
    with database.session(read_only=True) as db:
        rows = commerce_service.content_sales(db, content_id, limit=limit)
        names = users_service.users_by_ids(db, {r.user_id for r in rows})
        return [
            Sale(
                item_id=r.item_id,
                buyer=mask_name(names[r.user_id].display_name) if r.user_id in names else "",
                product_id=r.product_id,
                title_zh=r.title_zh,
                title_en=r.title_en,
                quantity=r.quantity,
                paid_at=r.paid_at.isoformat(),
            )
            for r in rows
        ]


def pinned_card(database: Database, content_id: int) -> dict[str, Any] | None:
    """The room's pinned product as its card shows it, read now (the pin may have changed since the
    message was sent: what the database holds wins). None when nothing is pinned."""
    with database.session(read_only=True) as db:
        content = content_service.content_by_ids(db, [content_id]).get(content_id)
        if content is None or content.pinned_product_id is None:
            return None
        product_id = content.pinned_product_id
        brief = catalog_service.product_briefs(db, [product_id]).get(product_id)
        if brief is None:
            return None
        return {
            "product_id": product_id,
            "title_zh": brief.title_zh,
            "title_en": brief.title_en,
            "price": {locale: money(brief.price_fen, locale) for locale in i18n.LOCALES},
        }


def _status(database: Database, content_id: int) -> str:
    """The room's status now (``scheduled``, ``live``, ``ended``; ``removed`` when gone)."""
    with database.session(read_only=True) as db:
        content = content_service.content_by_ids(db, [content_id]).get(content_id)
        return content.status.value if content is not None else ContentStatus.removed.value


def member_key(viewer: str, user_id: int | None) -> str:
    """A viewer in the shared presence: the page's viewer id and who is signed in (``abc123:42``)."""
    return f"{viewer}:{user_id if user_id is not None else ''}"


def member_user(member: str) -> int | None:
    user = member.rsplit(":", 1)[-1]
    return int(user) if user.isdigit() else None


@dataclass
class Room:
    content_id: int
    streams: set[asyncio.Queue[str]] = field(default_factory=set)
    # member -> how many of this worker's open streams it has
    local: dict[str, int] = field(default_factory=dict)
    # members who left through this worker -> the wall-clock time their grace ends (the room's task
    # stays until then, to report their departure)
    lingering: dict[str, float] = field(default_factory=dict)
    last_item_id: int = 0
    status: str | None = None
    last_count: int = -1
    task: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # the newest sales this room sent, as (item id, SSE message): a reconnecting stream gets those newer
    # than its last event id without a query
    recent: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=TICKER_SIZE))

    @property
    def channel(self) -> str:
        return live_channel(self.content_id)

    def active(self, now: float) -> bool:
        return bool(self.streams or self.local or any(until > now for until in self.lingering.values()))

    def broadcast(self, message: str) -> None:
        for queue in self.streams:
            queue.put_nowait(message)


class LiveHub:
    def __init__(self, database: Database, realtime: Realtime, event_store: Any = None) -> None:
        self.database = database
        self.realtime = realtime
        self.event_store = event_store
        self.rooms: dict[int, Room] = {}
        self.tick_seconds = TICK_SECONDS
        self.resync_seconds = RESYNC_SECONDS
        self.presence_seconds = PRESENCE_SECONDS
        self.grace_seconds = GRACE_SECONDS
        self.stream_seconds = STREAM_SECONDS
        self._chores: set[asyncio.Task[None]] = set()

    async def count(self, content_id: int) -> int:
        """Viewers of the room now, across every worker sharing the presence."""
        return await self.realtime.presence.count(live_channel(content_id), time.time())

    def count_from_thread(self, content_id: int) -> int:
        """:meth:`count` for a page handler running in a worker thread (0 when the count cannot be
        read: the page still renders, and its stream brings the count once it can)."""
        try:
            return from_thread.run(self.count, content_id)
        except Exception:
            log.exception("could not read the viewer count of live room %s", content_id)
            return 0

    async def _record(self, kind: str, user_id: int, content_id: int) -> None:
        if self.event_store is None:
            return
        batch = {
            "ts": [clock.now()],
            "type": [kind],
            "user_id": [user_id],
            "content_id": [content_id],
            "channel": ["live"],
        }
        try:
            await to_thread.run_sync(self.event_store.append, batch)
        except Exception:  # the viewer's experience does not depend on analytics
            log.exception("could not record %s", kind)

    async def join(
        self, content_id: int, viewer: str, user_id: int | None, after_item_id: int
    ) -> asyncio.Queue[str]:
        room = self.rooms.get(content_id)
        if room is None:
            room = self.rooms[content_id] = Room(content_id=content_id, last_item_id=after_item_id)
        # Registered before the first await, so the room's task never sees it empty meanwhile; the sales
        # it missed are queued in the same step, so none is lost or sent twice.
        queue: asyncio.Queue[str] = asyncio.Queue()
        for item_id, message in room.recent:
            if item_id > after_item_id:
                queue.put_nowait(message)
        room.streams.add(queue)
        member = member_key(viewer, user_id)
        room.local[member] = room.local.get(member, 0) + 1
        room.lingering.pop(member, None)
        if room.task is None or room.task.done():
            room.ready = asyncio.Event()
            room.task = asyncio.create_task(self._run(room), name=f"live-room-{content_id}")
        try:
            now = time.time()
            arrived = await self.realtime.presence.arrive(
                room.channel, member, now, now + self.presence_seconds
            )
            if arrived and user_id is not None:
                await self._record("live_enter", user_id, content_id)
            await room.ready.wait()  # subscribed: nothing published from here on is missed
            # The new stream gets the count now; the others get it on the room's next tick, so a
            # thousand arrivals in one second are one update to each stream, not a thousand.
            queue.put_nowait(sse("viewers", {"count": await self.count(content_id)}))
            if arrived:
                await self.realtime.bus.apublish(room.channel, {"type": "viewers"})
        except BaseException:  # the client went or the bus failed: this stream never opened
            self.leave(content_id, viewer, user_id, queue)
            raise
        return queue

    def leave(self, content_id: int, viewer: str, user_id: int | None, queue: asyncio.Queue[str]) -> None:
        """Synchronous: it runs as a stream closes, where a cancelled request may not await."""
        room = self.rooms.get(content_id)
        if room is None:
            return
        room.streams.discard(queue)
        member = member_key(viewer, user_id)
        left = room.local.get(member, 0) - 1
        if left > 0:
            room.local[member] = left
            return
        room.local.pop(member, None)
        until = time.time() + self.grace_seconds
        room.lingering[member] = until
        chore = asyncio.get_running_loop().create_task(
            self.realtime.presence.depart(room.channel, member, until)
        )
        self._chores.add(chore)
        chore.add_done_callback(self._chore_done)

    def _chore_done(self, chore: asyncio.Task[None]) -> None:
        self._chores.discard(chore)
        if not chore.cancelled() and chore.exception() is not None:
            log.error("a live room could not record a departure", exc_info=chore.exception())

    async def _run(self, room: Room) -> None:
        """The room's task in this worker, while the room has viewers here. A lost subscription
        (Redis restarting) is retried every :data:`RETRY_SECONDS`; the streams stay open meanwhile."""
        try:
            while not await self._listen(room):
                if not room.active(time.time()):
                    self._drop(room)
                    return
                await asyncio.sleep(RETRY_SECONDS)
        finally:
            room.ready.set()  # never leave a join waiting

    def _drop(self, room: Room) -> None:
        if self.rooms.get(room.content_id) is room:
            del self.rooms[room.content_id]

    async def _listen(self, room: Room) -> bool:
        """Subscribe, then push, heartbeat and re-read until the room empties (True) or the bus
        fails (False)."""
        loop = asyncio.get_running_loop()
        try:
            async with self.realtime.bus.subscribe([room.channel]) as subscription:
                room.ready.set()
                await self._resync(room)
                next_tick = loop.time() + self.tick_seconds
                next_resync = loop.time() + self.resync_seconds
                while True:
                    if not room.active(time.time()):
                        self._drop(room)  # no await since the check: a later join makes a new room
                        return True
                    message = await subscription.get(timeout=next_tick - loop.time())
                    if message is not None:
                        await self._on_message(room, message)
                    if loop.time() >= next_tick:
                        next_tick = loop.time() + self.tick_seconds
                        await self._tick(room)
                    if loop.time() >= next_resync:
                        next_resync = loop.time() + self.resync_seconds
                        await self._resync(room)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live room %s lost its subscription", room.content_id)
            room.ready.set()  # joins go on; the streams get what the room reads once it is back
            return False

    async def _on_message(self, room: Room, message: Message) -> None:
        kind = message.data.get("type")
        if kind == "sale":
            item_ids = message.data.get("item_ids") or []
            if not item_ids or max(int(i) for i in item_ids) > room.last_item_id:
                await self._resync(room)
        elif kind == "status":
            status = message.data.get("status")
            if isinstance(status, str) and status != room.status:
                room.status = status
                room.broadcast(sse("status", {"status": status}))
        elif kind == "viewers":
            pass  # re-read on the next tick (every TICK_SECONDS): arrivals in one second are one read
        elif kind == "pin":
            product_id = message.data.get("product_id")
            card = (
                await to_thread.run_sync(pinned_card, self.database, room.content_id) if product_id else None
            )
            room.broadcast(sse("pin", card or {"product_id": None}))
        elif kind == "comment":
            comment = {k: message.data.get(k) for k in ("id", "who", "body", "at")}
            room.broadcast(sse("comment", comment))
        elif kind == "likes":
            room.broadcast(sse("likes", {"total": message.data.get("total")}))

    async def _tick(self, room: Room) -> None:
        now = time.time()
        presence = self.realtime.presence
        if room.local:
            await presence.keep(room.channel, list(room.local), now + self.presence_seconds)
        gone = await presence.expire(room.channel, now)
        for member in gone:
            user_id = member_user(member)
            if user_id is not None:
                await self._record("live_exit", user_id, room.content_id)
        room.lingering = {m: until for m, until in room.lingering.items() if until > now}
        if gone:
            await self.realtime.bus.apublish(room.channel, {"type": "viewers"})
        await self._announce_count(room)

    async def _announce_count(self, room: Room) -> None:
        n = await self.count(room.content_id)
        if n != room.last_count:
            room.last_count = n
            room.broadcast(sse("viewers", {"count": n}))

    async def _resync(self, room: Room) -> None:
        """Push the paid lines newer than the last sent, and the status when it changed."""
        if not room.streams:
            return
        sales, status = await to_thread.run_sync(self._read, room.content_id)
        fresh = [s for s in sales if s.item_id > room.last_item_id]
        for sale in reversed(fresh):  # oldest first, so the ticker ends with the newest
            message = sse("sale", sale.as_dict(), sale.item_id)
            room.recent.append((sale.item_id, message))
            room.broadcast(message)
        if fresh:
            room.last_item_id = fresh[0].item_id
        if status != room.status:
            room.status = status
            room.broadcast(sse("status", {"status": status}))

    def _read(self, content_id: int) -> tuple[list[Sale], str]:
        return read_sales(self.database, content_id), _status(self.database, content_id)

    async def stream(
        self, content_id: int, viewer: str, user_id: int | None, after_item_id: int
    ) -> AsyncIterator[str]:
        """The SSE messages of one open stream. Starlette stops the generator when the client goes
        (at the latest when a keep-alive cannot be written), which runs ``leave``."""
        queue = await self.join(content_id, viewer, user_id, after_item_id)
        deadline = time.monotonic() + self.stream_seconds * random.uniform(0.8, 1.0)
        try:
            yield "retry: 1000\n\n"
            while time.monotonic() < deadline:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    message = ": keep-alive\n\n"
                yield message
        finally:
            self.leave(content_id, viewer, user_id, queue)

    async def host_stream(self, content_id: int) -> AsyncIterator[str]:
        """The SSE messages of a host's dashboard: everything the room's viewers get, without the
        host counting as a viewer (no presence, no behaviour events)."""
        room = self.rooms.get(content_id)
        if room is None:
            room = self.rooms[content_id] = Room(content_id=content_id)
        queue: asyncio.Queue[str] = asyncio.Queue()
        room.streams.add(queue)
        if room.task is None or room.task.done():
            room.ready = asyncio.Event()
            room.task = asyncio.create_task(self._run(room), name=f"live-room-{content_id}")
        deadline = time.monotonic() + self.stream_seconds
        try:
            await room.ready.wait()
            yield "retry: 1000\n\n"
            yield sse("viewers", {"count": await self.count(content_id)})
            while time.monotonic() < deadline:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    message = ": keep-alive\n\n"
                yield message
        finally:
            room.streams.discard(queue)


def live_hub(app: Any) -> LiveHub:
    hub: LiveHub | None = getattr(app.state, "web_live_hub", None)
    if hub is None:
        store = getattr(app.state, "event_store", None) or events_service.get_store(
            app.state.settings, app.state.database
        )
        hub = LiveHub(app.state.database, app.state.realtime, store)
        app.state.web_live_hub = hub
    return hub
