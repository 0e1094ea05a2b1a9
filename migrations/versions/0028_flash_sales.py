"""flash sales (秒杀): the sales and the buyers they admitted (issue #18, item 1)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 02:52:59.103047
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import zhongcao.db

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flash_sales",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("payment_window_minutes", sa.Integer(), nullable=False),
        sa.Column("starts_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "waiting_for_pin",
                "scheduled",
                "ended",
                name="flash_sale_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("live_content_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("units_taken", sa.Integer(), nullable=False),
        sa.Column("ended_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_to_stock", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("payment_window_minutes > 0", name=op.f("ck_flash_sales_window_positive")),
        sa.CheckConstraint("per_buyer_limit > 0", name=op.f("ck_flash_sales_limit_positive")),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_flash_sales_price_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_flash_sales_quantity_positive")),
        sa.CheckConstraint(
            "units_taken >= 0 AND units_taken <= quantity", name=op.f("ck_flash_sales_units_within_quantity")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_flash_sales_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_flash_sales_created_by_users")),
        sa.ForeignKeyConstraint(
            ["live_content_id"], ["content.id"], name=op.f("fk_flash_sales_live_content_id_content")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_flash_sales_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_flash_sales_shop_id_shops")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_flash_sales_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flash_sales")),
    )
    with op.batch_alter_table("flash_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flash_sales_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flash_sales_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flash_sales_sku_id"), ["sku_id"], unique=False)
        batch_op.create_index("ix_flash_sales_status", ["status", "starts_at"], unique=False)

    op.create_table(
        "flash_admissions",
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "ordered",
                "paid",
                "expired",
                "rejected",
                "failed",
                name="flash_admission_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("admitted_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("checkout_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("written_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counters_returned", sa.Boolean(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint("seq > 0", name=op.f("ck_flash_admissions_seq_positive")),
        sa.ForeignKeyConstraint(
            ["checkout_id"], ["checkouts.id"], name=op.f("fk_flash_admissions_checkout_id_checkouts")
        ),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content.id"], name=op.f("fk_flash_admissions_content_id_content")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_flash_admissions_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["flash_sales.id"], name=op.f("fk_flash_admissions_sale_id_flash_sales")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_flash_admissions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flash_admissions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_flash_admissions_order_id")),
        sa.UniqueConstraint("sale_id", "user_id", "seq", name="uq_flash_admissions_sale_user_seq"),
    )
    with op.batch_alter_table("flash_admissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flash_admissions_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flash_admissions_sale_id"), ["sale_id"], unique=False)
        batch_op.create_index("ix_flash_admissions_state", ["state", "sale_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flash_admissions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flash_admissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flash_admissions_user_id"))
        batch_op.drop_index("ix_flash_admissions_state")
        batch_op.drop_index(batch_op.f("ix_flash_admissions_sale_id"))
        batch_op.drop_index(batch_op.f("ix_flash_admissions_checkout_id"))

    op.drop_table("flash_admissions")
    with op.batch_alter_table("flash_sales", schema=None) as batch_op:
        batch_op.drop_index("ix_flash_sales_status")
        batch_op.drop_index(batch_op.f("ix_flash_sales_sku_id"))
        batch_op.drop_index(batch_op.f("ix_flash_sales_shop_id"))
        batch_op.drop_index(batch_op.f("ix_flash_sales_product_id"))

    op.drop_table("flash_sales")
