"""Media rules: who owns an upload, who may see or delete it, and that nothing partial is ever kept.

An upload is checked and encoded completely before anything is stored; its objects are then written one
by one and the rows committed last. Any failure on the way removes the objects already written and
rolls the rows back, so neither an orphan object nor a row without its objects is left behind.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from zhongcao.config import Settings
from zhongcao.errors import DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from zhongcao.media import images, videos
from zhongcao.media.models import Media, MediaKind, MediaObject
from zhongcao.media.schemas import MEDIA_URL_PREFIX, media_url
from zhongcao.media.storage import MediaStorage
from zhongcao.shops.models import StaffRole

log = logging.getLogger("zhongcao.media")

# Shop roles that may delete the shop's media uploaded by someone else (a service agent may not).
SHOP_MEDIA_MANAGERS = frozenset({StaffRole.owner, StaffRole.operator})


class StorageUnavailable(DomainError):
    status_code = 503
    code = "media_storage_unavailable"


@dataclass(frozen=True)
class Uploader:
    """Who uploads: the user, and their shop and shop role when they are merchant staff."""

    user_id: int
    shop_id: int | None = None
    shop_role: StaffRole | None = None


@dataclass(frozen=True)
class _Pending:
    variant: str
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def too_large(limit: int, what: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the {what} is larger than {limit:,} bytes",
        field="file",
        details={"limit": "file", "max_bytes": limit},
    )


def _key(kind: MediaKind, folder: str, item: _Pending) -> str:
    digest = hashlib.sha256(item.data).hexdigest()[:32]
    return f"{kind.value}/{folder}/{item.variant}-{digest}.{item.extension}"


def _store(db: Session, storage: MediaStorage, media: Media, pending: list[_Pending]) -> Media:
    folder = uuid.uuid4().hex  # unguessable, and never reused: keys are written once
    written: list[str] = []
    try:
        for item in pending:
            key = _key(media.kind, folder, item)
            try:
                storage.put(key, item.data, item.content_type)
            except Exception as exc:
                log.exception("media store %s refused %s", storage.name, key)
                raise StorageUnavailable("the media store cannot be written just now; try again") from exc
            written.append(key)
            media.objects.append(
                MediaObject(
                    key=key,
                    variant=item.variant,
                    content_type=item.content_type,
                    width=item.width,
                    height=item.height,
                    size_bytes=len(item.data),
                )
            )
        media.size_bytes = sum(len(item.data) for item in pending)
        db.add(media)
        db.commit()
    except BaseException:
        db.rollback()
        for key in written:
            try:
                storage.delete(key)
            except Exception:  # reported: the only way an object can outlive a failed upload
                log.exception("could not remove %s after a failed upload: remove it by hand", key)
        raise
    return media


def upload_image(
    db: Session, storage: MediaStorage, settings: Settings, uploader: Uploader, data: bytes
) -> Media:
    if len(data) > settings.media_max_image_bytes:
        raise too_large(settings.media_max_image_bytes, "image")
    processed = images.process_image(data, max_pixels=settings.media_max_image_pixels)
    media = Media(
        owner_id=uploader.user_id,
        shop_id=uploader.shop_id,
        kind=MediaKind.image,
        source_type=processed.source_type,
        width=processed.width,
        height=processed.height,
        duration_ms=None,
        size_bytes=0,
    )
    pending = [
        _Pending(v.variant, v.data, v.content_type, "webp", v.width, v.height) for v in processed.variants
    ]
    return _store(db, storage, media, pending)


def upload_video(
    db: Session, storage: MediaStorage, settings: Settings, uploader: Uploader, path: Path
) -> Media:
    if path.stat().st_size > settings.media_max_video_bytes:
        raise too_large(settings.media_max_video_bytes, "video")
    limits = videos.VideoLimits(
        max_pixels=settings.media_max_video_pixels, max_seconds=settings.media_max_video_seconds
    )
    processed = videos.process_video(path, limits)
    # The poster frame is an image like any other upload: decoded, cleaned and sized by the same code.
    poster = images.process_image(processed.poster_png, max_pixels=settings.media_max_video_pixels)
    media = Media(
        owner_id=uploader.user_id,
        shop_id=uploader.shop_id,
        kind=MediaKind.video,
        source_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        duration_ms=processed.duration_ms,
        size_bytes=0,
    )
    pending = [
        _Pending(
            "video",
            processed.data,
            processed.content_type,
            processed.extension,
            processed.width,
            processed.height,
        )
    ]
    pending += [
        _Pending(f"poster-{v.variant}", v.data, v.content_type, "webp", v.width, v.height)
        for v in poster.variants
    ]
    return _store(db, storage, media, pending)


def _visible_to(media: Media, uploader: Uploader) -> bool:
    return media.owner_id == uploader.user_id or (
        media.shop_id is not None and media.shop_id == uploader.shop_id
    )


def get_media(db: Session, media_id: int, uploader: Uploader) -> Media:
    """The upload, for its uploader or their shop's staff; anyone else is told it does not exist."""
    media = db.scalar(select(Media).options(selectinload(Media.objects)).where(Media.id == media_id))
    if media is None or not _visible_to(media, uploader):
        raise NotFound("media not found", code="media_not_found")
    return media


def delete_media(db: Session, storage: MediaStorage, media_id: int, uploader: Uploader) -> None:
    """Remove the rows, then the objects. The row goes first so that no page ever links to a missing
    object; an object the store then fails to remove is logged with its key."""
    media = get_media(db, media_id, uploader)
    if media.owner_id != uploader.user_id and uploader.shop_role not in SHOP_MEDIA_MANAGERS:
        raise Forbidden(
            "only the uploader or the shop's owner or operators may delete this",
            code="wrong_shop_role",
            details={"required": sorted(r.value for r in SHOP_MEDIA_MANAGERS)},
        )
    keys = [obj.key for obj in media.objects]
    db.delete(media)
    db.commit()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            log.exception(
                "media %s deleted but its object %s could not be removed: remove it by hand", media_id, key
            )


def object_for_key(db: Session, key: str) -> MediaObject | None:
    obj: MediaObject | None = db.scalar(select(MediaObject).where(MediaObject.key == key))
    return obj


def shop_image_ids(db: Session, shop_id: int, media_ids: Iterable[int]) -> set[int]:
    """Which of ``media_ids`` are image uploads of ``shop_id`` (a product may show only its shop's)."""
    ids = sorted(set(media_ids))
    if not ids:
        return set()
    return set(
        db.scalars(
            select(Media.id).where(Media.id.in_(ids), Media.shop_id == shop_id, Media.kind == MediaKind.image)
        )
    )


def image_urls(db: Session, media_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``media id -> {variant: url}`` ("w1080", "w540", "w240", as far as the upload was wide
    enough) for many images in one query; unknown ids are simply absent."""
    ids = sorted(set(media_ids))
    if not ids:
        return {}
    out: dict[int, dict[str, str]] = {}
    for media_id, variant, key in db.execute(
        select(MediaObject.media_id, MediaObject.variant, MediaObject.key)
        .where(MediaObject.media_id.in_(ids))
        .order_by(MediaObject.id)
    ):
        out.setdefault(media_id, {})[variant] = media_url(key)
    return out


def shop_media(
    db: Session, media_id: int, *, shop_id: int | None, user_id: int | None, kind: MediaKind
) -> Media:
    """An upload of ``kind`` that belongs to the shop (a shop account publishing) or to the user (a
    creator publishing); anyone else's is ``media_not_found``, a wrong kind ``wrong_media_kind``."""
    media = db.get(Media, media_id)
    owned = media is not None and (
        (shop_id is not None and media.shop_id == shop_id)
        or (user_id is not None and media.owner_id == user_id)
    )
    if media is None or not owned:
        raise NotFound("media not found", code="media_not_found")
    if media.kind is not kind:
        raise InvalidInput(
            f"this upload is not a {kind.value}", code="wrong_media_kind", details={"expected": kind.value}
        )
    return media


@dataclass(frozen=True)
class VideoSource:
    """What a ``<video>`` element needs: the file, its type, and a poster frame (WebP)."""

    url: str
    content_type: str
    poster_url: str | None
    width: int
    height: int


def video_sources(db: Session, media_ids: Iterable[int]) -> dict[int, VideoSource]:
    """Playable videos and the widest poster of each, by media id (images among the ids give their
    widest size as ``url``, for a chosen poster)."""
    ids = sorted(set(media_ids))
    if not ids:
        return {}
    objects = db.scalars(select(MediaObject).where(MediaObject.media_id.in_(ids)).order_by(MediaObject.id))
    by_media: dict[int, list[MediaObject]] = {}
    for obj in objects:
        by_media.setdefault(obj.media_id, []).append(obj)
    out: dict[int, VideoSource] = {}
    for media_id, objs in by_media.items():
        main = next((o for o in objs if o.variant == "video"), None) or max(objs, key=lambda o: o.width)
        posters = [o for o in objs if o.variant.startswith("poster-")]
        poster = max(posters, key=lambda o: o.width) if posters else None
        out[media_id] = VideoSource(
            url=MEDIA_URL_PREFIX + main.key,
            content_type=main.content_type,
            poster_url=MEDIA_URL_PREFIX + poster.key if poster else None,
            width=main.width,
            height=main.height,
        )
    return out
