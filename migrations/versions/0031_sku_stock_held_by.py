"""sku stock held by: the platform warehouse holding a SKU's stock, which the shop cannot edit by hand

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("skus", sa.Column("stock_held_by", sa.String(length=16), nullable=True))
    # SKUs already enrolled in a warehouse (migration 0027) are held by it from now on.
    op.execute(
        "UPDATE skus SET stock_held_by = (SELECT warehouse FROM warehouse_stock WHERE warehouse_stock.sku_id = skus.id) "
        "WHERE id IN (SELECT sku_id FROM warehouse_stock)"
    )


def downgrade() -> None:
    with op.batch_alter_table("skus") as batch:
        batch.drop_column("stock_held_by")
