"""GET /api/operator/jobs: every background job's schedule and last run, for operators."""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.deps import DbSession, OperatorUser
from zhongcao.jobs.status import JobStatusOut, statuses

router = APIRouter(tags=["jobs"])


@router.get("/api/operator/jobs", response_model=list[JobStatusOut])
def list_jobs(_: OperatorUser, db: DbSession) -> list[JobStatusOut]:
    """Each job (payment timeouts, after-sales deadlines, Compass snapshots, the feed's catch-up ...):
    its schedule, the status of its last run (``never_run``, ``running``, ``ok``, ``failed``), its last
    error and result counts, failures in a row (``attempts``) and when it is due next. Operators only."""
    return statuses(db)
