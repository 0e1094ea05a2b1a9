"""Database engine, sessions and the declarative base shared by every domain's models."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from zhongcao import clock, writer_queue
from zhongcao.config import Settings, get_settings

# Stable constraint names so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use zhongcao.clock.now() or an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_MMAP_BYTES = 1 << 30  # address space only: pages are mapped as they are read


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level so that we, not pysqlite, decide how a transaction begins.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000:.0f}")
    # Read pages through a shared memory map instead of a read() call per page into each connection's
    # own small cache: every pooled connection then reads the one copy the OS already holds.
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # SQLite allows one writer. A deferred transaction that reads then writes can fail with
    # SQLITE_BUSY without waiting; BEGIN IMMEDIATE takes the write lock up front and waits for it
    # (busy_timeout), so concurrent checkouts queue instead of erroring. File databases also queue
    # their writers fairly before this (zhongcao.writer_queue).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    # Read-only sessions: a deferred transaction is a consistent snapshot that, under WAL, neither
    # waits for nor blocks the writer.
    conn.exec_driver_sql("BEGIN")


def make_engine(
    url: str | None = None, settings: Settings | None = None, *, read_only: bool = False, **kwargs: Any
) -> Engine:
    settings = settings or get_settings()
    url = url or settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30, **kwargs.pop("connect_args", {})}
        if path and path != ":memory:":
            # Keep as many connections as may be in use at once: an overflow connection is closed when
            # returned, and a new SQLite connection costs its pragmas and a schema parse on first use
            # (milliseconds, measured under load in benchmarks/RESULTS.md, "Feed serving").
            kwargs.setdefault("pool_size", settings.db_pool_size + settings.db_max_overflow)
            kwargs.setdefault("max_overflow", 0)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin_immediate)
        if not read_only and path and path != ":memory:":
            # Writers take turns, first come first served, instead of racing in SQLite's busy handler.
            writer_queue.install(engine, path, timeout_s=SQLITE_BUSY_TIMEOUT_S)
        return engine
    kwargs.setdefault("pool_size", settings.db_pool_size)
    kwargs.setdefault("max_overflow", settings.db_max_overflow)
    engine = create_engine(url, **kwargs)
    if not engine.pool._pre_ping:
        _ping_when_idle(engine)
    return engine


# A pooled connection is pinged before use only when it sat idle this long. SQLAlchemy's pre-ping
# costs a round trip on every checkout, and a request checks out once per transaction (an order's two
# requests: six pings, a fifth of their round trips). A busy pool's connections are never idle for
# long; one that was (a quiet night, a restarted server) is tested and replaced before it is used.
PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    from sqlalchemy import exc

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise exc.DisconnectionError("a pooled connection failed its ping") from error

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


class ReadOnlySessionError(RuntimeError):
    """A read-only session (a GET request) tried to write: a bug in the code path, not in the input."""


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("a read-only session tried to write")


class Database:
    """Engines and session factories. One per process; tests make their own.

    ``session()`` is for work that may write. ``session(read_only=True)`` is for reads (the API uses it
    for GET requests): on SQLite it runs on its own engine with deferred transactions, so readers run
    alongside the single writer instead of queueing behind it; on PostgreSQL it is a READ ONLY
    transaction. Either way a write from a read-only session is refused.
    """

    def __init__(self, url: str | None = None, settings: Settings | None = None, **kwargs: Any) -> None:
        self.engine = make_engine(url, settings, **dict(kwargs))
        if self.engine.dialect.name == "sqlite":
            self.read_engine = make_engine(url, settings, read_only=True, **dict(kwargs))
        else:
            # The same pool, with psycopg's read_only flag set on checkout: its BEGIN is then
            # "BEGIN READ ONLY", one round trip where a SET TRANSACTION READ ONLY after BEGIN was two.
            # The database itself refuses writes, so a GET that writes fails loudly in tests.
            self.read_engine = self.engine.execution_options(postgresql_readonly=True)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self.read_sessionmaker = sessionmaker(
            self.read_engine, expire_on_commit=False, autoflush=True, info={"read_only": True}
        )
        event.listen(self.read_sessionmaker, "before_flush", _refuse_flush)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, read_only: bool = False) -> Session:
        return self.read_sessionmaker() if read_only else self.sessionmaker()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A bare connection for one small Core SELECT on a hot path that runs per pushed change (a
        chat stream's unread badge): no ORM session and, on PostgreSQL, no transaction at all
        (autocommit: no BEGIN and ROLLBACK round trips around a single statement). Only ever give it a SELECT."""
        with self.read_engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine.dialect.name == "sqlite":  # PostgreSQL's shares the engine's pool
            self.read_engine.dispose()


def core(session: Session) -> Connection:
    """The session's connection, for running a prebuilt Core statement on the hottest read paths: it
    skips the ORM's per-query work (about two thirds of a small query's cost). What the session holds
    unflushed is flushed first, as an ORM query would (autoflush); a clean session flushes nothing."""
    if session.autoflush:
        session.flush()
    return session.connection()


def is_read_only(session: Session) -> bool:
    return bool(session.info.get("read_only"))


def session_scope(database: Database) -> Iterator[Session]:
    """Yield a session that is rolled back on error and always closed."""
    session = database.session()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Rows per multi-row INSERT in bulk writes: large enough to amortise round trips, small enough to
# stay under parameter limits (SQLite allows 32,766 bound values per statement).
BULK_INSERT_CHUNK = 1000


def rows_changed(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an executed UPDATE or DELETE changed (the driver's rowcount).

    `Session.execute` is typed as returning a plain `Result`; for DML it is a `CursorResult`, the only
    kind that carries `rowcount`, so this narrows to it (and fails loudly if given a SELECT's result).
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"rows_changed needs the result of an UPDATE or DELETE, got {type(result).__name__}")
    return result.rowcount


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with multi-row INSERTs, in chunks (no ORM objects, no per-row round trip)."""
    from sqlalchemy import insert

    for start in range(0, len(rows), BULK_INSERT_CHUNK):
        session.execute(insert(table), rows[start : start + BULK_INSERT_CHUNK])


def insert_rows_returning_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Like :func:`insert_rows`, returning the new ids in the order of ``rows``."""
    from sqlalchemy import insert

    ids: list[int] = []
    for start in range(0, len(rows), BULK_INSERT_CHUNK):
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids.extend(session.scalars(stmt, rows[start : start + BULK_INSERT_CHUNK]))
    return ids


def str_enum(enum_cls: type, name: str) -> Any:
    """A portable enum column: VARCHAR plus a named CHECK constraint, values stored as written."""
    from sqlalchemy import Enum as SAEnum

    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def json_type() -> Any:
    from sqlalchemy import JSON
    from sqlalchemy.dialects.postgresql import JSONB

    return JSON().with_variant(JSONB(), "postgresql")
