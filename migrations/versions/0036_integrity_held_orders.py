"""integrity: orders held until their evidence is in, so that their rating and experience-score part
wait with their sales (issue #19, item 3)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_held_orders",
        sa.Column(
            "order_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_integrity_held_orders")),
    )


def downgrade() -> None:
    op.drop_table("integrity_held_orders")
