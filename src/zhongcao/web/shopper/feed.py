"""The content field: the feed, the video page, the live room and its event stream, following an account."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from zhongcao import flows
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as order_service
from zhongcao.content import live as content_live
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind, ContentStatus
from zhongcao.errors import InvalidInput
from zhongcao.feed.service import ModelNotReady
from zhongcao.feed.views import feed_service
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.users import service as users_service
from zhongcao.web.context import FormData, Page, ShopperPage, session_token
from zhongcao.web.likes import like_counts
from zhongcao.web.live import live_hub, mask_name
from zhongcao.web.shopper.common import (
    FEED_PAGE,
    FeedCard,
    IdPath,
    ProductTile,
    account_names,
    back_to,
    tiles_from_briefs,
)
from zhongcao.web.shopper.flash_sale import flash_context

router = APIRouter()
COMMENTS_SHOWN = 20  # the room's newest comments on the page; later ones arrive over its stream


def _cards_for_content(
    page: Any, contents: list[Content], reasons: dict[int, tuple[str, str]]
) -> list[FeedCard]:
    db = page.db
    accounts = content_service.accounts_by_ids(db, [c.account_id for c in contents])
    names = account_names(db, accounts.values(), page.locale)
    anchors = content_service.anchored_product_ids_by_content(db, [c.id for c in contents])
    briefs = catalog_service.product_briefs(db, {p for c in contents for p in anchors.get(c.id, [])[:3]})
    likes = like_counts(page.request.app)
    followers = content_reads.shown_follower_counts(db, accounts)
    videos = flows.content_videos(db, [c.id for c in contents if c.kind is ContentKind.short_video])
    cards = []
    for content in contents:
        account = accounts.get(content.account_id)
        live = content.kind is ContentKind.live
        reason = reasons.get(content.id, ("", ""))
        cards.append(
            FeedCard(
                content_id=content.id,
                kind="live" if live else "short_video",
                title_zh=content.title_zh,
                title_en=content.title_en,
                topic=content.topic or "",
                account_id=content.account_id,
                account_name=names.get(content.account_id, ""),
                account_is_top_kol=bool(account and account.is_top_kol),
                followers=followers.get(account.id, 0) if account else 0,
                likes=likes.get(content.id),
                live_now=content.status is ContentStatus.live,
                products=tiles_from_briefs(briefs, anchors.get(content.id, [])[:3]),
                reason_zh=reason[0],
                reason_en=reason[1],
                source=f"{'live' if live else 'short_video'}:{content.id}",
                video=videos.get(content.id),
            )
        )
    return cards


def _model_feed(page: Any, cursor: str | None) -> tuple[list[FeedCard], str | None] | None:
    """The feed model's page: the signed-in user's, or what is trending for a signed-out visitor
    (when the feed service offers it). None when no model is trained yet."""
    service = feed_service(page.request)
    signed_in = page.user_id is not None
    anonymous = getattr(service, "anonymous_page", None)
    if not signed_in and anonymous is None:
        return None

    def serve(after: str | None) -> Any:
        if signed_in:
            return service.page(page.db, page.user_id, FEED_PAGE, after)
        assert anonymous is not None  # a signed-out visitor without it returned None above
        return anonymous(page.db, FEED_PAGE, after)

    try:
        served = serve(cursor)
    except ModelNotReady:
        return None
    except InvalidInput:  # a cursor from another kind of page: start over
        served = serve(None)
    content_ids = [it.content_id for it in served.items if it.content_id is not None]
    contents = content_service.content_by_ids(page.db, content_ids)
    reasons = {
        it.content_id: (it.reason_zh, it.reason_en) for it in served.items if it.content_id is not None
    }
    by_id = {c.content_id: c for c in _cards_for_content(page, list(contents.values()), reasons)}
    product_ids = [it.product_id for it in served.items if it.product_id is not None]
    briefs = catalog_service.product_briefs(page.db, product_ids)
    cards: list[FeedCard] = []
    for it in served.items:
        if it.content_id is not None and it.content_id in by_id:
            cards.append(by_id[it.content_id])
        elif it.product_id is not None and it.product_id in briefs:
            tiles = tiles_from_briefs(briefs, [it.product_id])
            cards.append(
                FeedCard(
                    content_id=None,
                    kind="product",
                    title_zh=tiles[0].title_zh,
                    title_en=tiles[0].title_en,
                    topic="",
                    products=tiles,
                    reason_zh=it.reason_zh,
                    reason_en=it.reason_en,
                    source="product_page",
                )
            )
    if not signed_in:  # a visitor's pages are kept apart by the cursor alone
        return cards, served.next_cursor
    # What was served is remembered (no repeats on the next page) in a short write session of its
    # own, as GET /api/feed does: the page's session is read-only.
    page.db.rollback()
    writer = page.request.app.state.database.session()
    try:
        service.record(writer, served)
    finally:
        writer.close()
    return cards, served.next_cursor


@router.get("/")
def feed(
    page: Page,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
    mode: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    ranked = _model_feed(page, cursor) if mode != "latest" else None
    if ranked is not None:
        cards, next_cursor = ranked
        mode = "personal" if page.user_id is not None else "trending"
        return page.render("shopper/feed.html", cards=cards, mode=mode, next_cursor=next_cursor)
    try:
        rows, next_cursor = content_service.watchable_content_page(
            page.db, PageParams(limit=FEED_PAGE, cursor=cursor)
        )
    except InvalidInput:
        rows, next_cursor = content_service.watchable_content_page(page.db, PageParams(limit=FEED_PAGE))
    rows = sorted(rows, key=lambda c: c.status is not ContentStatus.live)  # rooms on air first
    cards = _cards_for_content(page, list(rows), {})
    return page.render("shopper/feed.html", cards=cards, mode="latest", next_cursor=next_cursor)


# --- videos and live rooms ---------------------------------------------------------------------


def _content_page_data(page: Any, content: Content) -> dict[str, Any]:
    view = content_service.content_view(page.db, content)
    tiles = {
        anchor.product_id: ProductTile(
            id=anchor.product_id,
            title_zh=brief.title_zh,
            title_en=brief.title_en,
            price_fen=brief.price_fen,
            in_stock=None if brief.on_sale else False,
        )
        for anchor, brief in view.anchors
        if brief is not None and brief.on_sale
    }
    card = _cards_for_content(page, [content], {})[0]
    following = bool(page.user and content_service.follows(page.db, page.user.id, content.account_id))
    return {
        "content": content,
        "card": card,
        "account": view.account,
        "account_name": card.account_name,
        "followers": card.followers,
        "products": list(tiles.values()),
        "product_sets": [(s.name, [tiles[p] for p in ids if p in tiles]) for s, ids in view.product_sets],
        "pinned": tiles.get(content.pinned_product_id or 0),
        "following": following,
        "source": card.source,
    }


@router.get("/videos/{content_id}")
def video(page: Page, content_id: IdPath) -> Response:
    content = content_service.get_public_content(page.db, content_id)
    if content.kind is ContentKind.live:
        return page.redirect(f"/live/{content_id}")
    return page.render("shopper/video.html", **_content_page_data(page, content))


@router.get("/live/{content_id}")
def live_room(page: Page, content_id: IdPath) -> Response:
    content = content_service.get_public_content(page.db, content_id)
    if content.kind is not ContentKind.live:
        return page.redirect(f"/videos/{content_id}")
    data = _content_page_data(page, content)
    sales = order_service.content_sales(page.db, content_id, limit=10)
    comments = content_live.recent_comments(page.db, content_id, limit=COMMENTS_SHOWN)
    commenters = content_live.authors(page.db, [c.user_id for c in comments])
    names = users_service.users_by_ids(page.db, {s.user_id for s in sales})
    ticker = [(s, mask_name(names[s.user_id].display_name) if s.user_id in names else "") for s in sales]
    return page.render(
        "shopper/live.html",
        ticker=ticker,
        comments=[(c, commenters.get(c.user_id, "")) for c in comments],
        likes=content_live.like_count(page.db, content_id),
        last_sale_id=sales[0].item_id if sales else 0,
        viewers=live_hub(page.request.app).count_from_thread(content_id),
        viewer_key=uuid.uuid4().hex,
        flash=flash_context(page, data["pinned"].id) if data["pinned"] is not None else None,
        room_id=content_id,
        **data,
    )


@router.get("/live/{content_id}/events")
async def live_events(
    request: Request,
    content_id: IdPath,
    viewer: Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> StreamingResponse:
    """Server-Sent Events of one live room: ``sale``, ``viewers`` and ``status`` messages."""

    def who() -> int | None:
        database = request.app.state.database
        with database.session(read_only=True) as db:
            content_service.get_public_content(db, content_id)  # 404 for rooms that do not exist
            token = session_token(request)
            user = users_service.user_for_token(db, token) if token else None
            return user.id if user is not None else None

    user_id = await to_thread.run_sync(who)
    last_seen = request.headers.get("last-event-id", "")
    if last_seen.isdigit():
        after = max(after, int(last_seen))
    stream = live_hub(request.app).stream(content_id, viewer, user_id, after)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/accounts/{account_id}/follow")
def follow_account(page: ShopperPage, account_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    back = back_to(data, "/")
    if data.get("action") == "unfollow":
        content_service.unfollow_account(page.db, page.user.id, account_id)
        return page.redirect(back, flash="shop.unfollowed")
    content_service.follow_account(page.db, page.user.id, account_id)
    return page.redirect(back, flash="shop.followed")
