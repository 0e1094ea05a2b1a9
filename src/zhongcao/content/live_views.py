"""Live rooms' API: viewers' comments and likes, and the host's numbers (the same service code as the
live room page and the host dashboard, web/live.py and web/merchant/content.py)."""

from __future__ import annotations

import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request

from zhongcao import flows
from zhongcao.content import live, service
from zhongcao.content.schemas import CommentIn, CommentOut, LikesIn, LikesOut, LiveStatsOut, TopProductOut
from zhongcao.deps import CurrentUser, DbSession, MerchantCtx
from zhongcao.fields import IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.realtime.service import live_channel

router = APIRouter()
Params = Annotated[PageParams, Depends(page_params)]


@router.get("/api/live/{content_id}/comments", response_model=Page[CommentOut], tags=["content"])
def list_comments(content_id: IdPath, db: DbSession, params: Params) -> Page[CommentOut]:
    """A live room's comments, newest first."""
    service.get_public_content(db, content_id)
    rows, cursor = live.comments_page(db, content_id, params)
    names = live.authors(db, [r.user_id for r in rows])
    return Page[CommentOut](
        items=[
            CommentOut(
                id=r.id,
                content_id=r.content_id,
                who=names.get(r.user_id, ""),
                body=r.body,
                created_at=r.created_at,
            )
            for r in rows
        ],
        next_cursor=cursor,
    )


@router.post("/api/live/{content_id}/comments", status_code=201, response_model=CommentOut, tags=["content"])
def post_comment(content_id: IdPath, body: CommentIn, user: CurrentUser, db: DbSession) -> CommentOut:
    """Comment in a room on air; every viewer's page shows it at once (409 ``content_not_live`` else)."""
    view = live.post_comment(db, content_id, user.id, body.body)
    return CommentOut(
        id=view.id,
        content_id=content_id,
        who=live.authors(db, [user.id]).get(user.id, ""),
        body=view.body,
        created_at=view.created_at,
    )


@router.post("/api/live/{content_id}/likes", response_model=LikesOut, tags=["content"])
def like(content_id: IdPath, body: LikesIn, _: CurrentUser, db: DbSession) -> LikesOut:
    """Like a room on air, ``count`` taps at once (1–50); answers the room's total."""
    return LikesOut(content_id=content_id, total=live.add_likes(db, content_id, body.count))


def viewer_count(request: Request, content_id: int) -> int | None:
    """Viewers now from the shared presence (None when it cannot be read)."""
    realtime = getattr(request.app.state, "realtime", None)
    if realtime is None:
        return None
    try:
        return anyio.from_thread.run(realtime.presence.count, live_channel(content_id), time.time())
    except Exception:
        return None


def stats_out(content_id: int, stats: flows.LiveStats, viewers: int | None) -> LiveStatsOut:
    return LiveStatsOut(
        content_id=content_id,
        status=stats.status,
        viewers=viewers,
        comments=stats.comments,
        likes=stats.likes,
        orders=stats.orders,
        units=stats.units,
        gmv_fen=stats.gmv_fen,
        top_products=[
            TopProductOut(
                product_id=p.product_id,
                title_zh=p.title_zh,
                title_en=p.title_en,
                units=p.units,
                gmv_fen=p.gmv_fen,
            )
            for p in stats.top_products
        ],
    )


@router.get("/api/merchant/content/{content_id}/live-stats", response_model=LiveStatsOut, tags=["merchant"])
def merchant_live_stats(
    content_id: IdPath, request: Request, ctx: MerchantCtx, db: DbSession
) -> LiveStatsOut:
    """The host's numbers of the shop's own live room: viewers now, comments, likes, orders, GMV
    (fen, paid for goods) and the best sellers."""
    service.content_for_shop(db, ctx.shop_id, content_id)
    return stats_out(content_id, flows.live_stats(db, content_id), viewer_count(request, content_id))
