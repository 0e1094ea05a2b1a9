"""The creator console's first pages: my content and the sales it carried, my commissions, and the
affiliate plans open to me (the plaza) with applications.

Scoped to the caller's own publishing account (:data:`~zhongcao.web.console.CreatorConsole`). What my
content sold is read from Compass's analytics snapshot (the same ``sales`` and ``content_daily`` facts
the merchant Compass reads), by account instead of by shop: ``compass.service.account_sales`` and
``compass.service.account_content``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import creator_flows
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import ApplicationStatus, CommissionKind, PlanKind
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import checkout as checkout_service
from zhongcao.compass import service as compass_service
from zhongcao.content import moderation
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus
from zhongcao.errors import DomainError
from zhongcao.shops import service as shops_service
from zhongcao.web import charts
from zhongcao.web.console import (
    WINDOWS,
    Console,
    CreatorConsole,
    CursorQuery,
    DaysQuery,
    IdPath,
    compass_engine,
    page_of,
    window,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/creator")


# --- my content ----------------------------------------------------------------------------------


@router.get("")
def home(
    console: CreatorConsole,
    days: DaysQuery = 30,
    kind: Annotated[ContentKind | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    assert console.account_id is not None
    db, account_id = console.db, console.account_id
    span = window(days)
    engine = compass_engine(console)
    daily = {r["day"]: r for r in compass_service.account_sales(engine, account_id, span.first, span.last)}
    days_list = [(span.first + timedelta(days=i)).isoformat() for i in range(span.days)]
    series = [daily.get(d, {}) for d in days_list]
    totals = {
        name: sum(int(r.get(name) or 0) for r in series) for name in ("gmv_fen", "orders", "commission_fen")
    }
    items, next_cursor = page_of(
        lambda p: content_service.account_content_page(db, account_id, p, kind=kind), cursor
    )
    performance = compass_service.account_content(
        engine, account_id, [c.id for c in items], span.first, span.last
    )
    t = console.t
    chart = (
        charts.money_series(
            days_list,
            [
                (t("creator.gmv_carried"), [int(r.get("gmv_fen") or 0) for r in series]),
                (t("creator.commission_est"), [int(r.get("commission_fen") or 0) for r in series]),
            ],
            label=t("creator.chart"),
            stacked=False,
        )
        if totals["orders"]
        else None
    )
    return console.render(
        "creator/home.html",
        "home",
        span=span,
        windows=WINDOWS,
        totals=totals,
        balance=affiliate_service.commission_balance(db, account_id),
        chart=chart,
        items=[(c, performance.get(c.id)) for c in items],
        takedowns=moderation.latest_takedowns(db, [c.id for c in items if c.status is ContentStatus.removed]),
        kind=kind.value if kind else "",
        kinds=[k.value for k in ContentKind],
        next_cursor=next_cursor,
    )


# --- commissions ----------------------------------------------------------------------------------

COMMISSION_KINDS = [k.value for k in CommissionKind]


@router.get("/commissions")
def commissions(
    console: CreatorConsole,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    assert console.account_id is not None
    db, account_id = console.db, console.account_id
    wanted = CommissionKind(kind) if kind in COMMISSION_KINDS else None
    entries, next_cursor = page_of(
        lambda p: affiliate_service.commission_entries_page(db, account_id, p, kind=wanted), cursor
    )
    items = {i.id: i for i in checkout_service.items_of(db, sorted({e.order_id for e in entries}))}
    shops = shops_service.shops_by_ids(db, {e.shop_id for e in entries})
    return console.render(
        "creator/commissions.html",
        "commissions",
        balance=affiliate_service.commission_balance(db, account_id),
        earnings=creator_flows.creator_earnings(db, account_id),
        entries=[(e, items.get(e.order_item_id), shops.get(e.shop_id)) for e in entries],
        next_cursor=next_cursor,
        kind=wanted.value if wanted else "",
        kinds=COMMISSION_KINDS,
    )


# --- the plaza and my applications -----------------------------------------------------------------

PLAN_KINDS = [k.value for k in PlanKind]


def _render_plans(
    console: Console,
    kind: PlanKind | None,
    cursor: str | None,
    form: Form | None = None,
    plan_id: int | None = None,
    status_code: int = 200,
) -> Response:
    assert console.account_id is not None
    db, account_id = console.db, console.account_id
    entries, next_cursor = page_of(
        lambda p: affiliate_service.plaza_page(db, account_id, p, kind=kind), cursor
    )
    applications, _ = page_of(lambda p: affiliate_service.creator_applications_page(db, account_id, p), None)
    plans = affiliate_service.plans_by_ids(db, [a.plan_id for a in applications])
    briefs = catalog_service.product_briefs(db, {p.product_id for p in plans.values()})
    return console.render(
        "creator/plans.html",
        "plans",
        status_code=status_code,
        entries=entries,
        kind=kind.value if kind else "",
        kinds=PLAN_KINDS,
        next_cursor=next_cursor,
        applications=[
            (a, plans.get(a.plan_id), briefs.get(plans[a.plan_id].product_id) if a.plan_id in plans else None)
            for a in applications
        ],
        form=form,
        form_plan_id=plan_id,
        typed=form.values if form is not None else {},
    )


@router.get("/plans")
def plans(
    console: CreatorConsole, kind: Annotated[PlanKind | None, Query()] = None, cursor: CursorQuery = None
) -> Response:
    return _render_plans(console, kind, cursor)


@router.post("/plans/{plan_id}/apply")
def apply(console: CreatorConsole, plan_id: IdPath, data: FormData) -> Response:
    assert console.account_id is not None
    form = Form(data, console.t)
    message = form.text("message", max_length=1000)
    if form.ok:
        try:
            affiliate_service.apply_to_plan(console.db, console.account_id, plan_id, message)
        except DomainError as exc:
            console.db.rollback()
            form.message = error_message(console.t, exc)
            return _render_plans(console, None, None, form, plan_id, status_code=exc.status_code)
        return console.redirect("/creator/plans#applications", flash="creator.applied")
    return _render_plans(console, None, None, form, plan_id, status_code=422)


@router.post("/applications/{application_id}/withdraw")
def withdraw(console: CreatorConsole, application_id: IdPath, _: FormData) -> Response:
    assert console.account_id is not None
    try:
        affiliate_service.withdraw_application(console.db, console.account_id, application_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form = Form({}, console.t)
        form.message = error_message(console.t, exc)
        return _render_plans(console, None, None, form, status_code=exc.status_code)
    return console.redirect("/creator/plans#applications", flash="creator.withdrawn")


APPLICATION_STATUSES = [s.value for s in ApplicationStatus]
