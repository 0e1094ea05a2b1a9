"""The notification centre of every role: the shopper's ``/notifications`` (phone) and the consoles'
``/merchant/notifications``, ``/creator/notifications``, ``/operator/notifications`` (desk), the same
list and filters; opening a notification marks it read and follows its link.

``GET /notifications/events`` is the Server-Sent Events stream every signed-in page opens
(js/notifications.js): it subscribes to the person's ``user:<id>`` channel on the real-time bus and
pushes the unread count (``unread``) and each new notification worded in the page's language
(``notification``), so the badge and an open list change without a reload. Delivery on the bus is at
most once, so the stream also re-reads the database at every keep-alive (docs/notifications.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from zhongcao.fields import IdPath
from zhongcao.notifications import service as notifications_service
from zhongcao.notifications.models import Notification, NotificationKind
from zhongcao.pagination import PageParams
from zhongcao.realtime.bus import SubscriptionLost
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.web import i18n
from zhongcao.web.console import Console, CreatorConsole, CursorQuery, MerchantConsole, OperatorConsole
from zhongcao.web.context import FormData, SignedInPage, WebContext, safe_next, session_token
from zhongcao.web.templating import money, when

router = APIRouter()

LIST_PAGE = 20
KEEPALIVE_SECONDS = 15.0
# A quiet stream re-reads its state this often even with no message on the bus: the safety net for a
# bus message lost in flight (a Redis failover), at one read per stream every two minutes instead of
# one per keep-alive (1,000 open consoles: 8 reads/s, not 67).
RECHECK_SECONDS = 120.0
STREAM_SECONDS = 300.0  # the browser reconnects by itself; a stream never outlives a deploy by long
CENTRE = {
    Role.shopper: "/notifications",
    Role.merchant: "/merchant/notifications",
    Role.creator: "/creator/notifications",
    Role.operator: "/operator/notifications",
}
SHOWS = ("unread", "all")
KINDS = [k.value for k in NotificationKind]
K = NotificationKind
MODERATION = [K.content_taken_down, K.content_restored, K.takedown_upheld]
INTEGRITY = [K.integrity_sanction, K.integrity_appeal_decided]
# The kinds each role can receive (its filter chips).
ROLE_KINDS = {
    Role.shopper: [K.chat_message, K.application_approved, K.application_rejected],
    Role.merchant: [
        K.order_paid,
        K.after_sale_opened,
        K.after_sale_escalated,
        K.chat_message,
        K.low_stock,
        K.coupon_ending,
        K.sample_requested,
        *MODERATION,
        *INTEGRITY,
    ],
    Role.creator: [K.sample_approved, K.sample_rejected, K.sample_shipped, *MODERATION, *INTEGRITY],
    Role.operator: [K.after_sale_escalated],
}
ShowQuery = Annotated[str, Query(max_length=10)]
KindQuery = Annotated[str, Query(max_length=40)]


def _role(page: WebContext) -> Role:
    assert page.user_role is not None  # every caller is signed in
    return Role(page.user_role)


def describe(n: Notification, locale: str) -> str:
    """The notification in the reader's language, from its kind and params (never stored as text)."""
    p: dict[str, Any] = dict(n.params or {})
    name = p.get(f"name_{'en' if locale == 'en' else 'zh'}") or p.get("name_zh") or ""
    title = p.get(f"title_{'en' if locale == 'en' else 'zh'}") or p.get("title_zh") or ""
    fields: dict[str, object] = {
        "order": p.get("order_id", ""),
        "case": p.get("case_id", ""),
        "amount": money(p.get("paid_fen", p.get("amount_fen")), locale),
        "shop": name,
        "sender": p.get("sender", ""),
        "preview": p.get("preview", ""),
        "product": title,
        "stock": p.get("stock", ""),
        "coupon": p.get("name", ""),
        "level": i18n.translate(locale, f"integrity.level.{p['level']}") if p.get("level") else "",
        "reason": p.get("reason", ""),
        "outcome": i18n.translate(locale, f"integrity.appeal.{'granted' if p.get('granted') else 'upheld'}"),
    }
    return i18n.translate(locale, f"notify.kind.{n.kind.value}", **fields)


def _filters(show: str, kind: str) -> tuple[bool, NotificationKind | None]:
    # Unknown values show everything rather than failing: a filter chip is a link anyone may edit.
    return show == "unread", NotificationKind(kind) if kind in KINDS else None


def _query(show: str, kind: str) -> str:
    parts = [f"show={show}"] if show in SHOWS and show != "all" else []
    if kind in KINDS:
        parts.append(f"kind={kind}")
    return "&".join(parts)


def _context(page: WebContext, base: str, show: str, kind: str, cursor: str | None) -> dict[str, Any]:
    assert page.user_id is not None
    role_kinds = [k.value for k in ROLE_KINDS[_role(page)]]
    unread_only, kind_filter = _filters(show, kind)
    rows, next_cursor = notifications_service.list_for_user(
        page.db,
        page.user_id,
        PageParams(limit=LIST_PAGE, cursor=cursor),
        unread_only=unread_only,
        kind=kind_filter,
    )
    query = _query(show, kind)
    return {
        "items": [(n, describe(n, page.locale)) for n in rows],
        "show": "unread" if unread_only else "all",
        "kind": kind_filter.value if kind_filter else "",
        "kinds": role_kinds,
        "kind_names": {k: page.t(f"notify.kind_name.{k}") for k in KINDS},
        "base": base,
        "query": query,
        "here": base + ("?" + query if query else ""),
        "next_cursor": next_cursor,
        # New ones arrive on top of the first page only, and only where the filter would show them.
        "live": cursor is None,
    }


@router.get("/notifications")
def shopper_centre(
    page: SignedInPage, show: ShowQuery = "all", kind: KindQuery = "", cursor: CursorQuery = None
) -> Response:
    role = _role(page)
    if role is not Role.shopper:  # every role has its centre in its own layout
        return RedirectResponse(CENTRE[role], status_code=303)
    return page.render(
        "shopper/notifications.html", active="", **_context(page, "/notifications", show, kind, cursor)
    )


def _console_centre(console: Console, show: str, kind: str, cursor: str | None) -> Response:
    base = CENTRE[Role(console.kind)]
    return console.render(
        "console/notifications.html", "notifications", **_context(console.page, base, show, kind, cursor)
    )


@router.get("/merchant/notifications")
def merchant_centre(
    console: MerchantConsole, show: ShowQuery = "all", kind: KindQuery = "", cursor: CursorQuery = None
) -> Response:
    return _console_centre(console, show, kind, cursor)


@router.get("/creator/notifications")
def creator_centre(
    console: CreatorConsole, show: ShowQuery = "all", kind: KindQuery = "", cursor: CursorQuery = None
) -> Response:
    return _console_centre(console, show, kind, cursor)


@router.get("/operator/notifications")
def operator_centre(
    console: OperatorConsole, show: ShowQuery = "all", kind: KindQuery = "", cursor: CursorQuery = None
) -> Response:
    return _console_centre(console, show, kind, cursor)


@router.post("/notifications/{notification_id}/open")
def open_notification(page: SignedInPage, notification_id: IdPath) -> Response:
    """Mark it read and go where it points (someone else's: the 404 page)."""
    assert page.user_id is not None
    row = notifications_service.mark_read(page.db, page.user_id, notification_id)
    return page.redirect(safe_next(row.link, CENTRE[_role(page)]))


@router.post("/notifications/read-all")
def read_all(page: SignedInPage, data: FormData) -> Response:
    assert page.user_id is not None
    notifications_service.mark_all_read(page.db, page.user_id)
    back = data.get("next")
    return page.redirect(
        safe_next(back if isinstance(back, str) else None, CENTRE[_role(page)]),
        flash="notify.all_read",
    )


# --- the stream --------------------------------------------------------------------------------------


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _item(n: Notification, locale: str) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind.value, "text": describe(n, locale), "when": when(n.created_at, locale)}


class _Reader:
    """What one stream reads from the database, each time on a worker thread with its own session."""

    def __init__(self, request: Request, user_id: int, locale: str) -> None:
        self.database = request.app.state.database
        self.user_id = user_id
        self.locale = locale

    def state(self, after_id: int | None) -> tuple[int, list[dict[str, Any]], int]:
        """(newest id, notifications newer than ``after_id`` oldest first, unread count); none are
        new on the first read (``after_id`` None): the page already shows those."""
        with self.database.session(read_only=True) as db:
            rows, _ = notifications_service.list_for_user(db, self.user_id, PageParams(limit=LIST_PAGE))
            fresh = [r for r in rows if r.id > after_id] if after_id is not None else []
            newest = max((r.id for r in rows), default=after_id or 0)
            items = [_item(r, self.locale) for r in reversed(fresh)]
            return newest, items, notifications_service.unread_count(db, self.user_id)


@router.get("/notifications/events")
async def notification_events(request: Request) -> Response:
    """``unread`` {count} at once and on every change; ``notification`` {id, kind, text, when}."""

    def who() -> int | None:
        with request.app.state.database.session(read_only=True) as db:
            token = session_token(request)
            user = users_service.user_for_token(db, token) if token else None
            return user.id if user is not None else None

    user_id = await to_thread.run_sync(who)
    if user_id is None:
        return Response(status_code=401)
    locale = i18n.negotiate(request.cookies.get(i18n.LOCALE_COOKIE), request.headers.get("accept-language"))
    reader = _Reader(request, user_id, locale)
    bus = request.app.state.realtime.bus
    channel = notifications_service.user_channel(user_id)

    async def stream() -> AsyncIterator[str]:
        try:
            async with bus.subscribe([channel]) as subscription:
                yield "retry: 2000\n\n"
                last_id, _, count = await to_thread.run_sync(reader.state, None)
                yield sse("unread", {"count": count})
                deadline = time.monotonic() + STREAM_SECONDS
                read_at = time.monotonic()
                while time.monotonic() < deadline:
                    message = await subscription.get(timeout=KEEPALIVE_SECONDS)
                    if message is None:
                        yield ": keep-alive\n\n"
                        if time.monotonic() - read_at < RECHECK_SECONDS:
                            continue  # the bus says when something changed; a quiet stream reads rarely
                    elif message.data.get("type") == "chat":
                        continue  # a chat nudge for the chat badge; its notification comes on its own
                    else:
                        await asyncio.sleep(0.05)  # a payment to a shop of three: one read for the burst
                    newest, fresh, now_count = await to_thread.run_sync(reader.state, last_id)
                    read_at = time.monotonic()
                    for item in fresh:
                        yield sse("notification", item, item["id"])
                    if fresh or now_count != count or message is not None:
                        yield sse("unread", {"count": now_count})
                    last_id, count = max(last_id, newest), now_count
        except SubscriptionLost:
            return  # the browser reconnects after ``retry`` and reads the state afresh

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
