"""Response bodies for media. Uploads are multipart files, not JSON: there is no request schema."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from zhongcao.media.models import Media, MediaKind, MediaObject

MEDIA_URL_PREFIX = "/media/"


def media_url(key: str) -> str:
    return MEDIA_URL_PREFIX + key


class MediaObjectOut(BaseModel):
    variant: str = Field(description='"w1080", "w540", "w240" (images); "video", "poster-w540"... (videos).')
    url: str = Field(description="Served by this server, or a redirect to object storage; cacheable forever.")
    content_type: str
    width: int
    height: int
    size_bytes: int

    @classmethod
    def of(cls, obj: MediaObject) -> MediaObjectOut:
        return cls(
            variant=obj.variant,
            url=media_url(obj.key),
            content_type=obj.content_type,
            width=obj.width,
            height=obj.height,
            size_bytes=obj.size_bytes,
        )


class MediaOut(BaseModel):
    id: int
    kind: MediaKind
    owner_id: int
    shop_id: int | None
    source_type: str = Field(description="What the upload was, as decoded here (never the client's claim).")
    width: int
    height: int
    duration_ms: int | None
    size_bytes: int = Field(description="Bytes of every stored object together.")
    created_at: datetime
    url: str = Field(description="The widest image, or the video itself.")
    poster_url: str | None = Field(description="Videos: the widest poster frame (WebP).")
    objects: list[MediaObjectOut]

    @classmethod
    def of(cls, media: Media) -> MediaOut:
        objects = [MediaObjectOut.of(o) for o in media.objects]
        main = next((o for o in objects if o.variant == "video"), None) or max(objects, key=lambda o: o.width)
        posters = [o for o in objects if o.variant.startswith("poster-")]
        return cls(
            id=media.id,
            kind=media.kind,
            owner_id=media.owner_id,
            shop_id=media.shop_id,
            source_type=media.source_type,
            width=media.width,
            height=media.height,
            duration_ms=media.duration_ms,
            size_bytes=media.size_bytes,
            created_at=media.created_at,
            url=main.url,
            poster_url=max(posters, key=lambda o: o.width).url if posters else None,
            objects=objects,
        )
