"""flash sales: the admission counters' generation kept in PostgreSQL, and each ticket's request key
(issue #18, item 6)

A rebuild of a sale's counters (after a Redis restart) bumps it under an exclusive advisory lock; a
ticket is recorded only if the generation that admitted it is still current, so a request admitted
by the lost counters cannot slip in after the rebuild counted the tickets (docs/flash-sales.md). A
ticket keeps the Idempotency-Key of its request, which a rebuild gives back to the counters.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flash_sales") as batch_op:
        batch_op.add_column(
            sa.Column("counters_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("flash_admissions") as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flash_admissions") as batch_op:
        batch_op.drop_column("request_key")
    with op.batch_alter_table("flash_sales") as batch_op:
        batch_op.drop_column("counters_generation")
