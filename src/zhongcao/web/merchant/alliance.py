"""Creator partners (达人合作): the shop's affiliate plans (create open, targeted and exclusive ones,
end them, invite creators), creators' applications to them, and the creators selling the shop's goods.

The same ``affiliate.service`` / ``affiliate.partners`` calls as the JSON API. When the service
refuses a plan, the page says which rule it broke in plain words (:data:`PLAN_RULES`). Every shop role
may look; owners and operators change (the forms are not shown to service agents).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.affiliate import partners
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import ApplicationStatus, PlanKind, PlanStatus
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.errors import DomainError
from zhongcao.web.console import (
    WINDOWS,
    Console,
    CursorQuery,
    DaysQuery,
    IdPath,
    MerchantConsole,
    page_of,
    window,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/merchant")

PICKABLE_PRODUCTS = 200
PLAN_KINDS = [k.value for k in PlanKind]
PLAN_STATUSES = [s.value for s in PlanStatus]
APPLICATION_STATUSES = [s.value for s in ApplicationStatus]

# A refusal of the plan rules (affiliate.service._check_plan_rules), by code and the kind asked for,
# -> the sentence that explains the rule. ``None`` stands for any kind.
PLAN_RULES: dict[tuple[str, str | None], str] = {
    ("plan_conflict", "exclusive"): "alliance.rule.exclusive_needs_alone",
    ("plan_conflict", None): "alliance.rule.exclusive_blocks_others",
    ("plan_exists", "exclusive"): "alliance.rule.one_exclusive",
    ("plan_exists", None): "alliance.rule.one_open",
    ("open_plan_required", None): "alliance.rule.targeted_needs_open",
    ("targeted_rate_not_higher", None): "alliance.rule.targeted_rate_higher",
    ("product_not_found", None): "alliance.rule.product_not_found",
}


def plan_rule_message(console: Console, exc: DomainError, kind: str) -> str | None:
    key = PLAN_RULES.get((exc.code, kind)) or PLAN_RULES.get((exc.code, None))
    if key is None:
        return None
    rate = exc.details.get("open_commission_bps")
    return console.t(key, rate=f"{rate / 100:g}" if isinstance(rate, int) else "")


def _pickable_products(console: Console) -> list[Any]:
    assert console.shop_id is not None
    ids = catalog_service.product_ids_of_shop(console.db, console.shop_id, active_only=True)[
        -PICKABLE_PRODUCTS:
    ]
    briefs = catalog_service.product_briefs(console.db, ids)
    return [briefs[i] for i in reversed(ids) if i in briefs and briefs[i].on_sale]


def rate_to_bps(form: Form, name: str) -> int | None:
    """A commission rate typed in percent (``12`` or ``12.5``, up to two decimals) as basis points."""
    raw = form.text(name, required=True, max_length=8).replace("%", "").strip()
    if not raw:
        return None
    whole, _, frac = raw.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        form.error(name, form.t("alliance.form.bad_rate"))
        return None
    bps = int(whole) * 100 + int((frac + "00")[:2])
    if not affiliate_service.MIN_COMMISSION_BPS <= bps <= affiliate_service.MAX_COMMISSION_BPS:
        form.error(name, form.t("alliance.form.bad_rate"))
        return None
    return bps


# --- plans -----------------------------------------------------------------------------------------


def _render_plans(
    console: Console,
    status: PlanStatus | None,
    cursor: str | None,
    form: Form | None = None,
    status_code: int = 200,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: affiliate_service.shop_plans_page(db, shop_id, p, status=status), cursor
    )
    briefs = catalog_service.product_briefs(db, {p.product_id for p in rows})
    creators = affiliate_service.plan_creator_ids_by_plan(db, [p.id for p in rows])
    pending, _ = page_of(
        lambda p: affiliate_service.shop_applications_page(db, shop_id, p, status=ApplicationStatus.pending),
        None,
    )
    return console.render(
        "merchant/alliance.html",
        "alliance",
        status_code=status_code,
        rows=[(p, briefs.get(p.product_id), len(creators[p.id])) for p in rows],
        status=status.value if status else "",
        statuses=PLAN_STATUSES,
        next_cursor=next_cursor,
        pending_applications=len(pending),
        products=_pickable_products(console) if console.can_manage else [],
        kinds=PLAN_KINDS,
        form=form,
        typed=form.values if form is not None else {"kind": "open"},
    )


@router.get("/alliance")
def plans(
    console: MerchantConsole,
    status: Annotated[PlanStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    return _render_plans(console, status, cursor)


@router.post("/alliance/plans")
def create_plan(console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    product_id = form.integer("product_id", required=True, minimum=1)
    kind = form.choice("kind", PLAN_KINDS) or "open"
    bps = rate_to_bps(form, "rate")
    if not form.ok or product_id is None or bps is None:
        return _render_plans(console, None, None, form, status_code=422)
    try:
        plan = affiliate_service.create_plan(
            console.db, console.shop_id, product_id=product_id, kind=PlanKind(kind), commission_bps=bps
        )
    except DomainError as exc:
        console.db.rollback()
        rule = plan_rule_message(console, exc, kind)
        if rule is not None:
            field = "rate" if exc.code == "targeted_rate_not_higher" else ""
            if field:
                form.error(field, rule)
            form.message = rule
        else:
            form.add_domain_error(exc, {"product_id": "product_id", "commission_bps": "rate"})
        return _render_plans(console, None, None, form, status_code=exc.status_code)
    flash = "alliance.plan_created" if kind == "open" else "alliance.plan_created_invite"
    return console.redirect(f"/merchant/alliance/plans/{plan.id}", flash=flash)


def _render_plan(
    console: Console, plan_id: int, q: str = "", form: Form | None = None, status_code: int = 200
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    plan = affiliate_service.plan_for_shop(db, shop_id, plan_id)
    brief = catalog_service.product_briefs(db, [plan.product_id]).get(plan.product_id)
    listed_ids = affiliate_service.plan_creator_ids(db, plan.id)
    listed = content_service.accounts_by_ids(db, listed_ids)
    found = partners.find_creators(db, q) if q and console.can_manage else []
    applications, _ = page_of(
        lambda p: affiliate_service.shop_applications_page(
            db, shop_id, p, status=ApplicationStatus.pending, plan_id=plan.id
        ),
        None,
    )
    others = [p for p in affiliate_service.active_plans_for_product(db, plan.product_id) if p.id != plan.id]
    return console.render(
        "merchant/alliance_plan.html",
        "alliance",
        status_code=status_code,
        plan=plan,
        product=brief,
        listed=[listed[i] for i in listed_ids if i in listed],
        q=q,
        found=found,
        followers=content_reads.shown_follower_counts(db, [*listed_ids, *(a.id for a in found)]),
        listed_ids=set(listed_ids),
        pending_applications=len(applications),
        other_plans=others,
        form=form,
    )


@router.get("/alliance/plans/{plan_id}")
def plan(console: MerchantConsole, plan_id: IdPath, q: Annotated[str, Query(max_length=80)] = "") -> Response:
    return _render_plan(console, plan_id, q.strip())


@router.post("/alliance/plans/{plan_id}/end")
def end_plan(console: MerchantConsole, plan_id: IdPath, _: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    try:
        affiliate_service.end_plan(console.db, console.shop_id, plan_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        return console.redirect(f"/merchant/alliance/plans/{plan_id}", flash="alliance.plan_already_ended")
    return console.redirect(f"/merchant/alliance/plans/{plan_id}", flash="alliance.plan_ended")


@router.post("/alliance/plans/{plan_id}/invite")
def invite(console: MerchantConsole, plan_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    account_id = form.integer("account_id", required=True, minimum=1)
    q = form.text("q", max_length=80)
    if account_id is None:
        return _render_plan(console, plan_id, q, form, status_code=422)
    try:
        affiliate_service.add_plan_creator(console.db, console.shop_id, plan_id, account_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc)
        return _render_plan(console, plan_id, q, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/alliance/plans/{plan_id}", flash="alliance.invited")


# --- applications ----------------------------------------------------------------------------------


def _render_applications(
    console: Console,
    status: ApplicationStatus | None,
    cursor: str | None,
    form: Form | None = None,
    form_id: int | None = None,
    status_code: int = 200,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: affiliate_service.shop_applications_page(db, shop_id, p, status=status), cursor
    )
    plans = affiliate_service.plans_by_ids(db, [a.plan_id for a in rows])
    briefs = catalog_service.product_briefs(db, {p.product_id for p in plans.values()})
    accounts = content_service.accounts_by_ids(db, [a.account_id for a in rows])
    return console.render(
        "merchant/alliance_applications.html",
        "alliance_applications",
        status_code=status_code,
        rows=[
            (a, plans.get(a.plan_id), briefs.get(plans[a.plan_id].product_id), accounts.get(a.account_id))
            for a in rows
        ],
        followers=content_reads.shown_follower_counts(db, accounts),
        status=status.value if status else "",
        statuses=APPLICATION_STATUSES,
        next_cursor=next_cursor,
        form=form,
        form_id=form_id,
    )


@router.get("/alliance/applications")
def applications(
    console: MerchantConsole,
    status: Annotated[ApplicationStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    return _render_applications(console, status, cursor)


@router.post("/alliance/applications/{application_id}/decide")
def decide_application(console: MerchantConsole, application_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    decision = form.choice("decision", ["approve", "reject"])
    note = form.text("note", max_length=affiliate_service.MAX_DECISION_NOTE)
    pending = ApplicationStatus.pending
    if not form.ok:
        return _render_applications(console, pending, None, form, application_id, status_code=422)
    decide = (
        affiliate_service.approve_application
        if decision == "approve"
        else affiliate_service.reject_application
    )
    try:
        decide(console.db, console.shop_id, application_id, console.user_id, note)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc)
        return _render_applications(console, pending, None, form, application_id, status_code=exc.status_code)
    flash = "alliance.application_approved" if decision == "approve" else "alliance.application_rejected"
    return console.redirect("/merchant/alliance/applications?status=pending", flash=flash)


# --- the creators selling the shop's goods -----------------------------------------------------------


@router.get("/alliance/creators")
def creators(console: MerchantConsole, days: DaysQuery = 30) -> Response:
    assert console.shop_id is not None
    span = window(days)
    bounds = partners.Span(span.first, span.last)
    rows = partners.shop_creators(console.db, console.shop_id, bounds.since, bounds.until)
    return console.render(
        "merchant/alliance_creators.html",
        "alliance_creators",
        rows=rows,
        span=span,
        windows=WINDOWS,
        totals={
            "gmv_fen": sum(r.gmv_fen for r in rows),
            "orders": sum(r.orders for r in rows),
            "commission_fen": sum(r.commission_fen for r in rows),
            "booked_fen": sum(r.booked_fen for r in rows),
        },
    )
