"""Why the creator's content was taken down, and its one appeal: "my content" links here from every
item an operator took down. The same calls as ``GET /api/creator/content/{id}/takedown`` and
``POST /api/creator/content/{id}/appeal``, scoped to the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.content import service as content_service
from zhongcao.web.console import CreatorConsole, IdPath
from zhongcao.web.context import FormData
from zhongcao.web.takedowns import appeal_from_form, render_takedown

router = APIRouter(prefix="/creator")


@router.get("/content/{content_id}/takedown")
def takedown(console: CreatorConsole, content_id: IdPath) -> Response:
    assert console.account_id is not None
    content = content_service.content_for_account(console.db, console.account_id, content_id)
    return render_takedown(console, content, "/creator", f"/creator/content/{content_id}/appeal")


@router.post("/content/{content_id}/appeal")
def appeal(console: CreatorConsole, content_id: IdPath, data: FormData) -> Response:
    assert console.account_id is not None
    content = content_service.content_for_account(console.db, console.account_id, content_id)
    return appeal_from_form(console, content, data, "/creator", f"/creator/content/{content_id}/appeal")
