"""What an operator does to a shop that breaks the rules: warn it, suspend its campaign registration,
suspend the shop, restore it. Each needs a reason the merchant sees (on the console home, read back
from the audit log) and writes an audit entry with the status before and after, in the same
transaction as the change.

* **warn** -- nothing changes but the record: the merchant sees the warning and its reason.
* **suspend campaigns** -- ``campaign_registration_suspended``: ``campaigns.service.register_product``
  refuses the shop's products with ``campaign_registration_suspended`` (409).
* **suspend** -- ``status = suspended``: the shop, its products, and its content leave the mall,
  search and the feed (every public read filters on active shops); its console stays open and says why.
* **restore** -- both back to normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from zhongcao.audit import service as audit_service
from zhongcao.errors import Conflict
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops.models import Shop, ShopStatus
from zhongcao.shops.service import get_shop

ACTIONS = ("warn", "suspend_campaigns", "suspend", "restore")
# What the merchant's console shows of the operators' decisions about the shop.
NOTICE_ACTIONS = tuple(f"shop.{a}" for a in ACTIONS)


def _state(shop: Shop) -> dict[str, Any]:
    return {"status": shop.status, "campaign_registration_suspended": shop.campaign_registration_suspended}


def _lock(db: Session, shop_id: int) -> Shop:
    shop = db.scalar(
        select(Shop).where(Shop.id == shop_id).with_for_update().execution_options(populate_existing=True)
    )
    return shop if shop is not None else get_shop(db, shop_id)  # get_shop raises shop_not_found


def act(db: Session, shop_id: int, action: str, *, reason: str | None, actor_user_id: int | None) -> Shop:
    """Apply one of :data:`ACTIONS` with a required reason; ``nothing_to_restore`` (409) when restoring
    a shop under no sanction, ``already_suspended`` when suspending twice."""
    text = audit_service.require_reason(reason)
    if action not in ACTIONS:
        raise ValueError(action)
    shop = _lock(db, shop_id)
    before = _state(shop)
    if action == "suspend_campaigns":
        if shop.campaign_registration_suspended:
            raise Conflict("the shop's campaign registration is already suspended", code="already_suspended")
        shop.campaign_registration_suspended = True
    elif action == "suspend":
        if shop.status is ShopStatus.suspended:
            raise Conflict("the shop is already suspended", code="already_suspended")
        shop.status = ShopStatus.suspended
    elif action == "restore":
        if shop.status is ShopStatus.active and not shop.campaign_registration_suspended:
            raise Conflict("the shop is under no suspension", code="nothing_to_restore")
        shop.status = ShopStatus.active
        shop.campaign_registration_suspended = False
    db.flush()
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action=f"shop.{action}",
        target_kind="shop",
        target_id=shop.id,
        reason=text,
        before=before,
        after=_state(shop),
    )
    db.commit()
    return shop


def set_status(
    db: Session, shop_id: int, status: ShopStatus, *, reason: str | None, actor_user_id: int | None
) -> Shop:
    """``PATCH /api/ops/shops/{id}``: suspend, or restore a suspended shop (a no-op is refused too)."""
    return act(
        db,
        shop_id,
        "suspend" if status is ShopStatus.suspended else "restore",
        reason=reason,
        actor_user_id=actor_user_id,
    )


def campaign_registration_refusal(db: Session, shop_id: int) -> Conflict | None:
    """The refusal a campaign gives the shop's products while its registration is suspended."""
    shop = get_shop(db, shop_id)
    if not shop.campaign_registration_suspended:
        return None
    notices = notices_for(db, shop_id, limit=10)
    why = next((n.reason for n in notices if n.action == "shop.suspend_campaigns"), "")
    return Conflict(
        "the platform has suspended this shop's campaign registration",
        code="campaign_registration_suspended",
        details={"reason": why},
    )


@dataclass(frozen=True)
class Notice:
    """An operator's decision about a shop as its merchant sees it."""

    action: str
    reason: str
    at: Any  # datetime


def notices_for(db: Session, shop_id: int, *, limit: int = 5) -> list[Notice]:
    """The newest operator decisions about the shop (warnings, suspensions, restorations)."""
    entries = audit_service.entries_for(db, "shop", shop_id)
    picked = [e for e in reversed(entries) if e.action in NOTICE_ACTIONS][:limit]
    return [Notice(e.action, e.reason, e.created_at) for e in picked]


_SANCTIONED = or_(Shop.status == ShopStatus.suspended, Shop.campaign_registration_suspended.is_(True))


def search_shops(
    db: Session,
    params: PageParams,
    *,
    q: str | None = None,
    status: ShopStatus | None = None,
    campaigns_suspended: bool | None = None,
    sanctioned: bool | None = None,
) -> tuple[Sequence[Shop], str | None]:
    """Shops by name (either language) or id, newest first, optionally by status."""
    stmt = select(Shop)
    text = (q or "").strip()
    if text:
        like = f"%{text}%"
        conditions: list[ColumnElement[bool]] = [Shop.name_zh.ilike(like), Shop.name_en.ilike(like)]
        if text.isdigit() and len(text) < 19:
            conditions.append(Shop.id == int(text))
        stmt = stmt.where(or_(*conditions))
    if status is not None:
        stmt = stmt.where(Shop.status == status)
    if campaigns_suspended is not None:
        stmt = stmt.where(Shop.campaign_registration_suspended.is_(campaigns_suspended))
    if sanctioned:
        stmt = stmt.where(_SANCTIONED)
    return paginate_by_id(db, stmt, Shop.id, params)


def sanctioned_count(db: Session) -> int:
    """Shops under a suspension of either kind (the workbench shows it)."""
    return db.scalar(select(func.count()).select_from(Shop).where(_SANCTIONED)) or 0
