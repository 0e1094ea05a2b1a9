"""integrity: cases (one per detected block), their members with evidence, the flags they raise, the
sanctions of repeat offenders with their appeals; two notification kinds (issue #19, part B)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 05:25:05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import zhongcao.db
from zhongcao.migrate import replace_in_check

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
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
    "content_taken_down",
    "content_restored",
    "takedown_upheld",
)
NEW_KINDS = (*OLD_KINDS, "integrity_sanction", "integrity_appeal_decided")
CONSTRAINT = "ck_notifications_notification_kind"


def upgrade() -> None:
    op.create_table(
        "integrity_cases",
        sa.Column(
            "kind",
            sa.Enum(
                "engagement",
                "velocity",
                "brushing",
                "review_text",
                name="integrity_block_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "target_kind",
            sa.Enum(
                "content",
                "account",
                "product",
                "shop",
                name="integrity_target_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "detector",
            sa.Enum(
                "batch",
                "streaming",
                name="integrity_detector",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "confirmed",
                "dismissed",
                name="integrity_case_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("window_start", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("density", sa.Float(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("updated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewer_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"], ["users.id"], name=op.f("fk_integrity_cases_reviewer_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_cases")),
    )
    with op.batch_alter_table("integrity_cases", schema=None) as batch_op:
        batch_op.create_index("ix_integrity_cases_kind", ["kind", "status"], unique=False)
        batch_op.create_index("ix_integrity_cases_status", ["status", "score"], unique=False)

    op.create_table(
        "integrity_case_members",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "user",
                "content",
                "account",
                "product",
                "shop",
                "order",
                name="integrity_flag_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["integrity_cases.id"],
            name=op.f("fk_integrity_case_members_case_id_integrity_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_case_members")),
        sa.UniqueConstraint("case_id", "kind", "subject_id", name="uq_integrity_case_members_subject"),
    )
    with op.batch_alter_table("integrity_case_members", schema=None) as batch_op:
        batch_op.create_index("ix_integrity_case_members_subject", ["kind", "subject_id"], unique=False)

    op.create_table(
        "integrity_flags",
        sa.Column(
            "kind",
            sa.Enum(
                "user",
                "content",
                "account",
                "product",
                "shop",
                "order",
                name="integrity_flag_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lifted_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["integrity_cases.id"],
            name=op.f("fk_integrity_flags_case_id_integrity_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_flags")),
        sa.UniqueConstraint("kind", "subject_id", "case_id", name="uq_integrity_flags_subject_case"),
    )
    with op.batch_alter_table("integrity_flags", schema=None) as batch_op:
        batch_op.create_index("ix_integrity_flags_active", ["lifted_at", "kind", "subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_integrity_flags_case_id"), ["case_id"], unique=False)

    op.create_table(
        "integrity_sanctions",
        sa.Column(
            "subject",
            sa.Enum(
                "shop",
                "creator",
                name="integrity_sanction_subject",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "warning",
                "eligibility",
                "suspension",
                name="integrity_sanction_level",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("offences", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("lifted_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "appeal_status",
            sa.Enum(
                "none",
                "pending",
                "granted",
                "upheld",
                name="integrity_appeal_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("appeal_statement", sa.Text(), nullable=True),
        sa.Column("appealed_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("appealed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("subject_name", sa.String(length=120), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_integrity_sanctions_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["appealed_by_user_id"],
            ["users.id"],
            name=op.f("fk_integrity_sanctions_appealed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["integrity_cases.id"],
            name=op.f("fk_integrity_sanctions_case_id_integrity_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_integrity_sanctions_decided_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_sanctions")),
        sa.UniqueConstraint("subject", "subject_id", "case_id", name="uq_integrity_sanctions_case"),
    )
    with op.batch_alter_table("integrity_sanctions", schema=None) as batch_op:
        batch_op.create_index("ix_integrity_sanctions_appeal", ["appeal_status", "appealed_at"], unique=False)
        batch_op.create_index("ix_integrity_sanctions_subject", ["subject", "subject_id", "id"], unique=False)

    replace_in_check(op.get_bind(), "notifications", "kind", CONSTRAINT, OLD_KINDS, NEW_KINDS)


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM notifications WHERE kind IN ('integrity_sanction', 'integrity_appeal_decided')")
    )
    replace_in_check(op.get_bind(), "notifications", "kind", CONSTRAINT, NEW_KINDS, OLD_KINDS)
    with op.batch_alter_table("integrity_sanctions", schema=None) as batch_op:
        batch_op.drop_index("ix_integrity_sanctions_subject")
        batch_op.drop_index("ix_integrity_sanctions_appeal")

    op.drop_table("integrity_sanctions")
    with op.batch_alter_table("integrity_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_flags_case_id"))
        batch_op.drop_index("ix_integrity_flags_active")

    op.drop_table("integrity_flags")
    with op.batch_alter_table("integrity_case_members", schema=None) as batch_op:
        batch_op.drop_index("ix_integrity_case_members_subject")

    op.drop_table("integrity_case_members")
    with op.batch_alter_table("integrity_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_integrity_cases_status")
        batch_op.drop_index("ix_integrity_cases_kind")

    op.drop_table("integrity_cases")
