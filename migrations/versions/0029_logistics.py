"""logistics: parcels and their tracking events; shipments found by carrier and tracking number
(issue #17, item 1)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import zhongcao.db

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parcels",
        sa.Column("shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carrier_code", sa.String(length=16), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_pickup",
                "in_transit",
                "out_for_delivery",
                "delivered",
                "lost",
                "returned",
                name="parcel_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("origin_province", sa.String(length=12), nullable=True),
        sa.Column("destination_province", sa.String(length=12), nullable=True),
        sa.Column("distance_km", sa.Integer(), nullable=True),
        sa.Column(
            "plan",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("next_due_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expected_delivery_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delayed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lost_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claim_opened_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_parcels_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_parcels_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_parcels_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcels")),
        sa.UniqueConstraint("order_id", name=op.f("uq_parcels_order_id")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_parcels_shipment_id")),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parcels_carrier_tracking", ["carrier_code", "tracking_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_parcels_next_due_at"), ["next_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_parcels_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "tracking_events",
        sa.Column("parcel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carrier_code", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "picked_up",
                "in_transit",
                "arrived_city",
                "out_for_delivery",
                "delivered",
                "delayed",
                "lost",
                "returned",
                name="tracking_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("location_zh", sa.String(length=120), nullable=False),
        sa.Column("location_en", sa.String(length=160), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "simulated",
                "webhook",
                name="tracking_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_tracking_events_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_tracking_events_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint("carrier_code", "external_id", name="uq_tracking_events_carrier_external_id"),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_events_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracking_events_parcel_id"), ["parcel_id"], unique=False)

    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipments_carrier_tracking", ["carrier_name", "tracking_number"], unique=False
        )
        batch_op.create_index("ix_shipments_delivered_at", ["delivered_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_delivered_at")
        batch_op.drop_index("ix_shipments_carrier_tracking")

    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_events_parcel_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_events_order_id"))

    op.drop_table("tracking_events")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcels_shop_id"))
        batch_op.drop_index(batch_op.f("ix_parcels_next_due_at"))
        batch_op.drop_index("ix_parcels_carrier_tracking")

    op.drop_table("parcels")
