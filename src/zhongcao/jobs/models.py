"""One row per registered job: the runner's claim on it and what operators see (``GET /api/operator/jobs``).

The row is both the status and the lock: a runner claims a due job by moving ``next_due_at`` forward and
setting ``status = running`` in one conditional UPDATE (compare-and-set on ``claim_token``), so two job
workers, or a worker and ``zhongcao jobs run``, never run the same job at once. A claim older than the
job's lease is considered abandoned (a worker killed mid-run) and may be taken over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, json_type


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="idle")  # idle | running | ok | failed
    next_due_at: Mapped[datetime]
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_started_at: Mapped[datetime | None] = mapped_column(default=None)
    last_finished_at: Mapped[datetime | None] = mapped_column(default=None)
    last_ok_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Failures in a row (0 after a success): the retry delay doubles with each.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_result: Mapped[Any] = mapped_column(json_type(), default=dict)
