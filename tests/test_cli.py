"""The command line: plain-words errors, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from zhongcao.cli import app
from zhongcao.config import get_settings

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_check_reports_missing_schema_then_ok(sqlite_env):
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "zhongcao db upgrade" in result.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_users_create_and_clean_errors(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    args = [
        "users",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--role",
        "operator",
        "--password",
        "s3cret-pass",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "created operator" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "already exists" in again.output and "Traceback" not in again.output
    bad_role = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "king",
            "--password",
            "plum orchard 42",
        ],
    )
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output
    short = runner.invoke(
        app, ["users", "create", "--email", "y@example.com", "--name", "Y", "--password", "short"]
    )
    assert short.exit_code == 2 and "at least 8" in short.output
    bad_email = runner.invoke(
        app, ["users", "create", "--email", "nope", "--name", "Y", "--password", "plum orchard 42"]
    )
    assert bad_email.exit_code == 2 and "not a valid email" in bad_email.output


def test_unreachable_database_is_plain_words(monkeypatch):
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["check"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "cannot connect" in result.output and "Traceback" not in result.output


def test_merchant_joins_a_shop_and_jobs_run(sqlite_env, monkeypatch):
    from zhongcao.db import Database
    from zhongcao.shops import service as shops_service
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    database = Database(sqlite_env)
    db = database.session()
    owner = users_service.create_user(
        db, email="owner@example.com", password="plum orchard 42", display_name="O", role=Role.merchant
    )
    shop = shops_service.create_shop(db, name_zh="店", name_en="Shop", owner_user_id=owner.id)
    shop_id = shop.id
    db.close()
    args = [
        "users",
        "create",
        "--email",
        "agent@example.com",
        "--name",
        "A",
        "--role",
        "merchant",
        "--password",
        "plum orchard 42",
    ]
    result = runner.invoke(app, [*args, "--shop-id", str(shop_id), "--shop-role", "service_agent"])
    assert result.exit_code == 0, result.output
    db = database.session()
    member = shops_service.membership_for_user(db, users_service.get_by_email(db, "agent@example.com").id)
    assert member is not None and member.shop_id == shop_id and member.role.value == "service_agent"
    db.close()
    database.dispose()
    missing = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "b@example.com",
            "--name",
            "B",
            "--role",
            "merchant",
            "--password",
            "plum orchard 42",
            "--shop-id",
            "999",
        ],
    )
    assert missing.exit_code == 1 and "shop not found" in missing.output
    jobs = runner.invoke(app, ["jobs", "run"])
    assert jobs.exit_code == 0, jobs.output
    assert "expired_checkouts=0" in jobs.output and "completed_orders=0" in jobs.output
    # The first run builds Compass's snapshot (none existed); the next finds it fresh.
    assert "compass_snapshot=1" in jobs.output
    monkeypatch.setenv("ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES", "60")
    get_settings.cache_clear()
    again = runner.invoke(app, ["jobs", "run"])
    assert "compass_snapshot=0" in again.output, again.output
    fresh = runner.invoke(app, ["compass", "refresh"])
    assert fresh.exit_code == 0 and "fresh enough" in fresh.output, fresh.output


def test_scores_compute_with_rules_and_a_clean_error_for_bad_rules(sqlite_env, tmp_path):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    rules = tmp_path / "rules.json"
    rules.write_text('{"default": {"min_orders": 5}, "by_category": {"3": {"window_days": 30}}}')
    result = runner.invoke(app, ["scores", "compute", "--config", str(rules)])
    assert result.exit_code == 0, result.output
    assert "Experience scores: 0 shops" in result.output
    rules.write_text('{"default": {"weights": {"product": 2, "logistics": 0, "service": 0}}}')
    bad = runner.invoke(app, ["scores", "compute", "--config", str(rules)])
    assert bad.exit_code == 2 and "add up to 1" in bad.output and "Traceback" not in bad.output


@pytest.mark.slow  # spawns `python -m zhongcao.jobs` and polls until two jobs have run
def test_the_job_worker_process_runs_jobs_and_stops_cleanly_on_sigterm(sqlite_env, tmp_path):
    """``python -m zhongcao.jobs`` (what ``zhongcao worker`` and ``make demo`` run): the business rules
    run on their schedule, ``jobs status`` shows them, and SIGTERM leaves no claim behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from zhongcao.db import Database
    from zhongcao.jobs.models import JobRun

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    env = {
        **os.environ,
        "ZHONGCAO_EVENTS_DIR": str(tmp_path / "events"),
        "ZHONGCAO_ANALYTICS_DIR": str(tmp_path / "analytics"),
        "ZHONGCAO_MODELS_DIR": str(tmp_path / "models"),
    }
    names = ["payment_timeouts", "auto_completion"]
    child = subprocess.Popen([sys.executable, "-m", "zhongcao.jobs", *names], env=env)
    database = Database(sqlite_env)
    try:
        deadline = time.monotonic() + 60
        done: dict[str, str] = {}
        while time.monotonic() < deadline and len(done) < 2:
            time.sleep(0.2)
            with database.session(read_only=True) as db:
                done = {r.name: r.status for r in db.query(JobRun) if r.status == "ok"}
        assert sorted(done) == sorted(names)
        status = runner.invoke(app, ["jobs", "status"])
        assert status.exit_code == 0 and "payment_timeouts status=ok" in status.output, status.output
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0
    with database.session(read_only=True) as db:
        assert all(r.status != "running" and r.claim_token is None for r in db.query(JobRun))
    database.dispose()
    unknown = runner.invoke(app, ["worker", "--only", "no_such_job"])
    assert unknown.exit_code == 2 and "unknown job no_such_job" in unknown.output
