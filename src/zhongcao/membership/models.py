"""A shop's membership programme and its members. A member's tier is not stored: it follows from
their spend in the shop (orders paid, net of refunds) against the programme's thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, json_type


class MembershipProgram(IdMixin, Base):
    __tablename__ = "membership_programs"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    # [{"name_zh": "普通会员", "name_en": "Member", "threshold_fen": 0}, ...], thresholds ascending
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    # Members pay this much less on the shop's goods (500 = 5% off, 95折), a shop-funded discount
    # taken at checkout like a shop coupon (in the order's shop_discount_fen).
    member_discount_bps: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class ShopMember(IdMixin, Base):
    __tablename__ = "shop_members"
    __table_args__ = (UniqueConstraint("shop_id", "user_id", name="uq_shop_members_shop_user"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    consented_at: Mapped[datetime]  # the shopper agreed to the programme's terms (required to join)
    joined_at: Mapped[datetime]
