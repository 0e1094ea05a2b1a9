"""Media rows: one per upload, and one per stored object (image sizes, the video, its poster)."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class MediaKind(enum.StrEnum):
    image = "image"
    video = "video"


class Media(IdMixin, TimestampMixin, Base):
    """An upload, owned by the user who sent it and, when that user is merchant staff, by their shop."""

    __tablename__ = "media"

    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    kind: Mapped[MediaKind] = mapped_column(str_enum(MediaKind, "media_kind"))
    # The upload as understood by us (never the client's claim): "image/jpeg", "video/mp4"...
    source_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    duration_ms: Mapped[int | None]
    # Bytes of every stored object together.
    size_bytes: Mapped[int] = mapped_column(BigInteger)

    objects: Mapped[list[MediaObject]] = relationship(
        back_populates="media", order_by="MediaObject.id", cascade="all, delete-orphan"
    )


class MediaObject(IdMixin, Base):
    """One stored object. Its key is written once and never rewritten (it names a random upload folder
    and the object's own content hash), so it may be cached forever."""

    __tablename__ = "media_objects"

    media_id: Mapped[int] = mapped_column(BigId, ForeignKey("media.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    # "w1080", "w540", "w240" for images; "video" and "poster-w540"... for videos.
    variant: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int] = mapped_column(BigInteger)

    media: Mapped[Media] = relationship(back_populates="objects")
