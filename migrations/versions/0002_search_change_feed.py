"""search change feed: skus.updated_at and indexes on the change timestamps

The search index polls products and SKUs changed since its last look (issue #5, "searchable within
1 s"); SKU price and stock moves did not touch any timestamp before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_skus_updated_at"), ["updated_at"], unique=False)
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_updated_at"))
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skus_updated_at"))
        batch_op.drop_column("updated_at")
