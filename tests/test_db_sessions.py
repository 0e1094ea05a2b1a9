"""Read-only sessions: GET requests read alongside the writer and can never write."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import InternalError

from tests.factories import auth, make_user
from zhongcao.db import Database, ReadOnlySessionError
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
        # Read-only is the connection's flag while the read session holds it, and one BEGIN READ ONLY
        # (no SET TRANSACTION after it); the same pooled connection writes again once handed back.
        statements: list[str] = []
        listen = lambda *a: statements.append(a[2])  # noqa: E731 (conn, cursor, statement, ...)
        event.listen(database.engine, "before_cursor_execute", listen)
        try:
            with database.session(read_only=True) as reader:
                reader.execute(text("SELECT 1"))
        finally:
            event.remove(database.engine, "before_cursor_execute", listen)
        assert not any("READ ONLY" in sql.upper() for sql in statements), statements
        with database.session() as writer:
            writer.execute(text("UPDATE users SET display_name = 'written' WHERE id = :id"), {"id": user.id})
            writer.commit()
            assert (
                writer.scalar(text("SELECT display_name FROM users WHERE id = :id"), {"id": user.id})
                == "written"
            )


def test_sqlite_keeps_every_pooled_connection_and_maps_the_file(tmp_path):
    """An overflow connection is closed on return, and a new SQLite connection re-runs its pragmas and
    parses the schema on first use: under load that churn cost milliseconds a request. So the pool
    holds as many connections as may be in use at once, and pages are read through a memory map."""
    from zhongcao.config import Settings
    from zhongcao.db import SQLITE_MMAP_BYTES, Database

    settings = Settings(database_url=f"sqlite:///{tmp_path}/pool.db", db_pool_size=3, db_max_overflow=4)
    database = Database(settings=settings)
    try:
        for engine in (database.engine, database.read_engine):
            assert engine.pool.size() == 7 and engine.pool._max_overflow == 0  # type: ignore[attr-defined]
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == SQLITE_MMAP_BYTES
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        database.dispose()


def test_core_reads_see_what_the_session_holds_unflushed(db):
    """``core(session)`` runs prebuilt Core statements on the session's connection; like an ORM query
    it first flushes what the session holds, so a read in the same session sees it."""
    from sqlalchemy import select

    from zhongcao.db import core

    user = make_user(db)
    user.display_name = "renamed, not flushed"
    row = core(db).execute(select(User.display_name).where(User.id == user.id)).one()
    assert row.display_name == "renamed, not flushed"
    db.rollback()


def test_pooled_connections_are_pinged_only_after_idling(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection checked out again at once is used as is (no round trip); one idle for
    PING_AFTER_IDLE_S is pinged first (and replaced if the ping fails)."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite connections are files: nothing to ping")
    from zhongcao import db as db_module

    url = database.engine.url.render_as_string(hide_password=False)
    own = Database(url, pool_size=1, max_overflow=0)  # one pooled connection, used again and again
    pings: list[object] = []
    real_ping = own.engine.dialect.do_ping
    monkeypatch.setattr(own.engine.dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn))
    try:
        for _ in range(3):
            with own.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        assert pings == []
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
        with own.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert len(pings) == 1
    finally:
        own.dispose()
