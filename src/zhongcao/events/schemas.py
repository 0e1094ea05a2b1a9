"""Request and response models of the events API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from zhongcao.events import model


class EventIn(BaseModel):
    """One event from a client. ``user_id`` is not accepted: it is always the signed-in user."""

    model_config = ConfigDict(extra="forbid")

    event_id: str | None = Field(default=None, min_length=1, max_length=model.MAX_EVENT_ID)
    ts: AwareDatetime | None = None
    type: str = Field(min_length=1, max_length=32)
    content_id: int | None = Field(default=None, gt=0)
    product_id: int | None = Field(default=None, gt=0)
    shop_id: int | None = Field(default=None, gt=0)
    account_id: int | None = Field(default=None, gt=0)
    query: str | None = Field(default=None, max_length=model.MAX_QUERY)
    result_ids: list[int] | None = Field(default=None, max_length=model.MAX_RESULT_IDS)
    position: int | None = Field(default=None, ge=0, le=model.MAX_POSITION)
    watch_ms: int | None = Field(default=None, ge=0, le=model.MAX_WATCH_MS)
    value_fen: int | None = Field(default=None, ge=0, le=model.MAX_VALUE_FEN)
    request_id: str | None = Field(default=None, max_length=model.MAX_EVENT_ID)
    channel: str | None = Field(default=None, max_length=model.MAX_CHANNEL)
    extra: dict[str, Any] | None = None


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=model.MAX_BATCH_API)


class EventBatchOut(BaseModel):
    accepted: int
    received_at: datetime
