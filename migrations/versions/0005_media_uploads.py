"""media uploads: one row per upload, one per stored object (issue #13, item 4)

An upload (image or video) is owned by its uploader and, for merchant staff, their shop. Each stored
object (image sizes, the video, its poster frames) has its own row, so a file is served with the content
type from our record and found by its key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 13:25:57.182403
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "image", "video", name="media_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("source_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_media_owner_id_users")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_media_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "media_objects",
        sa.Column("media_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_media_objects_media_id_media"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_objects")),
        sa.UniqueConstraint("key", name=op.f("uq_media_objects_key")),
    )
    with op.batch_alter_table("media_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_objects_media_id"), ["media_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_objects_media_id"))

    op.drop_table("media_objects")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_shop_id"))
        batch_op.drop_index(batch_op.f("ix_media_owner_id"))

    op.drop_table("media")
