"""What a viewer does in a live room besides buying: comments and likes (every viewer sees them at
once, over the room's channel), and the pinned product's card as the host changes it.

The page's script posts the forms with ``fetch`` (``X-Requested-With: fetch``) and gets JSON back;
without script the same forms post normally and come back to the room. Both go through
``content.live``, the code the JSON API (``/api/live/...``) uses.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from zhongcao.content import live as content_live
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind
from zhongcao.errors import DomainError
from zhongcao.web import i18n
from zhongcao.web.context import FormData, Page, SignedInPage
from zhongcao.web.forms import error_message
from zhongcao.web.shopper.common import IdPath, ProductTile
from zhongcao.web.shopper.flash_sale import flash_context

router = APIRouter()


def _wants_json(page: Any) -> bool:
    return page.request.headers.get("x-requested-with") == "fetch"


def _refused(page: Any, content_id: int, exc: DomainError) -> Response:
    page.db.rollback()
    if _wants_json(page):
        return JSONResponse(
            {"error": {"code": exc.code, "message": error_message(page.t, exc)}}, status_code=exc.status_code
        )
    flash_key = "err." + exc.code
    return page.redirect(
        f"/live/{content_id}", flash=flash_key if i18n.has_message(flash_key) else "live.refused"
    )


@router.post("/live/{content_id}/comments")
def comment(page: SignedInPage, content_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    raw = data.get("body")
    try:
        view = content_live.post_comment(
            page.db, content_id, page.user.id, raw if isinstance(raw, str) else ""
        )
    except DomainError as exc:
        return _refused(page, content_id, exc)
    if _wants_json(page):
        return JSONResponse({"id": view.id, "body": view.body}, status_code=201)
    return page.redirect(f"/live/{content_id}#comments")


@router.post("/live/{content_id}/likes")
def like(page: SignedInPage, content_id: IdPath, data: FormData) -> Response:
    raw = str(data.get("count") or "1")
    taps = int(raw) if raw.isdigit() and len(raw) < 4 else 0
    try:
        total = content_live.add_likes(page.db, content_id, taps)
    except DomainError as exc:
        return _refused(page, content_id, exc)
    if _wants_json(page):
        return JSONResponse({"total": total})
    return page.redirect(f"/live/{content_id}")


def pinned_tile(db: Any, content_id: int) -> ProductTile | None:
    content = content_service.get_public_content(db, content_id)
    if content.kind is not ContentKind.live or content.pinned_product_id is None:
        return None
    view = content_service.content_view(db, content)
    for anchor, brief in view.anchors:
        if anchor.product_id == content.pinned_product_id and brief is not None and brief.on_sale:
            return ProductTile(
                id=brief.id, title_zh=brief.title_zh, title_en=brief.title_en, price_fen=brief.price_fen
            )
    return None


@router.get("/live/{content_id}/pinned")
def pinned(page: Page, content_id: IdPath) -> Response:
    """The pinned product's card, as the room shows it (empty when nothing is pinned)."""
    response = page.render(
        "shopper/_pinned.html",
        pinned=(tile := pinned_tile(page.db, content_id)),
        source=f"live:{content_id}",
        flash=flash_context(page, tile.id) if tile is not None else None,
        room_id=content_id,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
