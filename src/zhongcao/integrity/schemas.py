"""Request and response bodies of the operators' integrity API (``/api/ops/integrity/...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhongcao.fields import UserText
from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.models import AppealStatus, CaseStatus, Detector, SanctionLevel, SanctionSubject

Reason = Annotated[UserText, Field(min_length=1, max_length=500)]


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: BlockKind
    target_kind: TargetKind
    detector: Detector
    status: CaseStatus
    score: float
    window_start: datetime
    window_end: datetime
    events: int
    density: float
    detections: int
    created_at: datetime
    updated_at: datetime
    reviewer_user_id: int | None
    reason: str | None
    decided_at: datetime | None
    members: dict[str, int] = Field(default_factory=dict, description="members per kind")


class EffectOut(BaseModel):
    """What the case discounts (while it is open or confirmed) for one shop or creator account."""

    subject: Literal["shop", "account"]
    subject_id: int
    name: str
    likes_discounted: int = 0
    follows_discounted: int = 0
    orders_discounted: int = 0
    sales_discounted_fen: int = 0


class CaseDetailOut(CaseOut):
    evidence: dict[str, Any]
    member_ids: dict[str, list[int]]
    active_flags: int
    explanation: str
    effects: list[EffectOut]
    sanctions: list[SanctionOut] = Field(default_factory=list)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "dismiss"]
    reason: Reason


class SanctionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject: SanctionSubject
    subject_id: int
    subject_name: str
    level: SanctionLevel
    case_id: int
    offences: int
    reason: str
    created_at: datetime
    appeal_status: AppealStatus
    appeal_statement: str | None
    decision_reason: str | None
    decided_at: datetime | None


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement: Reason


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["grant", "uphold"]
    reason: Reason


class ScanOut(BaseModel):
    counts: dict[str, int]


class LabelOut(BaseModel):
    case_id: int
    block_kind: str
    member_kind: str
    subject_id: int
    label: Literal["fraud", "organic"]
    decided_at: datetime | None


CaseDetailOut.model_rebuild()
