"""What a user was served recently and told the feed ("not interested", likes): the no-repeat memory.

Implementations of one small interface:

* :class:`TableMemory`: the ``feed_user_state`` table, one row per user. It works for any number of
  stateless workers on the embedded SQLite default and on PostgreSQL with nothing else to run.
* :class:`WriteBehindMemory` (the API's): the same table, with each worker's writes gathered for a few
  milliseconds and upserted in one transaction, flushed on the worker's event loop (one write lock
  per batch instead of one per page; measured in benchmarks/RESULTS.md, "Feed serving").
* :class:`InMemoryMemory`: a dict, for the market simulation and unit tests.

"Recently" is the newest ``SEEN_LIMIT`` items served within ``SEEN_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.db import Database, core
from zhongcao.feed.models import FeedUserState

log = logging.getLogger("zhongcao.feed")

SEEN_LIMIT = 600  # served ids remembered per user
SEEN_SECONDS = 7 * 86_400  # ... and for at most this long
FEEDBACK_LIMIT = 200  # feedback entries remembered per kind
FEEDBACK_KINDS = ("not_interested", "like")


@dataclass
class UserMemory:
    """One user's memory: served ``[(content_id, epoch_s)]`` and feedback per kind, oldest first."""

    served: list[tuple[int, int]] = field(default_factory=list)
    feedback: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)  # (content, account, s)

    def served_ids(self, now_s: int) -> set[int]:
        return {c for c, at in self.served if now_s - at <= SEEN_SECONDS}

    def with_served(self, content_ids: list[int], now_s: int) -> UserMemory:
        kept = [(c, at) for c, at in self.served if now_s - at <= SEEN_SECONDS]
        kept.extend((int(c), now_s) for c in content_ids)
        return UserMemory(kept[-SEEN_LIMIT:], self.feedback)

    def with_feedback(self, kind: str, content_id: int, account_id: int, now_s: int) -> UserMemory:
        entries = [e for e in self.feedback.get(kind, []) if e[0] != content_id]
        entries.append((int(content_id), int(account_id), now_s))
        return UserMemory(self.served, {**self.feedback, kind: entries[-FEEDBACK_LIMIT:]})

    def feedback_of(self, kind: str) -> list[tuple[int, int, int]]:
        return self.feedback.get(kind, [])


class FeedMemory(Protocol):
    def read(self, db: Session | None, user_id: int) -> UserMemory: ...

    def write(self, db: Session | None, user_id: int, memory: UserMemory) -> None: ...


def _from_row(row: Row | None) -> UserMemory:
    if row is None:
        return UserMemory()
    served = [(int(c), int(at)) for c, at in (row.served or [])]
    feedback = {k: [(int(a), int(b), int(c)) for a, b, c in v] for k, v in (row.feedback or {}).items()}
    return UserMemory(served, feedback)


# Prebuilt Core statement: read on every feed request (a third of the ORM's cost for the same row).
_BY_USER = select(FeedUserState.served, FeedUserState.feedback).where(
    FeedUserState.user_id == bindparam("user_id")
)


class TableMemory:
    """The ``feed_user_state`` table. ``write`` needs a write session and commits."""

    def read(self, db: Session | None, user_id: int) -> UserMemory:
        assert db is not None
        return _from_row(core(db).execute(_BY_USER, {"user_id": user_id}).first())

    def write(self, db: Session | None, user_id: int, memory: UserMemory) -> None:
        assert db is not None
        self.write_many(db, {user_id: memory})

    @staticmethod
    def write_many(db: Session, memories: dict[int, UserMemory]) -> None:
        """Upsert many users' memories in one statement and commit."""
        if not memories:
            return

        now = clock.now()
        values = [
            {
                "user_id": user_id,
                "served": [list(x) for x in memory.served],
                "feedback": {k: [list(e) for e in v] for k, v in memory.feedback.items()},
                "updated_at": now,
            }
            for user_id, memory in sorted(memories.items())
        ]
        from sqlalchemy.dialects import postgresql, sqlite

        # Both dialects' INSERT has the same ON CONFLICT DO UPDATE / EXCLUDED API (as content/service.py).
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(FeedUserState.__table__).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[FeedUserState.__table__.c.user_id],
            set_={k: stmt.excluded[k] for k in ("served", "feedback", "updated_at")},
        )
        core(db).execute(stmt)  # Core, not the ORM's bulk-insert path: one statement, no unit of work
        db.commit()


class WriteBehindMemory:
    """:class:`TableMemory` with writes gathered for ``interval`` seconds and flushed in one
    transaction: the server's memory. No thread: the first write of a batch schedules the flush on the
    running event loop (``call_later``), so it runs between requests on the worker's own loop; a write
    made where no loop runs (a script, a thread-pool request) is flushed at once.

    One write per page, each taking the database's write lock, is what limits a busy server on the
    embedded SQLite default (writers from several worker processes queue for the one lock, and SQLite's
    busy handler sleeps between tries). Gathered, the lock is taken a few dozen times a second whatever
    the traffic. A worker reads its own pending writes first, so its next page never repeats; another
    worker sees them once flushed (``interval``: 50 ms by default, well under the time a person takes to
    swipe to the next page; longer gathers bigger batches, each a transaction of its own). A crash loses
    at most the last ``interval`` of what was served.
    """

    def __init__(self, database: Database, interval: float = 0.05) -> None:
        self.database = database
        self.interval = interval
        self.table = TableMemory()
        self._pending: dict[int, UserMemory] = {}
        self._flushing: dict[int, UserMemory] = {}
        self._lock = threading.Lock()
        self._scheduled = False
        self.last_error: str | None = None

    def read(self, db: Session | None, user_id: int) -> UserMemory:
        with self._lock:
            memory = self._pending.get(user_id) or self._flushing.get(user_id)
        if memory is not None:
            return memory
        return self.table.read(db, user_id)

    def write(self, db: Session | None, user_id: int, memory: UserMemory) -> None:
        with self._lock:
            self._pending[user_id] = memory
            first = not self._scheduled
            self._scheduled = True
        if first:
            self._schedule(self.interval)

    def _schedule(self, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop in this thread: write now
            self.flush()
            return
        loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Write everything pending now (the scheduled flush; tests; shutdown)."""
        with self._lock:
            batch, self._pending = self._pending, {}
            self._flushing = {**self._flushing, **batch}
            self._scheduled = False
        if not batch:
            return
        failed = False
        try:
            with self.database.session() as db:
                self.table.write_many(db, batch)
            self.last_error = None
        except Exception as exc:  # keep the batch for the next try; say why
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("feed memory flush failed")
            failed = True
            with self._lock:
                self._pending = {**batch, **self._pending}
        finally:
            with self._lock:
                for user_id in batch:
                    self._flushing.pop(user_id, None)
        if failed:
            with self._lock:
                retry = not self._scheduled
                self._scheduled = True
            if retry:
                with contextlib.suppress(RuntimeError):  # no loop: the next write tries again
                    asyncio.get_running_loop().call_later(4 * self.interval, self.flush)

    def close(self) -> None:
        self.flush()


class InMemoryMemory:
    """Per-process memory (the simulation runs in one process; tests)."""

    def __init__(self) -> None:
        self._users: dict[int, UserMemory] = {}
        self._lock = threading.Lock()

    def read(self, db: Session | None, user_id: int) -> UserMemory:
        with self._lock:
            return self._users.get(user_id, UserMemory())

    def write(self, db: Session | None, user_id: int, memory: UserMemory) -> None:
        with self._lock:
            self._users[user_id] = memory
