"""The operators' audit log: one row per operator action, append-only.

Rows are never updated or deleted by the application, and the database refuses it too: triggers on
both PostgreSQL and SQLite abort any UPDATE or DELETE (``APPEND_ONLY_DDL``, installed by migration
0018). Only PostgreSQL's TRUNCATE, an administrator's act outside the application, empties the table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type


class AuditEntry(IdMixin, TimestampMixin, Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_target", "target_kind", "target_id", "id"),
        Index("ix_audit_entries_actor", "actor_user_id", "id"),
        Index("ix_audit_entries_action", "action", "id"),
    )

    # Who: the operator (None only for the platform's own jobs).
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # What: a dotted verb, e.g. "after_sale.arbitrate", "content.take_down", "shop.suspend".
    action: Mapped[str] = mapped_column(String(60))
    # On what: the kind of thing and its id ("after_sale", 42).
    target_kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(Text)
    # The changed fields as they were and as they became (JSON-ready values only).
    before: Mapped[dict[str, Any]] = mapped_column(json_type())
    after: Mapped[dict[str, Any]] = mapped_column(json_type())


def _postgresql_ddl() -> list[str]:
    return [
        """CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only';
        END;
        $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()""",
    ]


def _sqlite_ddl() -> list[str]:
    return [
        f"""CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
        for verb in ("UPDATE", "DELETE")
    ]


def append_only_ddl(dialect: str) -> list[str]:
    """Statements that make ``audit_entries`` refuse UPDATE and DELETE on this dialect."""
    return _postgresql_ddl() if dialect == "postgresql" else _sqlite_ddl()


# SQLite has no TRUNCATE: emptying every table (tests, ``demo --fresh``) drops these and adds them back.
SQLITE_TRIGGERS = ("audit_entries_no_update", "audit_entries_no_delete")
