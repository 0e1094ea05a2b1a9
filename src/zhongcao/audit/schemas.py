"""The audit log as the API shows it, and the reason every operator action carries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.fields import multi_line


def _text(value: str | None) -> str | None:
    return None if value is None else multi_line(value)


# Optional in the schema so that a missing or blank reason gets the one clear refusal
# (``audit.service.require_reason``: 422 ``reason_required``, field ``reason``), not a generic one.
Reason = Annotated[
    str | None, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(_text)
]


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(
        default=None, description="Why (at most 500 characters); the person affected sees it"
    )


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor_user_id: int | None
    action: str
    target_kind: str
    target_id: int
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


class QueueOut(BaseModel):
    key: str
    count: int
    href: str


class WorkbenchOut(BaseModel):
    queues: list[QueueOut]
