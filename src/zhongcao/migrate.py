"""Apply Alembic migrations from code (CLI, tests, demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    ini = ROOT / "alembic.ini"
    if not ini.exists():
        raise FileNotFoundError(f"alembic.ini not found at {ini}; run from a source checkout")
    return Config(str(ini))


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def replace_in_check(
    bind: Any, table: str, column: str, constraint: str, old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    """Change the allowed values of a ``column IN (...)`` CHECK constraint (a non-native enum) in a
    migration, on the migration's connection ``bind``.

    PostgreSQL alters it in place. SQLite cannot alter a constraint, and batch mode's copy of the
    table would drop the old table under its children's foreign keys (refused while rows reference it,
    and PRAGMA foreign_keys cannot be turned off inside the migration's transaction). So on SQLite the
    stored CREATE TABLE text is edited, as SQLite documents for changes that leave the stored rows as
    they are (https://www.sqlite.org/lang_altertable.html#otheralter): widening a CHECK constraint
    does, and narrowing it back (a downgrade) does once no row holds a removed value."""
    from sqlalchemy import text

    def quoted(values: tuple[str, ...]) -> str:
        return ", ".join(f"'{v}'" for v in values)

    if bind.dialect.name == "postgresql":
        bind.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"'))
        bind.execute(
            text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" CHECK ({column} IN ({quoted(new)}))')
        )
        return
    before = f"CONSTRAINT {constraint} CHECK ({column} IN ({quoted(old)}))"
    after = f"CONSTRAINT {constraint} CHECK ({column} IN ({quoted(new)}))"
    sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": table}
    ).scalar_one()
    if before not in sql:
        raise RuntimeError(f"{table}: the {constraint} constraint is not the one this migration replaces")
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    bind.execute(
        text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": sql.replace(before, after), "name": table},
    )
    bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(text("PRAGMA writable_schema = OFF"))
    if bind.execute(text("PRAGMA integrity_check")).scalar_one() != "ok":
        raise RuntimeError(f"{table}: the schema edit left the database inconsistent")
