"""Who runs a sub-second job on PostgreSQL: whoever holds its advisory lock.

A sub-second job (``every_s`` under a second: ``search_follow``, ``flash_sale_orders``) is too frequent
for Procrastinate's one-second cron, so on PostgreSQL each job worker runs it in a loop of its own
(:class:`zhongcao.jobs.postgres.LoopRunner`) while it holds the job's session-level advisory lock;
the other workers wait for the lock. A session lock dies with its connection, so when the holder is
killed (SIGKILL, OOM) PostgreSQL frees it at once and a waiting or restarted worker runs the job
within a second, with no lease or minute tick to wait for.

Every other run of such a job on PostgreSQL (``zhongcao jobs run``, a deferred Procrastinate task)
takes the same lock for the run, so a holder of the lock is the job's only runner: it may take over a
``job_runs`` claim left ``running`` by a runner that was killed mid-run (``execute(..., owner=True)``).

The key is (a constant, a hash of the schema and the job's name): tests give each run its own schema
in one database, and advisory locks are database-wide.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import text

from zhongcao.db import Database

# pg_try_advisory_lock(int4, int4): the first key names this use of advisory locks.
_TRY = (
    "SELECT pg_try_advisory_lock(hashtext('zhongcao.job_loop'), hashtext(current_schema() || '.' || :name))"
)
_UNLOCK = (
    "SELECT pg_advisory_unlock(hashtext('zhongcao.job_loop'), hashtext(current_schema() || '.' || :name))"
)
# The same for a psycopg connection of its own (a loop's), whose search_path may differ: the schema
# is given, read once from a pooled connection (:func:`scope`).
TRY_SQL = "SELECT pg_try_advisory_lock(hashtext('zhongcao.job_loop'), hashtext(%(scope)s))"


def scope(database: Database, name: str) -> str:
    """What the lock's second key hashes: the database's schema and the job's name."""
    with database.engine.connect() as conn:
        return f"{conn.execute(text('SELECT current_schema()')).scalar()}.{name}"


def uses_loop_lock(database: Database, every_s: float) -> bool:
    """Sub-second jobs on PostgreSQL (the SQLite runner keeps its claims in ``job_runs``)."""
    return every_s < 1.0 and database.dialect == "postgresql"


@contextlib.contextmanager
def held_for_run(database: Database, name: str) -> Iterator[bool]:
    """Hold the job's loop lock for one run: yields False (and holds nothing) when a job worker's loop
    or another run holds it."""
    with database.engine.connect() as conn:
        got = bool(conn.execute(text(_TRY), {"name": name}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                # A pooled connection's reset does not release session locks: release it here.
                conn.execute(text(_UNLOCK), {"name": name})
                conn.commit()
