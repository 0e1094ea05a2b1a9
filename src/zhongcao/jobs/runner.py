"""Running jobs: claim a due job in ``job_runs``, run it, record how it went, schedule the next run.

The same code path serves every way jobs run:

* :func:`execute`, one run: every run on either database goes through it, so ``job_runs`` holds the
  operators' status on both (on PostgreSQL Procrastinate's task calls it: :mod:`zhongcao.jobs.postgres`).
* ``zhongcao worker`` on the embedded SQLite default (:class:`Worker`), which Procrastinate cannot
  use: every registered job on its schedule, one thread per job so a long snapshot build never delays
  the short-interval ones; any number of workers may run (a claim is a compare-and-set on the job's
  row, so each run happens in exactly one of them).
* ``zhongcao jobs run`` and the market simulation (:func:`run_now`), on both databases: the named jobs
  once, now, in-process.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from zhongcao import clock
from zhongcao.config import Settings
from zhongcao.db import Database
from zhongcao.jobs import definitions  # noqa: F401  (registers the platform's jobs)
from zhongcao.jobs.loop_lock import held_for_run, uses_loop_lock
from zhongcao.jobs.models import JobRun
from zhongcao.jobs.registry import Counts, Job, JobContext, registered

log = logging.getLogger("zhongcao.jobs")

MAX_ERROR_CHARS = 2000


def _ensure_row(database: Database, job: Job, now: datetime) -> None:
    with database.session() as db:
        if db.get(JobRun, job.name) is not None:
            return
        db.add(JobRun(name=job.name, status="idle", next_due_at=now, attempts=0, runs=0, failures=0))
        try:
            db.commit()
        except IntegrityError:  # another runner added it first
            db.rollback()


def claim(
    database: Database, job: Job, now: datetime, *, force: bool = False, takeover: bool = False
) -> str | None:
    """Take the job's next run: a token when this runner got it, None when it is not due yet (unless
    ``force``) or another runner holds a live claim. ``takeover``: the caller knows it is the job's
    only runner (it holds the job's loop lock, :mod:`zhongcao.jobs.loop_lock`), so a claim still
    marked running was left by a runner that died: take it without waiting for its lease."""
    _ensure_row(database, job, now)
    token = secrets.token_hex(8)
    abandoned = now - timedelta(seconds=job.lease_s)
    conditions = [JobRun.name == job.name]
    if not takeover:
        conditions.append(or_(JobRun.status != "running", JobRun.last_started_at < abandoned))
    if not force:
        conditions.append(JobRun.next_due_at <= now)
    with database.session() as db:
        result = db.execute(
            update(JobRun)
            .where(*conditions)
            .values(
                status="running",
                claim_token=token,
                last_started_at=now,
                next_due_at=now + timedelta(seconds=job.every_s),
            )
            .execution_options(synchronize_session=False)
        )
        db.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


def _finish(
    database: Database, job: Job, token: str, started: datetime, result: Counts | None, error: str | None
) -> None:
    finished = clock.now()
    with database.session() as db:
        row = db.execute(
            select(JobRun).where(JobRun.name == job.name, JobRun.claim_token == token).with_for_update()
        ).scalar_one_or_none()
        if row is None:  # the claim was taken over (this run outlived its lease): leave it to the new one
            return
        row.claim_token = None
        row.last_finished_at = finished
        row.runs = (row.runs or 0) + 1
        if error is None:
            row.status, row.attempts, row.last_ok_at, row.last_error = "ok", 0, finished, None
            row.last_result = dict(result or {})
        else:
            row.status, row.attempts = "failed", (row.attempts or 0) + 1
            row.failures = (row.failures or 0) + 1
            row.last_error = error[-MAX_ERROR_CHARS:]
            row.next_due_at = finished + timedelta(seconds=job.retry_delay(row.attempts))
        db.commit()


def execute(
    job: Job, context: JobContext, *, force: bool = False, owner: bool = False
) -> tuple[bool, Counts | None, str | None]:
    """Claim and run ``job`` once: (ran, counts, error). Not due, or held elsewhere: (False, None, None).

    A sub-second job on PostgreSQL runs only under its loop lock (:mod:`zhongcao.jobs.loop_lock`):
    ``owner`` says the caller holds it (a job worker's loop); anyone else takes it for this run, or
    skips the run while a worker's loop holds it."""
    if not owner and uses_loop_lock(context.database, job.every_s):
        with held_for_run(context.database, job.name) as got:
            if not got:
                return False, None, None
            return _execute(job, context, force=force, takeover=True)
    return _execute(job, context, force=force, takeover=owner)


def _execute(
    job: Job, context: JobContext, *, force: bool, takeover: bool
) -> tuple[bool, Counts | None, str | None]:
    started = clock.now()
    token = claim(context.database, job, started, force=force, takeover=takeover)
    if token is None:
        return False, None, None
    result: Counts | None = None
    error: str | None = None
    try:
        result = job.run(context) or {}
    except Exception as exc:  # recorded for operators; retried after the backoff
        error = f"{type(exc).__name__}: {exc}"
        log.exception("job %s failed", job.name)
    _finish(context.database, job, token, started, result, error)
    return True, result, error


def run_now(
    database: Database,
    settings: Settings,
    names: Iterable[str] | None = None,
    now: datetime | None = None,
    *,
    business_only: bool = True,
) -> Counts:
    """Run the named jobs (default: the business rules) once, now, whatever their schedule; their
    counts merged. A job another runner is running now is skipped. A failed job does not stop the
    others; the first failure is raised (as :class:`JobFailed`, with the counts so far) once all ran."""
    jobs = registered()
    chosen = (
        [jobs[n] for n in names]
        if names is not None
        else [j for j in jobs.values() if j.business or not business_only]
    )
    context = JobContext(database, settings, now)
    counts: Counts = {}
    failed: JobFailed | None = None
    for entry in chosen:
        _ran, result, error = execute(entry, context, force=True)
        if error is not None and failed is None:
            failed = JobFailed(entry.name, error, counts)
        counts.update(result or {})
    if failed is not None:
        raise failed
    return counts


class JobFailed(RuntimeError):
    def __init__(self, name: str, error: str, counts: Counts) -> None:
        super().__init__(f"job {name} failed: {error}")
        self.name = name
        self.error = error
        self.counts = counts


class Worker:
    """Every registered job on its schedule (``zhongcao worker``), until :meth:`stop`.

    One thread per job: each sleeps until its job is due by its own last claim, then tries to claim it
    (another worker may have run it meanwhile; the table decides). A job worker is the one process
    that runs background work, so its threads are its purpose; API workers run none."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        names: Iterable[str] | None = None,
        *,
        poll_s: float = 5.0,
    ) -> None:
        jobs = registered()
        self.jobs = [jobs[n] for n in names] if names is not None else list(jobs.values())
        self.context = JobContext(database, settings)
        self.poll_s = poll_s  # the longest a thread sleeps before re-reading its job's row
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for entry in self.jobs:
            thread = threading.Thread(target=self._loop, args=(entry,), name=f"job-{entry.name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _loop(self, entry: Job) -> None:
        while not self._stop.is_set():
            try:
                self._tick(entry)
            except Exception:  # the database may be away for a moment: try again later
                log.exception("job %s: could not claim", entry.name)
                self._stop.wait(min(self.poll_s, max(entry.every_s, 0.5)))

    def _tick(self, entry: Job) -> None:
        execute(entry, self.context)
        with self.context.database.session(read_only=True) as db:
            due = db.execute(select(JobRun.next_due_at).where(JobRun.name == entry.name)).scalar_one_or_none()
        wait = self.poll_s if due is None else (due - clock.now()).total_seconds()
        self._stop.wait(min(max(wait, 0.0), self.poll_s))

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the runs under way (each thread waits at most ``timeout`` seconds for its own)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()
