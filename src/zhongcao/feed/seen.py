"""What a user was served recently and told the feed ("not interested", likes): the no-repeat memory.

Two implementations of one small interface:

* :class:`TableMemory` (the default, for the API): the ``feed_user_state`` table, one row per user.
  It works for any number of stateless workers on the embedded SQLite default and on PostgreSQL with
  nothing else to run; the write is one upsert in a short write transaction of its own, after the page
  has been computed in the request's read-only session (see ``feed/views.py``). Redis would save that
  write on SQLite, but a deployment must not need it, and one primary-key upsert per page is far
  cheaper than the rest of the request.
* :class:`InMemoryMemory`: a dict, for the market simulation and unit tests.

"Recently" is the newest ``SEEN_LIMIT`` items served within ``SEEN_SECONDS``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.feed.models import FeedUserState

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


def _from_row(row: FeedUserState | None) -> UserMemory:
    if row is None:
        return UserMemory()
    served = [(int(c), int(at)) for c, at in (row.served or [])]
    feedback = {k: [(int(a), int(b), int(c)) for a, b, c in v] for k, v in (row.feedback or {}).items()}
    return UserMemory(served, feedback)


class TableMemory:
    """The ``feed_user_state`` table. ``write`` needs a write session and commits."""

    def read(self, db: Session | None, user_id: int) -> UserMemory:
        assert db is not None
        return _from_row(db.scalar(select(FeedUserState).where(FeedUserState.user_id == user_id)))

    def write(self, db: Session | None, user_id: int, memory: UserMemory) -> None:
        assert db is not None
        from zhongcao import clock

        values = {
            "user_id": user_id,
            "served": [list(x) for x in memory.served],
            "feedback": {k: [list(e) for e in v] for k, v in memory.feedback.items()},
            "updated_at": clock.now(),
        }
        if db.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(FeedUserState).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[FeedUserState.user_id],
            set_={k: stmt.excluded[k] for k in ("served", "feedback", "updated_at")},
        )
        db.execute(stmt)
        db.commit()


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
