"""Live rooms in real time: the purchase ticker and the viewer count, pushed over Server-Sent Events.

One :class:`LiveHub` per app keeps a :class:`Room` for every live room someone is watching. A room
polls the platform every :data:`POLL_SECONDS` while it has viewers, in a worker thread: paid order
lines attributed to the room (``commerce.service.content_sales``) and whether it is still on air
(``content.service``); it pushes what is new to every open stream of that room. So a thousand viewers
of one room cost one small query every couple of seconds, not a thousand.

Viewers: each open stream is a viewer, keyed by the page's random viewer id (kept across the stream's
reconnects) and the signed-in user; a viewer who leaves still counts for :data:`GRACE_SECONDS`, so a
reconnect does not make the count flicker. A signed-in viewer's arrival and departure are recorded as
``live_enter`` / ``live_exit`` behaviour events, as the feed's training reads them. The count is this
process's viewers: with several server processes, each counts its own (docs/web.md).

A stream ends itself after :data:`STREAM_SECONDS` (the browser reconnects at once, sending the last
event id it saw), so a server shutting down never waits long for open streams.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread

from zhongcao import clock
from zhongcao.commerce import service as commerce_service
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentStatus
from zhongcao.db import Database
from zhongcao.users import service as users_service

log = logging.getLogger("zhongcao.web")

POLL_SECONDS = 1.5
GRACE_SECONDS = 10.0
STREAM_SECONDS = 30.0
KEEPALIVE_SECONDS = 10.0
TICKER_SIZE = 20


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def mask_name(name: str) -> str:
    """Buyers in a public ticker are shown by a masked name: 张** / A***."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * min(max(len(name) - 1, 2), 3)


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


def _status(database: Database, content_id: int) -> str:
    """The room's status now (``scheduled``, ``live``, ``ended``; ``removed`` when gone)."""
    with database.session(read_only=True) as db:
        content = content_service.content_by_ids(db, [content_id]).get(content_id)
        return content.status.value if content is not None else ContentStatus.removed.value


@dataclass
class Room:
    content_id: int
    hub: LiveHub
    streams: set[asyncio.Queue[str]] = field(default_factory=set)
    # viewer key -> (user id or None, monotonic time until which the viewer still counts; inf: here)
    viewers: dict[str, tuple[int | None, float]] = field(default_factory=dict)
    last_item_id: int = 0
    status: str | None = None
    task: asyncio.Task[None] | None = None
    last_count: int = -1

    def count(self, now: float) -> int:
        return sum(1 for _, until in self.viewers.values() if until > now)

    def broadcast(self, message: str) -> None:
        for queue in self.streams:
            queue.put_nowait(message)

    def announce_count(self) -> None:
        n = self.count(time.monotonic())
        if n != self.last_count:
            self.last_count = n
            self.broadcast(sse("viewers", {"count": n}))


class LiveHub:
    def __init__(self, database: Database, event_store: Any = None) -> None:
        self.database = database
        self.event_store = event_store
        self.rooms: dict[int, Room] = {}
        self.poll_seconds = POLL_SECONDS
        self.stream_seconds = STREAM_SECONDS
        self.grace_seconds = GRACE_SECONDS

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
            room = self.rooms[content_id] = Room(content_id=content_id, hub=self, last_item_id=after_item_id)
        queue: asyncio.Queue[str] = asyncio.Queue()
        room.streams.add(queue)
        previous = room.viewers.get(viewer)
        room.viewers[viewer] = (user_id, float("inf"))
        if (previous is None or previous[1] <= time.monotonic()) and user_id is not None:
            await self._record("live_enter", user_id, content_id)
        room.last_count = -1  # the new stream needs the count too
        room.announce_count()
        if room.task is None or room.task.done():
            room.task = asyncio.create_task(self._poll(room), name=f"live-room-{content_id}")
        return queue

    def leave(self, content_id: int, viewer: str, queue: asyncio.Queue[str]) -> None:
        room = self.rooms.get(content_id)
        if room is None:
            return
        room.streams.discard(queue)
        user_id, _ = room.viewers.get(viewer, (None, 0.0))
        room.viewers[viewer] = (user_id, time.monotonic() + self.grace_seconds)

    async def _expire(self, room: Room) -> None:
        now = time.monotonic()
        for key, (user_id, until) in list(room.viewers.items()):
            if until <= now:
                del room.viewers[key]
                if user_id is not None:
                    await self._record("live_exit", user_id, room.content_id)

    async def _poll(self, room: Room) -> None:
        try:
            while room.viewers:
                await asyncio.sleep(self.poll_seconds)
                await self._expire(room)
                room.announce_count()
                if not room.streams:
                    continue
                sales, status = await to_thread.run_sync(self._read, room.content_id)
                fresh = [s for s in sales if s.item_id > room.last_item_id]
                for sale in reversed(fresh):  # oldest first, so the ticker ends with the newest
                    room.broadcast(sse("sale", sale.as_dict(), sale.item_id))
                if fresh:
                    room.last_item_id = fresh[0].item_id
                if status != room.status:
                    room.status = status
                    room.broadcast(sse("status", {"status": status}))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live room %s stopped polling", room.content_id)
        finally:
            if not room.viewers and self.rooms.get(room.content_id) is room:
                del self.rooms[room.content_id]

    def _read(self, content_id: int) -> tuple[list[Sale], str]:
        return read_sales(self.database, content_id), _status(self.database, content_id)

    async def stream(
        self, content_id: int, viewer: str, user_id: int | None, after_item_id: int
    ) -> AsyncIterator[str]:
        """The SSE messages of one open stream. Starlette stops the generator when the client goes
        (at the latest when a keep-alive cannot be written), which runs ``leave``."""
        queue = await self.join(content_id, viewer, user_id, after_item_id)
        deadline = time.monotonic() + self.stream_seconds
        try:
            yield "retry: 1000\n\n"
            while time.monotonic() < deadline:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    message = ": keep-alive\n\n"
                yield message
        finally:
            self.leave(content_id, viewer, queue)


def live_hub(app: Any) -> LiveHub:
    hub: LiveHub | None = getattr(app.state, "web_live_hub", None)
    if hub is None:
        from zhongcao.events import service as events_service

        store = getattr(app.state, "event_store", None) or events_service.get_store(
            app.state.settings, app.state.database
        )
        hub = LiveHub(app.state.database, store)
        app.state.web_live_hub = hub
    return hub
