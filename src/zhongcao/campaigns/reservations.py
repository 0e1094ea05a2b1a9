"""What checkout takes from campaigns: subsidy budget and the buyer's coupons.

Campaign budget
    ``campaigns.spent_fen`` counts subsidy held by unpaid checkouts plus subsidy on paid orders.
    Reserving is ONE conditional UPDATE, ``spent_fen = spent_fen + x WHERE spent_fen + x <=
    budget_fen``, so concurrent checkouts can never overspend (PostgreSQL re-checks the condition
    on the locked row; the ``budget_not_overspent`` CHECK is the last line of defence). A
    reservation that does not fit simply fails; the caller then gives no subsidy.

User coupons
    ``unused -> reserved`` (held by an unpaid checkout, ``checkout_id`` set) ``-> used`` when the
    checkout is paid, or back to ``unused`` when it is cancelled or expires. Each move is one
    conditional UPDATE on the expected status, so a coupon can be held by one checkout at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zhongcao.campaigns import coupons, service
from zhongcao.campaigns.models import (
    Campaign,
    CampaignStatus,
    Coupon,
    CouponFunder,
    UserCoupon,
    UserCouponStatus,
)
from zhongcao.db import rows_changed


@dataclass(frozen=True)
class CampaignOffer:
    campaign_id: int
    subsidy_per_item_fen: int


def _offer(campaign: Campaign) -> CampaignOffer:
    return CampaignOffer(campaign_id=campaign.id, subsidy_per_item_fen=campaign.subsidy_per_item_fen)


def best_campaign_for_product(db: Session, product_id: int, now: datetime) -> CampaignOffer | None:
    """The running campaign the product is registered in with the largest subsidy (then oldest)."""
    running = service.open_campaigns_for_products(db, [product_id], now)[product_id]
    best = min(running, key=lambda c: (-c.subsidy_per_item_fen, c.id), default=None)
    return _offer(best) if best is not None else None


def campaign_for_product(
    db: Session, campaign_id: int, product_id: int, now: datetime
) -> CampaignOffer | None:
    """``campaign_id`` if it is running now and the product is registered in it, else None."""
    running = service.open_campaigns_for_products(db, [product_id], now)[product_id]
    return next((_offer(c) for c in running if c.id == campaign_id), None)


def reserve_budget(db: Session, campaign_id: int, amount_fen: int) -> bool:
    """Take ``amount_fen`` from the campaign's budget. False (nothing taken) if it does not fit."""
    if amount_fen <= 0:
        raise ValueError("a budget reservation must be positive")
    result = db.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == CampaignStatus.active,
            Campaign.spent_fen + amount_fen <= Campaign.budget_fen,
        )
        .values(spent_fen=Campaign.spent_fen + amount_fen)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def release_budget(db: Session, campaign_id: int, amount_fen: int) -> None:
    """Give a reservation back (checkout cancelled or expired, paid order cancelled)."""
    if amount_fen <= 0:
        raise ValueError("a budget release must be positive")
    result = db.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.spent_fen >= amount_fen)
        .values(spent_fen=Campaign.spent_fen - amount_fen)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        # Releasing more than was reserved means the books are wrong; refuse rather than hide it.
        raise RuntimeError(f"campaign {campaign_id} has less than {amount_fen} fen reserved")


@dataclass(frozen=True)
class UserCouponInfo:
    user_coupon_id: int
    coupon_id: int
    user_id: int
    status: UserCouponStatus
    funded_by: CouponFunder
    shop_id: int | None
    name: str
    threshold_fen: int
    discount_fen: int
    starts_at: datetime
    ends_at: datetime
    percent_off: int | None = None

    def discount_on(self, goods_fen: int) -> int:
        """What this coupon takes off ``goods_fen`` of goods (0 below its threshold)."""
        return coupons.discount_for(self.threshold_fen, self.discount_fen, self.percent_off, goods_fen)

    def usable_at(self, now: datetime) -> bool:
        return self.status is UserCouponStatus.unused and self.starts_at <= now < self.ends_at


def user_coupons(db: Session, user_id: int, user_coupon_ids: Iterable[int]) -> dict[int, UserCouponInfo]:
    """The caller's own coupons among ``user_coupon_ids`` (others' and unknown ids are absent)."""
    ids = sorted(set(user_coupon_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(UserCoupon, Coupon)
        .join(Coupon, Coupon.id == UserCoupon.coupon_id)
        .where(UserCoupon.id.in_(ids), UserCoupon.user_id == user_id)
    )
    return {
        uc.id: UserCouponInfo(
            user_coupon_id=uc.id,
            coupon_id=c.id,
            user_id=uc.user_id,
            status=uc.status,
            funded_by=c.funded_by,
            shop_id=c.shop_id,
            name=c.name,
            threshold_fen=c.threshold_fen,
            discount_fen=c.discount_fen,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            percent_off=c.percent_off,
        )
        for uc, c in rows
    }


def reserve_coupon(db: Session, *, user_coupon_id: int, user_id: int, checkout_id: int) -> bool:
    """``unused -> reserved`` for ``checkout_id``. False if the coupon is no longer unused."""
    result = db.execute(
        update(UserCoupon)
        .where(
            UserCoupon.id == user_coupon_id,
            UserCoupon.user_id == user_id,
            UserCoupon.status == UserCouponStatus.unused,
        )
        .values(status=UserCouponStatus.reserved, checkout_id=checkout_id)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def use_checkout_coupons(db: Session, checkout_id: int, now: datetime) -> int:
    """The checkout is paid: its reserved coupons are spent."""
    result = db.execute(
        update(UserCoupon)
        .where(UserCoupon.checkout_id == checkout_id, UserCoupon.status == UserCouponStatus.reserved)
        .values(status=UserCouponStatus.used, used_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def release_checkout_coupons(db: Session, checkout_id: int) -> int:
    """The checkout is cancelled unpaid: its coupons go back to the buyer."""
    result = db.execute(
        update(UserCoupon)
        .where(UserCoupon.checkout_id == checkout_id, UserCoupon.status == UserCouponStatus.reserved)
        .values(status=UserCouponStatus.unused, checkout_id=None)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)
