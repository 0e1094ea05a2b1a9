"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from zhongcao import migrate
from zhongcao.db import Base


def _managed(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    # The PostgreSQL event store creates its own day-partitioned table ("events", "events_p<day>") on
    # demand, outside the ORM's metadata and Alembic's migrations (docs/events.md). Procrastinate's
    # tables (the job queue on PostgreSQL) come from its own schema script (migration 0007).
    return not (
        type_ == "table"
        and (name == "events" or name.startswith("events_p") or name.startswith("procrastinate_"))
    )


def test_migrations_match_models(database):
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _managed})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
