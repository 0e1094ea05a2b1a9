"""idempotency records name the process that holds them (issue #14, item 7)

A record still in flight whose holding process is gone is taken over by a retry at once, instead of
after a two-minute lease: ``holder`` says which process (host, pid, process start) claimed it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_column("holder")
