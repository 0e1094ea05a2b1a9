"""the owner of content an operator takes down is told at once, and again when the appeal is decided
(issue #16: notification kinds content_taken_down, content_restored, takedown_upheld)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from zhongcao.migrate import replace_in_check

revision: str = "0025"
down_revision: str | None = "0024"
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
)
NEW_KINDS = (*OLD_KINDS, "content_taken_down", "content_restored", "takedown_upheld")
CONSTRAINT = "ck_notifications_notification_kind"


def upgrade() -> None:
    replace_in_check(op.get_bind(), "notifications", "kind", CONSTRAINT, OLD_KINDS, NEW_KINDS)


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM notifications WHERE kind IN ('content_taken_down', 'content_restored', 'takedown_upheld')"
        )
    )
    replace_in_check(op.get_bind(), "notifications", "kind", CONSTRAINT, NEW_KINDS, OLD_KINDS)
