"""notifications (issue #15, item 7) and shop memberships (item 8)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import zhongcao.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS = (
    "order_paid",
    "after_sale_opened",
    "after_sale_escalated",
    "application_approved",
    "application_rejected",
    "chat_message",
    "low_stock",
    "coupon_ending",
    "sample_requested",
    "sample_approved",
    "sample_rejected",
    "sample_shipped",
)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("user_id", BIG, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="notification_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_read", ["user_id", "read_at", "id"], unique=False)
    op.create_table(
        "membership_programs",
        sa.Column("shop_id", BIG, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "tiers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("member_discount_bps", sa.Integer(), nullable=False),
        sa.Column("updated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_membership_programs_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_programs")),
        sa.UniqueConstraint("shop_id", name=op.f("uq_membership_programs_shop_id")),
    )
    op.create_table(
        "shop_members",
        sa.Column("shop_id", BIG, nullable=False),
        sa.Column("user_id", BIG, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("consented_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("joined_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shop_members_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_shop_members_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_members")),
        sa.UniqueConstraint("shop_id", "user_id", name="uq_shop_members_shop_user"),
    )
    with op.batch_alter_table("shop_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_members_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_members_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shop_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_shop_members_shop_id"))
    op.drop_table("shop_members")
    op.drop_table("membership_programs")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_read")
    op.drop_table("notifications")
