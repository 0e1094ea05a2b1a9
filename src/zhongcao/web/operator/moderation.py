"""Content moderation (内容治理) in the operator console: recent content searched by id, title or
account, a take-down with a reason (a live on air is ended), and the appeals queue where an operator
restores the content or upholds the take-down, with a reason the owner sees.

The same ``content.moderation`` functions as ``POST /api/ops/content/{id}/take-down`` and
``POST /api/ops/content-appeals/{id}/decide``: each action writes its audit entry in the same
transaction, and a take-down leaves feeds and search within a second (docs/operators.md).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.audit import service as audit_service
from zhongcao.content import moderation, reports
from zhongcao.content.models import AppealStatus, ReportReason
from zhongcao.errors import DomainError
from zhongcao.web.console import Console, CursorQuery, IdPath, OperatorConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/operator/moderation")

BASE = "/operator/moderation"
REPORT_REASONS = [r.value for r in ReportReason]
APPEAL_FILTERS = [s.value for s in AppealStatus if s is not AppealStatus.none]


@router.get("")
def content_list(
    console: OperatorConsole,
    q: Annotated[str | None, Query(max_length=100)] = None,
    show: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    wanted = show if show in moderation.SHOW else "all"
    query = (q or "").strip()
    rows, next_cursor = page_of(
        lambda p: moderation.content_page(console.db, p, q=query, show=wanted), cursor
    )
    kept = {k: v for k, v in (("q", query), ("show", wanted if wanted != "all" else "")) if v}
    return console.render(
        "operator/moderation.html",
        "moderation",
        rows=rows,
        q=query,
        show=wanted,
        filters=[s for s in moderation.SHOW if s != "all"],
        next_cursor=next_cursor,
        pager_base=BASE + ("?" + urlencode(kept) if kept else ""),
        pending=moderation.pending_appeal_count(console.db),
        reported=reports.open_report_count(console.db),
    )


@router.get("/reports")
def report_queue(
    console: OperatorConsole,
    reason: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    """Items shoppers reported, the most recently reported first, with counts by reason; the chips
    keep one reason."""
    wanted = ReportReason(reason) if reason in REPORT_REASONS else None
    items, next_cursor = page_of(lambda p: reports.queue_page(console.db, p, reason=wanted), cursor)
    return console.render(
        "operator/moderation_reports.html",
        "moderation_reports",
        items=items,
        next_cursor=next_cursor,
        reason=wanted.value if wanted else "",
        reasons=REPORT_REASONS,
        pager_base=f"{BASE}/reports" + (f"?reason={wanted.value}" if wanted else ""),
        waiting=reports.open_report_count(console.db),
    )


@router.get("/appeals")
def appeals(
    console: OperatorConsole,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    wanted = AppealStatus(status) if status in APPEAL_FILTERS else AppealStatus.pending
    rows, next_cursor = page_of(lambda p: moderation.appeals_page(console.db, p, status=wanted), cursor)
    return console.render(
        "operator/moderation_appeals.html",
        "moderation_appeals",
        rows=rows,
        status=wanted.value,
        filters=APPEAL_FILTERS,
        next_cursor=next_cursor,
        pending=moderation.pending_appeal_count(console.db),
    )


def _render_item(
    console: Console, content_id: int, form: Form | None = None, which: str = "", status_code: int = 200
) -> Response:
    row = moderation.moderation_row(console.db, content_id)
    return console.render(
        "operator/moderation_item.html",
        "moderation",
        status_code=status_code,
        row=row,
        history=moderation.history(console.db, content_id),
        reports=reports.open_reports(console.db, content_id),
        entries=audit_service.entries_for(console.db, moderation.TARGET, content_id),
        form=form,
        which=which,
        typed=form.values if form is not None else {},
    )


@router.get("/{content_id}")
def item(console: OperatorConsole, content_id: IdPath) -> Response:
    return _render_item(console, content_id)


def _refused(console: Console, content_id: int, form: Form, which: str, exc: DomainError) -> Response:
    console.db.rollback()
    if exc.status_code == 404:
        raise exc
    form.add_domain_error(exc)
    if form.ok:  # a refusal about the whole item (taken down already, decided already)
        form.message = error_message(console.t, exc)
    return _render_item(console, content_id, form, which, status_code=exc.status_code)


@router.post("/{content_id}/take-down")
def take_down(console: OperatorConsole, content_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    reason = form.text("reason", required=True, max_length=audit_service.MAX_REASON)
    if not form.ok:
        return _render_item(console, content_id, form, "take_down", status_code=422)
    try:
        moderation.take_down(console.db, content_id, operator_user_id=console.user_id, reason=reason)
    except DomainError as exc:
        return _refused(console, content_id, form, "take_down", exc)
    return console.redirect(f"{BASE}/{content_id}", flash="moderation.taken_down")


@router.post("/{content_id}/decide")
def decide(console: OperatorConsole, content_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    outcome = form.choice("outcome", list(moderation.OUTCOMES), message=console.t("moderation.pick_outcome"))
    reason = form.text("reason", required=True, max_length=audit_service.MAX_REASON)
    if not form.ok or outcome is None:
        return _render_item(console, content_id, form, "decide", status_code=422)
    takedown = moderation.latest_takedown(console.db, content_id)
    if takedown is None:
        form.message = console.t("err.appeal_not_pending")
        return _render_item(console, content_id, form, "decide", status_code=409)
    try:
        moderation.decide_appeal(
            console.db, takedown.id, operator_user_id=console.user_id, outcome=outcome, reason=reason
        )
    except DomainError as exc:
        return _refused(console, content_id, form, "decide", exc)
    flash = "moderation.restored" if outcome == moderation.Outcome.restore else "moderation.upheld"
    return console.redirect(f"{BASE}/{content_id}", flash=flash)


@router.post("/{content_id}/dismiss-reports")
def dismiss_reports(console: OperatorConsole, content_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    reason = form.text("reason", required=True, max_length=audit_service.MAX_REASON)
    if not form.ok:
        return _render_item(console, content_id, form, "dismiss", status_code=422)
    try:
        reports.dismiss(console.db, content_id, operator_user_id=console.user_id, reason=reason)
    except DomainError as exc:
        return _refused(console, content_id, form, "dismiss", exc)
    return console.redirect(f"{BASE}/{content_id}", flash="reports.dismissed")
