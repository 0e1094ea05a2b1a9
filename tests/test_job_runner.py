"""The job runner: claims in ``job_runs`` (one run per due job, whatever the number of runners), retries
with exponential backoff, short intervals, the worker process loop, and the operators' view of it.
Every test runs on SQLite and PostgreSQL (the ``database`` fixture): the same code path on both."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from tests.factories import auth, make_user
from tests.web_helpers import web_login
from zhongcao import clock
from zhongcao.config import Settings
from zhongcao.jobs import registry
from zhongcao.jobs.models import JobRun
from zhongcao.jobs.registry import Job, JobContext
from zhongcao.jobs.runner import Worker, claim, execute, run_now
from zhongcao.users.models import Role


@pytest.fixture
def flaky() -> dict[str, object]:
    """A registered job that fails while ``state["fail"]`` is true and counts its runs."""
    state: dict[str, object] = {"fail": True, "runs": 0}

    def run(context: JobContext) -> dict[str, int]:
        state["runs"] = int(state["runs"]) + 1  # type: ignore[call-overload]
        if state["fail"]:
            raise OSError("disk full")
        return {"done": 1}

    registry.add(Job("test_flaky", run, every_s=3600.0, retry_base_s=10.0, retry_max_s=25.0))
    yield state
    registry.remove("test_flaky")


def _row(database, name: str) -> JobRun:  # type: ignore[no-untyped-def]
    with database.session(read_only=True) as db:
        row = db.get(JobRun, name)
        assert row is not None
        db.expunge(row)
        return row


def test_a_due_job_is_claimed_by_one_runner_only_and_an_abandoned_claim_is_taken_over(database):
    entry = Job("test_claims", lambda c: {}, every_s=60.0, lease_s=120.0)
    now = clock.now()
    first = claim(database, entry, now)
    assert first is not None
    assert claim(database, entry, now) is None  # running elsewhere
    assert claim(database, entry, now + timedelta(seconds=61)) is None  # due again, but still held
    # A runner that died mid-run: once its lease is over, another takes the job over.
    assert claim(database, entry, now + timedelta(seconds=121)) is not None
    row = _row(database, "test_claims")
    assert row.status == "running" and row.claim_token != first


def test_concurrent_runners_run_a_due_job_once(database):
    runs: list[int] = []
    entry = Job("test_once", lambda c: runs.append(1) or {"n": 1}, every_s=3600.0)  # type: ignore[func-returns-value]
    context = JobContext(database, Settings())
    barrier = threading.Barrier(4)

    def runner() -> None:
        barrier.wait()
        execute(entry, context)

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runs == [1]
    row = _row(database, "test_once")
    assert row.status == "ok" and row.runs == 1 and row.last_result == {"n": 1}


def test_a_failing_job_is_retried_with_exponential_backoff_and_recovers(database, flaky):
    entry = registry.registered()["test_flaky"]
    context = JobContext(database, Settings())
    delays = []
    start = clock.now()
    for _ in range(3):
        with clock.frozen(start):
            ran, _, error = execute(entry, context, force=True)
        assert ran and error == "OSError: disk full"
        row = _row(database, "test_flaky")
        delays.append(round((row.next_due_at - row.last_finished_at).total_seconds()))
    assert delays == [10, 20, 25]  # doubling, capped at retry_max_s
    assert row.status == "failed" and row.attempts == 3 and row.failures == 3
    assert row.last_error == "OSError: disk full"
    flaky["fail"] = False
    with clock.frozen(start + timedelta(seconds=30)):
        ran, result, error = execute(entry, context)  # due again after its backoff
    assert ran and error is None and result == {"done": 1}
    row = _row(database, "test_flaky")
    assert row.status == "ok" and row.attempts == 0 and row.last_error is None and row.failures == 3
    assert (row.next_due_at - row.last_started_at).total_seconds() == pytest.approx(3600.0)


def test_the_worker_runs_short_interval_jobs_on_schedule_and_stops(database):
    runs: list[float] = []
    registry.add(Job("test_fast", lambda c: runs.append(time.monotonic()) or {}, every_s=0.2))  # type: ignore[func-returns-value]
    try:
        worker = Worker(database, Settings(), ["test_fast"], poll_s=0.1)
        worker.start()
        time.sleep(1.5)
        worker.stop()
        count = len(runs)
        time.sleep(0.3)
        assert len(runs) == count  # stopped
    finally:
        registry.remove("test_fast")
    assert 4 <= count <= 9, runs  # every 0.2 s, give or take a busy machine
    row = _row(database, "test_fast")
    assert row.status == "ok" and row.claim_token is None


def test_run_now_runs_the_business_rules_whatever_their_schedule(database, flaky):
    counts = run_now(database, Settings())
    # The carrier's and the flash sales' business jobs report their own counts (carrier_*, flash_*).
    later = {k for k in counts if k.startswith(("carrier_", "flash_"))}
    assert any(k.startswith("carrier_") for k in later) and any(k.startswith("flash_") for k in later)
    assert set(counts) - later == {
        "expired_checkouts",
        "after_sales_approved",
        "after_sales_closed",
        "after_sales_failed",
        "coupon_ending_notifications",
        "completed_orders",
        "settlements_recorded",
        "settlements_refreshed",
        "settlements_settled",
        "shop_scores",
        "inbounds_received",
        *(
            f"warehouse_{step}"
            for step in ("queued", "picked", "packed", "handed_over", "short", "cancelled", "failed")
        ),
    }
    assert flaky["runs"] == 0  # not a business rule: only the worker runs it


def test_operators_see_every_job_and_nobody_else_does(client, db, flaky):
    operator, shopper = make_user(db, Role.operator), make_user(db, Role.shopper)
    db.commit()
    assert client.get("/api/operator/jobs").status_code == 401
    denied = client.get("/api/operator/jobs", headers=auth(db, shopper))
    assert denied.status_code == 403
    execute(registry.registered()["test_flaky"], JobContext(client.app.state.database, Settings()))
    response = client.get("/api/operator/jobs", headers=auth(db, operator))
    assert response.status_code == 200, response.text
    jobs = {j["name"]: j for j in response.json()}
    expected = {"payment_timeouts", "after_sales_deadlines", "auto_completion", "settlements", "shop_scores"}
    expected |= {"compass_snapshot", "feed_catch_up", "like_counts", "integrity_scan", "test_flaky"}
    assert expected <= set(jobs)
    assert jobs["payment_timeouts"]["status"] == "never_run" and jobs["payment_timeouts"]["every_s"] > 0
    failed = jobs["test_flaky"]
    assert failed["status"] == "failed" and failed["attempts"] == 1 and "disk full" in failed["last_error"]
    # The console page shows the same, in both languages.
    web_login(client, operator.email)
    html = client.get("/operator/jobs").text
    assert 'data-job="test_flaky" data-status="failed"' in html and "disk full" in html
    assert "后台任务" in html
    english = client.get("/locale?to=en&next=/operator/jobs").text
    assert "Background jobs" in english and "Failures in a row" in english
