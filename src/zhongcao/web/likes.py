"""Like counts on the pages' content cards: one :class:`~zhongcao.compass.likes.LikeCounts` per app,
reading what the ``like_counts`` job publishes (counting is Compass's, :mod:`zhongcao.compass.likes`)."""

from __future__ import annotations

from typing import Any

from zhongcao.compass.likes import LikeCounts
from zhongcao.events import service as events_service


def like_counts(app: Any) -> dict[int, int]:
    counter: LikeCounts | None = getattr(app.state, "web_like_counts", None)
    if counter is None:
        store = getattr(app.state, "event_store", None) or events_service.get_store(
            app.state.settings, app.state.database
        )
        counter = LikeCounts(app.state.settings, app.state.database, store)
        app.state.web_like_counts = counter
    return counter.get()
