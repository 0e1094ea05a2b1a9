"""Accounts, follows and content: public, shopper, merchant, creator and operator endpoints; live
rooms' comments, likes and the host's numbers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request

from zhongcao import flows
from zhongcao.content import live, moderation, reads, service
from zhongcao.content.models import AppealStatus, Content, ContentKind, ContentStatus, ContentTakedown
from zhongcao.content.schemas import (
    AccountCreate,
    AccountOut,
    AccountTopKolUpdate,
    AnchorOut,
    AppealDecisionIn,
    AppealIn,
    CommentIn,
    CommentOut,
    ContentCreate,
    ContentDetailOut,
    ContentOut,
    FollowOut,
    FollowState,
    LikesIn,
    LikesOut,
    LiveStatsOut,
    MerchantContentCreate,
    ModerationItemOut,
    OpsTakedownOut,
    PinRequest,
    ProductSetOut,
    PublicAccountOut,
    TakeDownIn,
    TakedownOut,
    TopProductOut,
    VideoOut,
)
from zhongcao.deps import (
    CreatorCtx,
    CurrentUser,
    DbSession,
    MerchantContext,
    MerchantCtx,
    OperatorUser,
    OptionalUser,
    merchant_with,
    require_role,
)
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.fields import IdPath, IdQuery
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.realtime.service import live_channel
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role, User

router = APIRouter()

# Publishing and running content is marketing work: owners and operators, not service agents.
MerchantEditor = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]
CreatorUser = Annotated[User, Depends(require_role(Role.creator))]
Params = Annotated[PageParams, Depends(page_params)]


def _video_outs(db: DbSession, content_ids: Sequence[int]) -> dict[int, VideoOut]:
    return {
        content_id: VideoOut(
            media_id=v.media_id,
            url=v.url,
            content_type=v.content_type,
            poster_url=v.poster_url,
            width=v.width,
            height=v.height,
        )
        for content_id, v in flows.content_videos(db, content_ids).items()
    }


def _content_page(db: DbSession, rows: Sequence[Content], cursor: str | None) -> Page[ContentOut]:
    anchors = service.anchored_product_ids_by_content(db, [c.id for c in rows])
    videos = _video_outs(db, [c.id for c in rows])
    return Page[ContentOut](
        items=[
            ContentOut.model_validate(c).model_copy(
                update={"anchor_product_ids": anchors[c.id], "video": videos.get(c.id)}
            )
            for c in rows
        ],
        next_cursor=cursor,
    )


def _content_out(db: DbSession, content: Content) -> ContentOut:
    out = ContentOut.model_validate(content)
    return out.model_copy(
        update={
            "anchor_product_ids": service.anchored_product_ids(db, content.id),
            "video": _video_outs(db, [content.id]).get(content.id),
        }
    )


def _detail(db: DbSession, content: Content) -> ContentDetailOut:
    view = service.content_view(db, content)
    anchors = [
        AnchorOut(
            product_id=anchor.product_id,
            position=anchor.position,
            product_set_id=anchor.product_set_id,
            title_zh=brief.title_zh if brief else "",
            title_en=brief.title_en if brief else "",
            price_fen=brief.price_fen if brief else None,
            on_sale=bool(brief and brief.on_sale),
        )
        for anchor, brief in view.anchors
    ]
    pinned = next((a for a in anchors if a.product_id == content.pinned_product_id), None)
    base = ContentOut.model_validate(content).model_dump()
    base["anchor_product_ids"] = [a.product_id for a in anchors]
    base["video"] = _video_outs(db, [content.id]).get(content.id)
    return ContentDetailOut(
        **base,
        account=_account_outs(db, [view.account])[0],
        anchors=anchors,
        product_sets=[
            ProductSetOut(id=s.id, name=s.name, position=s.position, product_ids=ids)
            for s, ids in view.product_sets
        ],
        pinned_product=pinned,
    )


def _publish(db: DbSession, account_id: int, body: ContentCreate) -> Content:
    return flows.publish_content(
        db,
        account_id,
        kind=body.kind,
        title_zh=body.title_zh,
        title_en=body.title_en,
        topic=body.topic,
        duration_seconds=body.duration_seconds,
        scheduled_at=body.scheduled_at,
        anchors=body.anchors,
        product_sets=[
            service.ProductSetSpec(name=s.name, product_ids=s.product_ids) for s in body.product_sets
        ],
        video_media_id=body.video_media_id,
        poster_media_id=body.poster_media_id,
    )


# The dependency hands over an ownership check rather than the content, so that the check runs in
# the endpoint after the request body is validated, as in every other endpoint here.
ContentCheck = Callable[[int], object]


def _shop_content_check(ctx: MerchantEditor, db: DbSession) -> ContentCheck:
    return lambda content_id: service.content_for_shop(db, ctx.shop_id, content_id)


def _creator_content_check(ctx: CreatorCtx, db: DbSession) -> ContentCheck:
    return lambda content_id: service.content_for_account(db, ctx.account_id, content_id)


def _add_live_controls(prefix: str, tag: str, check_dependency: Callable[..., ContentCheck]) -> None:
    """Start, end, pin, unpin and remove: the same for a shop's and a creator's own content."""
    item = prefix + "/{content_id}"

    @router.post(f"{item}/start", response_model=ContentOut, tags=[tag], name=f"{tag}_start_live")
    def start_live(
        content_id: IdPath, db: DbSession, check: ContentCheck = Depends(check_dependency)
    ) -> ContentOut:
        check(content_id)
        return _content_out(db, service.start_live(db, content_id))

    @router.post(f"{item}/end", response_model=ContentOut, tags=[tag], name=f"{tag}_end_live")
    def end_live(
        content_id: IdPath, db: DbSession, check: ContentCheck = Depends(check_dependency)
    ) -> ContentOut:
        check(content_id)
        return _content_out(db, service.end_live(db, content_id))

    @router.post(f"{item}/pin", response_model=ContentOut, tags=[tag], name=f"{tag}_pin")
    def pin(
        content_id: IdPath, body: PinRequest, db: DbSession, check: ContentCheck = Depends(check_dependency)
    ) -> ContentOut:
        check(content_id)
        return _content_out(db, service.pin_product(db, content_id, body.product_id))

    @router.delete(f"{item}/pin", response_model=ContentOut, tags=[tag], name=f"{tag}_unpin")
    def unpin(
        content_id: IdPath, db: DbSession, check: ContentCheck = Depends(check_dependency)
    ) -> ContentOut:
        check(content_id)
        return _content_out(db, service.unpin_product(db, content_id))

    @router.post(f"{item}/remove", response_model=ContentOut, tags=[tag], name=f"{tag}_remove")
    def remove(
        content_id: IdPath, db: DbSession, check: ContentCheck = Depends(check_dependency)
    ) -> ContentOut:
        check(content_id)
        return _content_out(db, service.remove_content(db, content_id))


# --- public and signed-in users ------------------------------------------------------------------


@router.get("/api/accounts/{account_id}", response_model=PublicAccountOut, tags=["content"])
def get_account(account_id: IdPath, db: DbSession, user: OptionalUser) -> PublicAccountOut:
    account = service.get_account(db, account_id)
    following = service.follows(db, user.id, account.id) if user is not None else None
    return PublicAccountOut.model_validate(account).model_copy(
        update={"following": following, "follower_count": _shown_followers(db, account)}
    )


def _shown_followers(db: DbSession, account: Any) -> int:
    """The follower count less bought follows (flagged by the integrity domain)."""
    return reads.shown_follower_counts(db, [account.id]).get(account.id, 0)


def _account_outs(db: DbSession, accounts: list[Any]) -> list[AccountOut]:
    """Accounts as the API answers them: each follower count as shown (bought follows left out)."""
    shown = reads.shown_follower_counts(db, [a.id for a in accounts])
    return [
        AccountOut.model_validate(a).model_copy(update={"follower_count": shown.get(a.id, 0)})
        for a in accounts
    ]


@router.get("/api/accounts/{account_id}/content", response_model=Page[ContentOut], tags=["content"])
def list_account_content(
    account_id: IdPath, db: DbSession, params: Params, kind: ContentKind | None = None
) -> Page[ContentOut]:
    service.get_account(db, account_id)
    rows, cursor = service.public_content_page(db, params, account_ids=[account_id], kind=kind)
    return _content_page(db, rows, cursor)


@router.get("/api/content/{content_id}", response_model=ContentDetailOut, tags=["content"])
def get_public_content(content_id: IdPath, db: DbSession) -> ContentDetailOut:
    return _detail(db, service.get_public_content(db, content_id))


@router.put("/api/accounts/{account_id}/follow", response_model=FollowState, tags=["content"])
def follow(account_id: IdPath, user: CurrentUser, db: DbSession) -> FollowState:
    account = service.follow_account(db, user.id, account_id)
    return FollowState(account_id=account.id, following=True, follower_count=_shown_followers(db, account))


@router.delete("/api/accounts/{account_id}/follow", response_model=FollowState, tags=["content"])
def unfollow(account_id: IdPath, user: CurrentUser, db: DbSession) -> FollowState:
    account = service.unfollow_account(db, user.id, account_id)
    return FollowState(account_id=account.id, following=False, follower_count=_shown_followers(db, account))


@router.get("/api/me/follows", response_model=Page[FollowOut], tags=["content"])
def my_follows(user: CurrentUser, db: DbSession, params: Params) -> Page[FollowOut]:
    rows, cursor = service.follows_page(db, user.id, params)
    accounts = _account_outs(db, [a for _, a in rows])
    return Page[FollowOut](
        items=[
            FollowOut(id=f.id, followed_at=f.created_at, account=account)
            for (f, _), account in zip(rows, accounts, strict=True)
        ],
        next_cursor=cursor,
    )


# --- operators -----------------------------------------------------------------------------------


@router.patch("/api/ops/accounts/{account_id}", response_model=AccountOut, tags=["ops"])
def ops_update_account(
    account_id: IdPath, body: AccountTopKolUpdate, _: OperatorUser, db: DbSession
) -> AccountOut:
    return _account_outs(db, [service.set_top_kol(db, account_id, body.is_top_kol)])[0]


# --- merchants -----------------------------------------------------------------------------------


@router.post("/api/merchant/accounts", status_code=201, response_model=AccountOut, tags=["merchant"])
def merchant_create_account(body: AccountCreate, ctx: MerchantEditor, db: DbSession) -> AccountOut:
    account = service.create_shop_account(
        db, ctx.shop_id, handle=body.handle, name=body.name, niche=body.niche
    )
    return AccountOut.model_validate(account)


@router.get("/api/merchant/accounts", response_model=Page[AccountOut], tags=["merchant"])
def merchant_list_accounts(ctx: MerchantCtx, db: DbSession, params: Params) -> Page[AccountOut]:
    rows, cursor = service.shop_accounts_page(db, ctx.shop_id, params)
    return Page[AccountOut](items=_account_outs(db, list(rows)), next_cursor=cursor)


@router.post("/api/merchant/content", status_code=201, response_model=ContentDetailOut, tags=["merchant"])
def merchant_publish(body: MerchantContentCreate, ctx: MerchantEditor, db: DbSession) -> ContentDetailOut:
    if service.shop_account(db, ctx.shop_id, body.account_id) is None:
        raise InvalidInput("no such account in this shop", code="account_not_found", field="account_id")
    return _detail(db, _publish(db, body.account_id, body))


@router.get("/api/merchant/content", response_model=Page[ContentOut], tags=["merchant"])
def merchant_list_content(
    ctx: MerchantCtx,
    db: DbSession,
    params: Params,
    account_id: IdQuery = None,
    kind: ContentKind | None = None,
    status: ContentStatus | None = None,
) -> Page[ContentOut]:
    rows, cursor = service.shop_content_page(
        db, ctx.shop_id, params, account_id=account_id, kind=kind, status=status
    )
    return _content_page(db, rows, cursor)


@router.get("/api/merchant/content/{content_id}", response_model=ContentDetailOut, tags=["merchant"])
def merchant_get_content(content_id: IdPath, ctx: MerchantCtx, db: DbSession) -> ContentDetailOut:
    return _detail(db, service.content_for_shop(db, ctx.shop_id, content_id))


_add_live_controls("/api/merchant/content", "merchant", _shop_content_check)


# --- creators ------------------------------------------------------------------------------------


@router.post("/api/creator/account", status_code=201, response_model=AccountOut, tags=["creator"])
def creator_create_account(body: AccountCreate, user: CreatorUser, db: DbSession) -> AccountOut:
    account = service.create_creator_account(
        db, user.id, handle=body.handle, name=body.name, niche=body.niche
    )
    return AccountOut.model_validate(account)


@router.get("/api/creator/account", response_model=AccountOut, tags=["creator"])
def creator_get_account(user: CreatorUser, db: DbSession) -> AccountOut:
    account = service.creator_account_for_user(db, user.id)
    if account is None:
        raise NotFound("this creator has no account yet", code="account_not_found")
    return AccountOut.model_validate(account)


@router.post("/api/creator/content", status_code=201, response_model=ContentDetailOut, tags=["creator"])
def creator_publish(body: ContentCreate, ctx: CreatorCtx, db: DbSession) -> ContentDetailOut:
    return _detail(db, _publish(db, ctx.account_id, body))


@router.get("/api/creator/content", response_model=Page[ContentOut], tags=["creator"])
def creator_list_content(
    ctx: CreatorCtx,
    db: DbSession,
    params: Params,
    kind: ContentKind | None = None,
    status: ContentStatus | None = None,
) -> Page[ContentOut]:
    rows, cursor = service.account_content_page(db, ctx.account_id, params, kind=kind, status=status)
    return _content_page(db, rows, cursor)


@router.get("/api/creator/content/{content_id}", response_model=ContentDetailOut, tags=["creator"])
def creator_get_content(content_id: IdPath, ctx: CreatorCtx, db: DbSession) -> ContentDetailOut:
    return _detail(db, service.content_for_account(db, ctx.account_id, content_id))


_add_live_controls("/api/creator/content", "creator", _creator_content_check)


# --- live rooms: viewers' comments and likes, the host's numbers ----------------------------------
# The same code as the live room page and the host dashboard (web/shopper/live_room.py,
# web/merchant/content.py).


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


@router.get("/api/creator/content/{content_id}/live-stats", response_model=LiveStatsOut, tags=["creator"])
def creator_live_stats(content_id: IdPath, request: Request, ctx: CreatorCtx, db: DbSession) -> LiveStatsOut:
    """The host's numbers of the creator's own live room (as the shop's: viewers now, comments, likes,
    orders, GMV and the best sellers)."""
    service.content_for_account(db, ctx.account_id, content_id)
    return stats_out(content_id, flows.live_stats(db, content_id), viewer_count(request, content_id))


# --- moderation: operators take content down and decide appeals; owners see why and appeal once -----
# The console pages (web/operator/moderation.py, web/merchant/moderation.py, web/creator/moderation.py)
# call the same ``content.moderation`` functions.


def _item(row: moderation.ModerationRow) -> ModerationItemOut:
    c, a = row.content, row.account
    return ModerationItemOut(
        id=c.id,
        kind=c.kind,
        status=c.status,
        title_zh=c.title_zh,
        title_en=c.title_en,
        created_at=c.created_at,
        account_id=a.id,
        account_name=a.name,
        account_handle=a.handle,
        account_kind=a.kind,
        takedown=OpsTakedownOut.model_validate(row.takedown) if row.takedown is not None else None,
    )


def _owners_takedown(row: ContentTakedown | None) -> TakedownOut:
    if row is None:
        raise NotFound("this content was not taken down by an operator", code="takedown_not_found")
    return TakedownOut.model_validate(row)


# --- operators ---------------------------------------------------------------------------------------


@router.get("/api/ops/content", response_model=Page[ModerationItemOut], tags=["ops"])
def ops_list_content(
    _: OperatorUser,
    db: DbSession,
    params: Params,
    q: Annotated[
        str | None, Query(max_length=100, description="Content id, title, account name, handle or id")
    ] = None,
    show: Annotated[str, Query(pattern="^(all|videos|lives|removed)$")] = "all",
) -> Page[ModerationItemOut]:
    """Content newest first with its newest take-down, to find what to moderate."""
    rows, cursor = moderation.content_page(db, params, q=q, show=show)
    return Page(items=[_item(r) for r in rows], next_cursor=cursor)


@router.get("/api/ops/content/{content_id}/takedowns", response_model=list[OpsTakedownOut], tags=["ops"])
def ops_content_takedowns(content_id: IdPath, _: OperatorUser, db: DbSession) -> list[OpsTakedownOut]:
    """Every take-down of one content item, oldest first (404 ``content_not_found``)."""
    service.get_content(db, content_id)
    return [OpsTakedownOut.model_validate(r) for r in moderation.history(db, content_id)]


@router.post("/api/ops/content/{content_id}/take-down", response_model=OpsTakedownOut, tags=["ops"])
def ops_take_down(
    content_id: IdPath, body: TakeDownIn, operator: OperatorUser, db: DbSession
) -> OpsTakedownOut:
    """Take a short video down or end a live, with a reason its owner sees. It leaves every feed,
    search result and account page within a second; an open live room closes for its viewers.
    422 ``reason_required``; 409 ``already_removed``."""
    row = moderation.take_down(db, content_id, operator_user_id=operator.id, reason=body.reason)
    return OpsTakedownOut.model_validate(row)


@router.get("/api/ops/content-appeals", response_model=Page[OpsTakedownOut], tags=["ops"])
def ops_list_appeals(
    _: OperatorUser,
    db: DbSession,
    params: Params,
    status: AppealStatus | None = AppealStatus.pending,
) -> Page[OpsTakedownOut]:
    """Appeals against take-downs, newest first: ``pending`` (the queue) unless another status is asked."""
    wanted = None if status is AppealStatus.none else status
    rows, cursor = moderation.appeals_page(db, params, status=wanted)
    return Page(items=[OpsTakedownOut.model_validate(r) for r, _ in rows], next_cursor=cursor)


@router.post("/api/ops/content-appeals/{takedown_id}/decide", response_model=OpsTakedownOut, tags=["ops"])
def ops_decide_appeal(
    takedown_id: IdPath, body: AppealDecisionIn, operator: OperatorUser, db: DbSession
) -> OpsTakedownOut:
    """Restore the content (it is back in feeds and search) or uphold the take-down, with a reason the
    owner sees. 422 ``reason_required``; 409 ``appeal_not_pending``."""
    row = moderation.decide_appeal(
        db, takedown_id, operator_user_id=operator.id, outcome=body.outcome, reason=body.reason
    )
    return OpsTakedownOut.model_validate(row)


# --- owners --------------------------------------------------------------------------------------------


@router.get("/api/merchant/content/{content_id}/takedown", response_model=TakedownOut, tags=["merchant"])
def merchant_takedown(content_id: IdPath, ctx: MerchantCtx, db: DbSession) -> TakedownOut:
    """Why the shop's content was taken down, and its appeal (404 ``takedown_not_found`` if never)."""
    service.content_for_shop(db, ctx.shop_id, content_id)
    return _owners_takedown(moderation.latest_takedown(db, content_id))


@router.post("/api/merchant/content/{content_id}/appeal", response_model=TakedownOut, tags=["merchant"])
def merchant_appeal(content_id: IdPath, body: AppealIn, ctx: MerchantEditor, db: DbSession) -> TakedownOut:
    """Appeal the take-down once, with a statement. 409 ``appeal_already_made``, ``not_taken_down``."""
    service.content_for_shop(db, ctx.shop_id, content_id)
    return TakedownOut.model_validate(
        moderation.appeal(db, content_id, user_id=ctx.user.id, statement=body.statement)
    )


@router.get("/api/creator/content/{content_id}/takedown", response_model=TakedownOut, tags=["creator"])
def creator_takedown(content_id: IdPath, ctx: CreatorCtx, db: DbSession) -> TakedownOut:
    """Why the creator's content was taken down, and its appeal (404 ``takedown_not_found`` if never)."""
    service.content_for_account(db, ctx.account_id, content_id)
    return _owners_takedown(moderation.latest_takedown(db, content_id))


@router.post("/api/creator/content/{content_id}/appeal", response_model=TakedownOut, tags=["creator"])
def creator_appeal(content_id: IdPath, body: AppealIn, ctx: CreatorCtx, db: DbSession) -> TakedownOut:
    """Appeal the take-down once, with a statement. 409 ``appeal_already_made``, ``not_taken_down``."""
    service.content_for_account(db, ctx.account_id, content_id)
    return TakedownOut.model_validate(
        moderation.appeal(db, content_id, user_id=ctx.user.id, statement=body.statement)
    )
