"""platform warehouse (云仓): warehouse stock per SKU, inbound shipments and their lines, fulfilment
tasks (issue #17, item 1)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warehouse_inbounds",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "warehouse",
            sa.Enum(
                "east",
                "south",
                "north",
                name="warehouse_code",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "in_transit",
                "received",
                "cancelled",
                name="inbound_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("carrier_name", sa.String(length=40), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dispatched_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("cancelled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_warehouse_inbounds_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_warehouse_inbounds_received_by_users")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_warehouse_inbounds_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_inbounds")),
    )
    with op.batch_alter_table("warehouse_inbounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouse_inbounds_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_warehouse_inbounds_status", ["status", "dispatched_at"], unique=False)

    op.create_table(
        "warehouse_inbound_lines",
        sa.Column("inbound_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_warehouse_inbound_lines_quantity_positive")),
        sa.CheckConstraint("received_quantity >= 0", name=op.f("ck_warehouse_inbound_lines_received_nonneg")),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["warehouse_inbounds.id"],
            name=op.f("fk_warehouse_inbound_lines_inbound_id_warehouse_inbounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_warehouse_inbound_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_warehouse_inbound_lines_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_inbound_lines")),
        sa.UniqueConstraint("inbound_id", "sku_id", name="uq_warehouse_inbound_lines_inbound_sku"),
    )
    with op.batch_alter_table("warehouse_inbound_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_warehouse_inbound_lines_inbound_id"), ["inbound_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_warehouse_inbound_lines_sku_id"), ["sku_id"], unique=False)

    op.create_table(
        "warehouse_stock",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "warehouse",
            sa.Enum(
                "east",
                "south",
                "north",
                name="warehouse_code",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("received_total", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at_enrolment", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_warehouse_stock_on_hand_nonneg")),
        sa.CheckConstraint("withdrawn_at_enrolment >= 0", name=op.f("ck_warehouse_stock_withdrawn_nonneg")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_warehouse_stock_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_warehouse_stock_shop_id_shops")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_warehouse_stock_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_stock")),
        sa.UniqueConstraint("sku_id", name=op.f("uq_warehouse_stock_sku_id")),
    )
    with op.batch_alter_table("warehouse_stock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouse_stock_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "warehouse_fulfilments",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "warehouse",
            sa.Enum(
                "east",
                "south",
                "north",
                name="warehouse_code",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "picked",
                "packed",
                "handed_over",
                "short",
                "cancelled",
                name="fulfilment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("carrier_code", sa.String(length=40), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("picked_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("packed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_warehouse_fulfilments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_warehouse_fulfilments_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_fulfilments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_warehouse_fulfilments_order_id")),
    )
    with op.batch_alter_table("warehouse_fulfilments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouse_fulfilments_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_warehouse_fulfilments_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("warehouse_fulfilments", schema=None) as batch_op:
        batch_op.drop_index("ix_warehouse_fulfilments_status")
        batch_op.drop_index(batch_op.f("ix_warehouse_fulfilments_shop_id"))

    op.drop_table("warehouse_fulfilments")
    with op.batch_alter_table("warehouse_stock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warehouse_stock_shop_id"))

    op.drop_table("warehouse_stock")
    with op.batch_alter_table("warehouse_inbound_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warehouse_inbound_lines_sku_id"))
        batch_op.drop_index(batch_op.f("ix_warehouse_inbound_lines_inbound_id"))

    op.drop_table("warehouse_inbound_lines")
    with op.batch_alter_table("warehouse_inbounds", schema=None) as batch_op:
        batch_op.drop_index("ix_warehouse_inbounds_status")
        batch_op.drop_index(batch_op.f("ix_warehouse_inbounds_shop_id"))

    op.drop_table("warehouse_inbounds")
