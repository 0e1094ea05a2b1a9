from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, status

from zhongcao import clock
from zhongcao.deps import CurrentUser, DbSession, MerchantCtx, OperatorUser
from zhongcao.experience import computation, scores, surveys
from zhongcao.experience.schemas import (
    NpsCreate,
    NpsDriverOut,
    NpsOut,
    NpsReportOut,
    NpsStatOut,
    ScoreRunOut,
    ShopScoreOut,
)
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter(tags=["experience"])


@router.post("/api/nps", status_code=status.HTTP_201_CREATED, response_model=NpsOut)
def submit_nps(body: NpsCreate, user: CurrentUser, db: DbSession) -> NpsOut:
    """Answer the NPS survey. Rate limited: one answer per order (after_delivery), per after-sale
    case (after_after_sale), and one general answer per 30 days; more answers get 429."""
    response = surveys.submit_nps(
        db,
        user.id,
        score=body.score,
        trigger=body.trigger,
        reasons=[r.value for r in body.reasons],
        text=body.text,
        order_id=body.order_id,
        after_sale_id=body.after_sale_id,
    )
    return NpsOut.model_validate(response)


@router.get("/api/me/nps", response_model=Page[NpsOut])
def my_nps(user: CurrentUser, db: DbSession, params: PageParams = Depends(page_params)) -> Page[NpsOut]:
    rows, cursor = surveys.list_user_nps(db, user.id, params)
    return Page(items=[NpsOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/api/merchant/experience/score", response_model=ShopScoreOut, tags=["merchant"])
def my_shop_score(ctx: MerchantCtx, db: DbSession) -> ShopScoreOut:
    """The caller's shop's current experience score, every indicator explained, and what to improve
    first. Recomputed nightly (``zhongcao jobs run``) and on demand by operators."""
    row = scores.latest_score(db, ctx.shop_id)
    if row is None:
        return ShopScoreOut(
            shop_id=ctx.shop_id,
            score=None,
            score_centi=None,
            product_centi=None,
            logistics_centi=None,
            service_centi=None,
            order_count=0,
            computed_at=None,
            details={"reason": "not_computed_yet"},
        )
    return ShopScoreOut(
        shop_id=row.shop_id,
        score=None if row.score_centi is None else row.score_centi / 100,
        score_centi=row.score_centi,
        product_centi=row.product_centi,
        logistics_centi=row.logistics_centi,
        service_centi=row.service_centi,
        order_count=row.order_count,
        computed_at=row.computed_at,
        details=row.details,
    )


@router.post("/api/operator/experience/scores/compute", response_model=ScoreRunOut, tags=["operator"])
def compute_scores_now(_: OperatorUser, db: DbSession) -> ScoreRunOut:
    """Recompute every active shop's experience score now (the nightly batch, on demand)."""
    now = clock.now()
    results = computation.compute_scores(db, now)
    return ScoreRunOut(
        computed_at=now, shops=len(results), scored=sum(1 for r in results if r.score_centi is not None)
    )


@router.get("/api/operator/nps", response_model=NpsReportOut, tags=["operator"])
def global_nps(
    _: OperatorUser,
    db: DbSession,
    days: int = Query(90, ge=1, le=730, description="Window: the last N days."),
) -> NpsReportOut:
    """Global NPS with its 95% interval, by reason, category, channel and shop, and the drivers that
    link detractors to what happened to their orders."""
    until = clock.now()
    since = until - timedelta(days=days)
    report = surveys.nps_report(db, since, until)

    def stats(groups: dict) -> dict:
        return {k: NpsStatOut.model_validate(v) for k, v in groups.items()}

    return NpsReportOut(
        since=since,
        until=until,
        overall=NpsStatOut.model_validate(report.overall),
        by_reason=stats(report.by_reason),
        by_category=stats(report.by_category),
        by_channel=stats(report.by_channel),
        by_shop=stats(report.by_shop),
        drivers=[NpsDriverOut.model_validate(d) for d in report.drivers],
    )
