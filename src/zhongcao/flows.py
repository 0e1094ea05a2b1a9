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
* Membership with commerce: a member's tier follows their spend in the shop (commerce's orders), and
  the merchant's member analytics compare members with the shop's other buyers.
* Member coupons with membership: a members-only shop coupon is claimed through
  :func:`claim_coupon`, which hands campaigns membership's answer (campaigns does not read membership).
* Notifications: domains emit signals (:mod:`zhongcao.signals`) inside their transactions; the
  handlers here decide who hears (a shop's staff from shops, operators from users) and write the
  notifications in the same transaction. The coupon-ending job asks campaigns for coupons ending soon.
* The platform warehouse with commerce: a shop ships its orders through :func:`ship_order_as_shop`,
  which asks the warehouse first (commerce does not read the warehouse; the warehouse ships through
  commerce).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.affiliate import service as affiliate_service
from zhongcao.aftersales import service as aftersales_service
from zhongcao.campaigns import coupons as campaigns_coupons
from zhongcao.campaigns.models import UserCoupon
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import buyers as commerce_buyers
from zhongcao.commerce import content_stats
from zhongcao.commerce import service as commerce_service
from zhongcao.config import Settings
from zhongcao.content import bulk as content_bulk
from zhongcao.content import live as content_live
from zhongcao.content import moderation as content_moderation
from zhongcao.content import reports as content_reports
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind
from zhongcao.errors import DomainError, InvalidInput
from zhongcao.flashsales import service as flashsales_service
from zhongcao.integrity import service as integrity_service
from zhongcao.media import service as media_service
from zhongcao.media.models import MediaKind
from zhongcao.membership import service as membership_service
from zhongcao.membership.models import MembershipProgram, ShopMember
from zhongcao.notifications import service as notifications_service
from zhongcao.notifications.models import NotificationKind
from zhongcao.shops import applications as shop_applications
from zhongcao.shops import sanctions as shop_sanctions
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import ShopApplication
from zhongcao.support import service as support_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User
from zhongcao.warehouse import service as warehouse_service

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


def publish_content_bulk(db: Session, items: Sequence[content_bulk.NewContent]) -> list[int]:
    """Publish many items (:func:`content.bulk.publish_content_bulk`), creators' anchors allowed
    by their active affiliate plans, decided for all items in a few queries. Flushes only."""
    return content_bulk.publish_content_bulk(
        db, items, promotable_pairs=lambda pairs: affiliate_service.promotable_pairs(db, pairs)
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


# --- notifications ---------------------------------------------------------------------------------
# Each handler runs inside the transaction of the change it reports (zhongcao.signals), so a
# notification commits or rolls back with it. Params carry what the reader's page words in its own
# language (docs/notifications.md); never a sentence.

Kind = NotificationKind
COUPON_ENDING_WITHIN = timedelta(days=3)


def _staff(db: Session, shop_id: int) -> list[int]:
    return shops_service.staff_user_ids(db, shop_id)


def _on_order_paid(db: Session, data: dict[str, Any]) -> None:
    order_id = data["order_id"]
    params = {"order_id": order_id, "paid_fen": data["paid_fen"]}
    notifications_service.notify(
        db, _staff(db, data["shop_id"]), Kind.order_paid, params, f"/merchant/orders/{order_id}"
    )


def _case_params(data: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": data["case_id"], "order_id": data["order_id"], "amount_fen": data["amount_fen"]}


def _on_after_sale_opened(db: Session, data: dict[str, Any]) -> None:
    link = f"/merchant/after-sales/{data['case_id']}"
    notifications_service.notify(
        db, _staff(db, data["shop_id"]), Kind.after_sale_opened, _case_params(data), link
    )


def _on_after_sale_escalated(db: Session, data: dict[str, Any]) -> None:
    params = _case_params(data)
    link = f"/merchant/after-sales/{data['case_id']}"
    notifications_service.notify(db, _staff(db, data["shop_id"]), Kind.after_sale_escalated, params, link)
    operators = users_service.active_user_ids_with_role(db, Role.operator)
    notifications_service.notify(db, operators, Kind.after_sale_escalated, params, "/operator")


def _on_application_decided(db: Session, data: dict[str, Any]) -> None:
    approved = data["status"] == "approved"
    params = {
        "application_id": data["application_id"],
        "name_zh": data["name_zh"],
        "name_en": data["name_en"],
    }
    notifications_service.notify(
        db,
        [data["applicant_id"]],
        Kind.application_approved if approved else Kind.application_rejected,
        params,
        "/merchant" if approved else "/open-shop",
    )


PREVIEW_CHARS = 60


def _on_support_message(db: Session, data: dict[str, Any]) -> None:
    body = " ".join(data["body"].split())
    preview = body if len(body) <= PREVIEW_CHARS else body[: PREVIEW_CHARS - 1] + "…"
    conversation_id = data["conversation_id"]
    if data["sender"] == "customer":
        shopper = users_service.get_user(db, data["user_id"])
        params = {"conversation_id": conversation_id, "sender": shopper.display_name, "preview": preview}
        link = f"/merchant/inbox/{conversation_id}"
        recipients = _staff(db, data["shop_id"])
    else:
        shop = shops_service.get_shop(db, data["shop_id"])
        params = {
            "conversation_id": conversation_id,
            "name_zh": shop.name_zh,
            "name_en": shop.name_en,
            "preview": preview,
        }
        link = f"/shops/{shop.id}"
        recipients = [data["user_id"]]
    notifications_service.notify(db, recipients, Kind.chat_message, params, link)


def _on_stock_low(db: Session, data: dict[str, Any]) -> None:
    sku = catalog_service.get_sku(db, data["sku_id"])
    product = catalog_service.get_product(db, sku.product_id)
    params = {
        "sku_id": sku.id,
        "product_id": product.id,
        "title_zh": product.title_zh,
        "title_en": product.title_en,
        "stock": data["stock"],
    }
    notifications_service.notify(
        db, _staff(db, product.shop_id), Kind.low_stock, params, f"/merchant/products/{product.id}"
    )


def notify_coupons_ending(db: Session, now: datetime | None = None) -> int:
    """Tell each shop's staff of its coupons ending within :data:`COUPON_ENDING_WITHIN` (the
    ``coupon_ending`` job). Once per coupon and person however often it runs (``dedupe_key``).
    Commits; returns how many notifications were written."""
    now = now or clock.now()
    written = 0
    for coupon in campaigns_coupons.shop_coupons_ending(db, now, COUPON_ENDING_WITHIN):
        assert coupon.shop_id is not None
        params = {"coupon_id": coupon.id, "name": coupon.name, "ends_at": coupon.ends_at.isoformat()}
        written += notifications_service.notify(
            db,
            _staff(db, coupon.shop_id),
            Kind.coupon_ending,
            params,
            "/merchant/notifications",
            dedupe_key=f"coupon_ending:{coupon.id}",
            now=now,
        )
    db.commit()
    return written


for _name, _handler in (
    ("order_paid", _on_order_paid),
    ("after_sale_opened", _on_after_sale_opened),
    ("after_sale_escalated", _on_after_sale_escalated),
    ("shop_application_decided", _on_application_decided),
    ("support_message", _on_support_message),
    ("stock_low", _on_stock_low),
):
    signals.connect(_name, _handler)


# --- membership ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberStatus:
    program: MembershipProgram | None
    member: ShopMember | None
    spend_fen: int
    tier: membership_service.Tier
    next_tier: membership_service.Tier | None


def member_status(db: Session, shop_id: int, user_id: int | None) -> MemberStatus:
    """The shop's programme and, for a signed-in shopper, whether they joined and their tier by spend."""
    program = membership_service.get_program(db, shop_id)
    member = membership_service.membership_of(db, shop_id, user_id) if user_id is not None else None
    spend = 0
    if user_id is not None:
        spend = commerce_buyers.buyer_totals_for_shop(db, shop_id, [user_id]).get(user_id, (0, 0))[1]
    tier = membership_service.tier_for(program, spend)
    later = [t for t in membership_service.tiers_of(program) if t.index > tier.index]
    return MemberStatus(program, member, spend, tier, later[0] if later else None)


@dataclass(frozen=True)
class MemberAnalytics:
    members: int
    member_buyers: int
    member_gmv_fen: int
    gmv_fen: int
    member_repurchase: float | None  # share of buying members with two or more orders
    other_repurchase: float | None
    tier_counts: list[tuple[membership_service.Tier, int]]

    @property
    def member_share(self) -> float | None:
        return self.member_gmv_fen / self.gmv_fen if self.gmv_fen else None


def _repurchase(totals: list[tuple[int, int]]) -> float | None:
    buyers = [t for t in totals if t[0] > 0]
    return sum(1 for n, _ in buyers if n >= 2) / len(buyers) if buyers else None


def member_analytics(db: Session, shop_id: int) -> MemberAnalytics:
    """Members, their share of the shop's GMV (paid, net of refunds) and repurchase rate vs non-members."""
    program = membership_service.get_program(db, shop_id)
    members = membership_service.member_user_ids(db, shop_id)
    totals = commerce_buyers.buyer_totals_for_shop(db, shop_id)
    mine = [totals.get(u, (0, 0)) for u in members]
    others = [t for u, t in totals.items() if u not in members]
    counts = dict.fromkeys(range(len(membership_service.tiers_of(program))), 0)
    for _, spend in mine:
        counts[membership_service.tier_for(program, spend).index] += 1
    return MemberAnalytics(
        members=len(members),
        member_buyers=sum(1 for n, _ in mine if n > 0),
        member_gmv_fen=sum(fen for _, fen in mine),
        gmv_fen=sum(fen for _, fen in totals.values()),
        member_repurchase=_repurchase(mine),
        other_repurchase=_repurchase(others),
        tier_counts=[(t, counts[t.index]) for t in membership_service.tiers_of(program)],
    )


def claim_coupon(db: Session, user_id: int, coupon_id: int) -> UserCoupon:
    """Claim a coupon; a members-only one only for members of the shop's running programme (403
    ``members_only``, with ``join_url`` in the details). Every claim (page and API) comes here."""
    return campaigns_coupons.claim_coupon(
        db, user_id, coupon_id, is_member=lambda shop_id: membership_service.is_member(db, shop_id, user_id)
    )


def member_rates(db: Session, user_id: int) -> Callable[[Sequence[int]], dict[int, int]]:
    """What checkout asks (``place_checkout(member_rates=...)``): the buyer's member discounts by shop."""
    return lambda shop_ids: membership_service.member_discount_rates(db, user_id, shop_ids)


# --- sample requests (寄样): tell the other side ------------------------------------------------------

_SAMPLE_KINDS = {
    "requested": Kind.sample_requested,
    "approved": Kind.sample_approved,
    "rejected": Kind.sample_rejected,
    "shipped": Kind.sample_shipped,
}


def _on_sample_changed(db: Session, data: dict[str, Any]) -> None:
    """A new request tells the shop's staff; an approval, a rejection (with its reason) or the parcel
    leaving tells the creator. Cancellations and receipts are seen in the queue, not notified."""
    kind = _SAMPLE_KINDS.get(data["status"])
    if kind is None:
        return
    product = catalog_service.product_briefs(db, [data["product_id"]]).get(data["product_id"])
    account = content_service.accounts_by_ids(db, [data["account_id"]]).get(data["account_id"])
    params: dict[str, Any] = {
        "sample_id": data["sample_id"],
        "title_zh": product.title_zh if product else "",
        "title_en": product.title_en if product else "",
        "sender": account.name if account else "",
    }
    if kind is Kind.sample_requested:
        link = "/merchant/alliance/samples?status=requested"
        notifications_service.notify(db, _staff(db, data["shop_id"]), kind, params, link)
        return
    if account is None or account.user_id is None:
        return
    if kind is Kind.sample_rejected:
        reason = " ".join(str(data.get("note") or "").split())
        params["preview"] = reason if len(reason) <= PREVIEW_CHARS else reason[: PREVIEW_CHARS - 1] + "…"
    notifications_service.notify(db, [account.user_id], kind, params, "/creator/samples")


signals.connect("sample_changed", _on_sample_changed)


# --- moderation: the content's owner hears of a take-down and of the appeal's outcome ---------------

_MODERATION_KINDS = {
    "taken_down": Kind.content_taken_down,
    "restored": Kind.content_restored,
    "upheld": Kind.takedown_upheld,
}


def _on_content_moderated(db: Session, data: dict[str, Any]) -> None:
    """A shop account's content tells the shop's staff, a creator's tells the creator; the notice
    carries the operator's reason and links to the page where the owner reads it and may appeal."""
    account = content_service.accounts_by_ids(db, [data["account_id"]]).get(data["account_id"])
    if account is None:
        return
    reason = " ".join(str(data.get("reason") or "").split())
    params: dict[str, Any] = {
        "content_id": data["content_id"],
        "title_zh": data["title_zh"],
        "title_en": data["title_en"],
        "preview": reason if len(reason) <= PREVIEW_CHARS else reason[: PREVIEW_CHARS - 1] + "…",
    }
    path = f"/content/{data['content_id']}/takedown"
    kind = _MODERATION_KINDS[data["event"]]
    if account.shop_id is not None:
        notifications_service.notify(db, _staff(db, account.shop_id), kind, params, "/merchant" + path)
    elif account.user_id is not None:
        notifications_service.notify(db, [account.user_id], kind, params, "/creator" + path)


signals.connect("content_moderated", _on_content_moderated)


# --- the operator's workbench (issue #16, item 4) -------------------------------------------------


@dataclass(frozen=True)
class WorkbenchQueue:
    """One of the operator's queues: its name (``workbench.queue.<key>`` in the catalogs), the
    console page that works it, and how many items wait in it."""

    key: str
    href: str
    count: Callable[[Session], int]


# Every queue the workbench (/operator/workbench, GET /api/ops/workbench) shows, in order. A domain
# with a queue for operators adds its entry here (content moderation appeals add theirs).
WORKBENCH_QUEUES: list[WorkbenchQueue] = [
    WorkbenchQueue(
        "shop_applications", "/operator/shop-applications?status=pending", shop_applications.pending_count
    ),
    WorkbenchQueue("after_sales", "/operator/after-sales", aftersales_service.escalated_count),
    WorkbenchQueue("complaints", "/operator/complaints?status=open", support_service.open_complaint_count),
    WorkbenchQueue("shops", "/operator/shops?sanction=any", shop_sanctions.sanctioned_count),
    WorkbenchQueue("content_reports", "/operator/moderation/reports", content_reports.open_report_count),
    WorkbenchQueue("warehouse_inbounds", "/operator/warehouse", warehouse_service.receiving_queue_count),
    WorkbenchQueue(
        "content_appeals",
        "/operator/moderation/appeals?status=pending",
        content_moderation.pending_appeal_count,
    ),
    WorkbenchQueue("integrity_cases", "/operator/integrity?status=open", integrity_service.open_case_count),
    WorkbenchQueue(
        "integrity_appeals", "/operator/integrity/appeals", integrity_service.pending_appeal_count
    ),
]


def workbench_counts(db: Session) -> list[tuple[WorkbenchQueue, int]]:
    return [(queue, queue.count(db)) for queue in WORKBENCH_QUEUES]


# --- flash sales -----------------------------------------------------------------------------------
# A flash-sale checkout cancelled unpaid gives its unit back to the sale; a paid one marks the ticket
# paid (commerce does not read flash sales; the flash-sale domain reads commerce).

signals.connect("checkout_cancelled", flashsales_service.on_checkout_cancelled)
signals.connect("order_paid", flashsales_service.on_order_paid)
