"""The host's side of a live room, shared by the shop's studio (web/merchant/content.py) and the
creator's (web/creator/studio.py): the dashboard, its numbers, its event stream and the controls
(start, end, pin, unpin).

Each studio keeps its own thin routes (its console, its URL prefix) and says, through a
:class:`LiveHost`, how it finds one of its own rooms and who may control it; the pages, the numbers and
the refusals are the same for both. The dashboard follows the room over the same live hub as the
shoppers' pages (web/live.py), without counting as a viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from zhongcao import flows
from zhongcao.content import live as content_live
from zhongcao.content import service as content_service
from zhongcao.content.models import Content
from zhongcao.errors import DomainError
from zhongcao.web import i18n
from zhongcao.web.console import Console
from zhongcao.web.live import live_hub
from zhongcao.web.templating import money


def stats_dict(console: Console, content_id: int, viewers: int) -> dict[str, Any]:
    """The room's numbers as the dashboard shows them (and ``/stats`` answers)."""
    stats = flows.live_stats(console.db, content_id)
    locale = console.page.locale
    return {
        "status": stats.status,
        "viewers": viewers,
        "comments": stats.comments,
        "likes": stats.likes,
        "orders": stats.orders,
        "units": stats.units,
        "gmv_fen": stats.gmv_fen,
        "gmv": money(stats.gmv_fen, locale),
        "top_products": [
            {
                "product_id": p.product_id,
                "title": p.title_zh if locale == "zh" else (p.title_en or p.title_zh),
                "units": p.units,
                "gmv": money(p.gmv_fen, locale),
            }
            for p in stats.top_products
        ],
    }


@dataclass(frozen=True)
class LiveHost:
    """One studio's way into its live rooms."""

    base: str  # the dashboard's URL prefix, e.g. "/merchant/live"
    nav: str  # the console's navigation entry the dashboard belongs to
    own_live: Callable[[Console, int], Content]  # the console's own live room, or 404
    may_control: Callable[[Console], None] = lambda console: None  # raises when the member may not
    # Extra template values for the dashboard (the shop's flash sales waiting for this room).
    extra: Callable[[Console, int], dict[str, Any]] = field(default=lambda console, content_id: {})

    def dashboard(self, console: Console, content_id: int) -> Response:
        content = self.own_live(console, content_id)
        view = content_service.content_view(console.db, content)
        comments = content_live.recent_comments(console.db, content_id)
        names = content_live.authors(console.db, [c.user_id for c in comments])
        viewers = live_hub(console.page.request.app).count_from_thread(content_id)
        return console.render(
            "merchant/live.html",
            self.nav,
            content=content,
            anchors=[(a, b) for a, b in view.anchors if b is not None],
            account=view.account,
            stats=stats_dict(console, content_id, viewers),
            comments=[(c, names.get(c.user_id, "")) for c in comments],
            host_base=self.base,
            **self.extra(console, content_id),
        )

    def stats(self, console: Console, content_id: int) -> Response:
        self.own_live(console, content_id)
        viewers = live_hub(console.page.request.app).count_from_thread(content_id)
        return JSONResponse(stats_dict(console, content_id, viewers), headers={"Cache-Control": "no-store"})

    async def events(self, request: Request, console: Console, content_id: int) -> StreamingResponse:
        """The room's events for its host (viewers, comments, likes, sales, pins, status)."""
        await to_thread.run_sync(self.own_live, console, content_id)
        console.db.close()  # the stream is long: it holds no session
        return StreamingResponse(
            live_hub(request.app).host_stream(content_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def control(self, console: Console, content_id: int, act: Callable[[], object], flash: str) -> Response:
        """Run one of the room's controls; a refusal comes back to the dashboard as a flash message."""
        self.may_control(console)
        self.own_live(console, content_id)
        try:
            act()
        except DomainError as exc:
            console.db.rollback()
            if exc.status_code == 404:
                raise
            flash_key = "studio.refused." + exc.code
            return console.redirect(
                f"{self.base}/{content_id}",
                flash=flash_key if i18n.has_message(flash_key) else "studio.refused",
            )
        return console.redirect(f"{self.base}/{content_id}", flash=flash)

    def start(self, console: Console, content_id: int) -> Response:
        act = lambda: content_service.start_live(console.db, content_id)  # noqa: E731
        return self.control(console, content_id, act, "studio.started")

    def end(self, console: Console, content_id: int) -> Response:
        act = lambda: content_service.end_live(console.db, content_id)  # noqa: E731
        return self.control(console, content_id, act, "studio.ended")

    def pin(self, console: Console, content_id: int, raw_product_id: object) -> Response:
        raw = str(raw_product_id or "")
        product_id = int(raw) if raw.isdigit() and len(raw) < 19 else 0
        act = lambda: content_service.pin_product(console.db, content_id, product_id)  # noqa: E731
        return self.control(console, content_id, act, "studio.pinned")

    def unpin(self, console: Console, content_id: int) -> Response:
        act = lambda: content_service.unpin_product(console.db, content_id)  # noqa: E731
        return self.control(console, content_id, act, "studio.unpinned")
