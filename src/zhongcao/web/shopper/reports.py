"""Reporting a video or live room (举报): a link under every video and live room opens a short form (a
reason and, optionally, what is wrong); the report goes to the operators' queue
(``/operator/moderation/reports``). The same ``content.reports.report`` as
``POST /api/content/{id}/reports``; someone who reported the item already sees their report and
whether it was acted on instead of the form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.content import reports
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind, ReportReason
from zhongcao.errors import DomainError
from zhongcao.fields import IdPath
from zhongcao.web.context import FormData, ShopperPage
from zhongcao.web.forms import Form

router = APIRouter()

REASONS = [r.value for r in ReportReason]


def _back(content: Content) -> str:
    return f"/{'live' if content.kind is ContentKind.live else 'videos'}/{content.id}"


def _render(page: Any, content: Content, form: Form | None, status_code: int = 200) -> Response:
    mine = reports.my_report(page.db, content.id, page.user.id) if form is None else None
    return page.render(
        "shopper/report.html",
        status_code=status_code,
        content=content,
        back=_back(content),
        mine=mine,
        reasons=[(r, page.t(f"reports.reason.{r}")) for r in REASONS],
        values=form.values if form else {},
        form=form,
    )


@router.get("/content/{content_id}/report")
def report_form(page: ShopperPage, content_id: IdPath) -> Response:
    return _render(page, content_service.get_public_content(page.db, content_id), None)


@router.post("/content/{content_id}/report")
def report_submit(page: ShopperPage, content_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    content = content_service.get_public_content(page.db, content_id)
    form = Form(data, page.t)
    reason = form.choice("reason", REASONS, message=page.t("reports.choose_reason"))
    details = form.text("details", max_length=reports.MAX_DETAILS)
    if form.ok and reason:
        try:
            reports.report(page.db, content_id, user_id=page.user.id, reason=reason, details=details)
        except DomainError as exc:
            page.db.rollback()
            if exc.status_code == 404:
                raise
            form.add_domain_error(exc, {"details": "details", "reason": "reason"})
            if exc.code == "already_reported":
                return _render(page, content, None)
        else:
            return page.redirect(_back(content), flash="reports.thanks")
    return _render(page, content, form, status_code=422)
