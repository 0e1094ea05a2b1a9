"""SQLite's writers, queued first come first served instead of backing off.

SQLite allows one writer at a time. A writer that finds the database locked sleeps in SQLite's busy
handler, in naps that grow to 100 ms, and tries again: under load a few unlucky requests lose the race
again and again and wait seconds while later ones pass (the long tail in benchmarks/RESULTS.md,
commerce). Here every write transaction (``BEGIN IMMEDIATE``) first takes its turn in a queue:

* within a process, a first-in-first-out lock: the writer that ends hands the turn straight to the
  one that has waited longest, which wakes at once (no polling, no naps);
* across processes (API workers, the job worker, the command line), an exclusive ``flock`` on a file
  beside the database (``<file>.writers``), taken by the writer at the head of its process's queue;
  the kernel wakes a waiting process the moment the holder lets go. A plain lock would let the
  releasing process take it straight back while its own queue is long (the woken one is still being
  scheduled), so the lock is entered through a turnstile, a second ``flock``
  (``<file>.writers-turnstile``): the process waiting for the lock holds the turnstile, so the one
  that just let go queues behind it; processes take turns.

The turn is given back once the transaction has committed or rolled back (never before: a writer let
in before the COMMIT ran would find the database still locked). SQLite's own busy timeout stays as
the last line of defence; a writer that waits for its turn longer than it gets
``database is locked``, as it would without the queue.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections import deque
from typing import Any

_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


class _FifoLock:
    """A lock granted in the order it was asked for; release hands it to the oldest waiter."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait timed out
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # still held: now by the oldest waiter
            else:
                self._held = False


class WriterQueue:
    """The queue of writers to one SQLite database file (one per file and process)."""

    def __init__(self, path: str) -> None:
        self.paths = (path + ".writers", path + ".writers-turnstile")
        self._fifo = _FifoLock()
        self._fds: tuple[int, int] | None = None
        self._pid = 0

    def _files(self) -> tuple[int, int]:
        # A forked child must not share its parent's open files: flock belongs to the open file.
        if self._fds is None or self._pid != os.getpid():
            lock, turnstile = (os.open(p, os.O_RDWR | os.O_CREAT, 0o644) for p in self.paths)
            self._fds = (lock, turnstile)
            self._pid = os.getpid()
        return self._fds

    def acquire(self, timeout: float) -> None:
        if not self._fifo.acquire(timeout):
            raise sqlite3.OperationalError("database is locked (waited for the writer queue)")
        try:
            lock, turnstile = self._files()
            fcntl.flock(turnstile, fcntl.LOCK_EX)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
            finally:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        except BaseException:
            self._fifo.release()
            raise

    def release(self) -> None:
        try:
            fcntl.flock(self._files()[0], fcntl.LOCK_UN)
        finally:
            self._fifo.release()


def queue_for(path: str) -> WriterQueue:
    key = os.path.realpath(path)
    with _queues_lock:
        if key not in _queues:
            _queues[key] = WriterQueue(key)
        return _queues[key]


HELD = "zhongcao_writer_turn"


def install(engine: Any, path: str, timeout_s: float) -> None:
    """Queue the engine's write transactions: listeners on ``engine`` (its ``begin`` listeners run
    after this one's, so the turn is taken before ``BEGIN IMMEDIATE``)."""
    from sqlalchemy import event

    queue = queue_for(path)

    def take_turn(conn: Any) -> None:
        info = conn.connection.info
        if HELD not in info:  # else it still holds one (a transaction that never ended cleanly)
            queue.acquire(timeout_s)
            info[HELD] = queue

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_conn: Any) -> None:
        try:
            commit(dbapi_conn)
        finally:
            _give_back(_info(dbapi_conn))

    def do_rollback(dbapi_conn: Any) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            _give_back(_info(dbapi_conn))

    # The dialect object is the engine's own (the pool's reset-on-return uses it too): the turn ends
    # once COMMIT or ROLLBACK has run.
    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback

    def discarded(_dbapi_conn: Any, record: Any, *_args: Any) -> None:
        # A connection checked in, invalidated or closed mid-transaction gives its turn back too.
        _give_back(record.info if record is not None else None)

    event.listen(engine, "begin", take_turn, insert=True)
    event.listen(engine, "checkin", discarded)
    event.listen(engine, "invalidate", discarded)
    event.listen(engine, "close", discarded)


def _info(dbapi_conn: Any) -> dict[str, Any] | None:
    try:
        return dbapi_conn.info
    except (AttributeError, NotImplementedError):  # an ad-hoc connection (the dialect's first connect)
        return None


def _give_back(info: dict[str, Any] | None) -> None:
    turn = info.pop(HELD, None) if info is not None else None
    if turn is not None:
        turn.release()
