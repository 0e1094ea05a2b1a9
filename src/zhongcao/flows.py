"""Workflows that span domains, in one place (the Netflix Dispatch way).

A domain's service keeps its own rules and reads only what lies below it; when a step needs two
domains that would otherwise import each other, the step lives here and hands each domain what it
needs to know. Views, jobs and the world call these; no domain service imports this module.

* Order completion with after-sales: commerce completes delivered orders after
  ``auto_complete_days``; an open after-sales case holds the order (and the creator's commission)
  until the case ends. Commerce does not read after-sales (after-sales reads commerce: refunds).
* Anchor permission with affiliate: a creator account may anchor a product only under an active
  affiliate plan. Content does not read affiliate (affiliate reads content: creator accounts); the
  flow asks affiliate which products may be anchored and gives content the answer.
* Creator earnings with finance: a creator's commission is pending until its order is settled to the
  shop. Affiliate holds the ledger, finance the settlements (finance reads commerce, which reads the
  ledger), so the flow joins the two.
* Sign-up with content: a person who signs up as a creator gets a creator account (users does not
  read content).
* Shop applications with the catalog: the main category is checked here (the catalog reads shops).
* Short videos with media: the uploaded video (and chosen poster) must be the publisher's own upload
  (the shop's, or the creator's); media knows uploads, content knows publishers.
* Live rooms with commerce: the host dashboard's orders, GMV and top products are commerce's numbers
  of the lines attributed to the room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zhongcao.affiliate import service as affiliate_service
from zhongcao.aftersales import service as aftersales_service
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import content_stats
from zhongcao.commerce import service as commerce_service
from zhongcao.config import Settings
from zhongcao.content import live as content_live
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind
from zhongcao.errors import DomainError, InvalidInput
from zhongcao.finance import service as finance_service
from zhongcao.media import service as media_service
from zhongcao.media.models import MediaKind
from zhongcao.shops import applications as shop_applications
from zhongcao.shops.models import ShopApplication
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User

# Who may sign themselves up: merchants come through shop applications, operators from operators.
SIGN_UP_ROLES = (Role.shopper, Role.creator)


def register(
    db: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.shopper,
    locale: str = "zh-CN",
) -> User:
    """Self sign-up as a shopper or a creator, flushed only (the caller issues the session and
    commits). A creator also gets a creator account (handle ``creator<id>``), as operators' do."""
    if role not in SIGN_UP_ROLES:
        raise InvalidInput("sign up as a shopper or a creator", code="invalid_role", field="role")
    user = users_service.create_user(
        db, email=email, password=password, display_name=display_name, role=role, locale=locale, commit=False
    )
    if role is Role.creator:
        content_service.create_creator_account(
            db, user.id, handle=f"creator{user.id}", name=display_name[:80], commit=False
        )
    return user


def apply_for_shop(
    db: Session,
    applicant: User,
    *,
    name_zh: str,
    name_en: str,
    category_id: int,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
) -> ShopApplication:
    """:func:`shops.applications.apply` with the main category checked (404 naming ``category_id``)."""
    catalog_service.get_category(db, category_id, field="category_id")
    return shop_applications.apply(
        db,
        applicant.id,
        name_zh=name_zh,
        name_en=name_en,
        category_id=category_id,
        credit_code=credit_code,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )


def complete_due_orders(db: Session, now: datetime | None = None, *, settings: Settings | None = None) -> int:
    """Complete every order delivered at least ``settings.auto_complete_days`` ago with no open
    after-sales case (checked under the order's lock). Commits each; returns how many completed."""
    return commerce_service.complete_due_orders(
        db, now, held=aftersales_service.has_open_case, settings=settings
    )


def publish_content(
    db: Session,
    account_id: int,
    *,
    kind: ContentKind,
    title_zh: str,
    title_en: str,
    topic: str | None = None,
    duration_seconds: int | None = None,
    scheduled_at: datetime | None = None,
    anchors: Sequence[int] = (),
    product_sets: Sequence[content_service.ProductSetSpec] = (),
    video_media_id: int | None = None,
    poster_media_id: int | None = None,
) -> Content:
    """Publish a short video or schedule a live session (:func:`content.service.publish_content`),
    a creator's anchors allowed by its active affiliate plans; a short video may play an uploaded
    video (with a chosen poster image) that is the publisher's own upload."""
    video = None
    if video_media_id is not None or poster_media_id is not None:
        if video_media_id is None:
            raise InvalidInput("a poster needs a video", code="video_required", field="video_media_id")
        account = content_service.get_account(db, account_id)
        owner = {"shop_id": account.shop_id, "user_id": account.user_id}
        try:
            media_service.shop_media(db, video_media_id, kind=MediaKind.video, **owner)
        except DomainError as exc:
            raise InvalidInput(exc.message, code=exc.code, field="video_media_id") from exc
        if poster_media_id is not None:
            try:
                media_service.shop_media(db, poster_media_id, kind=MediaKind.image, **owner)
            except DomainError as exc:
                raise InvalidInput(exc.message, code=exc.code, field="poster_media_id") from exc
        video = content_service.VideoSpec(video_media_id, poster_media_id)
    return content_service.publish_content(
        db,
        account_id,
        kind=kind,
        title_zh=title_zh,
        title_en=title_en,
        topic=topic,
        duration_seconds=duration_seconds,
        scheduled_at=scheduled_at,
        anchors=anchors,
        product_sets=product_sets,
        promotable=lambda product_ids: affiliate_service.promotable_product_ids(db, account_id, product_ids),
        video=video,
    )


def publish_content_bulk(db: Session, items: Sequence[content_service.NewContent]) -> list[int]:
    """Publish many items (:func:`content.service.publish_content_bulk`), creators' anchors allowed
    by their active affiliate plans, decided for all items in a few queries. Flushes only."""
    return content_service.publish_content_bulk(
        db, items, promotable_pairs=lambda pairs: affiliate_service.promotable_pairs(db, pairs)
    )


@dataclass(frozen=True)
class CreatorEarnings:
    pending_fen: int  # net commission of orders whose settlement is not settled yet
    settled_fen: int
    reversed_fen: int  # taken back by refunds after completion


EARNINGS_CHUNK = 1000  # order ids per IN list


def creator_earnings(db: Session, account_id: int) -> CreatorEarnings:
    """A creator account's commission split by its orders' settlement (pending + settled = balance)."""
    by_order = affiliate_service.commission_by_order(db, account_id)
    ids = sorted(by_order)
    settled_ids: set[int] = set()
    for i in range(0, len(ids), EARNINGS_CHUNK):
        settled_ids |= finance_service.settled_order_ids(db, ids[i : i + EARNINGS_CHUNK])
    settled = sum(net for order_id, (net, _) in by_order.items() if order_id in settled_ids)
    pending = sum(net for order_id, (net, _) in by_order.items() if order_id not in settled_ids)
    return CreatorEarnings(
        pending_fen=pending, settled_fen=settled, reversed_fen=sum(back for _, back in by_order.values())
    )


@dataclass(frozen=True)
class LiveStats:
    """What a live room's host watches: viewers come from the presence (the page adds them)."""

    status: str
    comments: int
    likes: int
    orders: int
    units: int
    gmv_fen: int
    top_products: list[content_stats.ProductTakings]


def live_stats(db: Session, content_id: int) -> LiveStats:
    """The room's comments and likes (content) with its orders, GMV and best sellers (commerce)."""
    content = content_service.get_content(db, content_id)
    takings = content_stats.content_takings(db, content_id)
    return LiveStats(
        status=content.status.value,
        comments=content_live.comment_count(db, content_id),
        likes=content_live.like_count(db, content_id),
        orders=takings.orders,
        units=takings.units,
        gmv_fen=takings.gmv_fen,
        top_products=takings.top_products,
    )


@dataclass(frozen=True)
class ContentVideoSource:
    """A short video's playable upload (media) as linked by content, with the poster to show: the
    chosen image when there is one, else the frame ffmpeg took."""

    media_id: int
    url: str
    content_type: str
    poster_url: str | None
    width: int
    height: int


def content_videos(db: Session, content_ids: Sequence[int]) -> dict[int, ContentVideoSource]:
    links = content_live.videos_by_content(db, content_ids)
    media_ids = {v.media_id for v in links.values()} | {
        v.poster_media_id for v in links.values() if v.poster_media_id is not None
    }
    sources = media_service.video_sources(db, media_ids)
    out: dict[int, ContentVideoSource] = {}
    for content_id, link in links.items():
        video = sources.get(link.media_id)
        if video is None:
            continue
        chosen = sources.get(link.poster_media_id) if link.poster_media_id is not None else None
        out[content_id] = ContentVideoSource(
            media_id=link.media_id,
            url=video.url,
            content_type=video.content_type,
            poster_url=chosen.url if chosen is not None else video.poster_url,
            width=video.width,
            height=video.height,
        )
    return out
