"""Keeping Compass's analytics snapshot fresh without making a request wait for it.

On disk, one folder per database (so a demo world, a development database and the tests' databases
never read each other's numbers)::

    <ZHONGCAO_ANALYTICS_DIR>/db-<key>/
        LATEST              the name of the newest complete snapshot (replaced atomically)
        .lock               held (flock) by whichever process is building: one build at a time
        <generation>/       a complete snapshot (sales.parquet, ..., meta.json), never changed again
        .building-<name>/   a snapshot being written; renamed to <name>/ when complete

A request reads the generation ``LATEST`` names, whatever its age: API workers build nothing in the
background. The ``compass_snapshot`` job (``zhongcao worker``) calls :func:`refresh_snapshot` with
``force=False`` every minute, which rebuilds once the snapshot is older than
``ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES``. Only when there is no snapshot at all does a request build one
itself, and concurrent requests then wait for that one build instead of starting their own. Builds in
several processes (API workers, the job worker, the CLI) are serialised by the lock, and a build that
finds a fresh snapshot once it holds the lock does nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import shutil
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from zhongcao import clock
from zhongcao.compass.snapshot import interrupt_builds, read_meta, write_snapshot
from zhongcao.config import Settings, get_settings
from zhongcao.db import Database
from zhongcao.events import service as events_service

log = logging.getLogger(__name__)

POINTER = "LATEST"
LOCK = ".lock"
BUILDING = ".building-"
# Generations kept besides the newest (a request that resolved one just before a swap still reads it).
KEEP = 3
# An older generation is deleted only once its successor has been complete this long.
GRACE_S = 60.0


@dataclass(frozen=True)
class Snapshot:
    path: Path
    meta: dict[str, Any]

    def age_s(self) -> float:
        """Seconds since the snapshot's data was read (negative if the clock went back)."""
        stamp = self.meta.get("started_at") or self.meta["written_at"]
        return (clock.now() - datetime.fromisoformat(stamp)).total_seconds()

    def is_stale(self, max_age_minutes: float) -> bool:
        age = self.age_s()
        return age > max_age_minutes * 60 or age < 0


# -- where ----------------------------------------------------------------------------------------------

_keys: weakref.WeakKeyDictionary[Database, str] = weakref.WeakKeyDictionary()
_keys_lock = threading.Lock()


def database_key(database: Database) -> str:
    """A short, stable name for the database's data: its file for SQLite; for PostgreSQL the server,
    database and schema it reads (asked once per ``Database``: a schema may come from the search path)."""
    with _keys_lock:
        key = _keys.get(database)
    if key is not None:
        return key
    url = database.engine.url
    if database.dialect == "sqlite":
        name = url.database or ""
        where = f"sqlite:{Path(name).resolve()}" if name and name != ":memory:" else f"sqlite:{id(database)}"
    else:
        from sqlalchemy import text

        with database.engine.connect() as conn:
            db_name, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
        where = f"{database.dialect}:{url.host}:{url.port}:{db_name}:{schema}"
    key = hashlib.sha256(where.encode()).hexdigest()[:12]
    with _keys_lock:
        _keys[database] = key
    return key


def snapshot_root(settings: Settings, database: Database) -> Path:
    return Path(settings.analytics_dir) / f"db-{database_key(database)}"


# -- reading --------------------------------------------------------------------------------------------

_meta_cache: dict[Path, dict[str, Any]] = {}  # a generation never changes once complete


def _meta(path: Path) -> dict[str, Any] | None:
    meta = _meta_cache.get(path)
    if meta is None:
        meta = read_meta(path)
        if meta is not None:
            if len(_meta_cache) > 64:
                _meta_cache.clear()
            _meta_cache[path] = meta
    return meta


def _generations(root: Path) -> list[Path]:
    """Complete generations, oldest first (names begin with the build's start time)."""
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return []
    return sorted(p for p in entries if p.is_dir() and not p.name.startswith("."))


def current(root: Path) -> Snapshot | None:
    """The newest complete snapshot under ``root``, or None."""
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        name = ""
    if name:
        meta = _meta(root / name)
        if meta is not None:
            return Snapshot(root / name, meta)
    # No pointer yet (or it names something gone): the newest generation on disk, if any.
    for path in reversed(_generations(root)):
        meta = _meta(path)
        if meta is not None:
            return Snapshot(path, meta)
    return None


# -- building -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def build_lock(root: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the folder's build lock (yields False, holding nothing, if not blocking and it is taken).
    ``flock`` locks belong to an open file, so this serialises threads of one process too."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _publish(root: Path, name: str) -> None:
    pointer = root / POINTER
    try:
        now = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        now = ""
    if now and now > name:
        return  # a build that started later already published (cannot happen under the lock)
    tmp = root / f".{POINTER}.{os.getpid()}.{secrets.token_hex(4)}"
    tmp.write_text(name, encoding="utf-8")
    tmp.replace(pointer)


def _prune(root: Path, keep_name: str) -> None:
    """Drop generations past the newest ``KEEP`` whose successor has been complete ``GRACE_S``, and
    leftovers of builds that died (only the lock holder builds, so any other one is dead)."""
    now = time.time()
    generations = _generations(root)
    for older, newer in zip(generations[:-KEEP], generations[1:], strict=False):
        try:
            done_s = now - newer.stat().st_mtime
        except FileNotFoundError:
            continue
        if done_s > GRACE_S:
            shutil.rmtree(older, ignore_errors=True)
            _meta_cache.pop(older, None)
    for path in root.glob(BUILDING + "*"):
        if path.name != BUILDING + keep_name:
            shutil.rmtree(path, ignore_errors=True)


def build(database: Database, settings: Settings, root: Path) -> Snapshot:
    """Write a new generation and publish it. The caller holds :func:`build_lock`."""
    # Names sort in build order, even if the wall clock steps back: never below the newest one's.
    newest = _generations(root)
    stamp = time.time_ns()
    if newest:
        with contextlib.suppress(ValueError):
            stamp = max(stamp, int(newest[-1].name.split("-", 1)[0]) + 1)
    name = f"{stamp:020d}-{os.getpid()}-{secrets.token_hex(3)}"
    tmp = root / (BUILDING + name)
    try:
        meta = write_snapshot(database, events_service.get_store(settings, database), tmp)
        tmp.rename(root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _publish(root, name)
    _prune(root, name)
    return Snapshot(root / name, meta)


def refresh_snapshot(
    database: Database, settings: Settings | None = None, *, force: bool = True, blocking: bool = True
) -> Snapshot | None:
    """Build a new snapshot now (``force``), or only if the newest is stale or missing. Returns the
    new snapshot, or None when none was built (fresh enough, or, not ``blocking``, another is
    building). Tests call this after writing data; ``zhongcao jobs run`` may call it with
    ``force=False`` to keep the snapshot warm without any request."""
    settings = settings or get_settings()
    root = snapshot_root(settings, database)
    if not force:
        snapshot = current(root)
        if snapshot is not None and not snapshot.is_stale(settings.analytics_max_age_minutes):
            return None
    with build_lock(root, blocking=blocking) as held:
        if not held:
            return None
        if not force:
            snapshot = current(root)  # another process may have built one while we waited
            if snapshot is not None and not snapshot.is_stale(settings.analytics_max_age_minutes):
                return None
        return build(database, settings, root)


def newest_snapshot(database: Database, settings: Settings | None = None) -> Snapshot:
    """What a request reads: the newest complete snapshot, at once, however old (the
    ``compass_snapshot`` job rebuilds it once it is older than its max age). None at all (a fresh
    install, the tests): built here, one build, concurrent callers in any process wait for it."""
    settings = settings or get_settings()
    root = snapshot_root(settings, database)
    snapshot = current(root)
    if snapshot is None:
        with build_lock(root, blocking=True):
            snapshot = current(root) or build(database, settings, root)
    return snapshot


@atexit.register
def _on_exit() -> None:
    # Before the interpreter finalises: a build still inside DuckDB in another thread would abort it.
    interrupt_builds()


def refresh_command(force: bool = False) -> None:
    """Build Compass's analytics snapshot now (``--force``), or only if it is older than
    ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES (for cron, or next to ``zhongcao jobs run``)."""
    settings = get_settings()
    database = Database(settings=settings)
    try:
        snapshot = refresh_snapshot(database, settings, force=force)
        if snapshot is None:
            print("fresh enough: nothing to do")
        else:
            print(f"{snapshot.path}: {snapshot.meta}")
    finally:
        database.dispose()
