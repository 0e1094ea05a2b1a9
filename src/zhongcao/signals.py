"""Domain signals: a domain says that something happened; the workflows layer decides who hears.

A domain cannot import the notifications service (domains never import each other's services), yet a
paid order must tell the shop's staff. So the order service *emits* ``order_paid`` on its session,
inside its transaction, and :mod:`zhongcao.flows` *connects* the handler that writes the
notifications. Handlers run synchronously in the emitter's transaction, before it commits: what they
write commits or rolls back with the change that caused it (no notification of a payment that did
not happen). A handler must not commit, and should be cheap (it runs inside the emitter's locks).

Core infrastructure: imports no domain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger("zhongcao.signals")

Handler = Callable[[Session, dict[str, Any]], None]

_handlers: dict[str, list[Handler]] = {}

# Session flag: this session's work raises no signals (the market simulation's bulk orders).
QUIET = "signals_quiet"


def connect(name: str, handler: Handler) -> None:
    """Call ``handler(db, data)`` whenever ``name`` is emitted (connecting the same handler twice is
    a no-op, so re-importing the wiring does not double every notification)."""
    handlers = _handlers.setdefault(name, [])
    if handler not in handlers:
        handlers.append(handler)


def disconnect(name: str, handler: Handler) -> None:
    handlers = _handlers.get(name, [])
    if handler in handlers:
        handlers.remove(handler)


def quiet(db: Session) -> None:
    """Signals emitted on this session reach nobody (bulk generators that would flood inboxes)."""
    db.info[QUIET] = True


def emit(db: Session, name: str, **data: Any) -> None:
    """Run the handlers of ``name`` in this session's transaction."""
    if db.info.get(QUIET):
        return
    for handler in list(_handlers.get(name, ())):
        handler(db, data)
