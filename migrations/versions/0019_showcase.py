"""creators' showcases (商品橱窗) and the showcase purchase channel (issue #16, item 1a)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhongcao.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_CHANNELS = ("short_video", "live", "search", "mall", "shop_page", "product_page", "other")
NEW_CHANNELS = (*OLD_CHANNELS, "showcase")
# The tables with attribution columns (commerce.models.AttributionColumns).
ATTRIBUTED = ("cart_items", "order_items")


def _check(table: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"CONSTRAINT ck_{table}_channel CHECK (channel IN ({quoted}))"


def _set_channels(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Replace the CHECK constraint of the channel columns.

    PostgreSQL alters it in place. SQLite cannot alter a constraint, and batch mode's copy of the
    table would drop the old table under its children's foreign keys (refused while rows reference it,
    and PRAGMA foreign_keys cannot be turned off inside the migration's transaction). So on SQLite the
    stored CREATE TABLE text is edited, as SQLite documents for changes that leave the stored rows as
    they are (https://www.sqlite.org/lang_altertable.html#otheralter): widening a CHECK constraint does,
    and narrowing it back (downgrade) does once no row holds the removed value."""
    bind = op.get_bind()
    for table in ATTRIBUTED:
        if bind.dialect.name == "postgresql":
            op.drop_constraint(op.f(f"ck_{table}_channel"), table, type_="check")
            quoted = ", ".join(f"'{v}'" for v in new)
            op.create_check_constraint(op.f(f"ck_{table}_channel"), table, f"channel IN ({quoted})")
            continue
        sql = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": table}
        ).scalar_one()
        if _check(table, old) not in sql:
            raise RuntimeError(f"{table}: the channel constraint is not the one this migration replaces")
        version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
        bind.execute(sa.text("PRAGMA writable_schema = ON"))
        bind.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
            {"sql": sql.replace(_check(table, old), _check(table, new)), "name": table},
        )
        bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
        bind.execute(sa.text("PRAGMA writable_schema = OFF"))
        if bind.execute(sa.text("PRAGMA integrity_check")).scalar_one() != "ok":
            raise RuntimeError(f"{table}: the schema edit left the database inconsistent")


def upgrade() -> None:
    op.create_table(
        "showcase_items",
        sa.Column("account_id", BIG, nullable=False),
        sa.Column("product_id", BIG, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_showcase_items_position_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_showcase_items_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_showcase_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_showcase_items")),
        sa.UniqueConstraint("account_id", "product_id", name="uq_showcase_items_account_product"),
    )
    with op.batch_alter_table("showcase_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_showcase_items_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_showcase_items_product_id"), ["product_id"], unique=False)
    _set_channels(OLD_CHANNELS, NEW_CHANNELS)


def downgrade() -> None:
    for table in ATTRIBUTED:
        op.execute(sa.text(f"UPDATE {table} SET channel = 'other' WHERE channel = 'showcase'"))
    _set_channels(NEW_CHANNELS, OLD_CHANNELS)
    with op.batch_alter_table("showcase_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_showcase_items_product_id"))
        batch_op.drop_index(batch_op.f("ix_showcase_items_account_id"))
    op.drop_table("showcase_items")
