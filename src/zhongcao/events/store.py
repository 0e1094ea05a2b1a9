"""Where events are kept: the ``EventStore`` interface and its two implementations.

``SegmentEventStore`` is the embedded default: every process appends Arrow IPC batches to a segment file
of its own, fsync'd with group commit before an append returns; full segments are rolled into Parquet.
``PostgresEventStore`` is the production path: one table partitioned by day. Both answer analytics
through DuckDB with an ``events`` view (one row per ``event_id``). The contract is in docs/events.md.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.engine import Engine

from zhongcao.events.model import COLUMNS, SCHEMA, prepare

log = logging.getLogger("zhongcao.events")

SEGMENT_SUFFIX = ".arrows"
# A segment is rolled into Parquet once it holds this many bytes.
DEFAULT_ROLL_BYTES = 256 * 1024 * 1024

DEDUP_VIEW = (
    "CREATE OR REPLACE VIEW events AS SELECT * EXCLUDE (_rn) FROM ("
    " SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY ts) AS _rn FROM events_raw"
    ") WHERE _rn = 1"
)
# Every stored event, the discounted ones included (what the integrity detectors read).
DEDUP_ALL_VIEW = (
    "CREATE OR REPLACE VIEW events_all AS SELECT * EXCLUDE (_rn) FROM ("
    " SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY ts) AS _rn FROM events_stored"
    ") WHERE _rn = 1"
)


def _no_users() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


class EventStore(abc.ABC):
    """Durable, append-only storage of behaviour events.

    Analytics never count bought engagement: ``discount`` (set by :func:`zhongcao.events.service.
    get_store` to read the integrity domain's published flag set) names the users whose events the
    ``events_raw`` and ``events`` views leave out. Nothing is deleted: ``events_stored`` and
    ``events_all`` (deduplicated) still hold every event, and lifting a flag counts them again.
    """

    discount: Callable[[], np.ndarray] | None = None

    def discounted_users(self) -> np.ndarray:
        """The user ids whose events analytics leave out now (sorted int64; empty when none)."""
        if self.discount is None:
            return _no_users()
        try:
            return np.asarray(self.discount(), dtype=np.int64)
        except Exception:  # analytics must not fail because the flag set cannot be read
            log.exception("could not read the discounted users: counting every event")
            return _no_users()

    def _create_views(self, con: duckdb.DuckDBPyConnection) -> None:
        """``events_raw`` (stored minus discounted), ``events`` and ``events_all`` over ``events_stored``."""
        users = self.discounted_users()
        if len(users):
            con.register("discounted_users", pa.table({"user_id": pa.array(users, pa.int64())}))
            con.execute(
                "CREATE VIEW events_raw AS SELECT * FROM events_stored "
                "WHERE user_id NOT IN (SELECT user_id FROM discounted_users)"
            )
        else:
            con.execute("CREATE VIEW events_raw AS SELECT * FROM events_stored")
        con.execute(DEDUP_VIEW)
        con.execute(DEDUP_ALL_VIEW)

    @abc.abstractmethod
    def append(self, batch: Any) -> int:
        """Validate and store a batch; return how many events were acknowledged.

        When this returns the events are durable: a crash afterwards loses none of them. Either the
        whole batch is acknowledged or an exception is raised (``InvalidInput`` for bad events).
        """

    @abc.abstractmethod
    def flush(self) -> None:
        """Make pending work visible and compact where the store compacts (appends are durable anyway)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def clear(self) -> None:
        """Delete every stored event."""

    @abc.abstractmethod
    def connect(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with views ``events`` (one row per event_id) and ``events_raw`` (both
        without the discounted users' events), ``events_all`` and ``events_stored`` (every event).

        With ``since`` / ``until``, both views hold only the events with ``since <= ts < until`` and
        duplicates are removed within that range: an incremental reader (the feed's catch-up) then pays
        for the new events, not for the whole log."""

    def query(
        self,
        sql: str,
        params: list[Any] | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> pa.Table:
        """Run SQL against the ``events`` view (of ``since <= ts < until`` when given) as an Arrow table."""
        con = self.connect(since, until)
        try:
            return con.sql(sql, params=params).to_arrow_table()
        finally:
            con.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Embedded: segment log + Parquet ------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_segment(path: Path) -> pa.Table:
    """Every complete batch of a segment. A torn last batch (a crash mid-write) is ignored: it was
    never acknowledged, because an append returns only after its bytes are fsync'd."""
    batches: list[pa.RecordBatch] = []
    with open(path, "rb") as f:
        try:
            reader = pa.ipc.open_stream(f)
        except (pa.ArrowException, OSError):
            return SCHEMA.empty_table()  # crashed before the schema header was durable: no batches
        while True:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                break
            except (pa.ArrowException, OSError):
                break
    return pa.Table.from_batches(batches, schema=SCHEMA) if batches else SCHEMA.empty_table()


class _Segment:
    """The open segment of one process: an exclusively locked Arrow IPC stream file."""

    def __init__(self, directory: Path) -> None:
        name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(6)}{SEGMENT_SUFFIX}"
        self.path = directory / name
        self.file: BinaryIO = open(self.path, "xb", buffering=0)  # noqa: SIM115 (lives with the segment)
        # The lock says "a live process owns this segment"; recovery rolls only unlocked ones.
        fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.writer = pa.ipc.new_stream(self.file, SCHEMA)
        os.fsync(self.file.fileno())
        _fsync_dir(directory)
        self.pid = os.getpid()

    def size(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.writer.close()
        os.fsync(self.file.fileno())
        self.file.close()  # releases the lock


class SegmentEventStore(EventStore):
    """The embedded store: ``<root>/segments/*.arrows`` (one live segment per process) and
    ``<root>/parquet/*.parquet`` (rolled segments). Safe for many processes and threads at once."""

    def __init__(self, root: str | os.PathLike[str], *, roll_bytes: int = DEFAULT_ROLL_BYTES) -> None:
        self.root = Path(root)
        self.segments_dir = self.root / "segments"
        self.parquet_dir = self.root / "parquet"
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        self.parquet_dir.mkdir(parents=True, exist_ok=True)
        self.roll_bytes = roll_bytes
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._segment: _Segment | None = None
        self._written = 0  # batches written to the current segment's file
        self._synced = 0  # batches known to be on disk
        self.recover()

    # writing

    def append(self, batch: Any) -> int:
        table = prepare(batch)
        if table.num_rows == 0:
            return 0
        with self._write_lock:
            segment = self._open_segment()
            segment.writer.write_table(table)
            self._written += 1
            mine = self._written
        self._sync(segment, mine)
        if segment.size() >= self.roll_bytes:
            self._roll_current(segment)
        return table.num_rows

    def _open_segment(self) -> _Segment:
        if self._segment is not None and self._segment.pid != os.getpid():
            # Forked: the parent owns that file. Start one of our own (the parent's stays its).
            self._segment = None
        if self._segment is not None and os.fstat(self._segment.file.fileno()).st_nlink == 0:
            # Emptied under us (``clear`` by another instance or process, ``demo --fresh``): what was
            # in it is meant to be gone, but what comes next must land in a file readers can see.
            self._segment.close()
            self._segment = None
        if self._segment is None:
            self._segment = _Segment(self.segments_dir)
            self._written = self._synced = 0
        return self._segment

    def _sync(self, segment: _Segment, mine: int) -> None:
        # Group commit: one fsync covers every batch written before it started, so concurrent
        # appenders mostly wait on one another's fsync instead of each issuing their own.
        with self._sync_lock:
            if self._synced >= mine or segment is not self._segment:
                return
            target = self._written
            os.fsync(segment.file.fileno())
            self._synced = target

    def _roll_current(self, segment: _Segment) -> None:
        with self._write_lock, self._sync_lock:
            if self._segment is not segment:
                return
            segment.close()
            self._segment = None
        self._roll(segment.path)

    def _roll(self, path: Path) -> None:
        """Rewrite a closed segment as Parquet, then delete it. Idempotent: the Parquet file is named
        after the segment, so a crash between the rename and the delete only repeats this step.
        A segment that is gone was rolled by another instance or deleted by :meth:`clear` (which
        empties the store of every writer's events, this one's open segment included): nothing to do."""
        try:
            table = read_segment(path)
        except FileNotFoundError:
            return
        if table.num_rows:
            final = self.parquet_dir / (path.stem + ".parquet")
            tmp = final.with_suffix(".parquet.tmp")
            table = table.sort_by([("ts", "ascending")])
            pq.write_table(table, tmp, compression="zstd", row_group_size=256 * 1024)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
            _fsync_dir(self.parquet_dir)
        path.unlink(missing_ok=True)
        _fsync_dir(self.segments_dir)

    def recover(self) -> int:
        """Roll every segment no live process holds (left by a process that exited or crashed)."""
        rolled = 0
        for path in sorted(self.segments_dir.glob("*" + SEGMENT_SUFFIX)):
            if self._segment is not None and path == self._segment.path:
                continue
            try:
                f = open(path, "rb")  # noqa: SIM115
            except FileNotFoundError:
                continue  # rolled by someone else meanwhile
            with f:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer owns it
                if not path.exists():
                    continue
                self._roll(path)
                rolled += 1
        for tmp in self.parquet_dir.glob("*.parquet.tmp"):
            # A roll that crashed before its rename; its segment is still there and was rolled again.
            if not (self.segments_dir / (tmp.name.removesuffix(".parquet.tmp") + SEGMENT_SUFFIX)).exists():
                tmp.unlink(missing_ok=True)
        return rolled

    def flush(self) -> None:
        """Roll this process's segment into Parquet (appends are already durable without this)."""
        with self._write_lock, self._sync_lock:
            segment, self._segment = self._segment, None
            if segment is not None:
                segment.close()
        if segment is not None:
            self._roll(segment.path)

    def close(self) -> None:
        self.flush()

    def clear(self) -> None:
        """Delete every stored event (``zhongcao demo --fresh``): rolled and live segments alike.

        Only for a store no other process is writing to (a live segment of another process is
        locked and stays)."""
        with self._write_lock, self._sync_lock:
            segment, self._segment = self._segment, None
            if segment is not None:
                segment.close()
            self._written = self._synced = 0
            for path in [*self.parquet_dir.glob("*"), *self.segments_dir.glob("*")]:
                path.unlink(missing_ok=True)

    # reading

    def segment_tables(self) -> Iterator[pa.Table]:
        for path in sorted(self.segments_dir.glob("*" + SEGMENT_SUFFIX)):
            try:
                table = read_segment(path)
            except FileNotFoundError:
                continue  # rolled meanwhile: its rows are in Parquet now
            if table.num_rows:
                yield table

    def connect(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        live = list(self.segment_tables())
        table = pa.concat_tables(live) if live else SCHEMA.empty_table()
        bounds = []  # the range as SQL; on the Parquet scan it skips row groups by their ts statistics
        if since is not None:
            table = table.filter(pc.greater_equal(table["ts"], pa.scalar(since, SCHEMA.field("ts").type)))
            bounds.append(f"ts >= {_timestamp_literal(since)}")
        if until is not None:
            table = table.filter(pc.less(table["ts"], pa.scalar(until, SCHEMA.field("ts").type)))
            bounds.append(f"ts < {_timestamp_literal(until)}")
        con.register("events_live", table)
        # Segments are read first: one rolled meanwhile is then in both places, never in neither.
        if any(self.parquet_dir.glob("*.parquet")):
            glob = str(self.parquet_dir / "*.parquet").replace("'", "''")
            where = (" WHERE " + " AND ".join(bounds)) if bounds else ""
            con.execute(
                f"CREATE VIEW events_stored AS SELECT * FROM read_parquet('{glob}', union_by_name = true){where} "
                "UNION ALL BY NAME SELECT * FROM events_live"
            )
        else:
            con.execute("CREATE VIEW events_stored AS SELECT * FROM events_live")
        self._create_views(con)
        return con


def _timestamp_literal(value: datetime) -> str:
    """A DuckDB TIMESTAMPTZ literal (a naive datetime is taken as UTC, as the store's ``ts`` is)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"TIMESTAMPTZ '{value.astimezone(UTC).isoformat()}'"


# Production: PostgreSQL partitioned by day ---------------------------------------------------------

_PG_TYPES = {
    "event_id": "text NOT NULL",
    "ts": "timestamptz NOT NULL",
    "type": "text NOT NULL",
    "user_id": "bigint NOT NULL",
    "content_id": "bigint",
    "product_id": "bigint",
    "shop_id": "bigint",
    "account_id": "bigint",
    "query": "text",
    "result_ids": "bigint[]",
    "position": "integer",
    "watch_ms": "bigint",
    "value_fen": "bigint",
    "request_id": "text",
    "channel": "text",
    "extra": "jsonb",
}


class PostgresEventStore(EventStore):
    """Events in one PostgreSQL table partitioned by day (declarative range partitioning on ``ts``).

    Daily partitions are created on demand. The primary key is (event_id, ts) because a key of a
    partitioned table must contain the partition key: a replay with the same ts is dropped on insert
    (ON CONFLICT DO NOTHING), one with another ts is dropped by the ``events`` view on read.
    An append is one transaction; it is acknowledged when PostgreSQL has committed it.
    """

    def __init__(self, engine: Engine, *, table: str = "events") -> None:
        if not table.isidentifier():
            raise ValueError("table must be a plain identifier")
        self.engine = engine
        self.table = table
        self._days: set[str] = set()
        self._lock = threading.Lock()
        self._ready = False

    def _raw(self) -> Any:
        return self.engine.raw_connection()

    def ensure_table(self, cur: Any) -> None:
        if self._ready:
            return
        cols = ", ".join(f'"{c}" {_PG_TYPES[c]}' for c in COLUMNS)
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
        cur.execute(
            f'CREATE TABLE IF NOT EXISTS "{self.table}" ({cols}, PRIMARY KEY (event_id, ts)) '
            "PARTITION BY RANGE (ts)"
        )
        self._ready = True

    def partition_name(self, day: str) -> str:
        return f"{self.table}_p{day.replace('-', '')}"

    def _ensure_partitions(self, cur: Any, days: list[str]) -> None:
        missing = [d for d in days if d not in self._days]
        if not missing:
            return
        # Serialise DDL across processes: two CREATE ... IF NOT EXISTS can still collide otherwise.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
        for day in missing:
            start = datetime.fromisoformat(day).replace(tzinfo=UTC)
            end = start + timedelta(days=1)
            cur.execute(
                f'CREATE TABLE IF NOT EXISTS "{self.partition_name(day)}" PARTITION OF "{self.table}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )

    def append(self, batch: Any) -> int:
        table = prepare(batch)
        n = table.num_rows
        if n == 0:
            return 0
        days = sorted(set(pc.strftime(table["ts"], format="%Y-%m-%d").to_pylist()))
        conn = self._raw()
        try:
            cur = conn.cursor()
            self.ensure_table(cur)
            self._ensure_partitions(cur, days)
            cur.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS _events_stage (LIKE "{self.table}") ON COMMIT DELETE ROWS'
            )
            cols = ", ".join(f'"{c}"' for c in COLUMNS)
            with cur.copy(f"COPY _events_stage ({cols}) FROM STDIN") as copy:
                for row in zip(*(table[c].to_pylist() for c in COLUMNS), strict=True):
                    copy.write_row(row)
            cur.execute(
                f'INSERT INTO "{self.table}" ({cols}) SELECT {cols} FROM _events_stage ON CONFLICT DO NOTHING'
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            self._ready = False
            raise
        finally:
            conn.close()
        with self._lock:
            self._days.update(days)
        return n

    def flush(self) -> None:
        """Nothing is buffered: every append is committed before it returns."""

    def close(self) -> None:
        """The engine belongs to the caller; nothing of ours stays open between appends."""

    def fetch(self, since: datetime | None = None, until: datetime | None = None) -> pa.Table:
        """Events (one row per event_id) with ``since <= ts < until`` as an Arrow table."""
        conn = self._raw()
        try:
            cur = conn.cursor()
            self.ensure_table(cur)
            cols = ", ".join(f'"{c}"' for c in COLUMNS)
            where, params = [], []
            if since is not None:
                where.append("ts >= %s")
                params.append(since)
            if until is not None:
                where.append("ts < %s")
                params.append(until)
            clause = ("WHERE " + " AND ".join(where)) if where else ""
            cur.execute(
                f"SELECT DISTINCT ON (event_id) {cols.replace(chr(34) + 'extra' + chr(34), 'extra::text')} "
                f'FROM "{self.table}" {clause} ORDER BY event_id, ts',
                params,
            )
            rows = cur.fetchall()
            conn.commit()
        finally:
            conn.close()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
        return pa.Table.from_arrays(
            [pa.array(list(col), SCHEMA.field(c).type) for c, col in zip(COLUMNS, columns, strict=True)],
            schema=SCHEMA,
        )

    def connect(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> duckdb.DuckDBPyConnection:
        """DuckDB over a snapshot of the table (optionally one time range), for small analytics. At
        production volume analytics read Parquet exports or run in PostgreSQL (docs/events.md)."""
        con = duckdb.connect()
        con.register("events_stored", self.fetch(since, until))
        self._create_views(con)
        return con

    def clear(self) -> None:
        """Delete every stored event (``zhongcao demo --fresh``)."""
        self.drop()

    def drop(self) -> None:
        """Drop the table and its partitions (tests, and resetting a demo)."""
        with contextlib.closing(self._raw()) as conn:
            conn.cursor().execute(f'DROP TABLE IF EXISTS "{self.table}" CASCADE')
            conn.commit()
        self._days.clear()
        self._ready = False
