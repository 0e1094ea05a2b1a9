"""A creator's showcase (商品橱窗): the products a creator account chose from the plaza, in its order.

* A product is added only when the creator may promote it now
  (:func:`zhongcao.affiliate.service.promotable_product_ids`: on sale, and an active plan the
  creator may use); otherwise the refusal says why (:func:`why_not_promotable`).
* Items stay when the product later goes off sale or its plan ends or shuts the creator out: shoppers
  stop seeing them (:func:`showcase_product_ids`), and the creator sees them as unavailable with the
  reason (:func:`entries`), until it is back on sale or removed.
* Positions run 1..n; adding appends, removing and moving renumber. The unique (account, product)
  key refuses a second copy of a product even from concurrent requests; two concurrent adds may
  share a position, which orders them by id and the next change renumbers.

Other domains and branches read a showcase through :func:`showcase_product_ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import AffiliatePlan, PlanKind, ShowcaseItem
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.service import ProductBrief
from zhongcao.content import service as content_service
from zhongcao.content.models import AccountKind
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.integrity import service as integrity_service
from zhongcao.money import apply_bps

MAX_SHOWCASE_ITEMS = 500

# Why a product cannot be promoted (and so is refused, or shown as unavailable): a code per reason.
OFF_SALE = "product_off_sale"
NO_PLAN = "no_active_plan"
EXCLUSIVE = "exclusive_to_others"
TARGETED_ONLY = "targeted_not_listed"

_REASON_TEXT = {
    OFF_SALE: "the product is not on sale",
    NO_PLAN: "the product has no active affiliate plan",
    EXCLUSIVE: "the product's exclusive plan names other creators only",
    TARGETED_ONLY: "the product's targeted plan names other creators only; apply to it first",
}


@dataclass(frozen=True)
class ShowcaseEntry:
    """One item of a showcase as its creator sees it: ``reason`` is None when shoppers see it."""

    position: int
    product: ProductBrief | None
    product_id: int
    added_at: datetime
    commission_bps: int | None  # the best rate the creator may earn on it now
    reason: str | None

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def estimated_commission_fen(self) -> int | None:
        if self.product is None or self.product.price_fen is None or self.commission_bps is None:
            return None
        return apply_bps(self.product.price_fen, self.commission_bps)


def reason_text(code: str) -> str:
    return _REASON_TEXT[code]


def _creator_account(db: Session, account_id: int) -> None:
    """Only creator accounts have a showcase."""
    account = content_service.accounts_by_ids(db, [account_id]).get(account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    if account.kind != AccountKind.creator:
        raise Forbidden("only creator accounts have a showcase", code="not_a_creator_account")


def why_not_promotable(db: Session, account_id: int, product_ids: Sequence[int]) -> dict[int, str]:
    """For each of ``product_ids`` the creator may not promote now, the reason's code (module
    constants); products the creator may promote are absent."""
    ids = sorted(set(product_ids))
    usable = affiliate_service.promotable_product_ids(db, account_id, ids)
    blocked = [pid for pid in ids if pid not in usable]
    if not blocked:
        return {}
    briefs = catalog_service.product_briefs(db, blocked)
    plans = affiliate_service.active_plans_for_products(db, blocked)
    out: dict[int, str] = {}
    for pid in blocked:
        brief = briefs.get(pid)
        kinds = {p.kind for p in plans.get(pid, [])}
        if brief is None or not brief.on_sale:
            out[pid] = OFF_SALE
        elif PlanKind.exclusive in kinds:
            out[pid] = EXCLUSIVE
        elif PlanKind.targeted in kinds and PlanKind.open not in kinds:
            out[pid] = TARGETED_ONLY
        else:
            out[pid] = NO_PLAN
    return out


def _best_rates(db: Session, account_id: int, product_ids: Sequence[int]) -> dict[int, int]:
    usable: dict[int, list[AffiliatePlan]] = affiliate_service.usable_plans(db, account_id, product_ids)
    return {pid: max(p.commission_bps for p in plans) for pid, plans in usable.items() if plans}


def _rows(db: Session, account_id: int) -> list[ShowcaseItem]:
    return list(
        db.scalars(
            select(ShowcaseItem)
            .where(ShowcaseItem.account_id == account_id)
            .order_by(ShowcaseItem.position, ShowcaseItem.id)
        )
    )


def _renumber(db: Session, rows: Sequence[ShowcaseItem]) -> None:
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            db.execute(update(ShowcaseItem).where(ShowcaseItem.id == row.id).values(position=position))


def add(db: Session, account_id: int, product_id: int) -> ShowcaseItem:
    """Put a product the creator may promote at the end of the showcase (refused with
    ``plaza_eligibility_suspended`` while bought engagement has cost the creator the plaza)."""
    _creator_account(db, account_id)
    refusal = integrity_service.plaza_refusal(db, account_id)
    if refusal is not None:
        raise refusal
    reasons = why_not_promotable(db, account_id, [product_id])
    if product_id in reasons:
        code = reasons[product_id]
        if code == OFF_SALE and product_id not in catalog_service.product_briefs(db, [product_id]):
            raise InvalidInput("product not found", code="product_not_found", field="product_id")
        raise InvalidInput(
            f"this product cannot go in the showcase: {reason_text(code)}",
            code="not_promotable",
            field="product_id",
            details={"reason": code},
        )
    count, last = db.execute(
        select(func.count(), func.max(ShowcaseItem.position)).where(ShowcaseItem.account_id == account_id)
    ).one()
    if db.scalar(
        select(ShowcaseItem.id).where(
            ShowcaseItem.account_id == account_id, ShowcaseItem.product_id == product_id
        )
    ):
        raise Conflict("the product is already in the showcase", code="already_in_showcase")
    if count >= MAX_SHOWCASE_ITEMS:
        raise Conflict(
            f"a showcase holds at most {MAX_SHOWCASE_ITEMS} products; remove one first", code="showcase_full"
        )
    item = ShowcaseItem(account_id=account_id, product_id=product_id, position=int(last or 0) + 1)
    db.add(item)
    try:
        db.commit()
    except IntegrityError as exc:  # the same product added concurrently
        db.rollback()
        raise Conflict("the product is already in the showcase", code="already_in_showcase") from exc
    return item


def remove(db: Session, account_id: int, product_id: int) -> None:
    """Take a product out of the showcase (available or not); another account's item is not found."""
    _creator_account(db, account_id)
    gone = db.execute(
        delete(ShowcaseItem)
        .where(ShowcaseItem.account_id == account_id, ShowcaseItem.product_id == product_id)
        .returning(ShowcaseItem.id)
    ).first()
    if gone is None:
        db.rollback()
        raise NotFound("the product is not in the showcase", code="showcase_item_not_found")
    _renumber(db, _rows(db, account_id))
    db.commit()


def move(db: Session, account_id: int, product_id: int, position: int) -> None:
    """Move a product to ``position`` (1 first; past the end means last), shifting the others."""
    if position < 1:
        raise InvalidInput("the position starts at 1", code="invalid_position", field="position")
    _creator_account(db, account_id)
    rows = _rows(db, account_id)
    item = next((r for r in rows if r.product_id == product_id), None)
    if item is None:
        raise NotFound("the product is not in the showcase", code="showcase_item_not_found")
    rows.remove(item)
    rows.insert(min(position, len(rows) + 1) - 1, item)
    _renumber(db, rows)
    db.commit()


def entries(db: Session, account_id: int) -> list[ShowcaseEntry]:
    """Every item of the creator's showcase, in order, each with why shoppers do not see it (if so)."""
    rows = _rows(db, account_id)
    ids = [r.product_id for r in rows]
    briefs = catalog_service.product_briefs(db, ids)
    reasons = why_not_promotable(db, account_id, ids)
    rates = _best_rates(db, account_id, ids)
    return [
        ShowcaseEntry(
            position=r.position,
            product=briefs.get(r.product_id),
            product_id=r.product_id,
            added_at=r.created_at,
            commission_bps=rates.get(r.product_id),
            reason=reasons.get(r.product_id),
        )
        for r in rows
    ]


def showcase_product_ids(db: Session, account_id: int) -> list[int]:
    """What shoppers see of the account's showcase: the products the creator may promote now, in the
    creator's order (an account that is not a creator's has none)."""
    ids = list(
        db.scalars(
            select(ShowcaseItem.product_id)
            .where(ShowcaseItem.account_id == account_id)
            .order_by(ShowcaseItem.position, ShowcaseItem.id)
        )
    )
    usable = affiliate_service.promotable_product_ids(db, account_id, ids)
    return [pid for pid in ids if pid in usable]


def in_showcase(db: Session, account_id: int, product_ids: Sequence[int]) -> set[int]:
    """Those of ``product_ids`` in the account's showcase (available or not)."""
    ids = sorted(set(product_ids))
    if not ids:
        return set()
    return set(
        db.scalars(
            select(ShowcaseItem.product_id).where(
                ShowcaseItem.account_id == account_id, ShowcaseItem.product_id.in_(ids)
            )
        )
    )
