"""content moderation: operators' take-downs with the owner's one appeal (issue #16, item 4)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = zhongcao.db.UTCDateTime(timezone=True)
CONTENT_STATUSES = ("published", "removed", "scheduled", "live", "ended")
APPEAL_STATUSES = ("none", "pending", "restored", "upheld")


def upgrade() -> None:
    op.create_table(
        "content_takedowns",
        sa.Column("content_id", BIG, nullable=False),
        sa.Column("operator_user_id", BIG, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "previous_status",
            sa.Enum(
                *CONTENT_STATUSES, name="content_status", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "appeal_status",
            sa.Enum(
                *APPEAL_STATUSES, name="appeal_status", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("appeal_statement", sa.Text(), nullable=True),
        sa.Column("appealed_by_user_id", BIG, nullable=True),
        sa.Column("appealed_at", WHEN, nullable=True),
        sa.Column("decided_by_user_id", BIG, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content.id"],
            name=op.f("fk_content_takedowns_content_id_content"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_user_id"], ["users.id"], name=op.f("fk_content_takedowns_operator_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["appealed_by_user_id"], ["users.id"], name=op.f("fk_content_takedowns_appealed_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_content_takedowns_decided_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_takedowns")),
    )
    with op.batch_alter_table("content_takedowns", schema=None) as batch_op:
        batch_op.create_index("ix_content_takedowns_content", ["content_id", "id"], unique=False)
        batch_op.create_index("ix_content_takedowns_appeal", ["appeal_status", "appealed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("content_takedowns", schema=None) as batch_op:
        batch_op.drop_index("ix_content_takedowns_appeal")
        batch_op.drop_index("ix_content_takedowns_content")
    op.drop_table("content_takedowns")
