"""The operator console: the global NPS with its drivers, GMV by field (content vs center), how shops'
experience scores are distributed, and campaigns (list, create, change budget, extend, cancel).

Campaign registrations need no operator decision: a shop's product registers itself through the
campaign's category and score gates (``campaigns.service.register_product``), so there is nothing
to approve here; an operator shapes a campaign through those gates, its budget and its window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from zhongcao import clock
from zhongcao.campaigns import service as campaigns_service
from zhongcao.campaigns.models import CampaignStatus
from zhongcao.campaigns.schemas import CampaignCreate
from zhongcao.catalog import service as catalog_service
from zhongcao.compass import service as compass_service
from zhongcao.errors import DomainError
from zhongcao.experience import scores as experience_scores
from zhongcao.experience import surveys as experience_surveys
from zhongcao.experience.nps import MIN_GROUP
from zhongcao.flashsales import service as flashsales_service
from zhongcao.jobs import status as jobs_status
from zhongcao.shops import service as shops_service
from zhongcao.web import charts, i18n
from zhongcao.web.console import (
    Console,
    CursorQuery,
    IdPath,
    OperatorConsole,
    compass_engine,
    memo,
    page_of,
    window,
    yuan_to_fen,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.templating import DISPLAY_TZ, format_number

router = APIRouter(prefix="/operator")

NPS_WINDOWS = (30, 90, 365)
GMV_WINDOWS = (7, 30, 90)
WORST_SHOPS = 10


def _nps_days(days: int | None) -> int:
    return days if days in NPS_WINDOWS else 90


# --- NPS -------------------------------------------------------------------------------------------


@router.get("")
def nps(console: OperatorConsole, days: Annotated[int, Query(ge=1, le=730)] = 90) -> Response:
    db, t = console.db, console.t
    days = _nps_days(days)
    until = clock.now()
    since = until - timedelta(days=days)
    report, weekly = memo(
        console,
        ("nps", days),
        lambda: (
            experience_surveys.nps_report(db, since, until),
            experience_surveys.nps_trend(db, since, until),
        ),
    )
    categories = catalog_service.categories_by_id(db, [k for k in report.by_category if k is not None])
    worst = sorted(
        ((shop_id, stat) for shop_id, stat in report.by_shop.items() if stat.responses >= MIN_GROUP),
        key=lambda pair: (pair[1].nps if pair[1].nps is not None else 0.0, -pair[1].responses),
    )[:WORST_SHOPS]
    shops = shops_service.shops_by_ids(db, [shop_id for shop_id, _ in worst])
    drivers = [d for d in report.drivers if d.share > 0]
    explaining = [d for d in drivers if d.explained_detractors > 0]
    trend_chart = (
        charts.band_line(
            [p["starts_at"].astimezone(DISPLAY_TZ).date().isoformat() for p in weekly],
            [p["nps"] for p in weekly],
            [p["ci_low"] if p["ci_low"] is not None else p["nps"] for p in weekly],
            [p["ci_high"] if p["ci_high"] is not None else p["nps"] for p in weekly],
            label=t("operator.nps.trend"),
            name=t("operator.nps.nps"),
            band_name=t("operator.nps.interval"),
            y_range=(-100, 100),  # NPS runs from -100 to 100: a week's swing reads at its true size
        )
        if any(p["responses"] for p in weekly)
        else None
    )
    driver_chart = (
        charts.bars(
            [(t(f"operator.driver.{d.key}"), d.explained_detractors) for d in explaining],
            label=t("operator.nps.drivers"),
            horizontal=True,
            value_texts=[format_number(d.explained_detractors, console.page.locale, 1) for d in explaining],
        )
        if explaining
        else None
    )
    return console.render(
        "operator/nps.html",
        "home",
        days=days,
        windows=NPS_WINDOWS,
        since=since,
        until=until,
        report=report,
        drivers=drivers,
        trend_chart=trend_chart,
        driver_chart=driver_chart,
        by_reason=sorted(report.by_reason.items(), key=lambda kv: -kv[1].responses),
        by_channel=sorted(report.by_channel.items(), key=lambda kv: -kv[1].responses),
        by_category=sorted(
            ((categories.get(k), v) for k, v in report.by_category.items() if k is not None),
            key=lambda kv: -kv[1].responses,
        ),
        worst=[(shops.get(shop_id), shop_id, stat) for shop_id, stat in worst],
        min_group=MIN_GROUP,
    )


# --- GMV by field ----------------------------------------------------------------------------------


@router.get("/gmv")
def gmv(console: OperatorConsole, days: Annotated[int, Query(ge=1, le=365)] = 30) -> Response:
    span = window(days if days in GMV_WINDOWS else 30)
    rows = compass_service.gmv_by_field(compass_engine(console), span.first, span.last)
    by_day: dict[str, dict[str, int]] = {
        (span.first + timedelta(days=i)).isoformat(): {"content": 0, "center": 0, "other": 0}
        for i in range(span.days)
    }
    orders = {"content": 0, "center": 0, "other": 0}
    for r in rows:
        if r["day"] in by_day:
            by_day[r["day"]][r["field"]] = int(r["gmv_fen"] or 0)
            orders[r["field"]] += int(r["orders"] or 0)
    fields = ("content", "center", "other")
    totals = {f: sum(v[f] for v in by_day.values()) for f in fields}
    total = sum(totals.values())
    t = console.t
    chart = (
        charts.money_series(
            list(by_day),
            [(t(f"operator.field.{f}"), [v[f] for v in by_day.values()]) for f in fields],
            label=t("operator.gmv.chart"),
        )
        if total
        else None
    )
    return console.render(
        "operator/gmv.html",
        "gmv",
        span=span,
        windows=GMV_WINDOWS,
        days=list(by_day.items()),
        fields=fields,
        totals=totals,
        orders=orders,
        total=total,
        chart=chart,
        share_chart=charts.split(
            [(t(f"operator.field.{f}"), totals[f]) for f in fields], label=t("operator.gmv.share")
        )
        if total
        else None,
    )


# --- experience scores -----------------------------------------------------------------------------


@router.get("/scores")
def scores(console: OperatorConsole) -> Response:
    t = console.t
    bands = dict(
        memo(console, ("score_distribution",), lambda: experience_scores.score_distribution(console.db))
    )
    unscored = bands.pop("not scored", 0)
    scored = sum(bands.values())
    colors = []
    for band in bands:
        low = float(band.split("–")[0])
        colors.append(charts.GREEN if low >= 4.5 else charts.AMBER if low >= 4.0 else charts.BRAND)
    chart = (
        charts.bars(
            list(bands.items()),
            label=t("operator.scores.chart"),
            colors=colors,
        )
        if scored
        else None
    )
    return console.render(
        "operator/scores.html",
        "scores",
        bands=bands,
        scored=scored,
        unscored=unscored,
        chart=chart,
        campaign_gate=console.page.request.app.state.settings.campaign_min_shop_score_centi,
        plaza_gate=console.page.request.app.state.settings.plaza_min_shop_score_centi,
    )


# --- background jobs -------------------------------------------------------------------------------


@router.get("/jobs")
def jobs(console: OperatorConsole) -> Response:
    """Every background job with its last run: what ``GET /api/operator/jobs`` answers, as a table."""
    rows = jobs_status.statuses(console.db)
    failing = sum(1 for row in rows if row.status == "failed")
    # What each job does, in the page's language (the registry's description is the code's English).
    about = {
        row.name: console.t(f"operator.jobs.about.{row.name}")
        if i18n.has_message(f"operator.jobs.about.{row.name}")
        else row.description
        for row in rows
    }
    return console.render(
        "operator/jobs.html", "jobs", rows=rows, about=about, failing=failing, tz=DISPLAY_TZ
    )


# --- campaigns -------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("slug", "name_zh", "name_en", "starts_at", "ends_at", "min_score", "subsidy", "budget")


def campaign_state(campaign: Any, now: datetime) -> str:
    if campaign.status is CampaignStatus.cancelled:
        return "cancelled"
    starts, ends = _aware(campaign.starts_at), _aware(campaign.ends_at)
    if now < starts:
        return "upcoming"
    return "running" if now < ends else "ended"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _local_input(value: datetime) -> str:
    """A datetime as a ``datetime-local`` box shows it (China time, to the minute)."""
    return _aware(value).astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M")


def _parse_local(form: Form, name: str, *, required: bool) -> datetime | None:
    raw = form.text(name, required=required, max_length=20)
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M").replace(tzinfo=DISPLAY_TZ)
    except ValueError:
        form.error(name, form.t("operator.campaign.bad_time"))
        return None


CAMPAIGN_STATUSES = [s.value for s in CampaignStatus]


def _render_campaigns(
    console: Console, cursor: str | None, form: Form | None, status_code: int = 200, status: str = ""
) -> Response:
    db = console.db
    wanted = CampaignStatus(status) if status in CAMPAIGN_STATUSES else None
    rows, next_cursor = page_of(lambda p: campaigns_service.list_campaigns(db, p, status=wanted), cursor)
    now = clock.now()
    if form is None:
        midnight = now.astimezone(DISPLAY_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight + timedelta(days=1)
        typed: dict[str, Any] = {
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "subsidy": "0",
            "budget": "0",
            "categories": [],
        }
    else:
        typed = form.values
    return console.render(
        "operator/campaigns.html",
        "campaigns",
        status_code=status_code,
        campaigns=[(c, campaign_state(c, now)) for c in rows],
        next_cursor=next_cursor,
        tree=catalog_service.category_tree(db),
        form=form,
        typed=typed,
        status=wanted.value if wanted else "",
        statuses=CAMPAIGN_STATUSES,
    )


@router.get("/campaigns")
def campaigns(
    console: OperatorConsole,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    return _render_campaigns(console, cursor, None, status=status or "")


def _fen_or_error(form: Form, name: str) -> int:
    value = yuan_to_fen(form, name)
    return 0 if value is None else value


@router.post("/campaigns")
def create_campaign(console: OperatorConsole, data: FormData) -> Response:
    form = Form(data, console.t)
    limits = {"slug": 64, "name_zh": 80, "name_en": 120}
    values = {name: form.text(name, required=True, max_length=n) for name, n in limits.items()}
    starts_at = _parse_local(form, "starts_at", required=True)
    ends_at = _parse_local(form, "ends_at", required=True)
    top_ids = {str(top.id) for top, _ in catalog_service.category_tree(console.db)}
    picked = form.choices("categories", top_ids)
    if not picked:
        form.error("categories", console.t("operator.campaign.pick_category"))
    gate_raw = form.text("min_score", max_length=5)
    gate = None
    if gate_raw:
        try:
            gate = round(float(gate_raw) * 100)  # a score typed as 4.2 is 420 hundredths
        except ValueError:
            form.error("min_score", console.t("operator.campaign.bad_gate"))
        else:
            if not campaigns_service.MIN_GATE_SCORE_CENTI <= gate <= campaigns_service.MAX_GATE_SCORE_CENTI:
                form.error("min_score", console.t("operator.campaign.bad_gate"))
    subsidy = _fen_or_error(form, "subsidy")
    budget = _fen_or_error(form, "budget")
    body = None
    if form.ok:
        try:
            body = CampaignCreate(
                slug=values["slug"],
                name_zh=values["name_zh"],
                name_en=values["name_en"],
                starts_at=starts_at,
                ends_at=ends_at,
                category_ids=[int(i) for i in picked],
                min_shop_score_centi=gate,
                subsidy_per_item_fen=subsidy,
                budget_fen=budget,
            )
        except ValidationError as exc:
            names = {
                "subsidy_per_item_fen": "subsidy",
                "budget_fen": "budget",
                "min_shop_score_centi": "min_score",
            }
            for err in exc.errors():
                field = str(err["loc"][0]) if err.get("loc") else ""
                name = names.get(field, field)
                form.error(
                    name,
                    console.t(
                        "operator.campaign.bad_slug" if name == "slug" else "operator.campaign.bad_value"
                    ),
                )
    if not form.ok or body is None:
        return _render_campaigns(console, None, form, status_code=422)
    try:
        campaign = campaigns_service.create_campaign(console.db, **body.model_dump())
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(
            exc,
            {
                "category_ids": "categories",
                "min_shop_score_centi": "min_score",
                "subsidy_per_item_fen": "subsidy",
                "budget_fen": "budget",
            },
        )
        return _render_campaigns(console, None, form, status_code=exc.status_code)
    return console.redirect(f"/operator/campaigns/{campaign.id}", flash="operator.campaign.created")


def render_campaign(
    console: Console,
    campaign_id: int,
    form: Form | None,
    status_code: int = 200,
    *,
    flash_form: Form | None = None,
) -> Response:
    """The campaign's page; ``form``: the change form as typed, ``flash_form``: the new flash sale's."""
    campaign = campaigns_service.get_campaign(console.db, campaign_id)
    settings = console.page.request.app.state.settings
    sales = flashsales_service.list_sales(console.db, campaign_id=campaign.id)
    return console.render(
        "operator/campaign.html",
        "campaigns",
        status_code=status_code,
        campaign=campaign,
        state=campaign_state(campaign, clock.now()),
        categories=campaigns_service.campaign_categories(console.db, campaign.id),
        budget_left=campaigns_service.budget_left_fen(campaign),
        form=form,
        typed=form.values if form is not None else {"ends_at": _local_input(campaign.ends_at)},
        flash_sales=sales,
        flash_states={s.id: flashsales_service.sale_state(console.db, s, settings) for s in sales},
        flash_form=flash_form,
        flash_typed=flash_form.values
        if flash_form is not None
        else {"per_buyer_limit": "1", "payment_window_minutes": "15"},
    )


@router.get("/campaigns/{campaign_id}")
def campaign(console: OperatorConsole, campaign_id: IdPath) -> Response:
    return render_campaign(console, campaign_id, None)


@router.post("/campaigns/{campaign_id}")
def update_campaign(console: OperatorConsole, campaign_id: IdPath, data: FormData) -> Response:
    """Raise or lower the budget (never below what is spent), extend the window, or cancel."""
    form = Form(data, console.t)
    cancel = form.text("action") == "cancel"
    budget = None if cancel else yuan_to_fen(form, "budget")
    ends_at = None if cancel else _parse_local(form, "ends_at", required=False)
    if not cancel and form.ok and budget is None and ends_at is None:
        form.message = console.t("operator.campaign.nothing")
    if not form.ok:
        return render_campaign(console, campaign_id, form, status_code=422)
    campaign = campaigns_service.get_campaign(console.db, campaign_id)
    if ends_at is not None and ends_at == _aware(campaign.ends_at).replace(second=0, microsecond=0):
        ends_at = None  # the box still shows the current end: not a change
        if budget is None:
            form.message = console.t("operator.campaign.nothing")
            return render_campaign(console, campaign_id, form, status_code=422)
    try:
        campaigns_service.update_campaign(
            console.db, campaign_id, budget_fen=budget, ends_at=ends_at, cancel=cancel
        )
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc, {"budget_fen": "budget", "ends_at": "ends_at"})
        if not form.errors and form.message is None:
            form.message = error_message(console.t, exc)
        return render_campaign(console, campaign_id, form, status_code=exc.status_code)
    return console.redirect(
        f"/operator/campaigns/{campaign_id}",
        flash="operator.campaign.cancelled" if cancel else "operator.campaign.updated",
    )
