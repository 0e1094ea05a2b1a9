"""The operators' audit log and workbench over the API (operators only): search the log, newest
first; the queues waiting for an operator with their counts. Nothing here edits an entry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from zhongcao import flows
from zhongcao.audit import service
from zhongcao.audit.schemas import AuditEntryOut, QueueOut, WorkbenchOut
from zhongcao.deps import DbSession, OperatorUser
from zhongcao.errors import InvalidInput
from zhongcao.fields import IdQuery
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter(tags=["ops"])


@router.get("/api/ops/audit", response_model=Page[AuditEntryOut])
def audit_log(
    _: OperatorUser,
    db: DbSession,
    q: Annotated[str | None, Query(max_length=200, description="Text in the reason or the action")] = None,
    action: Annotated[str | None, Query(max_length=60, description='e.g. "shop.suspend"')] = None,
    target_kind: Annotated[str | None, Query(max_length=40, description='e.g. "shop", "user"')] = None,
    target_id: IdQuery = None,
    actor_id: IdQuery = None,
    since: Annotated[datetime | None, Query(description="From (inclusive), ISO 8601 with a zone")] = None,
    until: Annotated[datetime | None, Query(description="Until (exclusive), ISO 8601 with a zone")] = None,
    params: PageParams = Depends(page_params),
) -> Page[AuditEntryOut]:
    """Every operator action, newest first: who, when, what, on what, why, before and after."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("give the time with its zone", code="naive_datetime", field=name)
    rows, cursor = service.entries_page(
        db,
        params,
        q=q,
        action=action or None,
        target_kind=target_kind or None,
        target_id=target_id,
        actor_user_ids=[actor_id] if actor_id is not None else None,
        since=since,
        until=until,
    )
    return Page(items=[AuditEntryOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/api/ops/workbench", response_model=WorkbenchOut)
def workbench(_: OperatorUser, db: DbSession) -> WorkbenchOut:
    """Each queue waiting for an operator, with how many items wait in it and the page that works it."""
    return WorkbenchOut(
        queues=[QueueOut(key=q.key, count=n, href=q.href) for q, n in flows.workbench_counts(db)]
    )
