"""On PostgreSQL the registered jobs run through Procrastinate (a maintained PostgreSQL job queue).

What Procrastinate does here, and what stays ours:

* Schedules: each job is a Procrastinate periodic task (cron with seconds, from the job's
  ``every_s``). Every worker runs the periodic deferrer; ``procrastinate_periodic_defers`` is unique per
  (task, tick), so each tick is queued once however many workers run.
* Once, at most one at a time: ``queueing_lock`` keeps at most one run of a job waiting, ``lock``
  keeps two runs of it from running at once; workers take jobs with ``FOR UPDATE SKIP LOCKED``.
* Retries with exponential backoff: :class:`Backoff`, a Procrastinate ``RetryStrategy`` with the
  job's own delays (``retry_base_s`` doubling per failure, at most ``retry_max_s``).
* Jobs of a worker killed mid-run: the upkeep task hands them to the next worker, and deletes old
  finished Procrastinate jobs.
* What a run does is ours and the same on both backends: the task calls :func:`runner.execute`, which
  records the run in ``job_runs`` (the operators' status, ``GET /api/operator/jobs``) and keeps a run
  from overlapping one that ``zhongcao jobs run`` started in-process.

Jobs shorter than Procrastinate's one-second cron (``search_follow``, every 0.5 s, behind the
"searchable within one second" promise) run as one task a minute that repeats the job every
``every_s`` until a second past the next minute, so the next minute's task has started when it stops:
the job never pauses longer than its interval, and still runs where Procrastinate puts it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate import JobContext as TaskContext
from procrastinate import RetryDecision, RetryStrategy
from procrastinate import jobs as procrastinate_jobs
from procrastinate import worker as procrastinate_worker
from sqlalchemy import text

from zhongcao.config import Settings
from zhongcao.db import Database
from zhongcao.jobs.registry import Counts, Job, JobContext, registered
from zhongcao.jobs.runner import JobFailed, execute

log = logging.getLogger("zhongcao.jobs")

LOOP_CRON = "* * * * *"  # a sub-second job's long task starts every minute
LOOP_WINDOW_S = 60.0
LOOP_OVERLAP_S = 1.0  # past the next minute's start (its defer comes ~0.5 s after the minute)
UPKEEP_QUEUE = "zhongcao.upkeep"
STALLED_AFTER_S = 60.0  # a worker silent this long (it beats every 10 s) is dead: its jobs run again
KEEP_FINISHED_HOURS = 72  # failed and aborted Procrastinate jobs kept this long (succeeded: deleted)
# New ticks are only queued by a running worker: one that starts late catches up the last tick within
# this long (a new worker runs the hourly score check at once, as the SQLite runner does).
MAX_DELAY_S = 3600.0
POLL_S = 1.0  # retries come due without a notification: look for them every second


def task_name(name: str) -> str:
    return f"zhongcao.{name}"


def queue_name(name: str) -> str:
    # A queue per job: ``zhongcao worker --only NAME`` takes only that job's runs.
    return f"zhongcao.{name}"


def is_loop(entry: Job) -> bool:
    return entry.every_s < 1.0


def cron_for(entry: Job) -> str:
    """The job's schedule as a cron (a sixth field is seconds): every ``every_s`` seconds, aligned to
    the minute, hour or day. Sub-second jobs: every minute (see :func:`is_loop`)."""
    if is_loop(entry):
        return LOOP_CRON
    every = entry.every_s
    if every != int(every):
        raise ValueError(f"job {entry.name}: every_s={every} is not whole seconds")
    seconds = int(every)
    if seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    if seconds % 60 == 0 and seconds < 3600 and 60 % (seconds // 60) == 0:
        return f"*/{seconds // 60} * * * *"
    if seconds % 3600 == 0 and 24 % (seconds // 3600) == 0:
        return f"0 */{seconds // 3600} * * *"
    raise ValueError(f"job {entry.name}: every_s={every} does not divide a minute, an hour or a day")


class Backoff(RetryStrategy):
    """Procrastinate's retry strategy with the job's own backoff, the same as on SQLite:
    ``retry_base_s`` doubling with each failure in a row, at most ``retry_max_s`` (and never later
    than the job's schedule would run it anyway)."""

    def __init__(self, entry: Job) -> None:
        super().__init__()
        self.entry = entry

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate_jobs.Job
    ) -> RetryDecision | None:
        # job.attempts: the runs of this Procrastinate job before this one (0 on its first).
        delay = timedelta(seconds=self.entry.retry_delay(job.attempts + 1))
        return RetryDecision(retry_at=datetime.now(UTC) + delay)


def connector_for(database: Database, *, max_size: int = 6) -> procrastinate.PsycopgConnector:
    """A Procrastinate connector to the same database and schema as ``database`` (its search_path is
    read from a connection: tests give each run its own schema)."""
    url = database.engine.url.set(drivername="postgresql")
    with database.engine.connect() as conn:
        search_path = str(conn.execute(text("SHOW search_path")).scalar())
    kwargs: dict[str, Any] = {"options": "-c search_path=" + search_path.replace(" ", "\\ ")}
    return procrastinate.PsycopgConnector(
        conninfo=url.render_as_string(hide_password=False), kwargs=kwargs, min_size=1, max_size=max_size
    )


def build_app(
    database: Database,
    settings: Settings,
    names: Iterable[str] | None = None,
    *,
    schedule: bool = True,
    connector: procrastinate.PsycopgConnector | None = None,
) -> procrastinate.App:
    """A Procrastinate app with a task per registered job; the periodic schedules of ``names`` (None:
    every job, and the upkeep; ``schedule=False``: none, runs only when deferred). Tasks of every job
    are known, so a worker can finish any run."""
    app = procrastinate.App(
        connector=connector or connector_for(database), periodic_defaults={"max_delay": MAX_DELAY_S}
    )
    context = JobContext(database, settings)  # shared by the worker's runs (its cache: one event store)
    jobs = registered()
    scheduled = set() if not schedule else set(jobs) if names is None else set(names)
    for entry in jobs.values():
        task = _register(app, entry, context)
        if entry.name in scheduled:
            app.periodic(cron=cron_for(entry), periodic_id=entry.name)(task)
    if names is None and schedule:
        upkeep = app.task(
            name="zhongcao.upkeep",
            queue=UPKEEP_QUEUE,
            lock="zhongcao.upkeep",
            queueing_lock="zhongcao.upkeep",
            pass_context=True,
        )(_upkeep)
        app.periodic(cron="* * * * *", periodic_id="upkeep")(upkeep)
    return app


def _register(app: procrastinate.App, entry: Job, context: JobContext) -> Any:
    loop = is_loop(entry)

    def run(task_context: TaskContext, timestamp: int | None = None) -> Counts:
        if loop:
            return _run_loop(entry, context, task_context)
        return _run_once(entry, context)

    run.__name__ = run.__qualname__ = entry.name
    return app.task(
        name=task_name(entry.name),
        queue=queue_name(entry.name),
        # A sub-second job's minute tasks overlap by a second (no ``lock``): ``job_runs`` keeps their
        # runs apart.
        lock=None if loop else task_name(entry.name),
        queueing_lock=task_name(entry.name),
        retry=Backoff(entry),
        pass_context=True,
    )(run)


def _run_once(entry: Job, context: JobContext) -> Counts:
    ran, result, error = execute(entry, context, force=True)
    if error is not None:
        raise JobFailed(entry.name, error, {})  # Procrastinate retries it after the backoff
    if not ran:  # ``zhongcao jobs run`` is running it in-process right now
        return {"skipped": 1}
    return dict(result or {})


def _run_loop(entry: Job, context: JobContext, task_context: TaskContext) -> Counts:
    end = (math.floor(time.time() / LOOP_WINDOW_S) + 1) * LOOP_WINDOW_S + LOOP_OVERLAP_S
    totals: Counts = {"runs": 0}
    while time.time() < end and not task_context.should_abort():  # abort: the worker is stopping
        started = time.monotonic()
        ran, result, error = execute(entry, context, force=True)
        if error is not None:
            raise JobFailed(entry.name, error, totals)
        if ran:
            totals["runs"] += 1
            for key, value in (result or {}).items():
                totals[key] = totals.get(key, 0) + value
        time.sleep(max(entry.every_s - (time.monotonic() - started), 0.0))
    return totals


async def _upkeep(task_context: TaskContext, timestamp: int | None = None) -> None:
    """Run again the jobs of workers that died mid-run (their heartbeat stopped); hourly, delete
    Procrastinate's finished jobs older than :data:`KEEP_FINISHED_HOURS`."""
    manager = task_context.app.job_manager
    for stalled in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S):
        try:
            await manager.retry_job(stalled)
        except Exception:  # a newer run of the job is already waiting (queueing lock): that one runs
            log.info("stalled job %s: a newer run is queued; marked failed", stalled.id)
            await manager.finish_job(stalled, status=procrastinate_jobs.Status.FAILED, delete_job=False)
    if timestamp is None or timestamp % 3600 < 60:
        await manager.delete_old_jobs(
            nb_hours=KEEP_FINISHED_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
        )


class ProcrastinateWorker:
    """One Procrastinate worker for the registered jobs (``zhongcao worker`` on PostgreSQL).

    Sync job functions run in threads; the worker takes as many runs at once as there are jobs (and
    room for a sub-second job's overlap and the upkeep), so a long rebuild never holds up the others.
    Stopping lets the runs under way finish; a sub-second job's long task stops at its next round."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        names: Iterable[str] | None = None,
        *,
        name: str | None = None,
        schedule: bool = True,
    ) -> None:
        self.names = list(names) if names is not None else None
        self.app = build_app(database, settings, self.names, schedule=schedule)
        jobs = registered()
        self.jobs = [jobs[n] for n in self.names] if self.names is not None else list(jobs.values())
        self.concurrency = len(self.jobs) + 2
        queues = None if self.names is None else [queue_name(n) for n in self.names]
        self._worker = procrastinate_worker.Worker(
            self.app,
            queues=queues,
            name=name or f"zhongcao-{os.getpid()}",
            concurrency=self.concurrency,
            fetch_job_polling_interval=POLL_S,
            shutdown_graceful_timeout=0.0,  # running jobs are told to stop; each finishes its run
            delete_jobs="successful",  # job_runs keeps the status; failed jobs stay for KEEP_FINISHED_HOURS
            install_signal_handlers=True,  # SIGTERM, Ctrl-C: stop (only where it runs in the main thread)
        )
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    async def run_async(self) -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(self.concurrency))
        async with self.app.open_async():
            self._started.set()
            await self._worker.run()  # type: ignore[no-untyped-call]  # (procrastinate leaves it unannotated)

    def run(self) -> None:
        """Until SIGTERM or SIGINT (in the main thread) or :meth:`stop`."""
        asyncio.run(self.run_async())

    def start(self) -> None:
        """Run in a background thread (tests; its signals stay with the main thread)."""
        self._thread = threading.Thread(target=self.run, name="procrastinate-worker", daemon=True)
        self._thread.start()
        self._started.wait(30)

    def stop(self, timeout: float = 30.0) -> None:
        self._worker.stop()  # type: ignore[no-untyped-call]
        if self._thread is not None:
            self._thread.join(timeout)
