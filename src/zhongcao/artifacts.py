"""Versioned model artifacts on disk: ``<models_dir>/<name>/<version>/`` with ``metadata.json``.

A training job writes a new version into a temporary folder and renames it into place, so a reader
never sees half an artifact. Versions sort by name (UTC time of training, then a counter), and the
newest complete one is what servers load; :class:`Newest` re-checks at most every ``poll_seconds`` and
hands back a newly loaded model without a restart (the old one keeps serving until the new one has
loaded).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from zhongcao import clock
from zhongcao.config import get_settings

METADATA = "metadata.json"
T = TypeVar("T")


def models_root(name: str, root: Path | None = None) -> Path:
    if not name.isidentifier():
        raise ValueError(f"bad model name {name!r}")
    return Path(root or get_settings().models_dir) / name


def versions(name: str, root: Path | None = None) -> list[Path]:
    """Complete versions of ``name``, oldest first."""
    base = models_root(name, root)
    if not base.is_dir():
        return []
    return sorted(
        p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / METADATA).is_file()
    )


def newest(name: str, root: Path | None = None) -> Path | None:
    found = versions(name, root)
    return found[-1] if found else None


def read_metadata(path: Path) -> dict[str, Any]:
    return json.loads((path / METADATA).read_text(encoding="utf-8"))


@contextmanager
def new_version(name: str, metadata: dict[str, Any], root: Path | None = None) -> Iterator[Path]:
    """A folder to write a new version into; published (renamed into place) when the block ends
    without an error, deleted otherwise. ``metadata`` may be completed inside the block. Safe for
    several trainers at once: each writes its own temporary folder, and the one that publishes second
    takes the next version number."""
    base = models_root(name, root)
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".{os.getpid()}-{secrets.token_hex(6)}.tmp"
    tmp.mkdir()
    try:
        yield tmp
        stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 1000):
            version = f"{stamp}-{n:03d}"
            if (base / version).exists():
                continue
            meta = {"name": name, "version": version, "created_at": datetime.now(UTC).isoformat(), **metadata}
            (tmp / METADATA).write_text(
                json.dumps(meta, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
            )
            try:
                tmp.rename(base / version)  # atomic; fails if another trainer took the name meanwhile
            except OSError:
                continue
            return
        raise RuntimeError(f"no free version name for {name} at {stamp}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def prune(name: str, keep: int = 3, root: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest versions; returns what was deleted."""
    found = versions(name, root)
    old = found[: max(0, len(found) - keep)]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return old


class Newest(Generic[T]):
    """The newest version of a model, loaded with ``load(path)``, swapped in when a newer one appears.

    ``get()`` is cheap: it checks the folder at most every ``poll_seconds``; a load error keeps the
    model already loaded (and is remembered in ``last_error``)."""

    def __init__(
        self, name: str, load: Callable[[Path], T], *, root: Path | None = None, poll_seconds: float = 5.0
    ) -> None:
        self.name = name
        self._load = load
        self._root = root
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._checked = 0.0
        self.version: str | None = None
        self.model: T | None = None
        self.last_error: str | None = None

    def get(self) -> T | None:
        now = time.monotonic()
        if now - self._checked >= self.poll_seconds:
            with self._lock:
                if now - self._checked >= self.poll_seconds:
                    self._checked = now
                    self._refresh()
        return self.model

    def _refresh(self) -> None:
        path = newest(self.name, self._root)
        if path is None or path.name == self.version:
            return
        try:
            model = self._load(path)
        except Exception as exc:  # keep serving the model we have
            self.last_error = f"{path.name}: {type(exc).__name__}: {exc}"
            return
        self.model, self.version, self.last_error = model, path.name, None
