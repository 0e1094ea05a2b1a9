"""Shops and the staff who run them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy import false as sa_false
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
    # Set by an operator (with a reason, in the audit log): the shop may not register products in
    # campaigns until restored (``campaigns.service.register_product`` refuses them).
    campaign_registration_suspended: Mapped[bool] = mapped_column(default=False, server_default=sa_false())


class ShopStaff(IdMixin, TimestampMixin, Base):
    """A merchant user belongs to exactly one shop (``user_id`` is unique)."""

    __tablename__ = "shop_staff"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))


class ApplicationStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class ShopApplication(IdMixin, TimestampMixin, Base):
    """A person's request to open a shop, decided by an operator. On approval ``shop_id`` is the shop
    that opened (the applicant its owner); on rejection ``reason`` says why (shown to the applicant)."""

    __tablename__ = "shop_applications"

    applicant_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    # A leaf or top category of the catalog (checked by the flow that files the application).
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"))
    # 统一社会信用代码 (GB 32100-2015), 18 characters, check digit verified on the way in.
    credit_code: Mapped[str] = mapped_column(String(18))
    contact_name: Mapped[str] = mapped_column(String(80))
    contact_phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus, "shop_application_status"), default=ApplicationStatus.pending, index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shops.id"))


class InvitationStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    revoked = "revoked"


class StaffInvitation(IdMixin, TimestampMixin, Base):
    """An owner's invitation for a person (by email) to join the shop with a role. Only the digest of
    the single-use link's secret is kept; the link itself is shown to the owner once, to send on.
    A pending invitation past ``expires_at`` is expired (it is never accepted)."""

    __tablename__ = "staff_invitations"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_invitation_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus, "staff_invitation_status"), default=InvitationStatus.pending
    )
    invited_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
