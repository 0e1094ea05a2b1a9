"""Affiliate plans (merchants), the plaza and applications (creators), creators' commissions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from zhongcao import flows
from zhongcao.affiliate import matching_service, service
from zhongcao.affiliate.models import (
    AffiliatePlan,
    ApplicationStatus,
    CreatorApplication,
    PlanKind,
    PlanStatus,
)
from zhongcao.affiliate.schemas import (
    ApplicantOut,
    ApplicationCreate,
    ApplicationOut,
    CommissionEntryOut,
    CommissionsOut,
    CreatorRecommendationOut,
    CreatorRecommendationsOut,
    MatchReasonOut,
    MerchantApplicationOut,
    PlanCreate,
    PlanCreatorAdd,
    PlanOut,
    PlazaEntryOut,
    ProductRecommendationOut,
    ProductRecommendationsOut,
    RecommendedPlanOut,
)
from zhongcao.content import service as content_service
from zhongcao.deps import CreatorCtx, DbSession, MerchantContext, merchant_with
from zhongcao.fields import IdPath, IdQuery
from zhongcao.money import apply_bps
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops.models import StaffRole

router = APIRouter()

# Commission terms are commercial decisions: shop owners and operators only, reads included.
AffiliateManager = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]
Params = Annotated[PageParams, Depends(page_params)]


def _plan_out(db: DbSession, plan: AffiliatePlan) -> PlanOut:
    creators = service.plan_creator_ids(db, plan.id)
    return PlanOut.model_validate(plan).model_copy(update={"creator_account_ids": creators})


def _merchant_applications(db: DbSession, rows: Sequence[CreatorApplication]) -> list[MerchantApplicationOut]:
    plans = service.plans_by_ids(db, [a.plan_id for a in rows])
    accounts = content_service.accounts_by_ids(db, [a.account_id for a in rows])
    return [
        MerchantApplicationOut(
            **ApplicationOut.model_validate(a).model_dump(),
            product_id=plans[a.plan_id].product_id,
            applicant=ApplicantOut.model_validate(accounts[a.account_id]),
        )
        for a in rows
    ]


# --- merchants -----------------------------------------------------------------------------------


@router.post("/api/merchant/affiliate/plans", status_code=201, response_model=PlanOut, tags=["merchant"])
def create_plan(body: PlanCreate, ctx: AffiliateManager, db: DbSession) -> PlanOut:
    plan = service.create_plan(
        db,
        ctx.shop_id,
        product_id=body.product_id,
        kind=body.kind,
        commission_bps=body.commission_bps,
        creator_account_ids=body.creator_account_ids,
    )
    return _plan_out(db, plan)


@router.get("/api/merchant/affiliate/plans", response_model=Page[PlanOut], tags=["merchant"])
def list_plans(
    ctx: AffiliateManager,
    db: DbSession,
    params: Params,
    product_id: IdQuery = None,
    kind: PlanKind | None = None,
    status: PlanStatus | None = None,
) -> Page[PlanOut]:
    rows, cursor = service.shop_plans_page(
        db, ctx.shop_id, params, product_id=product_id, kind=kind, status=status
    )
    creators = service.plan_creator_ids_by_plan(db, [p.id for p in rows])
    return Page[PlanOut](
        items=[
            PlanOut.model_validate(p).model_copy(update={"creator_account_ids": creators[p.id]}) for p in rows
        ],
        next_cursor=cursor,
    )


@router.get("/api/merchant/affiliate/plans/{plan_id}", response_model=PlanOut, tags=["merchant"])
def get_plan(plan_id: IdPath, ctx: AffiliateManager, db: DbSession) -> PlanOut:
    return _plan_out(db, service.plan_for_shop(db, ctx.shop_id, plan_id))


@router.post("/api/merchant/affiliate/plans/{plan_id}/end", response_model=PlanOut, tags=["merchant"])
def end_plan(plan_id: IdPath, ctx: AffiliateManager, db: DbSession) -> PlanOut:
    return _plan_out(db, service.end_plan(db, ctx.shop_id, plan_id))


@router.post("/api/merchant/affiliate/plans/{plan_id}/creators", response_model=PlanOut, tags=["merchant"])
def add_plan_creator(plan_id: IdPath, body: PlanCreatorAdd, ctx: AffiliateManager, db: DbSession) -> PlanOut:
    return _plan_out(db, service.add_plan_creator(db, ctx.shop_id, plan_id, body.account_id))


@router.delete(
    "/api/merchant/affiliate/plans/{plan_id}/creators/{account_id}", status_code=204, tags=["merchant"]
)
def remove_plan_creator(plan_id: IdPath, account_id: IdPath, ctx: AffiliateManager, db: DbSession) -> None:
    service.remove_plan_creator(db, ctx.shop_id, plan_id, account_id)


@router.get(
    "/api/merchant/affiliate/applications", response_model=Page[MerchantApplicationOut], tags=["merchant"]
)
def list_shop_applications(
    ctx: AffiliateManager,
    db: DbSession,
    params: Params,
    status: ApplicationStatus | None = None,
    plan_id: IdQuery = None,
) -> Page[MerchantApplicationOut]:
    rows, cursor = service.shop_applications_page(db, ctx.shop_id, params, status=status, plan_id=plan_id)
    return Page[MerchantApplicationOut](items=_merchant_applications(db, rows), next_cursor=cursor)


@router.post(
    "/api/merchant/affiliate/applications/{application_id}/approve",
    response_model=MerchantApplicationOut,
    tags=["merchant"],
)
def approve_application(
    application_id: IdPath, ctx: AffiliateManager, db: DbSession
) -> MerchantApplicationOut:
    application = service.approve_application(db, ctx.shop_id, application_id, ctx.user.id)
    return _merchant_applications(db, [application])[0]


@router.post(
    "/api/merchant/affiliate/applications/{application_id}/reject",
    response_model=MerchantApplicationOut,
    tags=["merchant"],
)
def reject_application(
    application_id: IdPath, ctx: AffiliateManager, db: DbSession
) -> MerchantApplicationOut:
    application = service.reject_application(db, ctx.shop_id, application_id, ctx.user.id)
    return _merchant_applications(db, [application])[0]


# --- creators ------------------------------------------------------------------------------------


@router.get("/api/creator/plaza", response_model=Page[PlazaEntryOut], tags=["creator"])
def plaza(
    ctx: CreatorCtx,
    db: DbSession,
    params: Params,
    kind: PlanKind | None = None,
    product_id: IdQuery = None,
) -> Page[PlazaEntryOut]:
    entries, cursor = service.plaza_page(db, ctx.account_id, params, kind=kind, product_id=product_id)
    return Page[PlazaEntryOut](
        items=[
            PlazaEntryOut(
                plan_id=e.plan.id,
                kind=e.plan.kind,
                commission_bps=e.plan.commission_bps,
                product_id=e.product.id,
                product_title_zh=e.product.title_zh,
                product_title_en=e.product.title_en,
                price_fen=e.product.price_fen,
                estimated_commission_fen=e.estimated_commission_fen,
                shop_id=e.plan.shop_id,
                shop_name_zh=e.shop_name_zh,
                shop_name_en=e.shop_name_en,
                can_promote=e.can_promote,
                application_status=e.application_status,
            )
            for e in entries
        ],
        next_cursor=cursor,
    )


@router.post("/api/creator/applications", status_code=201, response_model=ApplicationOut, tags=["creator"])
def apply(body: ApplicationCreate, ctx: CreatorCtx, db: DbSession) -> ApplicationOut:
    return ApplicationOut.model_validate(
        service.apply_to_plan(db, ctx.account_id, body.plan_id, body.message)
    )


@router.get("/api/creator/applications", response_model=Page[ApplicationOut], tags=["creator"])
def list_my_applications(
    ctx: CreatorCtx, db: DbSession, params: Params, status: ApplicationStatus | None = None
) -> Page[ApplicationOut]:
    rows, cursor = service.creator_applications_page(db, ctx.account_id, params, status=status)
    return Page[ApplicationOut](items=[ApplicationOut.model_validate(a) for a in rows], next_cursor=cursor)


@router.post(
    "/api/creator/applications/{application_id}/withdraw", response_model=ApplicationOut, tags=["creator"]
)
def withdraw(application_id: IdPath, ctx: CreatorCtx, db: DbSession) -> ApplicationOut:
    return ApplicationOut.model_validate(service.withdraw_application(db, ctx.account_id, application_id))


@router.get("/api/creator/commissions", response_model=CommissionsOut, tags=["creator"])
def my_commissions(ctx: CreatorCtx, db: DbSession, params: Params) -> CommissionsOut:
    rows, cursor = service.commission_entries_page(db, ctx.account_id, params)
    earnings = flows.creator_earnings(db, ctx.account_id)
    return CommissionsOut(
        balance_fen=service.commission_balance(db, ctx.account_id),
        pending_fen=earnings.pending_fen,
        settled_fen=earnings.settled_fen,
        reversed_fen=earnings.reversed_fen,
        entries=Page[CommissionEntryOut](
            items=[CommissionEntryOut.model_validate(e) for e in rows], next_cursor=cursor
        ),
    )


# --- matching ------------------------------------------------------------------------------------

MatchLimit = Annotated[int, Query(ge=1, le=matching_service.MAX_LIMIT)]


def _plan_brief(plan: AffiliatePlan, price_fen: int | None) -> RecommendedPlanOut:
    return RecommendedPlanOut(
        plan_id=plan.id,
        kind=plan.kind,
        commission_bps=plan.commission_bps,
        estimated_commission_fen=None if price_fen is None else apply_bps(price_fen, plan.commission_bps),
    )


def _reasons_out(reasons: Sequence[matching_service.ReasonOut]) -> list[MatchReasonOut]:
    return [MatchReasonOut(code=r.code, value=r.value, category_id=r.category_id) for r in reasons]


@router.get("/api/creator/recommendations", response_model=ProductRecommendationsOut, tags=["creator"])
def recommended_products(ctx: CreatorCtx, db: DbSession, limit: MatchLimit = 20) -> ProductRecommendationsOut:
    """Products for me to promote next, best first, each with its reasons and the plan to use."""
    matches = matching_service.recommended_products(db, ctx.account_id, limit)
    return ProductRecommendationsOut(
        items=[
            ProductRecommendationOut(
                product_id=m.product.id,
                product_title_zh=m.product.title_zh,
                product_title_en=m.product.title_en,
                price_fen=m.product.price_fen,
                shop_id=m.product.shop_id,
                score=m.score,
                reasons=_reasons_out(m.reasons),
                plan=_plan_brief(m.plan, m.product.price_fen),
                targeted_plan=_plan_brief(m.targeted_plan, m.product.price_fen) if m.targeted_plan else None,
            )
            for m in matches
        ]
    )


@router.get(
    "/api/merchant/affiliate/products/{product_id}/recommended-creators",
    response_model=CreatorRecommendationsOut,
    tags=["merchant"],
)
def recommended_creators(
    product_id: IdPath, ctx: AffiliateManager, db: DbSession, limit: MatchLimit = 20
) -> CreatorRecommendationsOut:
    """Creators whose audience fits the shop's product, best first, each with its reasons."""
    matches = matching_service.recommended_creators(db, ctx.shop_id, product_id, limit)
    return CreatorRecommendationsOut(
        product_id=product_id,
        items=[
            CreatorRecommendationOut(
                account_id=m.account_id,
                handle=m.handle,
                name=m.name,
                niche=m.niche,
                is_top_kol=m.is_top_kol,
                follower_count=m.follower_count,
                score=m.score,
                reasons=_reasons_out(m.reasons),
                on_plan_ids=m.on_plan_ids,
            )
            for m in matches
        ],
    )
