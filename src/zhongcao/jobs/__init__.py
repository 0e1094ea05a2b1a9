"""Background work as jobs: a registry of plain functions (``registry``, ``definitions``), run by
Procrastinate on PostgreSQL (``postgres``) and in-process on the embedded SQLite default (``runner``),
``zhongcao worker`` choosing by the database (``worker``), and their status for operators
(``status``, the ``job_runs`` table, written by every run on both). See docs/architecture.md."""

from __future__ import annotations

from datetime import datetime

from zhongcao.db import Database


def run_due_jobs(database: Database, now: datetime | None = None) -> dict[str, int]:
    """The business rules once, now (payment timeouts, after-sales deadlines, auto-completion, the
    nightly scores): what the market simulation runs at the end of each day."""
    # Imported here, not above: ``zhongcao.jobs.models`` (the table, imported with every domain's
    # models) must not load every job's domain with it.
    from zhongcao.config import get_settings
    from zhongcao.jobs.runner import run_now

    return run_now(database, get_settings(), now=now)
