"""Shops and the staff who run them."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class ShopStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"


class StaffRole(enum.StrEnum):
    owner = "owner"
    operator = "operator"
    service_agent = "service_agent"


class Shop(IdMixin, TimestampMixin, Base):
    __tablename__ = "shops"
    __table_args__ = (
        CheckConstraint("shipping_fee_fen >= 0", name="shipping_fee_nonneg"),
        CheckConstraint("free_shipping_threshold_fen >= 0", name="free_shipping_nonneg"),
    )

    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ShopStatus] = mapped_column(str_enum(ShopStatus, "shop_status"), default=ShopStatus.active)
    # Flat shipping fee per order, waived when the order's goods reach the threshold (0 = never free).
    shipping_fee_fen: Mapped[int] = mapped_column(default=0)
    free_shipping_threshold_fen: Mapped[int] = mapped_column(default=0)


class ShopStaff(IdMixin, TimestampMixin, Base):
    """A merchant user belongs to exactly one shop (``user_id`` is unique)."""

    __tablename__ = "shop_staff"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
