"""GET /api/feed (a cursor-paged page for the caller, signed in or not) and POST /api/feed/feedback.

The page is computed in the request's read-only session; what was served is then handed to the
worker's write-behind memory (``seen.WriteBehindMemory``), which writes many users' pages in one short
transaction (flushed on the event loop a few milliseconds later, no thread), so requests rarely take
the SQLite write lock. Feedback (like, "not interested") is remembered for the next page at once and logged
as a behaviour event (the same one ``POST /api/events`` would store) for the next training.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from zhongcao import artifacts, clock
from zhongcao.content import service as content_service
from zhongcao.deps import CurrentUser, DbSession, caller_or_anonymous
from zhongcao.errors import NotFound
from zhongcao.events import service as events_service
from zhongcao.feed import model as feed_model
from zhongcao.feed.schemas import (
    FeedAccountOut,
    FeedAnchorOut,
    FeedFeedbackIn,
    FeedFeedbackOut,
    FeedItemOut,
    FeedPageOut,
    FeedReasonOut,
)
from zhongcao.feed.seen import WriteBehindMemory
from zhongcao.feed.service import MAX_LIMIT, FeedConfig, FeedPage, FeedService

router = APIRouter(tags=["feed"])


def feed_service(request: Request) -> FeedService:
    """The app's feed service (tests may set ``app.state.feed_service``)."""
    service = getattr(request.app.state, "feed_service", None)
    return service if service is not None else start_feed(request.app)


def start_feed(app: FastAPI) -> FeedService:
    """Create the app's feed service: the newest model on disk (checked every few seconds and swapped in
    without a restart), the catch-up state the ``feed_catch_up`` job publishes next to it, and the
    catalogue re-read when due, all picked up on the request path (``feed.refreshing``): the worker
    runs no thread of its own. The app's lifespan calls it and loads the model (``warm``) before the
    worker takes traffic."""
    with _start_lock:
        service = getattr(app.state, "feed_service", None)
        if service is not None:
            return service
        settings, database = app.state.settings, app.state.database
        newest = artifacts.Newest(feed_model.MODEL_NAME, feed_model.load, root=settings.models_dir)
        service = FeedService(
            newest.get,
            WriteBehindMemory(database),
            FeedConfig(
                catalog_refresh_seconds=settings.feed_catalog_refresh_seconds,
                catch_up_seconds=settings.feed_catch_up_seconds,
            ),
            version=lambda: newest.version,
            exists=lambda: artifacts.newest(feed_model.MODEL_NAME, settings.models_dir) is not None,
            catch_up_folder=lambda: (
                artifacts.models_root(feed_model.MODEL_NAME, settings.models_dir) / newest.version
                if newest.version
                else None
            ),
        )
        app.state.feed_service = service
        return service


_start_lock = threading.Lock()


def _render(db: DbSession, page: FeedPage, service: FeedService) -> FeedPageOut:
    catalog = page.catalog
    content_ids = [it.content_id for it in page.items if it.content_id is not None]
    titles = content_service.content_titles(db, content_ids)
    products: set[int] = {it.product_id for it in page.items if it.product_id is not None}
    anchors = {it.code: catalog.anchors_of(it.code)[:3] for it in page.items if it.code >= 0}
    for ids in anchors.values():
        products.update(ids)
    briefs = service.briefs.get(db, products)
    items = []
    for position, it in enumerate(page.items):
        if it.content_id is not None:
            account_id = int(catalog.account_ids[it.code])
            title_zh, title_en = titles.get(it.content_id, ("", ""))
            account = FeedAccountOut(id=account_id, name=catalog.account_names.get(account_id, ""))
            product_ids = anchors.get(it.code, [])
        else:
            brief = briefs.get(it.product_id or 0)
            title_zh, title_en = (brief.title_zh, brief.title_en) if brief is not None else ("", "")
            account = None
            product_ids = [it.product_id] if it.product_id is not None else []
        items.append(
            FeedItemOut(
                kind=it.kind,
                position=position,
                tracking_id=f"{page.request_id}.{position}",
                content_id=it.content_id,
                title_zh=title_zh,
                title_en=title_en,
                account=account,
                anchors=[
                    FeedAnchorOut(
                        product_id=p,
                        title_zh=briefs[p].title_zh,
                        title_en=briefs[p].title_en,
                        price_fen=briefs[p].price_fen,
                        on_sale=briefs[p].on_sale,
                    )
                    for p in product_ids
                    if p in briefs
                ],
                reason=FeedReasonOut(code=it.reason_code, zh=it.reason_zh, en=it.reason_en),
                source=it.source.name,
            )
        )
    return FeedPageOut(
        request_id=page.request_id,
        model_version=page.model_version,
        items=items,
        next_cursor=page.next_cursor,
    )


@router.get("/api/feed", response_model=FeedPageOut)
async def get_feed(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 10,
    cursor: Annotated[str | None, Query(max_length=4000, description="From the previous page")] = None,
) -> Response:
    """The next page of the caller's feed. Items seen recently never repeat; likes, follows,
    purchases and "not interested" shape the next page. Signed out: what is trending, with the
    exploration share of new content (the cursor keeps the visit's pages from repeating).
    Authenticate with a bearer token or the session cookie; a bad or expired one is a 401."""
    # Computed on the event loop's own thread, one page at a time per worker process, as a sync worker
    # would: a page is about 3 ms of CPU-bound Python whose database reads are local and take
    # microseconds. Threads cost more than they saved here: concurrent pages in one process fought over
    # the interpreter lock (CPU per request up by half or more), and even a single page thread beside
    # the loop convoyed on each read (p99 22-195 ms at 300 requests/s, against 27-31 ms inline; see
    # benchmarks/RESULTS.md, "Feed serving"). Throughput comes from worker processes, which are
    # stateless (any load balancer); on PostgreSQL, whose reads wait on the network, run more workers
    # than cores. Only a worker still loading its model waits in a thread, so the loop stays free.
    service = feed_service(request)
    if not service.ready:
        page = await run_in_threadpool(_feed_page, request, limit, cursor)
    else:
        page = _feed_page(request, limit, cursor)
    # Already a validated FeedPageOut: serialise it once here rather than have it validated again.
    return Response(content=page.model_dump_json(), media_type="application/json")


def _feed_page(request: Request, limit: int, cursor: str | None) -> FeedPageOut:
    service = feed_service(request)
    db = request.app.state.database.session(read_only=True)
    try:
        caller = caller_or_anonymous(request, db)
        if caller is None:
            return _render(db, service.anonymous_page(db, limit, cursor), service)
        page = service.page(db, caller.user_id, limit, cursor)
        out = _render(db, page, service)
        db.rollback()  # end the read transaction before taking the write lock
    finally:
        db.close()
    if isinstance(service.memory, WriteBehindMemory):
        service.record(None, page)  # gathered, and flushed on this worker's event loop shortly
        return out
    writer = request.app.state.database.session()
    try:
        service.record(writer, page)
    finally:
        writer.close()
    return out


@router.post("/api/feed/feedback", status_code=status.HTTP_202_ACCEPTED, response_model=FeedFeedbackOut)
def post_feedback(
    body: FeedFeedbackIn, request: Request, user: CurrentUser, db: DbSession
) -> FeedFeedbackOut:
    """A like or "not interested" on a feed item: the next page reflects it."""
    if not content_service.content_by_ids(db, [body.content_id]):
        raise NotFound("content not found", code="content_not_found", field="content_id")
    service = feed_service(request)
    service.feedback(db, user.id, body.content_id, body.action)
    store = getattr(request.app.state, "event_store", None) or events_service.get_store(
        request.app.state.settings, request.app.state.database
    )
    event = {
        "ts": [clock.now()],
        "type": [body.action],
        "user_id": [user.id],
        "content_id": [body.content_id],
        "channel": ["feed"],
    }
    if body.request_id:
        event["request_id"] = [body.request_id]
    store.append(event)
    return FeedFeedbackOut(accepted=True)
