"""The job worker on PostgreSQL: Procrastinate runs the registered jobs (zhongcao.jobs.postgres).

A tick of a periodic job runs once whatever the number of workers, a deferred job once, a failing job
is retried with the job's exponential backoff (and operators see the failure), a sub-second job
repeats inside its long task, the one-shot runs in-process, and the worker process stops cleanly on
SIGTERM. PostgreSQL only: Procrastinate does not run on SQLite, where test_job_runner.py covers the
in-process runner with the same job functions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from tests.async_helpers import run_async
from tests.factories import auth, make_user
from zhongcao import clock
from zhongcao.config import Settings
from zhongcao.jobs import postgres, registry
from zhongcao.jobs.models import JobRun
from zhongcao.jobs.postgres import ProcrastinateWorker, build_app, cron_for
from zhongcao.jobs.registry import Job, JobContext
from zhongcao.jobs.runner import claim, run_now
from zhongcao.users.models import Role

pytestmark = pytest.mark.pg_only


@pytest.fixture
def pg(database):  # type: ignore[no-untyped-def]
    """The PostgreSQL test database with Procrastinate's tables emptied (conftest empties ours)."""
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
                "procrastinate_workers RESTART IDENTITY CASCADE"
            )
        )
    return database


@pytest.fixture
def add_job() -> Iterator:  # type: ignore[type-arg]
    names: list[str] = []

    def add(entry: Job) -> Job:
        registry.add(entry)
        names.append(entry.name)
        return entry

    yield add
    for name in names:
        registry.remove(name)


def _row(database, name: str) -> JobRun | None:  # type: ignore[no-untyped-def]
    with database.session(read_only=True) as db:
        row = db.get(JobRun, name)
        if row is not None:
            db.expunge(row)
        return row


def _wait(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_every_registered_job_has_a_procrastinate_schedule() -> None:
    jobs = registry.registered()
    crons = {name: cron_for(entry) for name, entry in jobs.items()}
    assert crons["payment_timeouts"] == "* * * * * */30"
    assert crons["after_sales_deadlines"] == "*/5 * * * *"
    assert crons["shop_scores"] == "0 */1 * * *"
    assert crons["search_follow"] is None  # every 0.5 s: a worker's loop, under its advisory lock
    assert crons["flash_sale_orders"] is None
    with pytest.raises(ValueError, match="does not divide"):
        cron_for(Job("odd", lambda c: {}, every_s=7.0 * 60))


def test_a_periodic_job_runs_once_per_tick_with_two_workers(pg, add_job) -> None:
    runs: list[float] = []
    add_job(Job("test_tick", lambda c: runs.append(time.monotonic()) or {"n": 1}, every_s=1.0))  # type: ignore[func-returns-value]
    workers = [ProcrastinateWorker(pg, Settings(), ["test_tick"], name=f"w{i}") for i in (1, 2)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    time.sleep(3.2)
    for worker in workers:
        worker.stop()
    elapsed = time.monotonic() - started
    # One run a second (each tick queued once: procrastinate_periodic_defers), not one per worker.
    assert elapsed - 2 <= len(runs) <= elapsed + 2, runs
    gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)]
    # A tick run twice (once per worker) is two runs milliseconds apart; a loaded machine may start one
    # tick half a second late, which leaves the gap to the next, on-time tick near 0.5 s.
    assert min(gaps) > 0.25, gaps
    row = _row(pg, "test_tick")
    assert row is not None and row.status == "ok" and row.runs == len(runs)


def test_a_deferred_job_runs_once_with_two_workers(pg, add_job) -> None:
    import procrastinate

    runs: list[str] = []
    add_job(Job("test_once", lambda c: runs.append(threading.current_thread().name) or {}, every_s=60.0))  # type: ignore[func-returns-value]
    app = build_app(pg, Settings(), [], schedule=False)
    with app.open():
        app.configure_task("zhongcao.test_once").defer()
        with pytest.raises(procrastinate.exceptions.AlreadyEnqueued):  # its queueing lock: one waits
            app.configure_task("zhongcao.test_once").defer()
    workers = [ProcrastinateWorker(pg, Settings(), ["test_once"], schedule=False) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        _wait(lambda: runs)
        time.sleep(1.5)  # both workers poll every second: time enough for a second run, if any
    finally:
        for worker in workers:
            worker.stop()
    assert len(runs) == 1


def test_a_failing_job_is_retried_with_backoff_and_operators_see_it(client, db, pg, add_job) -> None:
    attempts: list[float] = []

    def flaky(context: JobContext) -> dict[str, int]:
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            raise OSError("disk full")
        return {"done": 1}

    add_job(Job("test_flaky_pg", flaky, every_s=3600.0, retry_base_s=1.5, retry_max_s=30.0))
    operator = make_user(db, Role.operator)
    db.commit()
    app = build_app(pg, Settings(), [], schedule=False)
    with app.open():
        app.configure_task("zhongcao.test_flaky_pg").defer()
    worker = ProcrastinateWorker(pg, Settings(), ["test_flaky_pg"], schedule=False)
    worker.start()
    try:
        _wait(lambda: attempts)
        _wait(lambda: (row := _row(pg, "test_flaky_pg")) is not None and row.status == "failed")
        response = client.get("/api/operator/jobs", headers=auth(db, operator))
        assert response.status_code == 200, response.text
        failed = {j["name"]: j for j in response.json()}["test_flaky_pg"]
        # Failures in a row: 1, or 2 if the first retry came (and failed) meanwhile.
        assert failed["status"] == "failed" and failed["attempts"] in (1, 2)
        assert "disk full" in failed["last_error"]
        _wait(lambda: (row := _row(pg, "test_flaky_pg")) is not None and row.status == "ok")
    finally:
        worker.stop()
    # Retried by Procrastinate after 1.5 s, then 3 s (the backoff doubles; polled every second).
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) == 3 and 1.4 <= gaps[0] < 6 and 2.9 <= gaps[1] < 8, gaps
    row = _row(pg, "test_flaky_pg")
    assert row is not None and row.failures == 2 and row.attempts == 0 and row.last_result == {"done": 1}


def test_a_sub_second_job_repeats_in_its_loop_and_stops_with_the_worker(pg, add_job) -> None:
    runs: list[float] = []
    add_job(Job("test_fast", lambda c: runs.append(time.monotonic()) or {}, every_s=0.2))  # type: ignore[func-returns-value]
    worker = ProcrastinateWorker(pg, Settings(), ["test_fast"])
    worker.start()
    _wait(lambda: runs)
    time.sleep(1.5)
    stopping = time.monotonic()
    worker.stop()
    assert time.monotonic() - stopping < 5  # the loop stops after its run
    count = len(runs)
    time.sleep(0.4)
    assert len(runs) == count
    assert 5 <= count <= 10, runs  # every 0.2 s, give or take a busy machine
    gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)]
    assert max(gaps) < 1.0, gaps  # never a pause as long as the search freshness promise
    row = _row(pg, "test_fast")
    assert row is not None and row.status == "ok" and row.runs == count


def test_one_worker_runs_a_sub_second_job_and_another_takes_over_within_a_second(pg, add_job) -> None:
    runs: list[tuple[str, float]] = []
    add_job(
        Job(
            "test_loop",
            lambda c: runs.append((threading.current_thread().name, time.monotonic())) or {},  # type: ignore[func-returns-value]
            every_s=0.2,
        )
    )
    first = ProcrastinateWorker(pg, Settings(), ["test_loop"], name="first")
    second = ProcrastinateWorker(pg, Settings(), ["test_loop"], name="second")
    first.start()
    _wait(lambda: first.loops[0].holding.is_set())
    second.start()
    try:
        time.sleep(1.2)
        # Only the lock's holder runs it: one run per 0.2 s, not one per worker.
        assert not second.loops[0].holding.is_set()
        assert 3 <= len(runs) <= 9, runs
        first.stop()  # gives the lock back after its run
        stopped = time.monotonic()
        _wait(lambda: second.loops[0].holding.is_set(), timeout=5)
        _wait(lambda: runs[-1][1] > stopped, timeout=5)
        assert runs[-1][1] - stopped < 1.5, runs[-3:]  # LOOP_TAKEOVER_S, and a run
        # While a worker's loop holds it, the one-shot skips the job instead of running it twice.
        before = len(runs)
        assert run_now(pg, Settings(), ["test_loop"]) == {}
        assert all(name.startswith("job-loop-") for name, _ in runs[before:])
    finally:
        first.stop()
        second.stop()


@pytest.mark.slow  # starts two worker processes (each imports the platform: several seconds)
def test_a_sub_second_job_resumes_within_a_second_after_its_worker_is_killed(pg, tmp_path) -> None:
    """SIGKILL mid-run leaves the job's ``job_runs`` claim "running" with a 10-minute lease, and (before
    the loop lock) left the job waiting for the next minute's task: a restarted worker runs it again
    within a second of starting."""
    with pg.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    url = pg.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "ZHONGCAO_DATABASE_URL": f"{url}?options=-csearch_path%3D{schema}",
        "ZHONGCAO_EVENTS_DIR": str(tmp_path / "events"),
    }
    command = [sys.executable, "-m", "zhongcao.jobs", "flash_sale_orders"]

    def runs() -> int:
        row = _row(pg, "flash_sale_orders")
        return row.runs if row is not None else 0

    child = subprocess.Popen(command, env=env)
    try:
        _wait(lambda: runs() >= 3, 60)
    finally:
        child.kill()  # SIGKILL: no clean-up of any kind
        child.wait()
    # As if it died mid-run: its claim is left running, with a lease of minutes.
    with pg.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE job_runs SET status = 'running', claim_token = 'dead', last_started_at = :now "
                "WHERE name = 'flash_sale_orders'"
            ),
            {"now": clock.now()},
        )
    killed_runs = runs()
    dead_workers = _count(pg, "SELECT count(*) FROM procrastinate_workers")  # the killed one's row stays
    child = subprocess.Popen(command, env=env)
    try:
        # The new worker is up once Procrastinate has registered it (after the platform's imports).
        _wait(lambda: _count(pg, "SELECT count(*) FROM procrastinate_workers") > dead_workers, 60)
        up = time.monotonic()
        _wait(lambda: runs() > killed_runs + 2, 30)
        resumed = time.monotonic() - up
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0
    assert resumed < 3.0, resumed  # a second, and two more runs 0.3 s apart, on a busy machine
    row = _row(pg, "flash_sale_orders")
    assert row is not None and row.status == "ok" and row.claim_token is None


def _count(database, sql: str) -> int:  # type: ignore[no-untyped-def]
    with database.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def test_upkeep_runs_again_the_job_of_a_worker_that_died(pg, add_job) -> None:
    add_job(Job("test_orphan", lambda c: {}, every_s=60.0))
    app = build_app(pg, Settings(), [], schedule=False)

    async def scenario() -> str:
        async with app.open_async():
            manager = app.job_manager
            dead = await manager.register_worker()
            await app.configure_task("zhongcao.test_orphan").defer_async()
            job = await manager.fetch_job(queues=None, worker_id=dead)
            assert job is not None and job.task_name == "zhongcao.test_orphan"
            # The worker is killed mid-run: its heartbeat stops.
            await app.connector.execute_query_async(
                query="UPDATE procrastinate_workers SET last_heartbeat = now() - interval '10 minutes'"
            )
            await postgres._upkeep(SimpleNamespace(app=app), None)  # type: ignore[arg-type]
            (again,) = await manager.list_jobs_async(id=job.id)
            return str(again.status)

    assert run_async(scenario()) == "todo"  # queued again for a live worker


def test_the_one_shot_runs_in_process_and_a_worker_never_overlaps_it(pg, add_job) -> None:
    runs: list[int] = []
    entry = add_job(Job("test_shot", lambda c: runs.append(1) or {"n": 1}, every_s=60.0))  # type: ignore[func-returns-value]
    assert run_now(pg, Settings(), ["test_shot"]) == {"n": 1}
    row = _row(pg, "test_shot")
    assert row is not None and row.status == "ok" and row.runs == 1
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar() == 0
    # While a run holds the job (the one-shot, in another process), a worker's run of it is skipped.
    assert claim(pg, entry, clock.now(), force=True) is not None
    assert postgres._run_once(entry, JobContext(pg, Settings())) == {"skipped": 1}
    assert runs == [1]


@pytest.mark.slow  # starts a worker process (imports the platform: several seconds)
def test_the_worker_process_runs_jobs_and_stops_cleanly_on_sigterm(pg, tmp_path) -> None:
    """``python -m zhongcao.jobs`` on PostgreSQL (what ``zhongcao worker`` runs): a Procrastinate worker."""
    with pg.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    url = pg.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "ZHONGCAO_DATABASE_URL": f"{url}?options=-csearch_path%3D{schema}",
        "ZHONGCAO_EVENTS_DIR": str(tmp_path / "events"),
    }
    child = subprocess.Popen([sys.executable, "-m", "zhongcao.jobs", "payment_timeouts"], env=env)
    try:
        _wait(lambda: (row := _row(pg, "payment_timeouts")) is not None and row.status == "ok", 60)
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() == 0
        assert (
            conn.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")).scalar() == 0
        )
