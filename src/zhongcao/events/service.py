"""Event ingestion and analytics: the store chosen from configuration, and the API's batch path.

Backends (``ZHONGCAO_EVENTS_BACKEND``): ``segments`` (the embedded store under ``ZHONGCAO_EVENTS_DIR``,
default ``./var/events``), ``postgres`` (a day-partitioned table in the platform's PostgreSQL database),
or ``auto`` (the default): PostgreSQL when the platform database is PostgreSQL, segments otherwise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from zhongcao import clock
from zhongcao.config import Settings, get_settings
from zhongcao.db import Database
from zhongcao.errors import InvalidInput
from zhongcao.events.model import MAX_BATCH_API
from zhongcao.events.schemas import EventIn
from zhongcao.events.store import EventStore, PostgresEventStore, SegmentEventStore
from zhongcao.integrity import published as integrity_published
from zhongcao.integrity.models import FlagKind

# Client clocks drift; an event stamped further from the server's clock than this is refused.
MAX_CLIENT_PAST = timedelta(days=7)
MAX_CLIENT_FUTURE = timedelta(minutes=10)
# What only the platform itself records: a purchase is an order the order service took, never a
# client's say-so (the feed and search rankers learn from these events, so a client could otherwise
# buy ranking with invented orders). ``value_fen`` belongs to them alone.
SERVER_ONLY_TYPES = frozenset({"order"})

_stores: dict[tuple[str, str], EventStore] = {}
_stores_lock = threading.Lock()


def events_dir(settings: Settings | None = None) -> Path:
    return Path((settings or get_settings()).events_dir)


def backend(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    chosen = settings.events_backend
    if chosen == "auto":
        return "segments" if settings.is_sqlite else "postgres"
    return chosen


def get_store(settings: Settings | None = None, database: Database | None = None) -> EventStore:
    """The process's event store for this configuration (one per backend and location)."""
    settings = settings or get_settings()
    kind = backend(settings)
    where = str(events_dir(settings).resolve()) if kind == "segments" else settings.database_url
    with _stores_lock:
        store = _stores.get((kind, where))
        if store is None:
            if kind == "segments":
                store = SegmentEventStore(where)
            else:
                database = database if database is not None and database.dialect == "postgresql" else None
                store = PostgresEventStore((database or Database(settings=settings)).engine)
            _stores[(kind, where)] = store
        root = Path(settings.models_dir)
        if getattr(store.discount, "root", None) != root:  # one reader per models folder
            store.discount = flagged_users_reader(settings)
        return store


def flagged_users_reader(settings: Settings) -> Callable[[], np.ndarray]:
    """What a store's ``discount`` calls: the users flagged for bought engagement in the integrity
    domain's newest published flag set (issue #19), re-read every few seconds."""
    root = Path(settings.models_dir)

    def flagged_users() -> np.ndarray:
        return integrity_published.current(root).of_kind(FlagKind.user)

    flagged_users.root = root  # type: ignore[attr-defined]
    return flagged_users


def close_stores() -> None:
    with _stores_lock:
        for store in _stores.values():
            store.close()
        _stores.clear()


def ingest(batch: Any, store: EventStore | None = None) -> int:
    """Store a columnar batch (``pyarrow.Table`` or a dict of numpy arrays/lists); return the count
    acknowledged (durable). Raises ``InvalidInput`` naming the index and field of a bad event."""
    return (store or get_store()).append(batch)


def connect(store: EventStore | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with an ``events`` view (one row per event_id) and ``events_raw``."""
    return (store or get_store()).connect()


def query(sql: str, params: list[Any] | None = None, store: EventStore | None = None) -> pa.Table:
    return (store or get_store()).query(sql, params)


def counts_by_content(event_type: str, since: Any = None, store: EventStore | None = None) -> dict[int, int]:
    """``content id -> how many events of one type it received`` (e.g. likes) since ``since``.

    Counted over the raw rows (PostgreSQL in the database, the embedded store in DuckDB), skipping
    the ``events`` view's de-duplication, which would sort every event: a replayed event may count
    twice. The discounted users' likes (flagged for bought engagement) are not counted. A full pass over the window: callers cache the result (the web pages refresh it in the
    background every few minutes)."""
    store = store or get_store()
    if isinstance(store, PostgresEventStore):
        discounted = store.discounted_users().tolist()
        conn = store.engine.raw_connection()
        try:
            cur = conn.cursor()
            store.ensure_table(cur)
            where = "type = %s AND content_id IS NOT NULL" + (" AND ts >= %s" if since is not None else "")
            params: list[Any] = [event_type] + ([since] if since is not None else [])
            if discounted:  # bought engagement is not counted (the events view leaves it out too)
                where += " AND NOT (user_id = ANY(%s))"
                params.append(discounted)
            cur.execute(
                f'SELECT content_id, count(*) FROM "{store.table}" WHERE {where} GROUP BY content_id', params
            )
            rows = cur.fetchall()
            conn.commit()
        finally:
            conn.close()
        return {int(c): int(n) for c, n in rows}
    sql = "SELECT content_id, count(*) AS n FROM events_raw WHERE type = ? AND content_id IS NOT NULL"
    params = [event_type]
    if since is not None:
        sql += " AND ts >= ?"
        params.append(since)
    table = store.query(sql + " GROUP BY content_id", params)
    return dict(zip(table["content_id"].to_pylist(), table["n"].to_pylist(), strict=True))


def ingest_for_user(store: EventStore, user_id: int, events: list[EventIn]) -> int:
    """The API's path: events of the signed-in user. ``user_id`` is always the caller; a missing
    ``ts`` is the server's clock and a given one must be near it."""
    if not events:
        return 0
    if len(events) > MAX_BATCH_API:
        raise InvalidInput(
            f"at most {MAX_BATCH_API} events per request", code="batch_too_large", field="events"
        )
    now = clock.now()
    columns: dict[str, list[Any]] = {name: [] for name in EventIn.model_fields if name not in ("ts",)}
    ts: list[Any] = []
    for i, event in enumerate(events):
        when = event.ts or now
        if when < now - MAX_CLIENT_PAST or when > now + MAX_CLIENT_FUTURE:
            raise InvalidInput(
                f"event {i}: ts is too far from the server's clock",
                code="invalid_event",
                field=f"events[{i}].ts",
                details={"index": i},
            )
        if event.type in SERVER_ONLY_TYPES:
            raise InvalidInput(
                f"event {i}: {event.type!r} events are recorded by the platform, not sent by clients",
                code="event_type_not_allowed",
                field=f"events[{i}].type",
                details={"index": i},
            )
        if event.value_fen is not None:
            raise InvalidInput(
                f"event {i}: value_fen is set by the platform, not by clients",
                code="invalid_event",
                field=f"events[{i}].value_fen",
                details={"index": i},
            )
        ts.append(when)
        for name, values in columns.items():
            values.append(getattr(event, name))
    columns["extra"] = [
        None if e is None else json.dumps(e, ensure_ascii=False, separators=(",", ":"))
        for e in columns["extra"]
    ]
    batch: dict[str, Any] = {
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "user_id": [user_id] * len(events),
        **{k: v for k, v in columns.items() if any(x is not None for x in v)},
    }
    return store.append(batch)
