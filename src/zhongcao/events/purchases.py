"""Purchases as behaviour events, recorded by the platform when an order is paid.

An ``order`` event says "this user bought this product": the feed's and search's rankers learn from
them, so they come only from the order service (clients may not send them: ``SERVER_ONLY_TYPES`` in
:mod:`zhongcao.events.service`). The order service queues them on its session with
:func:`record_after_commit`; they are appended to the event store once the payment's transaction
commits, and dropped if it rolls back, so no ranker learns from a purchase that did not happen.

Which store: the one for the settings attached to the session's database (:func:`attach`, done by the
app), else the process's own for its environment (a CLI command, the job worker, the simulation).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from zhongcao.db import Database
from zhongcao.events.service import get_store
from zhongcao.events.store import EventStore

log = logging.getLogger("zhongcao.events")

_PENDING = "purchase_events"


@dataclass(frozen=True)
class Purchase:
    """One paid order line."""

    event_id: str  # "order:<order item id>": a replayed payment records nothing twice
    ts: datetime
    user_id: int
    product_id: int
    shop_id: int
    value_fen: int
    content_id: int | None
    channel: str


# engine -> what finds the store for its sessions' purchases (weakly: an app's engine is not kept
# alive here; a resolver must not hold the app strongly either).
_resolvers: weakref.WeakKeyDictionary[Engine, Callable[[], EventStore]] = weakref.WeakKeyDictionary()


def attach(database: Database, resolve: Callable[[], EventStore]) -> None:
    """Purchases committed on this database's sessions go to the store ``resolve()`` returns (asked at
    the first purchase, so a server starts even while its events folder is unwritable: readiness
    says so)."""
    _resolvers[database.engine] = _resolvers[database.read_engine] = resolve


_RECORDED_ELSEWHERE = "purchases_recorded_elsewhere"


def recorded_elsewhere(db: Session) -> None:
    """This session's purchases are logged by its owner, not here: the market simulation writes its
    own ``order`` events, at the simulated moment each purchase happens (the order service's clock is
    the wall clock), so recording them here too would count every purchase twice."""
    db.info[_RECORDED_ELSEWHERE] = True


def record_after_commit(db: Session, purchases: list[Purchase]) -> None:
    if db.info.get(_RECORDED_ELSEWHERE):
        return
    db.info.setdefault(_PENDING, []).extend(purchases)


def _store_for(session: Session) -> EventStore:
    bind = session.bind
    engine = bind.engine if bind is not None else None
    resolve = _resolvers.get(engine) if engine is not None else None
    return resolve() if resolve is not None else get_store()  # else the process's own settings


def batch_of(purchases: list[Purchase]) -> dict[str, list[Any]]:
    return {
        "event_id": [p.event_id for p in purchases],
        "ts": [p.ts for p in purchases],
        "type": ["order"] * len(purchases),
        "user_id": [p.user_id for p in purchases],
        "product_id": [p.product_id for p in purchases],
        "shop_id": [p.shop_id for p in purchases],
        "value_fen": [p.value_fen for p in purchases],
        "content_id": [p.content_id for p in purchases],
        "channel": [p.channel for p in purchases],
    }


@event.listens_for(Session, "after_commit")
def _append(session: Session) -> None:
    purchases = session.info.pop(_PENDING, None)
    if not purchases:
        return
    try:
        _store_for(session).append(batch_of(purchases))
    except Exception:  # the payment has committed; a lost analytics event must not fail it
        log.exception("could not record %d purchase events", len(purchases))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
