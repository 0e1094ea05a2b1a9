"""What operators see of the jobs: per registered job its schedule and its last run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.jobs import definitions  # noqa: F401  (registers the platform's jobs)
from zhongcao.jobs.models import JobRun
from zhongcao.jobs.registry import registered


class JobStatusOut(BaseModel):
    name: str
    description: str
    every_s: float
    status: str  # never_run | running | ok | failed
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_ok_at: datetime | None
    next_due_at: datetime | None
    last_error: str | None
    attempts: int  # failures in a row
    runs: int
    failures: int
    last_result: dict[str, Any]


def statuses(db: Session) -> list[JobStatusOut]:
    rows = {row.name: row for row in db.execute(select(JobRun)).scalars()}
    out = []
    for name, entry in sorted(registered().items()):
        row = rows.get(name)
        out.append(
            JobStatusOut(
                name=name,
                description=entry.description,
                every_s=entry.every_s,
                status=(row.status if row.runs or row.status == "running" else "never_run")
                if row is not None
                else "never_run",
                last_started_at=row.last_started_at if row else None,
                last_finished_at=row.last_finished_at if row else None,
                last_ok_at=row.last_ok_at if row else None,
                next_due_at=row.next_due_at if row else None,
                last_error=row.last_error if row else None,
                attempts=row.attempts if row else 0,
                runs=row.runs if row else 0,
                failures=row.failures if row else 0,
                last_result=dict(row.last_result or {}) if row else {},
            )
        )
    return out
