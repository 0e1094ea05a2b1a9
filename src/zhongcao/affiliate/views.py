"""Affiliate plans (merchants), the plaza and applications (creators), creators' commissions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from zhongcao import creator_flows
from zhongcao.affiliate import matching_service, service
from zhongcao.affiliate import plaza as plaza_service
from zhongcao.affiliate import showcase as showcase_service
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
    ApplicationDecision,
    ApplicationOut,
    CommissionEntryOut,
    CommissionsOut,
    CreatorRecommendationOut,
    CreatorRecommendationsOut,
    CreatorStatementOut,
    MatchReasonOut,
    MerchantApplicationOut,
    PlanCreate,
    PlanCreatorAdd,
    PlanOut,
    PlazaEntryOut,
    ProductRecommendationOut,
    ProductRecommendationsOut,
    PublicShowcaseItemOut,
    PublicShowcaseOut,
    RecommendedPlanOut,
    ShowcaseAdd,
    ShowcaseItemOut,
    ShowcaseMove,
    ShowcaseOut,
    StatementLineOut,
)
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.deps import CreatorCtx, DbSession, MerchantContext, MerchantCtx, merchant_with
from zhongcao.fields import IdPath, IdQuery
from zhongcao.money import apply_bps
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.search import service as search_service
from zhongcao.shops.models import StaffRole

router = APIRouter()

# Commission terms are commercial decisions: shop owners and operators change them; every shop role
# (service agents too) may read the plans and applications.
AffiliateManager = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]
Params = Annotated[PageParams, Depends(page_params)]


def _plan_out(db: DbSession, plan: AffiliatePlan) -> PlanOut:
    creators = service.plan_creator_ids(db, plan.id)
    return PlanOut.model_validate(plan).model_copy(update={"creator_account_ids": creators})


def _merchant_applications(db: DbSession, rows: Sequence[CreatorApplication]) -> list[MerchantApplicationOut]:
    plans = service.plans_by_ids(db, [a.plan_id for a in rows])
    accounts = content_service.accounts_by_ids(db, [a.account_id for a in rows])
    followers = content_reads.shown_follower_counts(db, accounts)
    return [
        MerchantApplicationOut(
            **ApplicationOut.model_validate(a).model_dump(),
            product_id=plans[a.plan_id].product_id,
            applicant=ApplicantOut.of(accounts[a.account_id], followers),
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
    ctx: MerchantCtx,
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
def get_plan(plan_id: IdPath, ctx: MerchantCtx, db: DbSession) -> PlanOut:
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
    ctx: MerchantCtx,
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
    application_id: IdPath, ctx: AffiliateManager, db: DbSession, body: ApplicationDecision | None = None
) -> MerchantApplicationOut:
    note = body.note if body is not None else ""
    application = service.approve_application(db, ctx.shop_id, application_id, ctx.user.id, note)
    return _merchant_applications(db, [application])[0]


@router.post(
    "/api/merchant/affiliate/applications/{application_id}/reject",
    response_model=MerchantApplicationOut,
    tags=["merchant"],
)
def reject_application(
    application_id: IdPath, ctx: AffiliateManager, db: DbSession, body: ApplicationDecision | None = None
) -> MerchantApplicationOut:
    note = body.note if body is not None else ""
    application = service.reject_application(db, ctx.shop_id, application_id, ctx.user.id, note)
    return _merchant_applications(db, [application])[0]


# --- creators ------------------------------------------------------------------------------------


PlazaSort = Literal[
    "relevance",
    "newest",
    "commission_rate",
    "commission_per_sale",
    "sales",
    "price_asc",
    "price_desc",
    "shop_score",
]


@router.get("/api/creator/plaza", response_model=Page[PlazaEntryOut], tags=["creator"])
def plaza(
    request: Request,
    ctx: CreatorCtx,
    db: DbSession,
    params: Params,
    kind: PlanKind | None = None,
    product_id: IdQuery = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Product search text: Chinese, pinyin, initials")
    ] = None,
    category_id: IdQuery = None,
    min_commission_bps: Annotated[int | None, Query(ge=1, le=9000)] = None,
    max_commission_bps: Annotated[int | None, Query(ge=1, le=9000)] = None,
    min_price_fen: Annotated[int | None, Query(ge=0, le=10**12)] = None,
    max_price_fen: Annotated[int | None, Query(ge=0, le=10**12)] = None,
    min_shop_score_centi: Annotated[int | None, Query(ge=0, le=500)] = None,
    min_sales: Annotated[int | None, Query(ge=0, le=10**12)] = None,
    sort: Annotated[
        PlazaSort | None, Query(description="Default: relevance with q, else newest plan first")
    ] = None,
) -> Page[PlazaEntryOut]:
    query = plaza_service.PlazaQuery(
        q=q or "",
        kind=kind,
        product_id=product_id,
        category_id=category_id,
        min_commission_bps=min_commission_bps,
        max_commission_bps=max_commission_bps,
        min_price_fen=min_price_fen,
        max_price_fen=max_price_fen,
        min_shop_score_centi=min_shop_score_centi,
        min_sales=min_sales,
        sort=sort,
    )
    state = search_service.state_for(request.app) if query.q.strip() else None
    result = plaza_service.search(db, state, ctx.account_id, query, params)
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
                category_id=e.category_id,
                sales=e.sales,
                shop_score_centi=e.shop_score_centi,
                in_showcase=e.in_showcase,
            )
            for e in result.rows
        ],
        next_cursor=result.next_cursor,
    )


# --- the showcase ----------------------------------------------------------------------------------


def _showcase_out(db: DbSession, account_id: int) -> ShowcaseOut:
    return ShowcaseOut(
        items=[
            ShowcaseItemOut(
                position=e.position,
                product_id=e.product_id,
                product_title_zh=e.product.title_zh if e.product else "",
                product_title_en=e.product.title_en if e.product else "",
                price_fen=e.product.price_fen if e.product else None,
                added_at=e.added_at,
                available=e.available,
                unavailable_reason=e.reason,
                commission_bps=e.commission_bps,
                estimated_commission_fen=e.estimated_commission_fen,
            )
            for e in showcase_service.entries(db, account_id)
        ]
    )


@router.get("/api/creator/showcase", response_model=ShowcaseOut, tags=["creator"])
def my_showcase(ctx: CreatorCtx, db: DbSession) -> ShowcaseOut:
    return _showcase_out(db, ctx.account_id)


@router.post("/api/creator/showcase", status_code=201, response_model=ShowcaseOut, tags=["creator"])
def add_to_showcase(body: ShowcaseAdd, ctx: CreatorCtx, db: DbSession) -> ShowcaseOut:
    showcase_service.add(db, ctx.account_id, body.product_id)
    return _showcase_out(db, ctx.account_id)


@router.post("/api/creator/showcase/{product_id}/move", response_model=ShowcaseOut, tags=["creator"])
def move_in_showcase(product_id: IdPath, body: ShowcaseMove, ctx: CreatorCtx, db: DbSession) -> ShowcaseOut:
    showcase_service.move(db, ctx.account_id, product_id, body.position)
    return _showcase_out(db, ctx.account_id)


@router.delete("/api/creator/showcase/{product_id}", status_code=204, tags=["creator"])
def remove_from_showcase(product_id: IdPath, ctx: CreatorCtx, db: DbSession) -> None:
    showcase_service.remove(db, ctx.account_id, product_id)


@router.get("/api/accounts/{account_id}/showcase", response_model=PublicShowcaseOut, tags=["content"])
def public_showcase(account_id: IdPath, db: DbSession) -> PublicShowcaseOut:
    """What shoppers see of a creator's showcase: the products on sale that the creator may promote
    now, in the creator's order. Buying from it: ``attribution = {"channel": "showcase", "account_id"}``."""
    content_service.get_account(db, account_id)
    ids = showcase_service.showcase_product_ids(db, account_id)
    briefs = catalog_service.product_briefs(db, ids)
    return PublicShowcaseOut(
        account_id=account_id,
        items=[
            PublicShowcaseItemOut(
                product_id=pid, title_zh=b.title_zh, title_en=b.title_en, price_fen=b.price_fen
            )
            for pid in ids
            if (b := briefs.get(pid)) is not None
        ],
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
    earnings = creator_flows.creator_earnings(db, ctx.account_id)
    return CommissionsOut(
        balance_fen=service.commission_balance(db, ctx.account_id),
        pending_fen=earnings.pending_fen,
        settled_fen=earnings.settled_fen,
        reversed_fen=earnings.reversed_fen,
        entries=Page[CommissionEntryOut](
            items=[CommissionEntryOut.model_validate(e) for e in rows], next_cursor=cursor
        ),
    )


# --- the creator's commission statement (issue #16, item 5) ---------------------------------------

StatementFrom = Annotated[
    date | None, Query(alias="from", description="First day (UTC); default: the 1st of the month")
]
StatementTo = Annotated[
    date | None, Query(alias="to", description="Last day (UTC), inclusive; default: today")
]


@router.get("/api/creator/statement", response_model=CreatorStatementOut, tags=["creator"])
def my_statement(
    ctx: CreatorCtx, db: DbSession, start: StatementFrom = None, end: StatementTo = None
) -> CreatorStatementOut:
    """Every commission entry posted in the period with its state (pending, settled, reversed), the
    order, product and content it came from, and the period's totals by state."""
    statement = creator_flows.creator_statement(db, ctx.account_id, start, end)
    return CreatorStatementOut(
        start=statement.start,
        end=statement.end,
        pending_fen=statement.pending_fen,
        settled_fen=statement.settled_fen,
        reversed_fen=statement.reversed_fen,
        net_fen=statement.net_fen,
        lines=[StatementLineOut.model_validate(line) for line in statement.lines],
    )


def statement_csv_response(
    statement: creator_flows.CreatorStatement, account_id: int, locale: str
) -> Response:
    name = f"commission-statement-{account_id}-{statement.start.isoformat()}-{statement.end.isoformat()}.csv"
    return Response(
        content=creator_flows.creator_statement_csv(statement, locale),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
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
    "/api/creator/statement.csv",
    response_class=Response,
    tags=["creator"],
    responses={200: {"content": {"text/csv": {}}, "description": "The statement's entries as CSV"}},
)
def my_statement_csv(
    ctx: CreatorCtx,
    db: DbSession,
    start: StatementFrom = None,
    end: StatementTo = None,
    lang: Annotated[Literal["zh", "en"], Query(description="The titles' language")] = "zh",
) -> Response:
    """One line per entry: date, order, product, content, kind, state, amount in yuan (2 decimals) and
    in fen; then a ``total`` line of the net."""
    return statement_csv_response(
        creator_flows.creator_statement(db, ctx.account_id, start, end), ctx.account_id, lang
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
