"""Expensive test worlds built once per test process and backend, then restored for each test.

Building and simulating even the tiny world (and training a feed model on it) takes seconds, and
tests used to do it every time. The first test that asks for a world builds it for real; what it
wrote is kept: every table's rows in memory and its folders (event log, world record, models) on
disk. Later tests get the same rows inserted with the same ids (the ``database`` fixture has just
emptied the tables and restarted the ids) and their own copy of the folders, so each test still
starts from a fresh, identical world that it may change as it likes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from zhongcao.db import Database
from zhongcao.tables import metadata


@dataclass
class _Snapshot:
    rows: dict[str, list[dict[str, Any]]]
    folder: Path  # a copy of what the build wrote under its folder
    value: Any  # what the build returned (paths in it relative to its folder)


_SNAPSHOTS: dict[tuple[str, str], _Snapshot] = {}
_ROOT: Path | None = None


def _cache_root() -> Path:
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="zhongcao-test-worlds-"))
    return _ROOT


def built_once(database: Database, folder: Path, key: str, build: Callable[[Path], Any]) -> Any:
    """``build(root)`` fills the (empty) ``database`` and writes its files under ``root``; the first
    call per process, backend and ``key`` runs it, every call gets its rows and a copy of ``root`` at
    ``folder``. Returns what ``build`` returned (keep paths in it relative to ``root``)."""
    slot = (database.dialect, key)
    snapshot = _SNAPSHOTS.get(slot)
    if snapshot is None:
        # A plain name: the event store's readers glob under it ([ ] in a key would be a pattern).
        root = _cache_root() / f"{database.dialect}-{len(_SNAPSHOTS)}"
        value = build(root)
        snapshot = _SNAPSHOTS[slot] = _Snapshot(_read_rows(database), root, value)
    else:
        _insert_rows(database, snapshot.rows)
    shutil.copytree(snapshot.folder, folder, dirs_exist_ok=True)
    return snapshot.value


def _read_rows(database: Database) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            found = [dict(row) for row in conn.execute(select(table)).mappings()]
            if found:
                rows[table.name] = found
    return rows


def _insert_rows(database: Database, rows: dict[str, list[dict[str, Any]]]) -> None:
    with database.engine.begin() as conn:
        for table in metadata.sorted_tables:  # parents before children
            if table.name in rows:
                conn.execute(insert(table), rows[table.name])
        if database.dialect == "postgresql":
            # Explicit ids leave the sequences behind: the next row a test adds must not collide.
            for table in metadata.sorted_tables:
                if table.name not in rows:
                    continue
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (
                        column.autoincrement == "auto" and len(table.primary_key.columns) == 1
                    ):
                        sequence = conn.scalar(
                            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                        )
                        if sequence is not None:
                            top = conn.scalar(select(func.max(column)))
                            conn.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": top})
