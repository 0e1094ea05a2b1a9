"""the operator's workbench (issue #16, item 4): evidence images on after-sales cases, and the
suspension of a shop's campaign registration

``after_sale_evidence`` holds the images each side attached to a case (shown to the operator who
arbitrates it); ``shops.campaign_registration_suspended`` is set by an operator (with a reason, in
the audit log) and keeps the shop's products out of campaigns until restored.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "after_sale_evidence",
        sa.Column("after_sale_id", BIG, nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "buyer",
                "merchant",
                name="evidence_side",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("media_id", BIG, nullable=False),
        sa.Column("added_by", BIG, nullable=False),
        sa.Column("added_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["after_sale_id"],
            ["after_sales.id"],
            name=op.f("fk_after_sale_evidence_after_sale_id_after_sales"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_after_sale_evidence_media_id_media"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name=op.f("fk_after_sale_evidence_added_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_after_sale_evidence")),
    )
    with op.batch_alter_table("after_sale_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_after_sale_evidence_after_sale_id"), ["after_sale_id"], unique=False
        )
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "campaign_registration_suspended", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.drop_column("campaign_registration_suspended")
    with op.batch_alter_table("after_sale_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_after_sale_evidence_after_sale_id"))
    op.drop_table("after_sale_evidence")
