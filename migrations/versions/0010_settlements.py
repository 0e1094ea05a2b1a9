"""settlements: one per completed order, pending until settled by the job (issue #15, item 6)

What the shop receives for an order after refunds; ``settlement_fen = paid + subsidy - platform fee -
commission - refunded`` is a CHECK. The ``settlements`` job fills the table from completed orders.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:48:47.849162
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settlements",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "settled",
                name="settlement_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("completed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("subsidy_fen", sa.Integer(), nullable=False),
        sa.Column("platform_fee_fen", sa.Integer(), nullable=False),
        sa.Column("commission_fen", sa.Integer(), nullable=False),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column("settlement_fen", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "paid_fen >= 0 AND subsidy_fen >= 0 AND platform_fee_fen >= 0 AND commission_fen >= 0 AND refunded_fen >= 0 AND refunded_fen <= paid_fen",
            name=op.f("ck_settlements_money_nonneg"),
        ),
        sa.CheckConstraint(
            "settlement_fen = paid_fen + subsidy_fen - platform_fee_fen - commission_fen - refunded_fen",
            name=op.f("ck_settlements_settlement_identity"),
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_settlements_order_id_orders")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_settlements_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint("order_id", name=op.f("uq_settlements_order_id")),
    )
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.create_index("ix_settlements_shop_completed", ["shop_id", "completed_at"], unique=False)
        batch_op.create_index("ix_settlements_status_completed", ["status", "completed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.drop_index("ix_settlements_status_completed")
        batch_op.drop_index("ix_settlements_shop_completed")

    op.drop_table("settlements")
