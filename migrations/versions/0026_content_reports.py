"""shoppers report videos and live rooms; operators act on the reports (issue #16, item 4)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = zhongcao.db.UTCDateTime(timezone=True)
REASONS = ("misleading", "prohibited", "vulgar", "infringement", "harassment", "other")
STATUSES = ("open", "actioned", "dismissed")


def upgrade() -> None:
    op.create_table(
        "content_reports",
        sa.Column("content_id", BIG, nullable=False),
        sa.Column("reporter_user_id", BIG, nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*REASONS, name="report_reason", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="report_status", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("resolved_by_user_id", BIG, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content.id"],
            name=op.f("fk_content_reports_content_id_content"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"],
            ["users.id"],
            name=op.f("fk_content_reports_reporter_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_user_id"], ["users.id"], name=op.f("fk_content_reports_resolved_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_reports")),
        sa.UniqueConstraint("content_id", "reporter_user_id", name=op.f("uq_content_reports_reporter")),
    )
    with op.batch_alter_table("content_reports", schema=None) as batch_op:
        batch_op.create_index("ix_content_reports_open", ["status", "content_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("content_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_content_reports_open")
    op.drop_table("content_reports")
