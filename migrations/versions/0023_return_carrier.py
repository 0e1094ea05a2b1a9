"""after-sales: the carrier of a returned parcel, beside its tracking number (issue #17, item 2)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.add_column(sa.Column("return_carrier_name", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("after_sales") as batch:
        batch.drop_column("return_carrier_name")
