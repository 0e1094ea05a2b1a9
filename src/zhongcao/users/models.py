"""People and how they prove who they are."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class Role(enum.StrEnum):
    shopper = "shopper"
    merchant = "merchant"  # staff of exactly one shop; their shop role lives in shops.ShopStaff
    creator = "creator"
    operator = "operator"  # platform operator


class TokenKind(enum.StrEnum):
    session = "session"  # web session behind a cookie
    api = "api"  # bearer token for API clients


class TokenScope(enum.StrEnum):
    full = "full"  # everything the user may do
    read = "read"  # GET, HEAD and OPTIONS only: any other method is refused with 403


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    is_active: Mapped[bool] = mapped_column(default=True)


class AuthToken(IdMixin, TimestampMixin, Base):
    """A session or API token. Only a SHA-256 of the secret is stored."""

    __tablename__ = "auth_tokens"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(str_enum(TokenKind, "token_kind"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Sessions are always full; an API token may be read-only.
    scope: Mapped[TokenScope] = mapped_column(
        str_enum(TokenScope, "token_scope"), default=TokenScope.full, server_default=TokenScope.full.value
    )


class UserAddress(IdMixin, TimestampMixin, Base):
    """A saved shipping address (the address book). Divisions are GB/T 2260 codes (users.divisions);
    at most one address of a user is the default."""

    __tablename__ = "user_addresses"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(12))
    city_code: Mapped[str] = mapped_column(String(12))
    district_code: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)


class DemoLogin(IdMixin, TimestampMixin, Base):
    """A login of the demo world (``zhongcao demo``), listed on the login page with its password.

    Only the demo world's build writes these rows, so a database holds them exactly when it holds the
    demo world: any other deployment's login page lists nothing. The password is the demo world's
    published one, not a secret."""

    __tablename__ = "demo_logins"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # What the login is for: shopper, good_shop, poor_shop, creator, operator (the page names it).
    kind: Mapped[str] = mapped_column(String(20))
    password: Mapped[str] = mapped_column(String(64))
