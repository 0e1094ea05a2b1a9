"""Configuration fails fast (issue #14, item 6): every wrong setting is refused at startup in one
sentence naming the variable, exit status 2, never a traceback; the folders a process writes are
checked by readiness and by ``zhongcao check`` instead of failing requests later with 500s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from zhongcao.cli import app as cli
from zhongcao.config import Settings, describe_invalid, get_settings

runner = CliRunner()

# (variable, value, words the sentence must contain): the probe's cases.
WRONG = [
    ("ZHONGCAO_DATABASE_URL", "garbage", "is not a database URL"),
    ("ZHONGCAO_DATABASE_URL", "", "is empty"),
    ("ZHONGCAO_DATABASE_URL", "mysql://root@127.0.0.1/test", "SQLite or PostgreSQL"),
    ("ZHONGCAO_DATABASE_URL", "postgresql+psycopg2://u@h/db", "driver 'psycopg2'"),
    ("ZHONGCAO_LOG_LEVEL", "loud", "'debug'"),
    ("ZHONGCAO_SESSION_TTL_HOURS", str(10**15), "less than or equal"),
    ("ZHONGCAO_ARGON2_MEMORY_KIB", str(2**40), "less than or equal"),
    ("ZHONGCAO_SESSION_COOKIE_NAME", "zc;session", "no spaces, ';'"),
    ("ZHONGCAO_MAX_REQUEST_BYTES", "-1", "greater than or equal"),
    ("ZHONGCAO_PORT", "70000", "less than or equal"),
]


@pytest.fixture
def clean_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(("name", "value", "words"), WRONG)
@pytest.mark.parametrize("command", [["check"], ["db", "upgrade"], ["serve"], ["worker"]])
def test_a_wrong_setting_is_one_sentence_and_exit_2(name, value, words, command, monkeypatch, clean_settings):
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", "sqlite:////nonexistent-dir/never.db")
    monkeypatch.setenv(name, value)
    result = runner.invoke(cli, command)
    assert result.exit_code == 2, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    text = " ".join(result.output.split())  # Rich wraps long lines
    assert f"configuration is invalid: {name}" in text and words in text, text


def test_the_job_worker_module_says_it_in_a_sentence_too():
    import os
    import subprocess
    import sys

    env = dict(os.environ, ZHONGCAO_LOG_LEVEL="loud")
    done = subprocess.run(
        [sys.executable, "-m", "zhongcao.jobs"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "configuration is invalid: ZHONGCAO_LOG_LEVEL" in done.stderr and "Traceback" not in done.stderr


def test_the_postgres_events_backend_needs_postgres():
    with pytest.raises(ValidationError) as caught:
        Settings(database_url="sqlite:///x.db", events_backend="postgres")
    assert "ZHONGCAO_EVENTS_BACKEND=postgres needs a PostgreSQL database" in describe_invalid(caught.value)
    assert (
        Settings(database_url="postgresql://u@h/db", events_backend="postgres").events_backend == "postgres"
    )


def test_good_values_are_normalised():
    settings = Settings(database_url=" postgres://u@h:5432/db ", log_level="DEBUG")
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"
    assert settings.log_level == "debug"


def test_an_unwritable_events_folder_fails_check_and_readiness(tmp_path, monkeypatch, clean_settings):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder below a file cannot be made, even by root
    url = f"sqlite:///{tmp_path}/ready.db"
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", url)
    monkeypatch.setenv("ZHONGCAO_EVENTS_DIR", str(blocker / "events"))
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 1
    assert "is not writable" in " ".join(result.output.split())

    from zhongcao.api import create_app
    from zhongcao.db import Database

    settings = Settings(database_url=url, events_dir=blocker / "events", analytics_dir=tmp_path / "analytics")
    database = Database(settings=settings)
    try:
        with TestClient(create_app(settings=settings, database=database)) as client:
            response = client.get("/api/health/ready")
        assert response.status_code == 503
        check = {c["name"]: c for c in response.json()["checks"]}["events store"]
        assert check["ok"] is False and "not writable" in check["detail"]
    finally:
        database.dispose()
