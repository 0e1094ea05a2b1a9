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
from zhongcao.deps import CreatorCtx, DbSession, MerchantCtx, OperatorUser, ShopManagerCtx
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.events.views import app_store
from zhongcao.fields import IdPath
from zhongcao.integrity import explain
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind
from zhongcao.integrity.models import CaseStatus, IntegrityCase, IntegritySanction, SanctionSubject
from zhongcao.integrity.schemas import (
    AppealDecisionIn,
    AppealIn,
    CaseDetailOut,
    CaseOut,
    DecisionIn,
    EffectOut,
    LabelOut,
    SanctionOut,
)
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
        explanation=explain.describe_case(case, {k.value: len(v) for k, v in ids.items()}, "en"),
        effects=[EffectOut(**vars(e)) for e in effects],
        sanctions=[SanctionOut.model_validate(r) for r in integrity_service.sanctions_of_case(db, case.id)],
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


# --- sanctions and appeals ---------------------------------------------------------------------------


def _own_sanction(
    db: DbSession, sanction_id: int, *, shop_id: int | None = None, account_id: int | None = None
) -> IntegritySanction:
    row = integrity_service.get_sanction(db, sanction_id)
    if not integrity_flows.may_appeal(db, row, shop_id=shop_id, account_id=account_id):
        raise NotFound("no such sanction", code="sanction_not_found")  # another tenant's: not disclosed
    return row


@router.get("/api/merchant/integrity/sanctions", response_model=list[SanctionOut], tags=["merchant"])
def shop_sanctions(ctx: MerchantCtx, db: DbSession) -> list[SanctionOut]:
    """The shop's integrity sanctions, newest first, each with its reason and appeal."""
    rows = integrity_service.sanctions_for(db, SanctionSubject.shop, ctx.shop_id)
    return [SanctionOut.model_validate(r) for r in rows]


@router.post(
    "/api/merchant/integrity/sanctions/{sanction_id}/appeal", response_model=SanctionOut, tags=["merchant"]
)
def shop_appeal(ctx: ShopManagerCtx, db: DbSession, sanction_id: IdPath, body: AppealIn) -> SanctionOut:
    """Appeal a sanction once, with a statement an operator reads (409 ``appeal_already_made``)."""
    _own_sanction(db, sanction_id, shop_id=ctx.shop_id)
    row = integrity_service.appeal(db, sanction_id, user_id=ctx.user.id, statement=body.statement)
    db.commit()
    return SanctionOut.model_validate(row)


@router.get("/api/creator/integrity/sanctions", response_model=list[SanctionOut], tags=["creator"])
def creator_sanctions(ctx: CreatorCtx, db: DbSession) -> list[SanctionOut]:
    """The creator's integrity sanctions, newest first."""
    rows = integrity_service.sanctions_for(db, SanctionSubject.creator, ctx.account_id)
    return [SanctionOut.model_validate(r) for r in rows]


@router.post(
    "/api/creator/integrity/sanctions/{sanction_id}/appeal", response_model=SanctionOut, tags=["creator"]
)
def creator_appeal(ctx: CreatorCtx, db: DbSession, sanction_id: IdPath, body: AppealIn) -> SanctionOut:
    """Appeal a sanction once, with a statement an operator reads."""
    _own_sanction(db, sanction_id, account_id=ctx.account_id)
    row = integrity_service.appeal(db, sanction_id, user_id=ctx.user.id, statement=body.statement)
    db.commit()
    return SanctionOut.model_validate(row)


@router.get("/api/ops/integrity/appeals", response_model=list[SanctionOut])
def pending_appeals(_: OperatorUser, db: DbSession) -> list[SanctionOut]:
    """Appeals waiting for an operator, oldest first."""
    return [SanctionOut.model_validate(r) for r in integrity_service.pending_appeals(db)]


@router.post("/api/ops/integrity/sanctions/{sanction_id}/appeal-decision", response_model=SanctionOut)
def decide_appeal(
    user: OperatorUser, db: DbSession, request: Request, sanction_id: IdPath, body: AppealDecisionIn
) -> SanctionOut:
    """Grant (the case is reversed and its flags lifted, the step undone) or uphold, with a reason the
    appellant is told. 409 ``appeal_not_pending`` when no appeal waits."""
    row = integrity_flows.decide_appeal(
        db,
        request.app.state.settings,
        sanction_id,
        body.decision == "grant",
        reason=body.reason,
        actor_user_id=user.id,
    )
    return SanctionOut.model_validate(row)
