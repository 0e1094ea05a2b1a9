"""Publish after commit: a service queues a message on its session; it is sent once the transaction
commits, and dropped if it rolls back, so no subscriber hears of a sale that did not happen.

Which bus: the one attached to the session's database (:func:`attach`, done by the app), else the
process's own, made from the environment's settings (a CLI command or the job worker).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from zhongcao.config import get_settings
from zhongcao.db import Database
from zhongcao.realtime.bus import Bus
from zhongcao.realtime.service import connect

log = logging.getLogger("zhongcao.realtime")

_PENDING = "realtime_outbox"
_buses: weakref.WeakKeyDictionary[Engine, Bus] = weakref.WeakKeyDictionary()
_default: list[Bus] = []
_lock = threading.Lock()


def attach(database: Database, bus: Bus) -> None:
    """Messages queued on this database's sessions go to ``bus``."""
    _buses[database.engine] = bus
    _buses[database.read_engine] = bus


def _process_bus() -> Bus:
    with _lock:
        if not _default:
            _default.append(connect(get_settings()).bus)
        return _default[0]


def bus_for(session: Session) -> Bus:
    bind = session.bind
    engine = bind.engine if bind is not None else None
    bus = _buses.get(engine) if engine is not None else None
    return bus if bus is not None else _process_bus()


def publish_after_commit(db: Session, channel: str, data: dict[str, Any]) -> None:
    db.info.setdefault(_PENDING, []).append((channel, data))


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    bus = bus_for(session)
    try:
        bus.publish_many(pending)
    except Exception:  # the commit stands; subscribers re-read the database (docs/realtime.md)
        log.exception("could not publish to %s", ", ".join(sorted({channel for channel, _ in pending})))


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
