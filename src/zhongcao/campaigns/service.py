"""Campaigns (the C of FACT) with category gates, shop-score gates and budgets; coupons and claims.

A campaign is *open* from ``starts_at`` (inclusive) to ``ends_at`` (exclusive) unless cancelled.
Shops register products while it is not ended or cancelled (also before it starts). A product is
eligible when its category, or that category's parent, is listed on the campaign.

Budget: ``spent_fen`` grows at checkout (see ``campaigns.reservations``); an operator may change
``budget_fen`` but never below what is already spent. The row is locked while the change is
checked, so a concurrent reservation either happens before (and is counted) or after (and sees
the new budget).

Coupon claims lock the coupon row, count the user's claims under that lock and then raise
``claimed_count`` with a conditional UPDATE, so neither ``total_quantity`` nor ``per_user_limit``
can be exceeded by concurrent claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.campaigns.models import (
    Campaign,
    CampaignCategory,
    CampaignProduct,
    CampaignStatus,
)
from zhongcao.catalog import service as catalog_service
from zhongcao.config import get_settings
from zhongcao.db import insert_rows_returning_ids
from zhongcao.errors import Conflict, DomainError, InvalidInput, NotFound
from zhongcao.experience import scores as experience_scores
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops import sanctions as shop_sanctions

if TYPE_CHECKING:
    from zhongcao.catalog.models import Category

MIN_GATE_SCORE_CENTI = 300
MAX_GATE_SCORE_CENTI = 500


# --- campaigns ------------------------------------------------------------------------------------


def is_open(campaign: Campaign, now: datetime | None = None) -> bool:
    """Running right now: not cancelled and inside its window."""
    now = now or clock.now()
    return campaign.status == CampaignStatus.active and campaign.starts_at <= now < campaign.ends_at


def is_closed(campaign: Campaign, now: datetime | None = None) -> bool:
    """Cancelled or ended: no more registrations."""
    now = now or clock.now()
    return campaign.status == CampaignStatus.cancelled or now >= campaign.ends_at


def budget_left_fen(campaign: Campaign) -> int:
    return campaign.budget_fen - campaign.spent_fen


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at", code="invalid_window", field="ends_at")
    if ends_at <= clock.now():
        raise InvalidInput("ends_at is in the past", code="window_in_past", field="ends_at")


def _check_score_gate(value: int | None) -> None:
    if value is not None and not MIN_GATE_SCORE_CENTI <= value <= MAX_GATE_SCORE_CENTI:
        raise InvalidInput(
            f"min_shop_score_centi must be between {MIN_GATE_SCORE_CENTI} and {MAX_GATE_SCORE_CENTI}",
            code="invalid_score_gate",
            field="min_shop_score_centi",
        )


def create_campaign(
    db: Session,
    *,
    slug: str,
    name_zh: str,
    name_en: str,
    starts_at: datetime,
    ends_at: datetime,
    category_ids: Sequence[int],
    min_shop_score_centi: int | None = None,
    subsidy_per_item_fen: int = 0,
    budget_fen: int = 0,
) -> Campaign:
    _check_window(starts_at, ends_at)
    if subsidy_per_item_fen < 0:
        raise InvalidInput("subsidy cannot be negative", code="invalid_amount", field="subsidy_per_item_fen")
    if budget_fen < 0:
        raise InvalidInput("budget cannot be negative", code="invalid_amount", field="budget_fen")
    _check_score_gate(min_shop_score_centi)
    unique_ids = list(dict.fromkeys(category_ids))
    if not unique_ids:
        raise InvalidInput("list at least one category", code="no_categories", field="category_ids")
    found = catalog_service.categories_by_id(db, unique_ids)
    missing = [cid for cid in unique_ids if cid not in found]
    if missing:
        raise InvalidInput(
            "some categories do not exist",
            code="category_not_found",
            field="category_ids",
            details={"missing": missing},
        )
    if db.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        raise Conflict("a campaign with this slug exists", code="slug_taken", field="slug")
    campaign = Campaign(
        slug=slug,
        name_zh=name_zh,
        name_en=name_en,
        starts_at=starts_at,
        ends_at=ends_at,
        min_shop_score_centi=min_shop_score_centi,
        subsidy_per_item_fen=subsidy_per_item_fen,
        budget_fen=budget_fen,
        spent_fen=0,
        status=CampaignStatus.active,
    )
    db.add(campaign)
    try:
        db.flush()
    except IntegrityError as exc:  # a concurrent create with the same slug
        db.rollback()
        raise Conflict("a campaign with this slug exists", code="slug_taken", field="slug") from exc
    for cid in unique_ids:
        db.add(CampaignCategory(campaign_id=campaign.id, category_id=cid))
    db.commit()
    return campaign


def get_campaign(db: Session, campaign_id: int) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign not found", code="campaign_not_found")
    return campaign


def _lock_campaign(db: Session, campaign_id: int) -> Campaign:
    campaign = db.get(Campaign, campaign_id, with_for_update=True, populate_existing=True)
    if campaign is None:
        raise NotFound("campaign not found", code="campaign_not_found")
    return campaign


def update_campaign(
    db: Session,
    campaign_id: int,
    *,
    budget_fen: int | None = None,
    ends_at: datetime | None = None,
    cancel: bool = False,
) -> Campaign:
    """Change the budget (never below what is spent), extend the window, or cancel."""
    if budget_fen is None and ends_at is None and not cancel:
        raise InvalidInput("nothing to change", code="empty_update")
    try:
        campaign = _lock_campaign(db, campaign_id)
        if campaign.status == CampaignStatus.cancelled:
            raise Conflict(
                "a cancelled campaign cannot change",
                code="illegal_transition",
                details={"status": campaign.status.value},
            )
        if budget_fen is not None:
            if budget_fen < 0:
                raise InvalidInput("budget cannot be negative", code="invalid_amount", field="budget_fen")
            if budget_fen < campaign.spent_fen:
                raise Conflict(
                    "the budget cannot go below what is already spent",
                    code="budget_below_spent",
                    field="budget_fen",
                    details={"spent_fen": campaign.spent_fen, "budget_fen": budget_fen},
                )
            campaign.budget_fen = budget_fen
        if ends_at is not None:
            if ends_at < campaign.ends_at:
                raise InvalidInput(
                    "the window can only be extended; cancel the campaign to stop it",
                    code="window_not_extended",
                    field="ends_at",
                    details={"ends_at": campaign.ends_at.isoformat()},
                )
            campaign.ends_at = ends_at
        if cancel:
            campaign.status = CampaignStatus.cancelled
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return campaign


def list_campaigns(
    db: Session, params: PageParams, *, status: CampaignStatus | None = None
) -> tuple[Sequence[Campaign], str | None]:
    stmt = select(Campaign)
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    return paginate_by_id(db, stmt, Campaign.id, params)


def list_open_campaigns(
    db: Session, params: PageParams, now: datetime | None = None
) -> tuple[Sequence[Campaign], str | None]:
    now = now or clock.now()
    stmt = select(Campaign).where(
        Campaign.status == CampaignStatus.active, Campaign.starts_at <= now, Campaign.ends_at > now
    )
    return paginate_by_id(db, stmt, Campaign.id, params)


def campaign_categories(db: Session, campaign_id: int) -> list[Category]:
    """The categories listed on the campaign (top categories stand for all their leaves)."""
    ids = db.scalars(
        select(CampaignCategory.category_id)
        .where(CampaignCategory.campaign_id == campaign_id)
        .order_by(CampaignCategory.category_id)
    ).all()
    found = catalog_service.categories_by_id(db, ids)
    return [found[i] for i in ids if i in found]


def eligible_category_ids(db: Session, campaign_id: int) -> set[int]:
    """Listed categories plus the leaves of listed top categories."""
    listed = set(
        db.scalars(select(CampaignCategory.category_id).where(CampaignCategory.campaign_id == campaign_id))
    )
    return listed | catalog_service.child_category_ids(db, listed)


def _category_is_eligible(db: Session, campaign_id: int, category_id: int) -> bool:
    category = catalog_service.categories_by_id(db, [category_id]).get(category_id)
    candidates = {category_id}
    if category is not None and category.parent_id is not None:
        candidates.add(category.parent_id)
    hit = db.scalar(
        select(CampaignCategory.id)
        .where(CampaignCategory.campaign_id == campaign_id, CampaignCategory.category_id.in_(candidates))
        .limit(1)
    )
    return hit is not None


# --- registrations -------------------------------------------------------------------------------


def _platform_score_gate(db: Session, shop_id: int) -> None:
    """The platform-wide north-star gate: a scored shop below ``campaign_min_shop_score_centi`` cannot
    register for any campaign (a shop not scored yet passes; a campaign may demand a score itself)."""
    required = get_settings().campaign_min_shop_score_centi
    if required is None:
        return
    score = experience_scores.current_score_centi(db, shop_id)
    if score is not None and score < required:
        raise Conflict(
            "the shop's experience score is below what campaigns need",
            code="shop_score_too_low",
            details={"shop_id": shop_id, "score": score, "required": required, "gate": "platform"},
        )


def score_refusal(db: Session, shop_id: int, campaign: Campaign) -> Conflict | None:
    """Why the shop's experience score keeps it out of ``campaign`` (the platform's gate first, then
    the campaign's), or None when it may register. ``details`` carries ``score`` and ``required``."""
    try:
        _platform_score_gate(db, shop_id)
    except Conflict as exc:
        return exc
    required = campaign.min_shop_score_centi
    if required is None:
        return None
    score = experience_scores.current_score_centi(db, shop_id)
    if score is None:
        return Conflict(
            "this campaign needs a shop score and the shop has none yet",
            code="shop_not_scored",
            details={"required": required, "gate": "campaign"},
        )
    if score < required:
        return Conflict(
            "the shop's score is below what this campaign needs",
            code="shop_score_too_low",
            details={"score": score, "required": required, "gate": "campaign"},
        )
    return None


def list_registrable_campaigns(
    db: Session, params: PageParams, now: datetime | None = None, *, state: str | None = None
) -> tuple[Sequence[Campaign], str | None]:
    """Campaigns a shop may still register for: not cancelled and not ended (running or upcoming;
    ``state`` "running" or "upcoming" keeps one of the two)."""
    now = now or clock.now()
    stmt = select(Campaign).where(Campaign.status == CampaignStatus.active, Campaign.ends_at > now)
    if state == "running":
        stmt = stmt.where(Campaign.starts_at <= now)
    elif state == "upcoming":
        stmt = stmt.where(Campaign.starts_at > now)
    return paginate_by_id(db, stmt, Campaign.id, params)


def register_product(db: Session, shop_id: int, campaign_id: int, product_id: int) -> CampaignProduct:
    """Register a product of ``shop_id`` for a campaign, through its category and score gates.

    A product withdrawn earlier may register again (its registration row is reactivated).
    """
    now = clock.now()
    try:
        campaign = get_campaign(db, campaign_id)
        product = catalog_service.get_shop_product(db, shop_id, product_id, field="product_id")
        if is_closed(campaign, now):
            raise Conflict(
                "this campaign has ended or was cancelled",
                code="campaign_closed",
                details={"status": campaign.status.value, "ends_at": campaign.ends_at.isoformat()},
            )
        if not _category_is_eligible(db, campaign_id, product.category_id):
            raise InvalidInput(
                "the product's category is not part of this campaign",
                code="category_not_eligible",
                field="product_id",
                details={"category_id": product.category_id},
            )
        refusal = score_refusal(db, shop_id, campaign)
        if refusal is not None:
            raise refusal
        suspended = shop_sanctions.campaign_registration_refusal(db, shop_id)
        if suspended is not None:
            raise suspended
        existing = db.scalar(
            select(CampaignProduct)
            .where(CampaignProduct.campaign_id == campaign_id, CampaignProduct.product_id == product_id)
            .with_for_update()
        )
        if existing is not None:
            if existing.withdrawn_at is None:
                raise Conflict("this product is already registered", code="already_registered")
            existing.withdrawn_at = None
            registration = existing
        else:
            registration = CampaignProduct(campaign_id=campaign_id, product_id=product_id, shop_id=shop_id)
            db.add(registration)
            try:
                db.flush()
            except IntegrityError as exc:  # registered concurrently
                raise Conflict("this product is already registered", code="already_registered") from exc
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return registration


def withdraw_registration(db: Session, shop_id: int, campaign_id: int, product_id: int) -> CampaignProduct:
    registration = db.scalar(
        select(CampaignProduct)
        .where(
            CampaignProduct.campaign_id == campaign_id,
            CampaignProduct.product_id == product_id,
            CampaignProduct.shop_id == shop_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if registration is None:
        db.rollback()
        raise NotFound("registration not found", code="registration_not_found")
    if registration.withdrawn_at is not None:
        db.rollback()
        raise Conflict("this registration was already withdrawn", code="already_withdrawn")
    registration.withdrawn_at = clock.now()
    db.commit()
    return registration


def list_shop_registrations(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    campaign_id: int | None = None,
    include_withdrawn: bool = True,
) -> tuple[Sequence[CampaignProduct], str | None]:
    stmt = select(CampaignProduct).where(CampaignProduct.shop_id == shop_id)
    if campaign_id is not None:
        stmt = stmt.where(CampaignProduct.campaign_id == campaign_id)
    if not include_withdrawn:
        stmt = stmt.where(CampaignProduct.withdrawn_at.is_(None))
    return paginate_by_id(db, stmt, CampaignProduct.id, params)


def open_campaigns_for_products(
    db: Session, product_ids: Iterable[int], now: datetime | None = None
) -> dict[int, list[Campaign]]:
    """For each product, the running campaigns it is registered (and not withdrawn) for, oldest first.

    Every asked id is a key. One query.
    """
    now = now or clock.now()
    ids = list(set(product_ids))
    result: dict[int, list[Campaign]] = {pid: [] for pid in ids}
    if not ids:
        return result
    rows = db.execute(
        select(CampaignProduct.product_id, Campaign)
        .join(Campaign, Campaign.id == CampaignProduct.campaign_id)
        .where(
            CampaignProduct.product_id.in_(ids),
            CampaignProduct.withdrawn_at.is_(None),
            Campaign.status == CampaignStatus.active,
            Campaign.starts_at <= now,
            Campaign.ends_at > now,
        )
        .order_by(Campaign.id)
    ).all()
    for product_id, campaign in rows:
        result[product_id].append(campaign)
    return result


def registered_campaign_ids(db: Session, product_id: int, now: datetime | None = None) -> list[int]:
    """Ids of the running campaigns the product is registered for (not withdrawn), ascending."""
    return [c.id for c in open_campaigns_for_products(db, [product_id], now)[product_id]]


# --- bulk registration (demo world, imports) -----------------------------------------------------

# Rows per INSERT call: SQLAlchemy sends this many as one multi-row statement, where larger calls
# split into pages whose RETURNING rows are re-joined at a cost that grows with the square of the pages.


def register_products_bulk(db: Session, campaign_id: int, entries: Sequence[tuple[int, int]]) -> list[int]:
    """Register many ``(shop_id, product_id)`` pairs for one campaign under :func:`register_product`'s
    rules (open campaign, the shop's product, eligible category, the score gate, not registered yet).

    Everything is checked before anything is written; flushes only; returns registration ids in order.
    """
    if not entries:
        return []
    campaign = get_campaign(db, campaign_id)
    if is_closed(campaign):
        raise Conflict("this campaign has ended or was cancelled", code="campaign_closed")
    eligible = eligible_category_ids(db, campaign_id)
    placements = catalog_service.product_placements(db, [pid for _, pid in entries])
    seen: set[int] = set()
    for i, (shop_id, product_id) in enumerate(entries):
        placement = placements.get(product_id)
        if placement is None or placement[0] != shop_id:
            raise NotFound("product not found", code="product_not_found", field=f"entries[{i}].product_id")
        if placement[1] not in eligible:
            raise InvalidInput(
                "the product's category is not part of this campaign",
                code="category_not_eligible",
                field=f"entries[{i}].product_id",
                details={"category_id": placement[1]},
            )
        if product_id in seen:
            raise Conflict("this product is already registered", code="already_registered")
        seen.add(product_id)
    for shop_id in sorted({shop_id for shop_id, _ in entries}):
        _platform_score_gate(db, shop_id)
    required = campaign.min_shop_score_centi
    if required is not None:
        for shop_id in sorted({shop_id for shop_id, _ in entries}):
            score = experience_scores.current_score_centi(db, shop_id)
            if score is None or score < required:
                raise Conflict(
                    "the shop's score is below what this campaign needs",
                    code="shop_score_too_low" if score is not None else "shop_not_scored",
                    details={"shop_id": shop_id, "score": score, "required": required},
                )
    product_ids = sorted(seen)
    for start in range(0, len(product_ids), 5000):
        hit = db.scalar(
            select(CampaignProduct.product_id)
            .where(
                CampaignProduct.campaign_id == campaign_id,
                CampaignProduct.product_id.in_(product_ids[start : start + 5000]),
            )
            .limit(1)
        )
        if hit is not None:
            raise Conflict(
                "this product is already registered (or was withdrawn; register it alone to reactivate)",
                code="already_registered",
                details={"product_id": hit},
            )
    now = clock.now()
    values = [
        {"campaign_id": campaign_id, "product_id": pid, "shop_id": shop_id, "created_at": now}
        for shop_id, pid in entries
    ]
    ids = insert_rows_returning_ids(db, CampaignProduct.__table__, values)
    return ids


def running_campaigns_version(db: Session, now: datetime | None = None) -> tuple:
    """What :func:`products_in_running_campaigns` depends on, in two small queries: which campaigns
    run at ``now`` and a fingerprint of the registrations (rows, newest id, and which are withdrawn).
    Equal versions give equal answers, so a reader re-reads the products only when this changes."""
    now = now or clock.now()
    running = tuple(
        db.scalars(
            select(Campaign.id)
            .where(
                Campaign.status == CampaignStatus.active, Campaign.starts_at <= now, Campaign.ends_at > now
            )
            .order_by(Campaign.id)
        )
    )
    withdrawn = CampaignProduct.withdrawn_at.is_not(None)
    registrations = db.execute(
        select(
            func.count(),
            func.max(CampaignProduct.id),
            func.count(CampaignProduct.withdrawn_at),
            func.sum(case((withdrawn, CampaignProduct.id), else_=0)),
            func.max(CampaignProduct.withdrawn_at),
        ).select_from(CampaignProduct)
    ).one()
    return (running, *registrations)


def products_in_running_campaigns(db: Session, now: datetime | None = None) -> frozenset[int]:
    """Products registered (not withdrawn) in a campaign that is running at ``now``."""
    now = now or clock.now()
    rows = db.execute(
        select(CampaignProduct.product_id)
        .join(Campaign, Campaign.id == CampaignProduct.campaign_id)
        .where(
            CampaignProduct.withdrawn_at.is_(None),
            Campaign.status == CampaignStatus.active,
            Campaign.starts_at <= now,
            Campaign.ends_at > now,
        )
    ).all()
    return frozenset(int(r[0]) for r in rows)


def shop_registrations_for_products(
    db: Session, shop_id: int, campaign_id: int, product_ids: Iterable[int]
) -> dict[int, CampaignProduct]:
    """The shop's registration rows (withdrawn ones too) for these products in one campaign, by product."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = db.scalars(
        select(CampaignProduct).where(
            CampaignProduct.shop_id == shop_id,
            CampaignProduct.campaign_id == campaign_id,
            CampaignProduct.product_id.in_(ids),
        )
    )
    return {r.product_id: r for r in rows}


def shop_registration_counts(db: Session, shop_id: int, campaign_ids: Iterable[int]) -> dict[int, int]:
    """How many of the shop's products are registered (not withdrawn) in each campaign."""
    ids = sorted(set(campaign_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = db.execute(
            select(CampaignProduct.campaign_id, func.count())
            .where(
                CampaignProduct.shop_id == shop_id,
                CampaignProduct.campaign_id.in_(ids),
                CampaignProduct.withdrawn_at.is_(None),
            )
            .group_by(CampaignProduct.campaign_id)
        ).all()
        counts.update({int(cid): int(n) for cid, n in rows})
    return counts
