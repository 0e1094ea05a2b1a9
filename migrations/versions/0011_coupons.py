"""coupons: percentage coupons and ending a coupon early (issue #15, item 4)

``percent_off`` (1..99) makes a coupon take that share of the goods total off, capped at
``discount_fen``; ``ended_at`` is set when the shop ends a coupon (no more claims).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("percent_off", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ended_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_coupons_percent_range"),
            "percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 99)",
        )


def downgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_coupons_percent_range"), type_="check")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("percent_off")
