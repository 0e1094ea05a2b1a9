"""Accounts that publish, who follows them, and what they publish: short videos and live sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class AccountKind(enum.StrEnum):
    shop = "shop"  # a shop's own account: FACT "Field"
    creator = "creator"  # an affiliated creator: FACT "Alliance" (or "Top-KOL" when is_top_kol)


class ContentKind(enum.StrEnum):
    short_video = "short_video"
    live = "live"


class ContentStatus(enum.StrEnum):
    published = "published"  # short videos
    removed = "removed"
    scheduled = "scheduled"  # live sessions: scheduled -> live -> ended
    live = "live"
    ended = "ended"


class Account(IdMixin, TimestampMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'shop' AND shop_id IS NOT NULL) OR (kind = 'creator' AND user_id IS NOT NULL)",
            name="owner_matches_kind",
        ),
    )

    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "account_kind"), index=True)
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    # A creator has at most one account (shop accounts leave it NULL, which UNIQUE allows many of).
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), unique=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    niche: Mapped[str | None] = mapped_column(String(40))
    is_top_kol: Mapped[bool] = mapped_column(default=False)
    follower_count: Mapped[int] = mapped_column(default=0)


class Follow(IdMixin, TimestampMixin, Base):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "account_id", name="uq_follows_user_account"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class Content(IdMixin, TimestampMixin, Base):
    __tablename__ = "content"

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    kind: Mapped[ContentKind] = mapped_column(str_enum(ContentKind, "content_kind"), index=True)
    status: Mapped[ContentStatus] = mapped_column(str_enum(ContentStatus, "content_status"), index=True)
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(40))
    duration_seconds: Mapped[int | None]
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Live sessions pin one product at a time; it must be one of the session's anchors.
    pinned_product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"))


class LiveProductSet(IdMixin, Base):
    """A named group of a live session's products (e.g. 福利款, 主推款), shown as tabs in the cart."""

    __tablename__ = "live_product_sets"
    __table_args__ = (
        UniqueConstraint("content_id", "position", name="uq_live_product_sets_content_position"),
    )

    content_id: Mapped[int] = mapped_column(BigId, ForeignKey("content.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]


class ContentAnchor(IdMixin, Base):
    """A product anchored to a piece of content (小黄车), in display order."""

    __tablename__ = "content_anchors"
    __table_args__ = (
        UniqueConstraint("content_id", "product_id", name="uq_content_anchors_content_product"),
        UniqueConstraint("content_id", "position", name="uq_content_anchors_content_position"),
    )

    content_id: Mapped[int] = mapped_column(BigId, ForeignKey("content.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    position: Mapped[int]
    product_set_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("live_product_sets.id", ondelete="SET NULL")
    )


class ContentVideo(Base):
    """The uploaded video a short video plays (a ``media`` row of kind video), and a poster image
    chosen instead of the frame ffmpeg took from it. Content without a row shows its cover art."""

    __tablename__ = "content_videos"

    content_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("content.id", ondelete="CASCADE"), primary_key=True
    )
    # Deleting the upload takes the link with it: the video then shows its cover art, never a 404.
    media_id: Mapped[int] = mapped_column(BigId, ForeignKey("media.id", ondelete="CASCADE"), index=True)
    poster_media_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("media.id", ondelete="SET NULL"), index=True
    )


class LiveComment(IdMixin, TimestampMixin, Base):
    """A viewer's comment in a live room, shown to every viewer as it is written."""

    __tablename__ = "live_comments"

    content_id: Mapped[int] = mapped_column(BigId, ForeignKey("content.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(String(200))


class LiveLikes(Base):
    """A live room's like count: viewers tap as often as they like, so it is a counter, not rows.
    It only changes by an atomic ``UPDATE ... SET like_count = like_count + n``."""

    __tablename__ = "live_likes"
    __table_args__ = (CheckConstraint("like_count >= 0", name="like_count_nonneg"),)

    content_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("content.id", ondelete="CASCADE"), primary_key=True
    )
    like_count: Mapped[int] = mapped_column(default=0)


class AppealStatus(enum.StrEnum):
    none = "none"  # the owner has not appealed (yet)
    pending = "pending"  # waiting for an operator
    restored = "restored"  # the operator restored the content
    upheld = "upheld"  # the operator kept it down


class ContentTakedown(IdMixin, TimestampMixin, Base):
    """An operator took a short video down or ended a live (content moderation): who, why, when, what
    the content was before, and the owner's one appeal with the operator's decision on it."""

    __tablename__ = "content_takedowns"
    __table_args__ = (
        Index("ix_content_takedowns_content", "content_id", "id"),
        Index("ix_content_takedowns_appeal", "appeal_status", "appealed_at"),
    )

    content_id: Mapped[int] = mapped_column(BigId, ForeignKey("content.id", ondelete="CASCADE"))
    operator_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    previous_status: Mapped[ContentStatus] = mapped_column(str_enum(ContentStatus, "content_status"))
    appeal_status: Mapped[AppealStatus] = mapped_column(
        str_enum(AppealStatus, "appeal_status"), default=AppealStatus.none
    )
    appeal_statement: Mapped[str | None] = mapped_column(Text)
    appealed_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    appealed_at: Mapped[datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class ReportReason(enum.StrEnum):
    """Why a shopper reports a video or a live room (what the operator checks first)."""

    misleading = "misleading"  # false or exaggerated claims about a product (虚假宣传)
    prohibited = "prohibited"  # prohibited or restricted goods (违禁商品)
    vulgar = "vulgar"  # vulgar or sexual content (低俗色情)
    infringement = "infringement"  # someone else's work or trademark (侵权搬运)
    harassment = "harassment"  # abuse of a person (人身攻击)
    other = "other"


class ReportStatus(enum.StrEnum):
    open = "open"  # waiting for an operator
    actioned = "actioned"  # the content was taken down
    dismissed = "dismissed"  # an operator looked and found nothing to act on


class ContentReport(IdMixin, TimestampMixin, Base):
    """A shopper's report of a video or live room: one per person and item, resolved when an
    operator takes the item down or dismisses its reports with a reason (content/reports.py)."""

    __tablename__ = "content_reports"
    __table_args__ = (
        UniqueConstraint("content_id", "reporter_user_id", name="uq_content_reports_reporter"),
        Index("ix_content_reports_open", "status", "content_id"),
    )

    content_id: Mapped[int] = mapped_column(BigId, ForeignKey("content.id", ondelete="CASCADE"))
    reporter_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason, "report_reason"))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReportStatus] = mapped_column(
        str_enum(ReportStatus, "report_status"), default=ReportStatus.open
    )
    resolved_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
