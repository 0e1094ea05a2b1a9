"""demo logins: the demo world's logins, which the login page lists (issue #17, item 4)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = zhongcao.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "demo_logins",
        sa.Column("user_id", BIG, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("password", sa.String(length=64), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_demo_logins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_logins")),
        sa.UniqueConstraint("user_id", name=op.f("uq_demo_logins_user_id")),
    )


def downgrade() -> None:
    op.drop_table("demo_logins")
