from __future__ import annotations

from datetime import UTC, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request

from zhongcao import clock, creator_flows
from zhongcao.catalog import service as catalog_service
from zhongcao.compass import queries, service
from zhongcao.compass.schemas import (
    AudienceOut,
    ContentOut,
    ContentRow,
    CoreDataOut,
    CreatorDataOut,
    CreatorDataRowOut,
    CreatorRow,
    CreatorsOut,
    DayRow,
    FieldDay,
    IndicatorPoint,
    MissedQueryRow,
    NpsPoint,
    OperatorOut,
    ProductRow,
    ProductsOut,
    QueryRow,
    SearchInsightsOut,
    ServiceOut,
    SourceRow,
    SourcesOut,
    Totals,
)
from zhongcao.deps import CreatorCtx, DbSession, MerchantCtx, OperatorUser
from zhongcao.errors import InvalidInput
from zhongcao.experience import scores as experience_scores
from zhongcao.experience import surveys as nps_surveys

router = APIRouter(tags=["merchant"])
Days = Query(30, ge=1, le=365, description="The last N days (UTC), today included.")
Limit = Query(50, ge=1, le=200, description="At most this many rows (per list).")


def _totals(t: service.PeriodTotals) -> Totals:
    return Totals(
        gmv_fen=t.gmv_fen,
        orders=t.orders,
        buyers=t.buyers,
        refunded_fen=t.refunded_fen,
        visitors=t.visitors,
        aov_fen=t.aov_fen,
        conversion=t.conversion,
    )


@router.get("/api/merchant/compass/core", response_model=CoreDataOut)
def core_data(request: Request, ctx: MerchantCtx, db: DbSession, days: int = Days) -> CoreDataOut:
    """GMV, orders, buyers, AOV, refunds and conversion for the caller's shop, by day, against the
    previous period. From the analytics snapshot (refreshed in the background once older than
    ``ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES``)."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    data = service.core_data(engine, ctx.shop_id, clock.now().astimezone(UTC).date(), days)
    return CoreDataOut(
        first_day=data.first_day,
        last_day=data.last_day,
        current=_totals(data.current),
        previous=_totals(data.previous),
        change={
            name: data.change(name) for name in ("gmv_fen", "orders", "buyers", "refunded_fen", "visitors")
        },
        daily=[DayRow(**row) for row in data.daily],
    )


@router.get("/api/merchant/compass/sources", response_model=SourcesOut)
def sales_sources(request: Request, ctx: MerchantCtx, db: DbSession, days: int = Days) -> SourcesOut:
    """Where the caller's shop's sales came from: by channel and by FACT carrier."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    today = clock.now().astimezone(UTC).date()
    sources = service.sales_sources(engine, ctx.shop_id, today, days)
    return SourcesOut(
        first_day=today - timedelta(days=days - 1),
        last_day=today,
        by_channel=[SourceRow(**r) for r in sources["channel"]],
        by_carrier=[SourceRow(**r) for r in sources["carrier"]],
    )


def _window(days: int) -> tuple:
    today = clock.now().astimezone(UTC).date()
    return today - timedelta(days=days - 1), today


@router.get("/api/merchant/compass/creators", response_model=CreatorsOut)
def creators(request: Request, ctx: MerchantCtx, db: DbSession, days: int = Days) -> CreatorsOut:
    """GMV, orders and commission per affiliated creator who sold the caller's products."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    first, today = _window(days)
    rows = service.creator_sales(engine, ctx.shop_id, today, days)
    return CreatorsOut(first_day=first, last_day=today, creators=[CreatorRow(**r) for r in rows])


@router.get("/api/merchant/compass/audience", response_model=AudienceOut)
def audience(request: Request, ctx: MerchantCtx, db: DbSession, days: int = Days) -> AudienceOut:
    """New vs returning buyers, repurchase rate and RFM segments of the caller's shop."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    first, today = _window(days)
    return AudienceOut(first_day=first, last_day=today, **service.audience(engine, ctx.shop_id, today, days))


@router.get("/api/merchant/compass/service", response_model=ServiceOut)
def service_and_logistics(ctx: MerchantCtx, db: DbSession, days: int = Days) -> ServiceOut:
    """The experience indicators (logistics, service, product) of the caller's shop over time, one
    point per nightly computation."""
    since = clock.now() - timedelta(days=days)
    points = []
    for row in experience_scores.score_history(db, ctx.shop_id, since):
        values = {i["key"]: i["value"] for i in row.details.get("indicators", [])}
        points.append(IndicatorPoint(computed_at=row.computed_at, score_centi=row.score_centi, values=values))
    return ServiceOut(points=points)


@router.get("/api/operator/compass", response_model=OperatorOut, tags=["operator"])
def operator_view(
    request: Request, _: OperatorUser, db: DbSession, days: int = Query(90, ge=7, le=730)
) -> OperatorOut:
    """The whole platform: the global NPS week by week, GMV split between the content field and the
    center field by day, and how shops' experience scores are distributed."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    first, today = _window(days)
    by_day: dict[str, dict[str, int]] = {}
    for r in engine.rows(queries.gmv_by_field(first, today)):
        by_day.setdefault(r["day"], {"content": 0, "center": 0, "other": 0})[r["field"]] = int(
            r["gmv_fen"] or 0
        )
    fields = [
        FieldDay(day=day, content_fen=v["content"], center_fen=v["center"], other_fen=v["other"])
        for day, v in sorted(by_day.items())
    ]
    total = sum(f.content_fen + f.center_fen + f.other_fen for f in fields)
    until = clock.now()
    return OperatorOut(
        first_day=first,
        last_day=today,
        nps_weekly=[NpsPoint(**p) for p in nps_surveys.nps_trend(db, until - timedelta(days=days), until)],
        gmv_by_field=fields,
        content_share=round(sum(f.content_fen for f in fields) / total, 4) if total else None,
        score_distribution=experience_scores.score_distribution(db),
    )


@router.get("/api/merchant/compass/content", response_model=ContentOut)
def content(request: Request, ctx: MerchantCtx, db: DbSession, days: int = Days) -> ContentOut:
    """Per video and live session that showed or sold the caller's products: impressions → plays →
    anchor clicks → orders, GMV, GPM and watch time (the 50 busiest)."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    first, today = _window(days)
    rows = service.content_report(engine, ctx.shop_id, today, days)
    return ContentOut(first_day=first, last_day=today, content=[ContentRow(**r) for r in rows])


@router.get("/api/merchant/compass/products", response_model=ProductsOut)
def products(
    request: Request,
    ctx: MerchantCtx,
    db: DbSession,
    days: int = Days,
    sort: Literal["gmv_fen", "orders", "exposures", "clicks", "refunds", "reviews"] = Query(
        "gmv_fen", description="Busiest first by this count of the period."
    ),
    limit: int = Limit,
) -> ProductsOut:
    """Per product of the caller's shop: exposures (search result slots, content impressions) →
    clicks → add-to-carts → orders, refunds and reviews, against the previous period."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    first, today = _window(days)
    rows = service.product_report(engine, ctx.shop_id, today, days, sort=sort, limit=limit)
    briefs = catalog_service.product_briefs(db, [r["product_id"] for r in rows])
    out = []
    for r in rows:
        brief = briefs.get(r["product_id"])
        # The snapshot says whose product it is; the brief only adds its title (and must agree).
        if brief is not None and brief.shop_id == ctx.shop_id:
            r = {**r, "title_zh": brief.title_zh, "title_en": brief.title_en, "on_sale": brief.on_sale}
        out.append(ProductRow(**r))
    return ProductsOut(first_day=first, last_day=today, products=out)


@router.get("/api/merchant/compass/search", response_model=SearchInsightsOut)
def search_insights(
    request: Request, ctx: MerchantCtx, db: DbSession, days: int = Days, limit: int = Limit
) -> SearchInsightsOut:
    """Search insights for the caller's shop: the queries that showed, brought clicks to or sold its
    products; and the demand it could serve but does not win (queries in a category it sells in, of
    whose clicks it got less than a tenth)."""
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    report = service.search_report(engine, ctx.shop_id, clock.now().astimezone(UTC).date(), days, limit)
    categories = catalog_service.categories_by_id(db, {r["category_id"] for r in report["missed"]})
    missed = []
    for r in report["missed"]:
        category = categories.get(r["category_id"])
        names = {"category_zh": category.name_zh, "category_en": category.name_en} if category else {}
        missed.append(MissedQueryRow(**r, **names))
    return SearchInsightsOut(
        first_day=report["first_day"],
        last_day=report["last_day"],
        queries=[QueryRow(**r) for r in report["queries"]],
        missed=missed,
        missed_below_share=service.MISSED_BELOW_PERCENT / 100,
    )


# --- a creator's own data (issue #16, item 1b) ------------------------------------------------------


CREATOR_WINDOWS = (7, 30, 90)  # the windows the creator's pages offer


@router.get("/api/creator/data", response_model=CreatorDataOut, tags=["creator"])
def creator_data(
    request: Request,
    ctx: CreatorCtx,
    db: DbSession,
    days: int = Query(30, ge=1, le=365, description="7, 30 or 90: the last N days (UTC), today included."),
) -> CreatorDataOut:
    """Per content item (impressions, plays, orders, GMV, commission) and per product (orders, GMV,
    commission) of the caller's own sales over the last 7, 30 or 90 days (UTC, today included), best
    sellers first. From the analytics snapshot, as the creator's pages read it."""
    if days not in CREATOR_WINDOWS:
        raise InvalidInput("the window is 7, 30 or 90 days", code="invalid_days", field="days")
    engine = service.current_engine(request.app.state.database, request.app.state.settings)
    last = clock.now().astimezone(UTC).date()
    data = creator_flows.creator_data(engine, db, ctx.account_id, last - timedelta(days=days - 1), last)
    return CreatorDataOut(
        first_day=data.first,
        last_day=data.last,
        orders=data.orders,
        gmv_fen=data.gmv_fen,
        commission_fen=data.commission_fen,
        content=[CreatorDataRowOut.model_validate(r, from_attributes=True) for r in data.content],
        products=[CreatorDataRowOut.model_validate(r, from_attributes=True) for r in data.products],
    )
