"""procrastinate: the job queue's schema on PostgreSQL (issue #13, item 1)

On PostgreSQL the job worker is Procrastinate's (zhongcao.jobs.postgres): its tables, types,
functions and triggers come from the pinned procrastinate package's own schema.sql. Nothing on
SQLite, where the jobs run in-process (job_runs). A database where the schema was already applied
(``procrastinate schema --apply``) is left as it is. Upgrading procrastinate past a version with
schema changes takes a new migration that runs its migration scripts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        return
    from procrastinate.schema import SchemaManager

    # The driver's own connection, no parameters: the script's % and : are PostgreSQL's, not
    # placeholders, and it holds many statements.
    bind.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]


_DROP = """
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || item.signature || ' CASCADE';
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END $$
"""


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.connection.driver_connection.execute(_DROP)  # type: ignore[union-attr]
