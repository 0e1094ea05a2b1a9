"""Like counts for content cards, counted from the behaviour events by the ``like_counts`` job.

Analytics over the event store, like the rest of Compass: the pages read them (``web/likes.py``) and
the job runner publishes them, both from here, so the job runner does not import the pages.

Likes are events (``like``), not rows: counting them is a pass over the event store, so no page does
it. The job publishes the counts as one JSON file per database (beside Compass's snapshot, replaced
atomically); an API worker re-reads it when its modification time moves, checking at most every
:data:`CHECK_SECONDS`. Before the job's first run (a fresh install, the tests) the first page counts
once and publishes, as Compass builds its first snapshot.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhongcao.compass.refresher import snapshot_root
from zhongcao.config import Settings
from zhongcao.db import Database
from zhongcao.events import service as events_service

log = logging.getLogger("zhongcao.compass")

CHECK_SECONDS = 2.0
FILE_NAME = "like_counts.json"


def counts_path(settings: Settings, database: Database) -> Path:
    return snapshot_root(settings, database) / FILE_NAME


def publish(database: Database, settings: Settings, store: Any) -> dict[int, int]:
    """Count likes now and publish them (what the job runs)."""
    counts = events_service.counts_by_content("like", store=store)
    path = counts_path(settings, database)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps({str(k): int(v) for k, v in counts.items()}))
    os.replace(tmp, path)
    return counts


@dataclass
class LikeCounts:
    """One API worker's view of the published counts."""

    settings: Settings
    database: Database
    store: Any
    counts: dict[int, int] = field(default_factory=dict)
    _mtime: tuple[int, int] | None = None
    _checked: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> dict[int, int]:
        """The newest published counts (re-read when the file changed; counted here if there is none)."""
        now = time.monotonic()
        if now - self._checked < CHECK_SECONDS:
            return self.counts
        with self._lock:
            if now - self._checked < CHECK_SECONDS:
                return self.counts
            self._checked = now
            try:
                self._load()
            except Exception:  # never let a page depend on analytics being up
                log.exception("could not read like counts")
        return self.counts

    def refresh_now(self) -> dict[int, int]:
        """Count, publish and read back now (tests; the job does this on its schedule)."""
        publish(self.database, self.settings, self.store)
        with self._lock:
            self._checked = time.monotonic()
            self._load()
        return self.counts

    def _load(self) -> None:
        path = counts_path(self.settings, self.database)
        try:
            stat = path.stat()
        except FileNotFoundError:
            publish(self.database, self.settings, self.store)  # the first count, before any job ran
            stat = path.stat()
        mtime = (stat.st_ino, stat.st_mtime_ns)  # each publish is a new file, renamed into place
        if mtime == self._mtime:
            return
        self.counts = {int(k): int(v) for k, v in json.loads(path.read_text()).items()}
        self._mtime = mtime
