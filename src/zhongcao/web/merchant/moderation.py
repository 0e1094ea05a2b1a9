"""Why the shop's content was taken down, and its one appeal (内容申诉): the studio list links here
from every item an operator took down. The same ``content.moderation`` calls as
``GET /api/merchant/content/{id}/takedown`` and ``POST /api/merchant/content/{id}/appeal``; the
content is read through ``content_for_shop``, so another shop's item is not found."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.content import service as content_service
from zhongcao.web.console import IdPath, MerchantConsole
from zhongcao.web.context import FormData
from zhongcao.web.takedowns import appeal_from_form, render_takedown

router = APIRouter(prefix="/merchant")


@router.get("/content/{content_id}/takedown")
def takedown(console: MerchantConsole, content_id: IdPath) -> Response:
    assert console.shop_id is not None
    content = content_service.content_for_shop(console.db, console.shop_id, content_id)
    return render_takedown(console, content, "/merchant/content", f"/merchant/content/{content_id}/appeal")


@router.post("/content/{content_id}/appeal")
def appeal(console: MerchantConsole, content_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    content = content_service.content_for_shop(console.db, console.shop_id, content_id)
    return appeal_from_form(
        console, content, data, "/merchant/content", f"/merchant/content/{content_id}/appeal"
    )
