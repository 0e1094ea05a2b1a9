"""Like counts for content cards, from the behaviour events, refreshed in the background.

Likes are events (``like``), not rows: counting them is a pass over the event store, so a page never
waits for it. The first page asks for a count in a background thread and shows cards without likes
meanwhile; afterwards the counts are at most :data:`MAX_AGE_SECONDS` old.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from zhongcao.events import service as events_service

log = logging.getLogger("zhongcao.web")

MAX_AGE_SECONDS = 300.0


@dataclass
class LikeCounts:
    store: Any
    counts: dict[int, int] = field(default_factory=dict)
    refreshed_at: float | None = None
    _running: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> dict[int, int]:
        """The newest counts (maybe empty at first); starts a refresh when they are stale."""
        stale = self.refreshed_at is None or time.monotonic() - self.refreshed_at > MAX_AGE_SECONDS
        if stale:
            with self._lock:
                if not self._running:
                    self._running = True
                    threading.Thread(target=self._refresh, name="web-like-counts", daemon=True).start()
        return self.counts

    def refresh_now(self) -> dict[int, int]:
        self._refresh(running=False)
        return self.counts

    def _refresh(self, running: bool = True) -> None:
        try:
            self.counts = events_service.counts_by_content("like", store=self.store)
        except Exception:  # never let a page depend on analytics being up
            log.exception("could not count likes")
        finally:
            self.refreshed_at = time.monotonic()
            if running:
                with self._lock:
                    self._running = False


def like_counts(app: Any) -> dict[int, int]:
    counter: LikeCounts | None = getattr(app.state, "web_like_counts", None)
    if counter is None:
        store = getattr(app.state, "event_store", None) or events_service.get_store(
            app.state.settings, app.state.database
        )
        counter = LikeCounts(store)
        app.state.web_like_counts = counter
    return counter.get()
