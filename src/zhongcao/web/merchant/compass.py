"""Compass for the shop: trends, funnels, content, audience and search."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.catalog import service as catalog_service
from zhongcao.compass import service as compass_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.web import charts
from zhongcao.web.console import (
    WINDOWS,
    Console,
    DaysQuery,
    MerchantConsole,
    change,
    compass_engine,
    ratio,
    window,
)
from zhongcao.web.templating import money

router = APIRouter(prefix="/merchant")

FUNNEL_ROWS = 1000


def _days(days: int | None) -> int:
    return days if days in WINDOWS else 30


KPI_NAMES = ("gmv_fen", "orders", "buyers", "aov_fen", "conversion", "visitors", "refunded_fen")


def kpis(core: compass_service.CoreData) -> list[dict[str, Any]]:
    """Each KPI against the previous period. No percentage against nothing: where the previous value
    is 0, or the shop's records do not cover the previous period, a value reads "new" (or "—")."""
    covered = core.previous_complete
    out = []
    for name in KPI_NAMES:
        now, before = getattr(core.current, name), getattr(core.previous, name)
        out.append(
            {
                "name": name,
                "value": now,
                "previous": before,
                "change": change(now, before) if covered else None,
                "new": bool(now) and (not before or not covered),
            }
        )
    return out


def trend_chart(console: Console, core: Any, before: Any, metric: str) -> charts.Chart:
    t = console.t
    return charts.trend(
        [row["day"] for row in core.daily],
        [row[metric] for row in core.daily],
        [row[metric] for row in before.daily],
        label=t(f"compass.trend.{metric}"),
        current_name=t("compass.this_period"),
        previous_name=t("compass.previous_period"),
        is_money=metric.endswith("_fen"),
    )


def _split_rows(console: Console, rows: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    total = sum(r["gmv_fen"] for r in rows)
    return [
        {**r, "label": console.t(f"{prefix}.{r['key']}"), "share": ratio(r["gmv_fen"], total)}
        for r in sorted(rows, key=lambda r: -r["gmv_fen"])
    ]


@router.get("/compass")
def compass(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    engine = compass_engine(console)
    core = compass_service.core_data(engine, console.shop_id, span.last, span.days)
    before = compass_service.core_data(engine, console.shop_id, span.previous_last, span.days)
    sources = compass_service.sales_sources(engine, console.shop_id, span.last, span.days)
    channels = _split_rows(console, sources["channel"], "compass.channel")
    carriers = _split_rows(console, sources["carrier"], "compass.carrier")
    t = console.t
    return console.render(
        "merchant/compass.html",
        "compass",
        span=span,
        windows=WINDOWS,
        kpis=kpis(core),
        daily=list(zip(core.daily, before.daily, strict=True)),
        gmv_chart=trend_chart(console, core, before, "gmv_fen"),
        orders_chart=trend_chart(console, core, before, "orders"),
        channels=channels,
        carriers=carriers,
        channel_chart=charts.split(
            [(r["label"], r["gmv_fen"]) for r in channels], label=t("compass.by_channel")
        )
        if channels
        else None,
        carrier_chart=charts.split(
            [(r["label"], r["gmv_fen"]) for r in carriers], label=t("compass.by_carrier")
        )
        if carriers
        else None,
    )


@router.get("/compass/funnels")
def funnels(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    engine = compass_engine(console)
    t = console.t
    content = compass_service.content_report(engine, console.shop_id, span.last, span.days, limit=FUNNEL_ROWS)
    content_stages = [
        (t("compass.stage.impressions"), sum(r["impressions"] for r in content)),
        (t("compass.stage.plays"), sum(r["plays"] for r in content)),
        (t("compass.stage.anchor_clicks"), sum(r["anchor_clicks"] for r in content)),
        (t("compass.stage.orders"), sum(r["orders"] for r in content)),
    ]
    products = compass_service.product_report(
        engine, console.shop_id, span.last, span.days, sort="gmv_fen", limit=FUNNEL_ROWS
    )
    product_stages = [
        (t("compass.stage.exposures"), sum(r["current"]["exposures"] for r in products)),
        (t("compass.stage.clicks"), sum(r["current"]["clicks"] for r in products)),
        (t("compass.stage.add_to_carts"), sum(r["current"]["add_to_carts"] for r in products)),
        (t("compass.stage.orders"), sum(r["current"]["orders"] for r in products)),
    ]
    top = products[:20]
    briefs = catalog_service.product_briefs(console.db, [r["product_id"] for r in top])
    return console.render(
        "merchant/funnels.html",
        "funnels",
        span=span,
        windows=WINDOWS,
        content_stages=content_stages,
        product_stages=product_stages,
        content_chart=charts.funnel(content_stages, label=t("compass.content_funnel"))
        if content_stages[0][1]
        else None,
        product_chart=charts.funnel(product_stages, label=t("compass.product_funnel"), color=charts.BLUE)
        if product_stages[0][1]
        else None,
        products=[(r, briefs.get(r["product_id"])) for r in top],
    )


@router.get("/compass/content")
def compass_content(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    rows = compass_service.content_report(compass_engine(console), console.shop_id, span.last, span.days)
    items = content_service.content_by_ids(console.db, [r["content_id"] for r in rows])
    accounts = content_reads.account_briefs(console.db, {c.account_id for c in items.values()})
    top = [r for r in rows if r["gmv_fen"] > 0][:10]
    t = console.t

    def title(content_id: int) -> str:
        item = items.get(content_id)
        if item is None:
            return f"#{content_id}"
        return (item.title_zh if console.page.locale == "zh" else item.title_en) or item.title_zh

    chart = (
        charts.bars(
            [(title(r["content_id"])[:24], r["gmv_fen"] / 100) for r in top],
            label=t("compass.content_top"),
            horizontal=True,
            value_texts=[money(r["gmv_fen"], console.page.locale) for r in top],
        )
        if top
        else None
    )
    return console.render(
        "merchant/content.html",
        "content",
        span=span,
        windows=WINDOWS,
        rows=[
            (
                r,
                items.get(r["content_id"]),
                accounts.get(items[r["content_id"]].account_id) if r["content_id"] in items else None,
            )
            for r in rows
        ],
        chart=chart,
        shop_id=console.shop_id,
    )


@router.get("/compass/audience")
def audience(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    engine = compass_engine(console)
    people = compass_service.audience(engine, console.shop_id, span.last, span.days)
    creators = compass_service.creator_sales(engine, console.shop_id, span.last, span.days)
    accounts = content_reads.account_briefs(console.db, [r["account_id"] for r in creators])
    t = console.t
    segments = [(t(f"compass.segment.{k}"), v) for k, v in people["segments"].items()]
    return console.render(
        "merchant/audience.html",
        "audience",
        span=span,
        windows=WINDOWS,
        people=people,
        segments=people["segments"],
        new_chart=charts.split(
            [
                (t("compass.new_buyers"), people["new_buyers"]),
                (t("compass.returning_buyers"), people["returning_buyers"]),
            ],
            label=t("compass.new_vs_returning"),
            is_money=False,
        )
        if people["buyers"]
        else None,
        segment_chart=charts.bars(segments, label=t("compass.segments"), color=charts.BLUE)
        if people["buyers"]
        else None,
        creators=[(r, accounts.get(r["account_id"])) for r in creators],
    )


@router.get("/compass/search")
def search(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(_days(days))
    report = compass_service.search_report(compass_engine(console), console.shop_id, span.last, span.days)
    categories = catalog_service.categories_by_id(console.db, {r["category_id"] for r in report["missed"]})
    return console.render(
        "merchant/search.html",
        "search",
        span=span,
        windows=WINDOWS,
        queries=report["queries"],
        missed=[(r, categories.get(r["category_id"])) for r in report["missed"]],
        missed_below=compass_service.MISSED_BELOW_PERCENT,
    )


# --- the experience score ------------------------------------------------------------------------
