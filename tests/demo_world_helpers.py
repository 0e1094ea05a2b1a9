"""A fresh ``zhongcao demo --scale small`` world in a temporary folder, for the tests that check what
its logins show (tests/test_world_demo_logins.py and the browser walk-through)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from zhongcao import cli_support
from zhongcao.config import get_settings
from zhongcao.db import Database
from zhongcao.world import cli as world_cli
from zhongcao.world.service import load_latent

FOLDERS = ("world", "events", "models", "search_index", "analytics", "media")


class DemoWorld:
    def __init__(self, root: Path, seed: int, output: str, env: dict[str, str]) -> None:
        self.root = root
        self.seed = seed
        self.output = output
        self.env = env
        self.database = Database(env["ZHONGCAO_DATABASE_URL"])
        self.latent = load_latent(root / "world" / f"{seed}-small")

    def rows(self, stmt: Any) -> list[Any]:
        with self.database.session(read_only=True) as db:
            return list(db.execute(stmt).all())


def environment(root: Path) -> dict[str, str]:
    env = {"ZHONGCAO_DATABASE_URL": f"sqlite:///{root}/demo.db"}
    env.update({f"ZHONGCAO_{name.upper()}_DIR": str(root / name) for name in FOLDERS})
    return env


def build_demo(root: Path, seed: int) -> DemoWorld:
    """Run ``zhongcao demo --scale small --seed SEED`` into ``root`` up to where it would serve (the
    server and its job worker are not started)."""
    env = environment(root)
    patch = pytest.MonkeyPatch()
    for name, value in env.items():
        patch.setenv(name, value)
    get_settings.cache_clear()
    patch.setattr(cli_support, "serve", lambda **kwargs: None)
    patch.setattr(cli_support, "start_worker_process", lambda: None)
    patch.setattr(cli_support, "stop_worker_process", lambda child: None)
    buffer = StringIO()
    patch.setattr(world_cli, "console", Console(file=buffer, width=160))
    try:
        world_cli.demo_command(scale="small", days=30, seed=seed, fresh=False, host="127.0.0.1", port=8123)
    finally:
        patch.undo()
        get_settings.cache_clear()
        from zhongcao.events import service as events_service

        events_service.close_stores()
    return DemoWorld(root, seed, buffer.getvalue(), env)
