"""The operators' integrity API (``/api/ops/integrity/...``): cases grouped by block with filters, a
case with its evidence, members, explanation and effect, confirm / dismiss with a reason (audited,
published at once), the decisions as labels, and the sanctions' appeals. Operators only; the merchant
and creator appeal through ``/api/integrity/sanctions/...``. The pages (``/operator/integrity``) call
the same service and workflow functions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from zhongcao import integrity_flows
from zhongcao.deps import DbSession, OperatorUser
from zhongcao.errors import InvalidInput
from zhongcao.events.views import app_store
from zhongcao.fields import IdPath
from zhongcao.integrity import explanation
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind
from zhongcao.integrity.models import CaseStatus, IntegrityCase
from zhongcao.integrity.schemas import CaseDetailOut, CaseOut, DecisionIn, EffectOut, LabelOut
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter(tags=["ops"])

StatusQuery = Annotated[CaseStatus | None, Query(description="open, confirmed or dismissed")]
KindQuery = Annotated[BlockKind | None, Query(description="engagement, velocity, brushing, review_text")]
ScoreQuery = Annotated[float | None, Query(ge=0.0, le=1.0, description="at least this score")]


def case_out(case: IntegrityCase, members: dict[str, int]) -> CaseOut:
    return CaseOut.model_validate(case).model_copy(update={"members": members})


@router.get("/api/ops/integrity/cases", response_model=Page[CaseOut])
def list_cases(
    _: OperatorUser,
    db: DbSession,
    status: StatusQuery = None,
    kind: KindQuery = None,
    min_score: ScoreQuery = None,
    params: PageParams = Depends(page_params),
) -> Page[CaseOut]:
    """Cases newest first, one per detected block, with their members per kind."""
    rows, cursor = integrity_service.cases_page(db, params, status=status, kind=kind, min_score=min_score)
    sizes = integrity_service.member_counts(db, [c.id for c in rows])
    return Page(items=[case_out(c, sizes.get(c.id, {})) for c in rows], next_cursor=cursor)


def case_detail(db: DbSession, request: Request, case_id: int) -> CaseDetailOut:
    case = integrity_service.get_case(db, case_id)
    ids = integrity_service.members_by_kind(db, case.id)
    flags = integrity_service.flags_of(db, case.id)
    effects = integrity_flows.case_effects(db, app_store(request.app), case)
    base = case_out(case, {k.value: len(v) for k, v in ids.items()})
    return CaseDetailOut(
        **base.model_dump(),
        evidence=dict(case.evidence or {}),
        member_ids={k.value: v for k, v in ids.items()},
        active_flags=sum(1 for f in flags if f.lifted_at is None),
        explanation=explanation.describe(case, {k.value: len(v) for k, v in ids.items()}, "en"),
        effects=[EffectOut(**vars(e)) for e in effects],  # type: ignore[arg-type]
    )


@router.get("/api/ops/integrity/cases/{case_id}", response_model=CaseDetailOut)
def get_case(_: OperatorUser, db: DbSession, request: Request, case_id: IdPath) -> CaseDetailOut:
    """One case: its block's evidence, members, active flags, explanation and what it discounts."""
    return case_detail(db, request, case_id)


@router.post("/api/ops/integrity/cases/{case_id}/decision", response_model=CaseDetailOut)
def decide(
    user: OperatorUser, db: DbSession, request: Request, case_id: IdPath, body: DecisionIn
) -> CaseDetailOut:
    """Confirm (flags stay; an offence of the shops and creators it benefited, which escalates) or
    dismiss (flags lifted: everything it discounted counts again) with a reason. 409
    ``case_already_decided`` on a decided case."""
    integrity_flows.decide_case(
        db, request.app.state.settings, case_id, body.decision, reason=body.reason, actor_user_id=user.id
    )
    return case_detail(db, request, case_id)


@router.get("/api/ops/integrity/labels", response_model=list[LabelOut])
def labels(
    _: OperatorUser,
    db: DbSession,
    since: Annotated[datetime | None, Query(description="decided from (ISO 8601 with a zone)")] = None,
) -> list[LabelOut]:
    """The operators' decisions as labels for the detectors: one row per member of a decided case
    (confirmed: fraud; dismissed: organic)."""
    if since is not None and since.tzinfo is None:
        raise InvalidInput("give the time with its zone", code="naive_datetime", field="since")
    return [LabelOut(**row) for row in integrity_service.labels(db, since=since)]
