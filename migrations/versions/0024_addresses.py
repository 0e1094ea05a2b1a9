"""address book: a user's saved shipping addresses with division codes (issue #17, item 3)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = zhongcao.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_addresses",
        sa.Column("user_id", BIG, nullable=False),
        sa.Column("recipient", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("province_code", sa.String(length=12), nullable=False),
        sa.Column("city_code", sa.String(length=12), nullable=False),
        sa.Column("district_code", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_addresses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_addresses")),
    )
    with op.batch_alter_table("user_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_addresses_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_addresses_user_id"))
    op.drop_table("user_addresses")
