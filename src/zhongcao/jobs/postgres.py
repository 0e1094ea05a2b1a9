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

Jobs shorter than Procrastinate's one-second cron (``search_follow`` every 0.5 s, behind the
"searchable within one second" promise; ``flash_sale_orders`` every 0.3 s, buyers waiting "in queue")
are not Procrastinate tasks on a schedule: every worker runs a :class:`LoopRunner` per such job, and
the one holding the job's PostgreSQL advisory lock (:mod:`zhongcao.jobs.loop_lock`) runs it every
``every_s``; the others try for the lock every :data:`LOOP_TAKEOVER_S`. A killed worker's session
lock is freed by PostgreSQL at once, so a restarted (or standby) worker resumes the job within a
second, taking over the ``job_runs`` claim the dead run left behind instead of waiting for its lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
import psycopg
from procrastinate import JobContext as TaskContext
from procrastinate import RetryDecision, RetryStrategy
from procrastinate import jobs as procrastinate_jobs
from procrastinate import worker as procrastinate_worker
from sqlalchemy import text

from zhongcao.config import Settings
from zhongcao.db import Database
from zhongcao.jobs import loop_lock
from zhongcao.jobs.registry import Counts, Job, JobContext, registered
from zhongcao.jobs.runner import JobFailed, execute

log = logging.getLogger("zhongcao.jobs")

# A worker without a sub-second job's lock tries for it this often: the longest the job pauses when
# its runner dies, plus PostgreSQL noticing the dead connection (at once for a killed process).
LOOP_TAKEOVER_S = 0.5
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


def cron_for(entry: Job) -> str | None:
    """The job's schedule as a cron (a sixth field is seconds): every ``every_s`` seconds, aligned to
    the minute, hour or day. Sub-second jobs: None (a worker's :class:`LoopRunner` runs them)."""
    if is_loop(entry):
        return None
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
        cron = cron_for(entry)
        if entry.name in scheduled and cron is not None:
            app.periodic(cron=cron, periodic_id=entry.name)(task)
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
    def run(task_context: TaskContext, timestamp: int | None = None) -> Counts:
        return _run_once(entry, context)

    run.__name__ = run.__qualname__ = entry.name
    return app.task(
        name=task_name(entry.name),
        queue=queue_name(entry.name),
        lock=task_name(entry.name),
        queueing_lock=task_name(entry.name),
        retry=Backoff(entry),
        pass_context=True,
    )(run)


def _run_once(entry: Job, context: JobContext) -> Counts:
    # A sub-second job deferred by hand runs under its loop lock (``execute`` takes it): skipped
    # while a worker's loop runs the job anyway.
    ran, result, error = execute(entry, context, force=True)
    if error is not None:
        raise JobFailed(entry.name, error, {})  # Procrastinate retries it after the backoff
    if not ran:  # ``zhongcao jobs run`` (or a worker's loop) is running it right now
        return {"skipped": 1}
    return dict(result or {})


def loop_application_name(name: str, pid: int | None = None) -> str:
    """The loop lock's connection's application_name: the job and the worker process's id."""
    return f"zhongcao-loop {name} {pid or os.getpid()}"[:63]


class LoopRunner:
    """Runs one sub-second job every ``every_s`` for as long as its worker runs, while it holds the
    job's advisory lock (:mod:`zhongcao.jobs.loop_lock`) on a connection of its own; without the lock
    it tries again every :data:`LOOP_TAKEOVER_S`. A failed run is recorded (``job_runs``) and the job
    runs again after its retry delay."""

    def __init__(self, entry: Job, context: JobContext, stop: threading.Event) -> None:
        self.entry, self.context, self._stop = entry, context, stop
        url = context.database.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.scope: str | None = None  # the lock's key (read from the database on start)
        self.holding = threading.Event()  # tests: this runner holds the lock now
        self.thread = threading.Thread(target=self.run, name=f"job-loop-{entry.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scope = self.scope or loop_lock.scope(self.context.database, self.entry.name)
                # TCP keepalives: a holder whose machine vanished (no FIN from a killed process)
                # loses the lock within about 20 s instead of the kernel's two hours.
                with psycopg.connect(
                    self.conninfo,
                    autocommit=True,
                    # Who holds a job's loop: pg_stat_activity joined with pg_locks names the process.
                    application_name=loop_application_name(self.entry.name),
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=5,
                    keepalives_count=3,
                ) as lock_conn:
                    if self._acquire(lock_conn):
                        self.holding.set()
                        log.info("job %s: this worker runs it (holds its loop lock)", self.entry.name)
                        self._loop(lock_conn)
            except Exception:  # the database is away for a moment: connect again
                log.warning("job %s: lost the loop lock's connection; reconnecting", self.entry.name)
                self._stop.wait(LOOP_TAKEOVER_S)
            finally:
                self.holding.clear()

    def _acquire(self, lock_conn: psycopg.Connection[Any]) -> bool:
        while not self._stop.is_set():
            row = lock_conn.execute(loop_lock.TRY_SQL, {"scope": self.scope}).fetchone()
            if row is not None and row[0]:
                return True
            self._stop.wait(LOOP_TAKEOVER_S)
        return False

    def _loop(self, lock_conn: psycopg.Connection[Any]) -> None:
        failures = 0
        while not self._stop.is_set():
            started = time.monotonic()
            _ran, _result, error = execute(self.entry, self.context, force=True, owner=True)
            failures = failures + 1 if error is not None else 0
            delay = self.entry.retry_delay(failures) if failures else self.entry.every_s
            self._stop.wait(max(delay - (time.monotonic() - started), 0.0))
            # Still holding the lock? (A dropped connection lost it: stop before another worker's
            # loop and this one overlap; raises psycopg.Error, and run() connects again.)
            lock_conn.execute("SELECT 1")
        # Closing the connection (run's ``with``) releases the lock for the next worker.


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
    room for the upkeep), so a long rebuild never holds up the others. Sub-second jobs run in a
    :class:`LoopRunner` thread each (when scheduled), beside Procrastinate. Stopping lets the runs
    under way finish; a loop stops after its run and gives its lock back."""

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
        self.concurrency = len(self.jobs) + 1
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
        self._loops_stop = threading.Event()
        context = JobContext(database, settings)  # the loops' own (the event store in its cache)
        self.loops = (
            [LoopRunner(entry, context, self._loops_stop) for entry in self.jobs if is_loop(entry)]
            if schedule
            else []
        )
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    async def run_async(self) -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(self.concurrency))
        async with self.app.open_async():
            for loop in self.loops:
                loop.start()
            self._started.set()
            try:
                await self._worker.run()  # type: ignore[no-untyped-call]  # (procrastinate leaves it unannotated)
            finally:
                self._loops_stop.set()
                await asyncio.to_thread(self._join_loops, 30.0)

    def _join_loops(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for loop in self.loops:
            loop.join(max(deadline - time.monotonic(), 0.0))

    def run(self) -> None:
        """Until SIGTERM or SIGINT (in the main thread) or :meth:`stop`."""
        asyncio.run(self.run_async())

    def start(self) -> None:
        """Run in a background thread (tests; its signals stay with the main thread)."""
        self._thread = threading.Thread(target=self.run, name="procrastinate-worker", daemon=True)
        self._thread.start()
        self._started.wait(30)

    def stop(self, timeout: float = 30.0) -> None:
        self._loops_stop.set()
        self._worker.stop()  # type: ignore[no-untyped-call]
        if self._thread is not None:
            self._thread.join(timeout)
