"""Compass reads a snapshot that is refreshed in the background: tests take one after writing data."""

from __future__ import annotations

from typing import Any

from zhongcao.compass import refresher


def refresh_compass(client: Any, db: Any) -> None:
    """Commit the test's writes and build the snapshot the next Compass request will read."""
    db.commit()
    refresher.refresh_snapshot(client.app.state.database, client.app.state.settings)
