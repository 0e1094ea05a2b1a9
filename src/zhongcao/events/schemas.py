"""Request and response models of the events API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from zhongcao.events import model
from zhongcao.fields import Id, UserLine


def _plain_extra(value: dict[str, Any]) -> dict[str, Any]:
    """A small JSON object of plain values: no NUL anywhere (PostgreSQL keeps it as text), within
    the stored size."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if "\\u0000" in text or "\x00" in text:
        raise ValueError("must not contain NUL characters")
    if len(text.encode()) > model.MAX_EXTRA_BYTES:
        raise ValueError(f"must be at most {model.MAX_EXTRA_BYTES} bytes as JSON")
    return value


class EventIn(BaseModel):
    """One event from a client. ``user_id`` is not accepted: it is always the signed-in user."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[UserLine, Field(min_length=1, max_length=model.MAX_EVENT_ID)] | None = None
    ts: AwareDatetime | None = None
    type: Annotated[UserLine, Field(min_length=1, max_length=32)]
    content_id: Id | None = None
    product_id: Id | None = None
    shop_id: Id | None = None
    account_id: Id | None = None
    query: Annotated[UserLine, Field(max_length=model.MAX_QUERY)] | None = None
    result_ids: list[Id] | None = Field(default=None, max_length=model.MAX_RESULT_IDS)
    position: Annotated[int, Field(strict=True, ge=0, le=model.MAX_POSITION)] | None = None
    watch_ms: Annotated[int, Field(strict=True, ge=0, le=model.MAX_WATCH_MS)] | None = None
    value_fen: Annotated[int, Field(strict=True, ge=0, le=model.MAX_VALUE_FEN)] | None = None
    request_id: Annotated[UserLine, Field(max_length=model.MAX_EVENT_ID)] | None = None
    channel: Annotated[UserLine, Field(max_length=model.MAX_CHANNEL)] | None = None
    extra: Annotated[dict[str, Any], AfterValidator(_plain_extra)] | None = None


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=model.MAX_BATCH_API)


class EventBatchOut(BaseModel):
    accepted: int
    received_at: datetime
