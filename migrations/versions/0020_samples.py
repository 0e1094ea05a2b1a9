"""sample requests (寄样) and the merchant's note on a creator application (issue #16)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db
from zhongcao.migrate import replace_in_check

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SAMPLE_STATUSES = ("requested", "approved", "shipped", "received", "rejected", "cancelled")
# The notification kinds before and after this migration (the creator's sample notifications).
OLD_KINDS = (
    "order_paid",
    "after_sale_opened",
    "after_sale_escalated",
    "application_approved",
    "application_rejected",
    "chat_message",
    "low_stock",
    "coupon_ending",
)
NEW_KINDS = (*OLD_KINDS, "sample_requested", "sample_approved", "sample_rejected", "sample_shipped")
OPEN_SAMPLE_SQL = "status IN ('requested', 'approved', 'shipped')"


def upgrade() -> None:
    op.create_table(
        "sample_requests",
        sa.Column("shop_id", BIG, nullable=False),
        sa.Column("product_id", BIG, nullable=False),
        sa.Column("account_id", BIG, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *SAMPLE_STATUSES, name="sample_status", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("carrier_name", sa.String(length=40), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("decided_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", BIG, nullable=True),
        sa.Column("shipped_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sample_requests_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_sample_requests_decided_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_sample_requests_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_sample_requests_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_requests")),
    )
    with op.batch_alter_table("sample_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sample_requests_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sample_requests_product_id"), ["product_id"], unique=False)
        batch_op.create_index("ix_sample_requests_shop_status", ["shop_id", "status", "id"], unique=False)
        batch_op.create_index(
            "uq_sample_requests_open",
            ["account_id", "product_id"],
            unique=True,
            postgresql_where=sa.text(OPEN_SAMPLE_SQL),
            sqlite_where=sa.text(OPEN_SAMPLE_SQL),
        )
    with op.batch_alter_table("creator_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_note", sa.Text(), server_default="", nullable=False))
    _kinds(OLD_KINDS, NEW_KINDS)


def _kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    replace_in_check(op.get_bind(), "notifications", "kind", "ck_notifications_notification_kind", old, new)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM notifications WHERE kind LIKE 'sample_%'"))
    _kinds(NEW_KINDS, OLD_KINDS)
    with op.batch_alter_table("creator_applications", schema=None) as batch_op:
        batch_op.drop_column("decision_note")
    with op.batch_alter_table("sample_requests", schema=None) as batch_op:
        batch_op.drop_index("uq_sample_requests_open")
        batch_op.drop_index("ix_sample_requests_shop_status")
        batch_op.drop_index(batch_op.f("ix_sample_requests_product_id"))
        batch_op.drop_index(batch_op.f("ix_sample_requests_account_id"))
    op.drop_table("sample_requests")
