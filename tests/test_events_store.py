"""Event stores: durability, crash recovery, dedup on read, many processes; PostgreSQL partitioning."""

from __future__ import annotations

import multiprocessing
import secrets
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text

from tests.events_helpers import plays
from zhongcao.db import Database
from zhongcao.errors import InvalidInput
from zhongcao.events import model, service
from zhongcao.events.store import PostgresEventStore, SegmentEventStore, read_segment


def _count(store, sql: str = "SELECT count(*) FROM events") -> int:  # type: ignore[no-untyped-def]
    return store.query(sql).column(0)[0].as_py()


def test_appended_events_are_queryable_before_and_after_rolling(tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path)
    assert store.append(plays(100)) == 100
    assert store.append(plays(50, start=100)) == 50
    assert _count(store) == 150
    assert len(list((tmp_path / "segments").iterdir())) == 1
    store.flush()
    assert list((tmp_path / "segments").iterdir()) == []
    assert len(list((tmp_path / "parquet").glob("*.parquet"))) == 1
    assert _count(store) == 150
    assert store.append(plays(10, start=150)) == 10
    assert _count(store, "SELECT count(*), sum(watch_ms) FROM events") == 160
    store.close()


def test_a_bad_batch_stores_nothing(tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path)
    batch = plays(5)
    batch["user_id"] = [1, 2, 3, -4, 5]
    with pytest.raises(InvalidInput):
        store.append(batch)
    assert _count(store) == 0


def test_replays_are_stored_but_counted_once(tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path)
    store.append(plays(20))
    store.flush()
    store.append(plays(20))  # the same event ids again, now in a live segment
    assert _count(store, "SELECT count(*) FROM events_raw") == 40
    assert _count(store) == 20
    assert _count(store, "SELECT count(DISTINCT event_id) FROM events") == 20


def test_segments_roll_by_size(tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path, roll_bytes=1)
    for k in range(3):
        store.append(plays(10, start=10 * k))
    assert len(list((tmp_path / "parquet").glob("*.parquet"))) == 3
    assert _count(store) == 30


def test_a_torn_tail_loses_only_the_unacknowledged_batch(tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path)
    store.append(plays(30))
    store.append(plays(30, start=30))
    segment = next((tmp_path / "segments").iterdir())
    store._segment.file.close()  # simulate the process dying: no orderly close  # type: ignore[union-attr]
    store._segment = None
    data = segment.read_bytes()
    # A crash mid-write of a third batch: only the first half of its message reached the file.
    sink = pa.BufferOutputStream()
    writer = pa.ipc.new_stream(sink, model.SCHEMA)
    start = sink.tell()
    writer.write_table(model.prepare(plays(30, start=60)))
    message = sink.getvalue().to_pybytes()[start:]
    segment.write_bytes(data + message[: len(message) // 2])
    assert read_segment(segment).num_rows == 60
    # A new process recovers the dead segment into Parquet; the 60 acknowledged events are all there.
    recovered = SegmentEventStore(tmp_path)
    assert list((tmp_path / "segments").iterdir()) == []
    assert _count(recovered) == 60


def test_a_segment_cut_before_its_header_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "x.arrows"
    path.write_bytes(b"\xff\xff")
    assert read_segment(path).num_rows == 0


def test_a_live_writer_s_segment_is_not_rolled_by_another_store(tmp_path: Path) -> None:
    first = SegmentEventStore(tmp_path)
    first.append(plays(5))
    second = SegmentEventStore(tmp_path)  # runs recovery: must leave the locked segment alone
    assert len(list((tmp_path / "segments").iterdir())) == 1
    second.append(plays(5, start=5))
    assert _count(first) == 10 and _count(second) == 10


def _child(root: str, start: int) -> None:
    store = SegmentEventStore(root)
    for k in range(5):
        store.append(plays(200, start=start + 200 * k))
    # exits without closing: the segment stays behind and is recovered by the next store


@pytest.mark.slow  # spawns several writer processes
def test_many_processes_ingest_at_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_child, args=(str(tmp_path), 1000 * i)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = SegmentEventStore(tmp_path)
    assert list((tmp_path / "segments").iterdir()) == []
    assert _count(store) == 3000
    assert _count(store, "SELECT count(DISTINCT user_id) FROM events") == 3000


def test_service_picks_the_segment_store_for_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zhongcao.config import Settings

    settings = Settings(database_url="sqlite:///x.db", events_dir=tmp_path / "ev")
    store = service.get_store(settings)
    try:
        assert isinstance(store, SegmentEventStore) and store.root == (tmp_path / "ev").resolve()
        assert service.ingest(plays(7), store) == 7
        assert service.query("SELECT count(*) FROM events", store=store).column(0)[0].as_py() == 7
        con = service.connect(store)
        assert con.execute("SELECT count(*) FROM events_raw").fetchone() == (7,)
        con.close()
        assert service.backend(settings.model_copy(update={"events_backend": "postgres"})) == "postgres"
    finally:
        service.close_stores()


@pytest.fixture
def pg_store(database: Database):  # type: ignore[no-untyped-def]
    store = PostgresEventStore(database.engine, table=f"events_t{secrets.token_hex(4)}")
    yield store
    store.drop()


@pytest.mark.pg_only
def test_postgres_store_partitions_by_day_and_dedups(
    pg_store: PostgresEventStore, database: Database
) -> None:
    assert pg_store.append(plays(10, day=0)) == 10
    assert pg_store.append(plays(10, start=10, day=2)) == 10
    assert pg_store.append(plays(10, day=0)) == 10  # same ids and ts: dropped on insert
    shifted = plays(5, day=1)  # same ids, another day: stored, hidden by the events view
    assert pg_store.append(shifted) == 5
    with database.engine.connect() as conn:
        parts = (
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t ORDER BY 1"
                ),
                {"t": pg_store.table},
            )
            .scalars()
            .all()
        )
        raw = conn.execute(text(f'SELECT count(*) FROM "{pg_store.table}"')).scalar()
    assert parts == [pg_store.partition_name(d) for d in ("2026-01-01", "2026-01-02", "2026-01-03")]
    assert raw == 25
    assert _count(pg_store) == 20
    assert _count(pg_store, "SELECT count(*) FROM events WHERE ts >= '2026-01-02'") == 10


@pytest.mark.pg_only
def test_postgres_store_refuses_a_bad_batch_whole(pg_store: PostgresEventStore) -> None:
    batch = plays(3)
    batch["type"] = ["play", "play", "nope"]
    with pytest.raises(InvalidInput):
        pg_store.append(batch)
    assert (
        pg_store.append(
            {
                "ts": plays(1)["ts"],
                "user_id": [1],
                "type": ["search"],
                "query": ["汉服"],
                "result_ids": [[3, 4]],
                "extra": ['{"page": 1}'],
            }
        )
        == 1
    )
    row = pg_store.query("SELECT query, result_ids, extra FROM events").to_pylist()[0]
    assert row["query"] == "汉服" and row["result_ids"] == [3, 4] and '"page"' in row["extra"]


def test_threads_appending_at_once_share_fsyncs_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import threading

    store = SegmentEventStore(tmp_path)
    fsyncs = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr("zhongcao.events.store.os.fsync", counting_fsync)
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        barrier.wait()
        for j in range(10):
            store.append(plays(50, start=1000 * k + 50 * j))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(store) == 2000
    # One fsync per append at most (plus the segment's creation); group commit may merge some.
    assert len(fsyncs) <= 40 + 2


@pytest.mark.pg_only
def test_service_uses_the_platform_postgres_database(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zhongcao.config import Settings

    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False), events_backend="auto"
    )
    try:
        store = service.get_store(settings, database)
        assert isinstance(store, PostgresEventStore) and store.engine is database.engine
        assert service.get_store(settings, database) is store
    finally:
        service.close_stores()


@pytest.mark.pg_only
def test_postgres_writers_racing_to_create_a_day_s_partition(pg_store: PostgresEventStore) -> None:
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        mine = PostgresEventStore(pg_store.engine, table=pg_store.table)  # as another process would
        barrier.wait()
        try:
            mine.append(plays(25, start=100 * k, day=5))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(pg_store) == 100


def test_a_store_emptied_by_another_instance_still_closes(tmp_path):
    """``clear`` on one instance deletes every segment, another instance's open one included; that
    instance's close then has nothing to roll, and says so by not failing."""
    writer, cleaner = SegmentEventStore(tmp_path / "ev"), SegmentEventStore(tmp_path / "ev")
    assert writer.append(plays(3)) == 3
    cleaner.clear()
    writer.close()
    cleaner.close()
    assert SegmentEventStore(tmp_path / "ev").query("SELECT count(*) AS n FROM events")["n"][0].as_py() == 0


def test_a_writer_emptied_by_another_instance_writes_where_readers_look(tmp_path):
    """After another instance (or a ``demo --fresh`` in another process) empties the store, the next
    append of a writer whose segment was deleted starts a new segment instead of writing into the
    deleted file, where no reader would ever see it."""
    writer, cleaner = SegmentEventStore(tmp_path / "ev"), SegmentEventStore(tmp_path / "ev")
    assert writer.append(plays(3)) == 3
    cleaner.clear()
    assert writer.append(plays(2)) == 2
    assert cleaner.query("SELECT count(*) AS n FROM events")["n"][0].as_py() == 2
    writer.close()
    cleaner.close()


def _ranged(store, since, until) -> list[str]:  # type: ignore[no-untyped-def]
    table = store.query("SELECT event_id FROM events ORDER BY ts, event_id", since=since, until=until)
    return table["event_id"].to_pylist()


def _check_ranged_reads(store) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    day1 = t0 + timedelta(days=1)
    # p3..p9 of day 0 and p10..p12 of day 1 (one ms apart each); the bounds are half-open.
    since, until = t0 + timedelta(milliseconds=3), day1 + timedelta(milliseconds=13)
    expected = [f"p{i}" for i in range(3, 10)] + [f"p{i}" for i in range(10, 13)]
    assert _ranged(store, since, until) == expected
    assert _ranged(store, since.replace(tzinfo=None), until.replace(tzinfo=None)) == expected  # naive = UTC
    assert _ranged(store, day1 + timedelta(days=1), None) == []  # nothing new: an empty answer
    assert _ranged(store, None, t0 + timedelta(milliseconds=2)) == ["p0", "p1"]
    # Without a range, every event as before.
    assert _count(store) == 20
    # Both views obey the range; replays inside it are counted once.
    con = store.connect(since, until)
    try:
        assert con.execute("SELECT count(*) FROM events_raw").fetchone()[0] == 10 + 3
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 10
    finally:
        con.close()


def test_a_time_range_reads_only_its_events_from_parquet_and_live_segments(tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path)
    store.append(plays(10, day=0))
    store.flush()  # day 0 in Parquet, day 1 in the live segment
    store.append(plays(10, start=10, day=1))
    store.append(plays(3, start=10, day=1))  # replays of p10..p12
    _check_ranged_reads(store)
    store.close()


@pytest.mark.pg_only
def test_postgres_store_reads_a_time_range(pg_store: PostgresEventStore) -> None:
    pg_store.append(plays(10, day=0))
    pg_store.append(plays(10, start=10, day=1))
    pg_store.append(plays(3, start=10, day=1))  # same ids and ts: dropped on insert
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    since, until = t0 + timedelta(milliseconds=3), t0 + timedelta(days=1, milliseconds=13)
    assert _ranged(pg_store, since, until) == [f"p{i}" for i in range(3, 13)]
    assert _ranged(pg_store, t0 + timedelta(days=2), None) == []
