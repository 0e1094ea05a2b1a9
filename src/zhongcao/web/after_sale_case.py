"""What the shopper's and the merchant's after-sales case pages share: the case's timeline, both
sides' evidence images with their URLs, and storing one uploaded evidence image through the media
pipeline (the same checks as the product editor's pictures and ``POST /api/media/images``).

Evidence forms post to one fixed address per side (the case id is a form field), so that the body
limit (``evidence_upload_limits``, api.py) can allow one image.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSale, AfterSaleStatus
from zhongcao.config import Settings
from zhongcao.errors import DomainError
from zhongcao.media import service as media_service
from zhongcao.media.views import MULTIPART_ALLOWANCE, get_storage
from zhongcao.web.forms import Form, error_message

SHOPPER_EVIDENCE_PATH = "/after-sales/evidence"
MERCHANT_EVIDENCE_PATH = "/merchant/after-sales/evidence"
# The carriers a returned parcel can be handed to (as the merchant's ship form lists them).
RETURN_CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "EMS")
CASE_STEPS = (
    "requested",
    "decided",
    "return_shipped",
    "returned",
    "escalated",
    "arbitrated",
    "refunded",
    "closed",
)


def evidence_upload_limits(settings: Settings) -> dict[str, int]:
    """One image per evidence form (BodySizeLimitMiddleware)."""
    limit = settings.media_max_image_bytes + MULTIPART_ALLOWANCE
    return {SHOPPER_EVIDENCE_PATH: limit, MERCHANT_EVIDENCE_PATH: limit}


def case_events(case: AfterSale) -> list[tuple[str, Any]]:
    """The case's steps in time order (message keys ``timeline.case_<step>``); a rejection and an
    approval are both the merchant's decision, told apart by the status and note."""
    withdrawn = case.status is AfterSaleStatus.cancelled
    events = [
        ("case_withdrawn" if withdrawn and name == "closed" else f"case_{name}", getattr(case, f"{name}_at"))
        for name in CASE_STEPS
    ]
    return sorted(((name, at) for name, at in events if at is not None), key=lambda pair: pair[1])


def evidence_by_side(db: Session, case_id: int) -> dict[str, list[tuple[Any, dict[str, str]]]]:
    """``side -> [(evidence row, {variant: url})]`` for the buyer and the merchant, oldest first."""
    rows = aftersales_service.evidence_for(db, case_id)
    urls = media_service.image_urls(db, [e.media_id for e in rows])
    return {
        side: [(e, urls.get(e.media_id, {})) for e in rows if e.side.value == side]
        for side in ("buyer", "merchant")
    }


def store_image(
    request: Request, db: Session, data: Any, form: Form, uploader: media_service.Uploader
) -> int | None:
    """Store the form's ``image`` file as the uploader's media; the error goes on the field."""
    upload = data.get("image")
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.error("image", form.t("aftersale.evidence.pick"))
        return None
    settings: Settings = request.app.state.settings
    try:
        raw = upload.file.read(settings.media_max_image_bytes + 1)
        if len(raw) > settings.media_max_image_bytes:
            raise media_service.too_large(settings.media_max_image_bytes, "image")
        media = media_service.upload_image(db, get_storage(request), settings, uploader, raw)
    except DomainError as exc:
        db.rollback()
        form.error("image", error_message(form.t, exc))
        return None
    return media.id


def discard_image(request: Request, db: Session, media_id: int, uploader: media_service.Uploader) -> None:
    """Remove an image stored for evidence the case then refused (closed, or nine already)."""
    db.rollback()
    media_service.delete_media(db, get_storage(request), media_id, uploader)
