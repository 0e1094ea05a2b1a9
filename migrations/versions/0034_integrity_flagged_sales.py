"""integrity: units of brushed orders per SKU, so that sales shown and ranked leave them out
(issue #19, item 3)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_flagged_sales",
        sa.Column(
            "sku_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_integrity_flagged_sales")),
    )
    with op.batch_alter_table("integrity_flagged_sales", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integrity_flagged_sales_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("integrity_flagged_sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_flagged_sales_product_id"))
    op.drop_table("integrity_flagged_sales")
