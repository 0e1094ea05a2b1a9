"""SQLite writers take turns first come first served (zhongcao.writer_queue), and always give the turn
back: after a commit, after a rollback, and when a connection is dropped mid-transaction."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from zhongcao import writer_queue
from zhongcao.db import Database


def test_the_turn_goes_to_the_writer_that_waited_longest() -> None:
    fifo = writer_queue._FifoLock()
    assert fifo.acquire(1)
    order: list[int] = []

    def writer(n: int) -> None:
        assert fifo.acquire(5)
        order.append(n)
        fifo.release()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        while len(fifo._waiters) < n + 1:  # queued before the next one starts
            time.sleep(0.001)
    fifo.release()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert not fifo._held


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    fifo = writer_queue._FifoLock()
    assert fifo.acquire(1)
    assert not fifo.acquire(0.01)
    assert not fifo._waiters
    fifo.release()
    assert not fifo._held


def test_concurrent_write_transactions_queue_and_give_their_turn_back(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    queue = writer_queue.queue_for(str(tmp_path / "w.db"))
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    assert not queue._fifo._held

    def bump(times: int) -> None:
        for i in range(times):
            session = database.session()
            session.execute(text("UPDATE counter SET n = n + 1"))
            if i % 5 == 4:
                session.rollback()  # a rolled-back writer gives its turn back too
            else:
                session.commit()
            session.close()

    threads = [threading.Thread(target=bump, args=(20,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 8 * 16
        conn.rollback()
    assert not queue._fifo._held

    # A session closed in the middle of its transaction gives the turn back as well.
    session = database.session()
    session.execute(text("UPDATE counter SET n = n + 1"))
    assert queue._fifo._held
    session.close()
    assert not queue._fifo._held
    database.dispose()
