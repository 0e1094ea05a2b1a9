"""The feed's memory per user: what was served recently (no repeats) and explicit feedback.

One row per user, small and bounded (the newest ``seen.SEEN_LIMIT`` served ids, the newest
``seen.FEEDBACK_LIMIT`` feedback ids), read once and written once per served page. A row per user
rather than a row per impression keeps the table as large as the user base, so no pruning job is
needed and the read is one primary-key lookup on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao import clock
from zhongcao.db import Base, BigId, json_type


class FeedUserState(Base):
    __tablename__ = "feed_user_state"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # [[content_id, served_at_epoch_s], ...] oldest first.
    served: Mapped[Any] = mapped_column(json_type(), default=list)
    # {"not_interested": [[content_id, account_id, epoch_s], ...], "like": [[content_id, 0, epoch_s], ...]}
    feedback: Mapped[Any] = mapped_column(json_type(), default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
