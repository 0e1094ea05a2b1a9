"""API tokens carry a scope (issue #14, item 1): ``full`` or ``read`` (GET, HEAD, OPTIONS only)

Existing tokens become ``full``, what they could do before. Expiry already had its column
(``expires_at``); tokens minted before this without one keep working until revoked.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch:
        batch.add_column(
            sa.Column(
                "scope",
                sa.Enum(
                    "full", "read", name="token_scope", native_enum=False, create_constraint=True, length=32
                ),
                nullable=False,
                server_default="full",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch:
        batch.drop_column("scope")
