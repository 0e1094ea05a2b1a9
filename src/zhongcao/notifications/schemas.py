from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from zhongcao.notifications.models import NotificationKind


class NotificationOut(BaseModel):
    """What happened (``kind`` + ``params``), not a sentence: clients word it in their reader's
    language, as the pages do (docs/notifications.md lists each kind's params)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    params: dict[str, Any]
    link: str
    created_at: datetime
    read_at: datetime | None
    read: bool = False

    @classmethod
    def of(cls, row: Any) -> NotificationOut:
        out = cls.model_validate(row)
        out.read = row.read_at is not None
        return out


class UnreadOut(BaseModel):
    unread: int  # counted up to 100: show "99+" above 99


class MarkedOut(BaseModel):
    marked: int
