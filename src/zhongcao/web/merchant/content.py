"""The shop's own content (内容与直播): its short videos and live sessions, publishing a video,
scheduling a live session, and the host dashboard of a session on air.

Publishing goes through the same code as the JSON API: the upload through ``media.service`` (checked
by decoding, nothing partial kept) and the content through :func:`zhongcao.flows.publish_content`.
A form is checked before its video is processed; an upload that the content then refuses is deleted
again, so a refused form stores nothing. The host dashboard follows the room over the same live hub
as the shoppers' pages (web/live.py), without counting as a viewer.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from zhongcao import flows
from zhongcao.catalog import service as catalog_service
from zhongcao.config import Settings
from zhongcao.content import moderation
from zhongcao.content import service as content_service
from zhongcao.content.models import Account, Content, ContentKind, ContentStatus
from zhongcao.errors import DomainError, NotFound
from zhongcao.flashsales import service as flashsales_service
from zhongcao.media import service as media_service
from zhongcao.media.views import MULTIPART_ALLOWANCE, get_storage
from zhongcao.pagination import PageParams
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.live_host import LiveHost
from zhongcao.web.templating import DISPLAY_TZ

router = APIRouter(prefix="/merchant")

PUBLISH_PATH = "/merchant/content/videos"
# What a shop may anchor is chosen from its products on sale, newest first; the page filters them.
PICKABLE_PRODUCTS = 300
SHOW_FILTERS = ("videos", "scheduled", "live", "ended")
COPY_CHUNK = 1 << 20


def page_upload_limits(settings: Settings) -> dict[str, int]:
    """The publish form carries a video and a poster image: its body limit (api.py) is theirs."""
    return {
        PUBLISH_PATH: settings.media_max_video_bytes + settings.media_max_image_bytes + MULTIPART_ALLOWANCE
    }


def _accounts(console: Console) -> list[Account]:
    assert console.shop_id is not None
    rows, _ = content_service.shop_accounts_page(console.db, console.shop_id, PageParams(limit=100))
    return list(rows)


@router.get("/content")
def content_list(
    console: MerchantConsole,
    show: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    show = show if show in SHOW_FILTERS else None
    kind = None if show is None else (ContentKind.short_video if show == "videos" else ContentKind.live)
    status = ContentStatus(show) if show in ("scheduled", "live", "ended") else None
    rows, next_cursor = page_of(
        lambda p: content_service.shop_content_page(db, shop_id, p, kind=kind, status=status), cursor
    )
    ids = [c.id for c in rows]
    return console.render(
        "merchant/studio.html",
        "studio",
        rows=rows,
        accounts={a.id: a for a in _accounts(console)},
        anchors=content_service.anchored_product_ids_by_content(db, ids),
        videos=flows.content_videos(db, ids),
        takedowns=moderation.latest_takedowns(db, [c.id for c in rows if c.status is ContentStatus.removed]),
        show=show or "",
        filters=SHOW_FILTERS,
        next_cursor=next_cursor,
    )


@router.post("/content/account")
def create_account(console: MerchantConsole, data: FormData) -> Response:
    """The shop's own publishing account (a shop needs one before it publishes)."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    handle = form.text("handle", required=True, max_length=40).lower()
    name = form.text("name", required=True, max_length=80)
    if form.ok:
        try:
            content_service.create_shop_account(console.db, console.shop_id, handle=handle, name=name)
            return console.redirect("/merchant/content", flash="studio.account_made")
        except DomainError as exc:
            console.db.rollback()
            form.add_domain_error(exc)
    return _render_publish(console, form, status_code=422, account_form=form)


# --- publishing a short video ----------------------------------------------------------------------


def _products(console: Console) -> list[Any]:
    assert console.shop_id is not None
    ids = catalog_service.product_ids_of_shop(console.db, console.shop_id, active_only=True)[
        -PICKABLE_PRODUCTS:
    ]
    briefs = catalog_service.product_briefs(console.db, ids)
    return [briefs[i] for i in reversed(ids) if i in briefs and briefs[i].on_sale]


def _render_publish(
    console: Console, form: Form | None, status_code: int = 200, account_form: Form | None = None
) -> Response:
    values = form.values if form is not None else {}
    return console.render(
        "merchant/publish.html",
        "studio",
        status_code=status_code,
        form=form if account_form is None else None,
        account_form=account_form,
        typed=values,
        chosen={int(v) for v in values.get("products", []) if str(v).isdigit()},
        accounts=_accounts(console),
        products=_products(console),
        max_mb=console.page.request.app.state.settings.media_max_video_bytes // (1024 * 1024),
        max_minutes=max(1, console.page.request.app.state.settings.media_max_video_seconds // 60),
    )


@router.get("/content/videos/new")
def publish_page(console: MerchantConsole) -> Response:
    console.require_manager()  # a form only: a service agent reads the studio's list
    return _render_publish(console, None)


def _read_common(console: Console, form: Form, accounts: list[Account]) -> tuple[int | None, list[int]]:
    """Fields a video and a live session share: the account, the titles, the anchored products."""
    account_ids = [str(a.id) for a in accounts]
    if len(account_ids) == 1:  # the form shows no choice of one
        account: str | None = account_ids[0]
        form.values["account_id"] = account
    else:
        account = form.choice("account_id", account_ids, message=console.t("studio.pick_account"))
    form.text("title_zh", required=True, max_length=120)
    form.text("title_en", required=True, max_length=200)
    form.text("topic", max_length=40)
    picked = form.data.getlist("products") if hasattr(form.data, "getlist") else []
    product_ids = [int(v) for v in picked if isinstance(v, str) and v.isdigit()][:50]
    form.values["products"] = [str(p) for p in product_ids]
    return (int(account) if account else None), product_ids


async def save_upload(upload: UploadFile, path: Path, limit: int) -> bool:
    """Copy the upload to ``path``; False when it is over ``limit`` bytes."""
    copied = 0
    with path.open("wb") as out:
        while chunk := await upload.read(COPY_CHUNK):
            copied += len(chunk)
            if copied > limit:
                return False
            await to_thread.run_sync(out.write, chunk)
    return True


@router.post(PUBLISH_PATH.removeprefix("/merchant"))
async def publish(request: Request, console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    return await to_thread.run_sync(_check_form, console, data) or await _publish_upload(
        request, console, data
    )


def _check_form(console: Console, data: Any) -> Response | None:
    form = Form(data, console.t)
    _read_common(console, form, _accounts(console))
    video = data.get("video")
    if not isinstance(video, UploadFile) or not video.filename:
        form.error("video", console.t("studio.video_required"))
    if not form.ok:
        return _render_publish(console, form, status_code=422)
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
    assert console.shop_id is not None and console.page.user is not None
    form = Form(data, console.t)
    account_id, product_ids = _read_common(console, form, _accounts(console))
    db, storage = console.db, get_storage(request)
    uploader = media_service.Uploader(
        user_id=console.page.user.id, shop_id=console.shop_id, shop_role=console.staff_role
    )
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
        assert account_id is not None
        content = flows.publish_content(
            db,
            account_id,
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
        field = str(exc.details.get("field") or "video")
        field = "products" if str(field).startswith("anchors") else str(field)
        field = field if field in ("title_zh", "title_en", "topic", "poster", "products") else "video"
        form.error(field, upload_message(console, exc))
        return _render_publish(console, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/content?show=videos#content-{content.id}", flash="studio.published")


def upload_message(console: Console, exc: DomainError) -> str:
    if exc.code == "payload_too_large":
        limit = int((exc.details or {}).get("max_bytes", 0))
        return console.t("studio.too_large", mb=max(1, limit // (1024 * 1024)))
    return error_message(console.t, exc)


# --- scheduling a live session ---------------------------------------------------------------------


def _render_schedule(console: Console, form: Form | None, status_code: int = 200) -> Response:
    values = form.values if form is not None else {}
    return console.render(
        "merchant/schedule.html",
        "studio",
        status_code=status_code,
        form=form,
        typed=values,
        chosen={int(v) for v in values.get("products", []) if str(v).isdigit()},
        accounts=_accounts(console),
        products=_products(console),
    )


@router.get("/content/live/new")
def schedule_page(console: MerchantConsole) -> Response:
    console.require_manager()
    return _render_schedule(console, None)


def local_time(form: Form, name: str) -> datetime | None:
    """A ``datetime-local`` value, read in the console's time zone (UTC+8)."""
    raw = form.text(name, required=True, max_length=20)
    if not raw:
        return None
    try:
        typed = datetime.fromisoformat(raw)
    except ValueError:
        form.error(name, form.t("studio.bad_time"))
        return None
    return typed.replace(tzinfo=DISPLAY_TZ).astimezone(UTC)


@router.post("/content/live")
def schedule(console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    form = Form(data, console.t)
    account_id, product_ids = _read_common(console, form, _accounts(console))
    starts = local_time(form, "starts_at")
    if not product_ids:
        form.error("products", console.t("studio.pick_products"))
    if not form.ok or account_id is None:
        return _render_schedule(console, form, status_code=422)
    try:
        content = flows.publish_content(
            console.db,
            account_id,
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
            "products" if field.startswith("anchors") else (field or "products"),
            error_message(console.t, exc),
        )
        return _render_schedule(console, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/live/{content.id}", flash="studio.scheduled")


# --- the host dashboard ----------------------------------------------------------------------------


def _own_live(console: Console, content_id: int) -> Content:
    assert console.shop_id is not None
    content = content_service.content_for_shop(console.db, console.shop_id, content_id)
    if content.kind is not ContentKind.live:
        raise NotFound("not a live session", code="content_not_found")
    return content


def _flash_sales_waiting(console: Console, content_id: int) -> dict[str, Any]:
    return {
        "flash_sales": {s.product_id: s for s in flashsales_service.waiting_for_room(console.db, content_id)}
    }


HOST = LiveHost(
    base="/merchant/live",
    nav="studio",
    own_live=_own_live,
    may_control=lambda console: console.require_manager(),
    extra=_flash_sales_waiting,
)


@router.get("/live/{content_id}")
def host_dashboard(console: MerchantConsole, content_id: IdPath) -> Response:
    return HOST.dashboard(console, content_id)


@router.get("/live/{content_id}/stats")
def host_stats(console: MerchantConsole, content_id: IdPath) -> Response:
    return HOST.stats(console, content_id)


@router.get("/live/{content_id}/events")
async def host_events(request: Request, console: MerchantConsole, content_id: IdPath) -> StreamingResponse:
    """The room's events for its host (viewers, comments, likes, sales, pins, status)."""
    return await HOST.events(request, console, content_id)


@router.post("/live/{content_id}/start")
def start(console: MerchantConsole, content_id: IdPath, _: FormData) -> Response:
    return HOST.start(console, content_id)


@router.post("/live/{content_id}/end")
def end(console: MerchantConsole, content_id: IdPath, _: FormData) -> Response:
    return HOST.end(console, content_id)


@router.post("/live/{content_id}/pin")
def pin(console: MerchantConsole, content_id: IdPath, data: FormData) -> Response:
    return HOST.pin(console, content_id, data.get("product_id"))


@router.post("/live/{content_id}/unpin")
def unpin(console: MerchantConsole, content_id: IdPath, _: FormData) -> Response:
    return HOST.unpin(console, content_id)
