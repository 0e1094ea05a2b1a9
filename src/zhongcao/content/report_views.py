"""Reports of videos and live rooms through the API: a signed-in person reports an item; operators
read the queue and dismiss an item's reports or take it down (``POST /api/ops/content/{id}/take-down``
closes its open reports). The rules are in ``content/reports.py``; the pages call the same functions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from zhongcao.content import reports, service
from zhongcao.content.models import ReportReason
from zhongcao.content.schemas import (
    DismissedOut,
    DismissReportsIn,
    OpsReportOut,
    ReportedItemOut,
    ReportIn,
    ReportOut,
    ReportReasonCount,
)
from zhongcao.deps import CurrentUser, DbSession, OperatorUser
from zhongcao.fields import IdPath
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter()
Params = Annotated[PageParams, Depends(page_params)]


@router.post("/api/content/{content_id}/reports", status_code=201, response_model=ReportOut, tags=["content"])
def report_content(content_id: IdPath, body: ReportIn, user: CurrentUser, db: DbSession) -> ReportOut:
    """Report a video or live room to the platform's operators, once per item. 404
    ``content_not_found`` (or removed); 409 ``already_reported``; 422 ``own_content``,
    ``details_required`` (reason ``other`` without details)."""
    row = reports.report(db, content_id, user_id=user.id, reason=body.reason, details=body.details)
    return ReportOut.model_validate(row)


@router.get("/api/content/{content_id}/reports/mine", response_model=ReportOut | None, tags=["content"])
def my_report(content_id: IdPath, user: CurrentUser, db: DbSession) -> ReportOut | None:
    """The caller's report of this item and whether it was acted on (``null`` when none)."""
    service.get_content(db, content_id)
    row = reports.my_report(db, content_id, user.id)
    return ReportOut.model_validate(row) if row is not None else None


@router.get("/api/ops/content-reports", response_model=Page[ReportedItemOut], tags=["ops"])
def ops_report_queue(
    _: OperatorUser, db: DbSession, params: Params, reason: ReportReason | None = None
) -> Page[ReportedItemOut]:
    """Items with open reports, the most recently reported first, with counts by reason; ``reason``
    keeps the items someone reported for it."""
    items, cursor = reports.queue_page(db, params, reason=reason)
    return Page(
        items=[
            ReportedItemOut(
                content_id=i.content.id,
                kind=i.content.kind,
                status=i.content.status,
                title_zh=i.content.title_zh,
                title_en=i.content.title_en,
                account_id=i.account.id,
                account_name=i.account.name,
                open_reports=i.open_reports,
                reasons=[ReportReasonCount(reason=r, count=n) for r, n in i.reasons],
                last_reported_at=i.last_reported_at,
            )
            for i in items
        ],
        next_cursor=cursor,
    )


@router.get("/api/ops/content/{content_id}/reports", response_model=list[OpsReportOut], tags=["ops"])
def ops_open_reports(content_id: IdPath, _: OperatorUser, db: DbSession) -> list[OpsReportOut]:
    """One item's open reports, oldest first (404 ``content_not_found``)."""
    service.get_content(db, content_id)
    return [OpsReportOut.model_validate(r) for r in reports.open_reports(db, content_id)]


@router.post("/api/ops/content/{content_id}/reports/dismiss", response_model=DismissedOut, tags=["ops"])
def ops_dismiss_reports(
    content_id: IdPath, body: DismissReportsIn, operator: OperatorUser, db: DbSession
) -> DismissedOut:
    """Close the item's open reports without acting on it, saying why (audited as
    ``content.dismiss_reports``). 422 ``reason_required``; 409 ``no_open_reports``."""
    closed = reports.dismiss(db, content_id, operator_user_id=operator.id, reason=body.reason)
    return DismissedOut(dismissed=closed)
