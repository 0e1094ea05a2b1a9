"""``zhongcao demo`` (the command function in zhongcao.world.cli): migrate, build or reuse, print logins, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zhongcao import cli_support
from zhongcao.config import get_settings
from zhongcao.world import cli as world_cli
from zhongcao.world.generate import DEMO_PASSWORD, demo_logins

# `zhongcao demo` builds, simulates and serves a world: slow.
pytestmark = pytest.mark.slow


class Served(list[dict[str, Any]]):
    """What ``serve`` was called with, and the job worker started and stopped beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: list[str] = []


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Served:
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", f"sqlite:///{tmp_path}/demo.db")
    monkeypatch.setenv("ZHONGCAO_WORLD_DIR", str(tmp_path / "world"))
    monkeypatch.setenv("ZHONGCAO_EVENTS_DIR", str(tmp_path / "events"))
    # What `zhongcao demo` sets for its server and worker when unset (set here, so that the test's
    # process gets its environment back afterwards).
    monkeypatch.setenv("ZHONGCAO_CARRIER_TIME_SCALE", str(world_cli.DEMO_CARRIER_TIME_SCALE))
    get_settings.cache_clear()
    served = Served()
    monkeypatch.setattr(cli_support, "serve", lambda **kwargs: served.append(kwargs))
    monkeypatch.setattr(
        cli_support, "start_worker_process", lambda: served.workers.append("started") or "child"
    )
    monkeypatch.setattr(
        cli_support, "stop_worker_process", lambda child: served.workers.append(f"stopped {child}")
    )
    yield served
    get_settings.cache_clear()


def test_demo_builds_prints_logins_then_serves_and_reuses(demo_env: Served, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world_cli.demo_command(scale="tiny", days=7, seed=3, fresh=False, host="127.0.0.1", port=8123)
    out = capsys.readouterr().out
    assert "world 3-tiny built" in out
    assert "http://127.0.0.1:8123/docs" in out
    for login in demo_logins():
        assert login.email in out
    assert DEMO_PASSWORD in out
    assert demo_env == [{"host": "127.0.0.1", "port": 8123, "workers": 1, "migrate_first": False}]
    assert demo_env.workers == ["started", "stopped child"]  # a job worker beside the server
    assert (tmp_path / "world" / "3-tiny" / "manifest.json").is_file()

    world_cli.demo_command(scale="tiny", days=7, seed=3, fresh=False, host="127.0.0.1", port=8123)
    assert "world 3-tiny reused" in capsys.readouterr().out
    world_cli.demo_command(scale="tiny", days=7, seed=3, fresh=True, host="127.0.0.1", port=8123)
    assert "world 3-tiny built" in capsys.readouterr().out
    assert len(demo_env) == 3


def test_demo_rejects_bad_options_and_another_world(demo_env: Served, capsys) -> None:  # type: ignore[no-untyped-def]
    import typer

    with pytest.raises(typer.Exit) as caught:
        world_cli.demo_command(scale="gigantic", days=7, seed=3)
    assert caught.value.exit_code == 2
    world_cli.demo_command(scale="tiny", days=7, seed=3)
    with pytest.raises(typer.Exit) as caught:
        world_cli.demo_command(scale="tiny", days=7, seed=4)
    assert caught.value.exit_code == 1
    assert "--fresh" in capsys.readouterr().err
    assert len(demo_env) == 1


def _cases(tmp_path: Path) -> dict[str, int]:
    from sqlalchemy import func, select

    from zhongcao.db import Database
    from zhongcao.integrity.models import IntegrityCase

    database = Database(f"sqlite:///{tmp_path}/demo.db")
    try:
        with database.session(read_only=True) as db:
            rows = db.execute(select(IntegrityCase.kind, func.count()).group_by(IntegrityCase.kind)).all()
    finally:
        database.dispose()
    return {kind.value: int(n) for kind, n in rows}


def test_the_demo_plants_attacks_and_its_desk_has_cases_unless_told_not_to(
    demo_env: Served, capsys, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import typer

    world_cli.demo_command(scale="tiny", days=7, seed=3, host="127.0.0.1", port=8123)
    out = capsys.readouterr().out
    assert "integrity scan: " in out and "cases open on /operator/integrity" in out
    cases = _cases(tmp_path)
    # The ring; the farm and the view-inflation script (lockstep or velocity cases: at tiny scale).
    assert cases.get("brushing", 0) >= 1 and cases.get("engagement", 0) + cases.get("velocity", 0) >= 1, cases
    manifest = (tmp_path / "world" / "3-tiny" / "manifest.json").read_text(encoding="utf-8")
    assert '"attacks": true' in manifest

    # A world built with attacks is not the one asked for without them.
    with pytest.raises(typer.Exit) as caught:
        world_cli.demo_command(scale="tiny", days=7, seed=3, attacks=False)
    said = " ".join(capsys.readouterr().err.split())  # the console wraps long lines (the tmp path)
    assert caught.value.exit_code == 1 and "without attacks" in said
    world_cli.demo_command(scale="tiny", days=7, seed=3, fresh=True, attacks=False)
    assert "integrity scan" not in capsys.readouterr().out
    assert _cases(tmp_path) == {}
