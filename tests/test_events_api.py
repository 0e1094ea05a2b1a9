"""POST /api/events, on both backends: the store follows the platform database (segments or PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.factories import auth, make_user
from zhongcao import clock
from zhongcao.db import Database
from zhongcao.events.store import EventStore, PostgresEventStore, SegmentEventStore


@pytest.fixture
def store(app: FastAPI, database: Database, tmp_path: Path) -> Iterator[EventStore]:
    made: EventStore
    if database.dialect == "postgresql":
        made = PostgresEventStore(database.engine, table=f"events_t{secrets.token_hex(4)}")
    else:
        made = SegmentEventStore(tmp_path / "events")
    app.state.event_store = made
    yield made
    if isinstance(made, PostgresEventStore):
        made.drop()
    made.close()


def _rows(store: EventStore) -> list[dict]:
    return store.query("SELECT * FROM events ORDER BY event_id").to_pylist()


def test_events_are_stored_for_the_caller(client, db, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    user = make_user(db)
    other = make_user(db)
    events = [
        {"event_id": "e1", "type": "impression", "content_id": 5, "position": 0, "request_id": "r1"},
        {"event_id": "e2", "type": "play", "content_id": 5, "watch_ms": 8000, "request_id": "r1"},
        {"event_id": "e3", "type": "search", "query": "防晒霜", "result_ids": [7, 8, 9], "channel": "search"},
        {"type": "add_to_cart", "product_id": 7, "extra": {"sku_id": 3}},
    ]
    res = client.post("/api/events", json={"events": events}, headers=auth(db, user))
    assert res.status_code == 202, res.text
    assert res.json()["accepted"] == 4
    rows = _rows(store)
    assert len(rows) == 4
    assert {r["user_id"] for r in rows} == {user.id} and other.id != user.id
    by_id = {r["event_id"]: r for r in rows}
    assert by_id["e2"]["watch_ms"] == 8000 and by_id["e3"]["result_ids"] == [7, 8, 9]
    cart = next(r for r in rows if r["type"] == "add_to_cart")
    assert cart["product_id"] == 7 and '"sku_id"' in cart["extra"]


def test_a_replayed_event_is_accepted_and_counted_once(client, db, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    headers = auth(db, make_user(db))
    ts = clock.now().isoformat()
    body = {"events": [{"event_id": "same", "ts": ts, "type": "like", "content_id": 1}]}
    assert client.post("/api/events", json=body, headers=headers).json()["accepted"] == 1
    assert client.post("/api/events", json=body, headers=headers).json()["accepted"] == 1
    assert len(_rows(store)) == 1


def test_user_id_cannot_be_given_and_sign_in_is_required(client, db, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    body = {"events": [{"type": "like", "content_id": 1, "user_id": 99}]}
    res = client.post("/api/events", json=body, headers=auth(db, make_user(db)))
    assert res.status_code == 422
    assert client.post("/api/events", json={"events": [{"type": "like", "content_id": 1}]}).status_code == 401
    assert _rows(store) == []


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ([{"type": "like", "content_id": 1}, {"type": "warp", "content_id": 1}], "events[1].type"),
        ([{"type": "play", "content_id": 1}], "events[0].watch_ms"),
        ([{"type": "like", "content_id": 1, "ts": "2020-01-01T00:00:00Z"}], "events[0].ts"),
    ],
)
def test_bad_events_name_index_and_field_and_store_nothing(client, db, store, events, field) -> None:  # type: ignore[no-untyped-def]
    res = client.post("/api/events", json={"events": events}, headers=auth(db, make_user(db)))
    assert res.status_code == 422, res.text
    assert res.json()["error"]["details"]["field"] == field
    assert _rows(store) == []


def test_batches_are_limited_to_500(client, db, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    headers = auth(db, make_user(db))
    too_many = {"events": [{"type": "like", "content_id": 1}] * 501}
    assert client.post("/api/events", json=too_many, headers=headers).status_code == 422
    assert client.post("/api/events", json={"events": []}, headers=headers).status_code == 422
    future = (clock.now() + timedelta(minutes=5)).isoformat()
    ok = {"events": [{"type": "like", "content_id": 1, "ts": future}] * 500}
    assert client.post("/api/events", json=ok, headers=headers).json()["accepted"] == 500
    assert len(_rows(store)) == 500
