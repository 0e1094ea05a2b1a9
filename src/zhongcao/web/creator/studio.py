"""The creator's studio: publishing a short video and scheduling a live session from the creator's own
account, anchoring products the creator may promote, and the host dashboard of the creator's live room.

The same code as the shop's studio (web/merchant/content.py): the upload through ``media.service``
(checked by decoding, nothing partial kept; the creator's own upload, no shop), the content through
:func:`zhongcao.flows.publish_content`, the live controls through ``content.service``, the room's
numbers, events and controls through :class:`zhongcao.web.live_host.LiveHost`.
A shopper who buys through the creator's video or live room credits the creator: the order line is
attributed to the content's account, and its commission accrues to the creator when the order
completes (``affiliate.ledger``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from zhongcao import flows
from zhongcao.affiliate import showcase
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.service import ProductBrief
from zhongcao.config import Settings
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind
from zhongcao.errors import DomainError, NotFound
from zhongcao.media import service as media_service
from zhongcao.media.views import MULTIPART_ALLOWANCE, get_storage
from zhongcao.web.console import Console, CreatorConsole, IdPath
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.live_host import LiveHost

# The shop studio's readers of a publish form, so both studios take the same input the same way.
from zhongcao.web.merchant.content import local_time, save_upload, upload_message

router = APIRouter(prefix="/creator")

PUBLISH_PATH = "/creator/content/videos"


def creator_upload_limits(settings: Settings) -> dict[str, int]:
    """The publish form carries a video and a poster image: its body limit (api.py) is theirs."""
    return {
        PUBLISH_PATH: settings.media_max_video_bytes + settings.media_max_image_bytes + MULTIPART_ALLOWANCE
    }


def _anchorable_product_ids(db: Session, account_id: int) -> list[int]:
    """The products the creator may anchor now: the creator's showcase (商品橱窗), in the creator's
    order, less what is not promotable today (off sale, plan ended). A creator picks products in
    the plaza into the showcase first, as on Douyin, where a video's product anchor comes from the
    showcase. (The API checks the same promotability rule for any product it is sent.)"""
    return showcase.showcase_product_ids(db, account_id)


def _products(console: Console) -> list[ProductBrief]:
    assert console.account_id is not None
    ids = _anchorable_product_ids(console.db, console.account_id)
    briefs = catalog_service.product_briefs(console.db, ids)
    return [briefs[i] for i in ids if i in briefs]


def _read_common(form: Form) -> list[int]:
    """The fields a video and a live session share: the titles, the topic, the anchored products."""
    form.text("title_zh", required=True, max_length=120)
    form.text("title_en", required=True, max_length=200)
    form.text("topic", max_length=40)
    picked = form.data.getlist("products") if hasattr(form.data, "getlist") else []
    product_ids = [int(v) for v in picked if isinstance(v, str) and v.isdigit() and len(v) < 19][:50]
    form.values["products"] = [str(p) for p in product_ids]
    return product_ids


def _anchor_field(exc: DomainError, default: str) -> str:
    field = str(exc.details.get("field") or "")
    if field.startswith("anchors"):
        return "products"
    return field if field in ("title_zh", "title_en", "topic", "poster", "starts_at") else default


def _render_form(
    console: Console, template: str, form: Form | None, status_code: int = 200, **extra: Any
) -> Response:
    values = form.values if form is not None else {}
    settings: Settings = console.page.request.app.state.settings
    return console.render(
        template,
        "home",
        status_code=status_code,
        form=form,
        typed=values,
        chosen={int(v) for v in values.get("products", []) if str(v).isdigit()},
        products=_products(console),
        max_mb=settings.media_max_video_bytes // (1024 * 1024),
        max_minutes=max(1, settings.media_max_video_seconds // 60),
        **extra,
    )


# --- publishing a short video ----------------------------------------------------------------------


@router.get("/content/videos/new")
def publish_page(console: CreatorConsole) -> Response:
    return _render_form(console, "creator/publish.html", None)


@router.post(PUBLISH_PATH.removeprefix("/creator"))
async def publish(request: Request, console: CreatorConsole, data: FormData) -> Response:
    return await to_thread.run_sync(_check_form, console, data) or await _publish_upload(
        request, console, data
    )


def _check_form(console: Console, data: Any) -> Response | None:
    form = Form(data, console.t)
    _read_common(form)
    video = data.get("video")
    if not isinstance(video, UploadFile) or not video.filename:
        form.error("video", console.t("studio.video_required"))
    if not form.ok:
        return _render_form(console, "creator/publish.html", form, status_code=422)
    return None


async def _publish_upload(request: Request, console: Console, data: Any) -> Response:
    settings: Settings = request.app.state.settings
    video, poster = data.get("video"), data.get("poster")
    with tempfile.TemporaryDirectory(prefix="zhongcao-publish-") as tmp:
        path = Path(tmp) / "video"
        fits = await save_upload(video, path, settings.media_max_video_bytes)
        poster_bytes = b""
        if isinstance(poster, UploadFile) and poster.filename:
            poster_bytes = await poster.read(settings.media_max_image_bytes + 1)
        return await to_thread.run_sync(_store_and_publish, request, console, data, path, fits, poster_bytes)


def _store_and_publish(
    request: Request, console: Console, data: Any, path: Path, fits: bool, poster_bytes: bytes
) -> Response:
    settings: Settings = request.app.state.settings
    assert console.account_id is not None
    form = Form(data, console.t)
    product_ids = _read_common(form)
    db, storage = console.db, get_storage(request)
    uploader = media_service.Uploader(user_id=console.user_id)  # the creator's own upload
    db.commit()  # no transaction held open while the video is decoded
    stored: list[int] = []
    try:
        if not fits:
            raise media_service.too_large(settings.media_max_video_bytes, "video")
        stored.append(media_service.upload_video(db, storage, settings, uploader, path).id)
        poster_id = None
        if poster_bytes:
            try:
                poster_id = media_service.upload_image(db, storage, settings, uploader, poster_bytes).id
            except DomainError as exc:
                exc.details["field"] = "poster"
                raise
            stored.append(poster_id)
        content = flows.publish_content(
            db,
            console.account_id,
            kind=ContentKind.short_video,
            title_zh=form.values["title_zh"],
            title_en=form.values["title_en"],
            topic=form.values.get("topic") or None,
            anchors=product_ids,
            video_media_id=stored[0],
            poster_media_id=poster_id,
        )
    except DomainError as exc:
        db.rollback()
        for media_id in stored:  # a refused form keeps nothing
            media_service.delete_media(db, storage, media_id, uploader)
        form.error(_anchor_field(exc, "video"), upload_message(console, exc))
        return _render_form(console, "creator/publish.html", form, status_code=exc.status_code)
    return console.redirect(f"/creator?kind=short_video#content-{content.id}", flash="studio.published")


# --- scheduling a live session ---------------------------------------------------------------------


@router.get("/content/live/new")
def schedule_page(console: CreatorConsole) -> Response:
    return _render_form(console, "creator/schedule.html", None)


@router.post("/content/live")
def schedule(console: CreatorConsole, data: FormData) -> Response:
    assert console.account_id is not None
    form = Form(data, console.t)
    product_ids = _read_common(form)
    starts = local_time(form, "starts_at")
    if not product_ids:
        form.error("products", console.t("studio.pick_products"))
    if not form.ok:
        return _render_form(console, "creator/schedule.html", form, status_code=422)
    try:
        content = flows.publish_content(
            console.db,
            console.account_id,
            kind=ContentKind.live,
            title_zh=form.values["title_zh"],
            title_en=form.values["title_en"],
            topic=form.values.get("topic") or None,
            scheduled_at=starts,
            anchors=product_ids,
        )
    except DomainError as exc:
        console.db.rollback()
        field = str(exc.details.get("field") or "")
        form.error(
            "starts_at" if field == "scheduled_at" else _anchor_field(exc, "products"),
            error_message(console.t, exc),
        )
        return _render_form(console, "creator/schedule.html", form, status_code=exc.status_code)
    return console.redirect(f"/creator/live/{content.id}", flash="studio.scheduled")


# --- the host dashboard ----------------------------------------------------------------------------


def _own_live(console: Console, content_id: int) -> Content:
    assert console.account_id is not None
    content = content_service.content_for_account(console.db, console.account_id, content_id)
    if content.kind is not ContentKind.live:
        raise NotFound("not a live session", code="content_not_found")
    return content


HOST = LiveHost(
    base="/creator/live", nav="home", own_live=_own_live, extra=lambda console, content_id: {"can_host": True}
)


@router.get("/live/{content_id}")
def host_dashboard(console: CreatorConsole, content_id: IdPath) -> Response:
    return HOST.dashboard(console, content_id)


@router.get("/live/{content_id}/stats")
def host_stats(console: CreatorConsole, content_id: IdPath) -> Response:
    return HOST.stats(console, content_id)


@router.get("/live/{content_id}/events")
async def host_events(request: Request, console: CreatorConsole, content_id: IdPath) -> StreamingResponse:
    """The room's events for its host (viewers, comments, likes, sales, pins, status)."""
    return await HOST.events(request, console, content_id)


@router.post("/live/{content_id}/start")
def start(console: CreatorConsole, content_id: IdPath, _: FormData) -> Response:
    return HOST.start(console, content_id)


@router.post("/live/{content_id}/end")
def end(console: CreatorConsole, content_id: IdPath, _: FormData) -> Response:
    return HOST.end(console, content_id)


@router.post("/live/{content_id}/pin")
def pin(console: CreatorConsole, content_id: IdPath, data: FormData) -> Response:
    return HOST.pin(console, content_id, data.get("product_id"))


@router.post("/live/{content_id}/unpin")
def unpin(console: CreatorConsole, content_id: IdPath, _: FormData) -> Response:
    return HOST.unpin(console, content_id)
