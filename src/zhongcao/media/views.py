"""Media API: uploads (multipart), metadata, deletion, and the files themselves under /media/."""

from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Request, Response, UploadFile
from fastapi.responses import FileResponse, RedirectResponse

from zhongcao.config import Settings
from zhongcao.deps import CurrentUser, DbSession
from zhongcao.errors import NotFound
from zhongcao.fields import MAX_ID
from zhongcao.media import service
from zhongcao.media.schemas import MEDIA_URL_PREFIX, MediaOut
from zhongcao.media.storage import IMMUTABLE_CACHE, MediaStorage, storage_from_settings, valid_key
from zhongcao.shops import service as shops_service
from zhongcao.users.models import Role

router = APIRouter(tags=["media"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
UPLOAD_PATHS = {"image": "/api/media/images", "video": "/api/media/videos"}
# The multipart envelope around the file (boundaries, part headers) on top of the file's own limit.
MULTIPART_ALLOWANCE = 64 * 1024
COPY_CHUNK = 1 << 20
# Served files are data, never documents: no sniffing, no scripts, no plugins, not even as a frame.
SERVED_HEADERS = {
    "Cache-Control": IMMUTABLE_CACHE,
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": "inline",
    "Cross-Origin-Resource-Policy": "same-site",
}


def upload_body_limits(settings: Settings) -> dict[str, int]:
    """Request body limits of the upload routes, for BodySizeLimitMiddleware (enforced while streaming)."""
    return {
        UPLOAD_PATHS["image"]: settings.media_max_image_bytes + MULTIPART_ALLOWANCE,
        UPLOAD_PATHS["video"]: settings.media_max_video_bytes + MULTIPART_ALLOWANCE,
    }


def get_storage(request: Request) -> MediaStorage:
    storage: MediaStorage | None = getattr(request.app.state, "media_storage", None)
    if storage is None:
        storage = storage_from_settings(request.app.state.settings)
        request.app.state.media_storage = storage
    return storage


Storage = Annotated[MediaStorage, Depends(get_storage)]


def uploader(user: CurrentUser, db: DbSession) -> service.Uploader:
    shop_id = shop_role = None
    if user.role == Role.merchant:
        membership = shops_service.membership_for_user(db, user.id)
        if membership is not None:
            shop_id, shop_role = membership.shop_id, membership.role
    # End the read transaction now: on SQLite it would otherwise hold the single write lock while the
    # file is decoded and encoded (seconds for a video).
    db.commit()
    return service.Uploader(user_id=user.id, shop_id=shop_id, shop_role=shop_role)


UploaderCtx = Annotated[service.Uploader, Depends(uploader)]


@router.post("/api/media/images", status_code=201, response_model=MediaOut)
def upload_image(
    request: Request, caller: UploaderCtx, db: DbSession, storage: Storage, file: UploadFile = File(...)
) -> MediaOut:
    """An image (JPEG, PNG, WebP or GIF). Stored as WebP at 1080, 540 and 240 pixels wide (never wider
    than the original), upright, with EXIF and all other metadata removed."""
    settings: Settings = request.app.state.settings
    limit = settings.media_max_image_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise service.too_large(limit, "image")
    return MediaOut.of(service.upload_image(db, storage, settings, caller, data))


@router.post("/api/media/videos", status_code=201, response_model=MediaOut)
def upload_video(
    request: Request, caller: UploaderCtx, db: DbSession, storage: Storage, file: UploadFile = File(...)
) -> MediaOut:
    """A video (MP4/MOV: H.264, HEVC or AV1; WebM: VP8, VP9 or AV1). Stored remuxed without metadata,
    with a poster frame as WebP images. Needs ffmpeg on the server (503 without it)."""
    settings: Settings = request.app.state.settings
    limit = settings.media_max_video_bytes
    with tempfile.TemporaryDirectory(prefix="zhongcao-upload-") as tmp:
        path = FsPath(tmp) / "upload"
        copied = 0
        with path.open("wb") as out:
            while chunk := file.file.read(COPY_CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise service.too_large(limit, "video")
                out.write(chunk)
        media = service.upload_video(db, storage, settings, caller, path)
    return MediaOut.of(media)


@router.get("/api/media/{media_id}", response_model=MediaOut)
def get_media(media_id: IdPath, caller: UploaderCtx, db: DbSession) -> MediaOut:
    """An upload's sizes and URLs, for its uploader or their shop's staff."""
    return MediaOut.of(service.get_media(db, media_id, caller))


@router.delete("/api/media/{media_id}", status_code=204)
def delete_media(media_id: IdPath, caller: UploaderCtx, db: DbSession, storage: Storage) -> Response:
    """Delete an upload and its stored files (the uploader, or the shop's owner or operators)."""
    service.delete_media(db, storage, media_id, caller)
    return Response(status_code=204)


@router.api_route(MEDIA_URL_PREFIX + "{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
def serve_media(key: str, db: DbSession, storage: Storage) -> Response:
    """A stored file, with the content type from our own record. On S3 a redirect to the object."""
    obj = service.object_for_key(db, key) if valid_key(key) else None
    if obj is None:
        raise NotFound("no such media file", code="media_not_found")
    local = storage.local_path(key)
    if local is not None:
        if not local.is_file():
            raise NotFound("no such media file", code="media_not_found")
        return FileResponse(local, media_type=obj.content_type, headers=SERVED_HEADERS)
    redirect = storage.redirect(key, obj.content_type)
    if redirect is None:
        raise NotFound("no such media file", code="media_not_found")
    url, cache_control = redirect
    return RedirectResponse(
        url, status_code=307, headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    )
