"""Read-only sessions: GET requests read alongside the writer and can never write."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import InternalError

from tests.factories import auth, make_user
from zhongcao.db import ReadOnlySessionError
from zhongcao.users.models import User


def test_reads_do_not_wait_for_a_writer(client, db, database):
    user = make_user(db)
    headers = auth(db, user)
    writer = database.session()
    writer.execute(text("UPDATE users SET display_name = 'busy' WHERE id = :id"), {"id": user.id})
    try:
        # On SQLite the writer now holds the only write lock (BEGIN IMMEDIATE). A GET must not queue
        # behind it; it reads the last committed state.
        started = time.monotonic()
        response = client.get("/api/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["display_name"] != "busy"
        assert time.monotonic() - started < 5
    finally:
        writer.rollback()
        writer.close()


def test_read_only_sessions_refuse_writes(database, db):
    user = make_user(db)
    session = database.session(read_only=True)
    try:
        row = session.get(User, user.id)
        row.display_name = "changed"
        with pytest.raises(ReadOnlySessionError):
            session.flush()
    finally:
        session.rollback()
        session.close()
    if database.dialect == "postgresql":
        session = database.session(read_only=True)
        try:
            with pytest.raises(InternalError):
                session.execute(text("UPDATE users SET display_name = 'x'"))
        finally:
            session.rollback()
            session.close()
