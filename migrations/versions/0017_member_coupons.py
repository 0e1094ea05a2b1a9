"""member coupons: shop coupons only members may claim (issue #15, item 8)

``members_only`` marks a shop coupon that only members of the shop's membership programme may
claim (checked in ``flows.claim_coupon``); existing coupons stay open to everyone.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("members_only", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_column("members_only")
