"""Platform campaigns (Campaign in FACT) with subsidies and budgets, and coupons."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class CampaignStatus(enum.StrEnum):
    active = "active"
    cancelled = "cancelled"


class CouponFunder(enum.StrEnum):
    shop = "shop"
    platform = "platform"


class UserCouponStatus(enum.StrEnum):
    unused = "unused"
    reserved = "reserved"  # held by an unpaid checkout
    used = "used"


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_order"),
        CheckConstraint("subsidy_per_item_fen >= 0", name="subsidy_nonneg"),
        CheckConstraint("spent_fen >= 0 AND spent_fen <= budget_fen", name="budget_not_overspent"),
    )

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Shop experience score needed to register, in hundredths (400 = 4.00); NULL = no gate.
    min_shop_score_centi: Mapped[int | None]
    subsidy_per_item_fen: Mapped[int] = mapped_column(default=0)
    budget_fen: Mapped[int] = mapped_column(default=0)
    spent_fen: Mapped[int] = mapped_column(default=0)  # reserved by unpaid checkouts + paid
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.active
    )


class CampaignCategory(IdMixin, Base):
    __tablename__ = "campaign_categories"
    __table_args__ = (UniqueConstraint("campaign_id", "category_id", name="uq_campaign_categories_pair"),)

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"))


class CampaignProduct(IdMixin, TimestampMixin, Base):
    """A shop's product registered for a campaign (gated by category and the shop's score)."""

    __tablename__ = "campaign_products"
    __table_args__ = (UniqueConstraint("campaign_id", "product_id", name="uq_campaign_products_pair"),)

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    withdrawn_at: Mapped[datetime | None]


class Coupon(IdMixin, TimestampMixin, Base):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("discount_fen > 0", name="discount_positive"),
        CheckConstraint("threshold_fen >= 0", name="threshold_nonneg"),
        CheckConstraint("per_user_limit >= 1", name="per_user_limit_positive"),
        CheckConstraint("total_quantity IS NULL OR claimed_count <= total_quantity", name="not_over_claimed"),
        CheckConstraint(
            "(funded_by = 'shop' AND shop_id IS NOT NULL) OR (funded_by = 'platform' AND shop_id IS NULL)",
            name="funder_matches_shop",
        ),
        CheckConstraint("ends_at > starts_at", name="window_order"),
        CheckConstraint(
            "percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 99)", name="percent_range"
        ),
    )

    funded_by: Mapped[CouponFunder] = mapped_column(str_enum(CouponFunder, "coupon_funder"))
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    threshold_fen: Mapped[int]  # goods total needed (满 X)
    # Amount off (减 Y); for a percentage coupon the most it takes off (the cap).
    discount_fen: Mapped[int]
    # A percentage coupon takes this share of the goods total off (10 = 10% off, 九折), capped at
    # discount_fen; NULL = a plain amount-off coupon.
    percent_off: Mapped[int | None]
    per_user_limit: Mapped[int] = mapped_column(default=1)
    total_quantity: Mapped[int | None]
    claimed_count: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Ended by the shop: nobody can claim it any more; copies already claimed stay usable until ends_at.
    ended_at: Mapped[datetime | None]
    # Only members of the shop's membership programme may claim it (shop coupons only). Campaigns
    # does not read membership: the check lives in ``flows.claim_coupon``.
    members_only: Mapped[bool] = mapped_column(default=False, server_default=sa_false())


class UserCoupon(IdMixin, Base):
    __tablename__ = "user_coupons"

    coupon_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupons.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    status: Mapped[UserCouponStatus] = mapped_column(
        str_enum(UserCouponStatus, "user_coupon_status"), default=UserCouponStatus.unused
    )
    checkout_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("checkouts.id"))
    claimed_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
