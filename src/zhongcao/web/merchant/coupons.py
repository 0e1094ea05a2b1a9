"""Shop coupons: the list (state filter, name search, claimed and used counts), the editor for a new
or an existing coupon, and ending one. The same ``campaigns.coupons`` calls as the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import clock
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.campaigns.coupons import CouponState
from zhongcao.campaigns.models import Coupon, CouponFunder
from zhongcao.errors import DomainError
from zhongcao.membership import service as membership_service
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of, yuan_to_fen
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form
from zhongcao.web.templating import DISPLAY_TZ

router = APIRouter(prefix="/merchant")

KINDS = ("amount", "percent")
# The service's field names -> the editor's boxes (a refusal is shown next to the box it is about).
FORM_FIELDS = {
    "name": "name",
    "threshold_fen": "threshold",
    "discount_fen": "discount",
    "percent_off": "percent",
    "per_user_limit": "per_user_limit",
    "total_quantity": "total_quantity",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "members_only": "members_only",
}
MAX_QUANTITY = 10_000_000


def _local_input(value: datetime) -> str:
    """A datetime as a ``datetime-local`` box shows it (China time, to the minute)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M")


def _parse_local(form: Form, name: str) -> datetime | None:
    raw = form.text(name, required=True, max_length=20)
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M").replace(tzinfo=DISPLAY_TZ)
    except ValueError:
        form.error(name, form.t("coupons.form.bad_time"))
        return None


@router.get("/coupons")
def coupons(
    console: MerchantConsole,
    state: Annotated[CouponState | None, Query()] = None,
    q: Annotated[str, Query(max_length=80)] = "",
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    query = q.strip()
    rows, next_cursor = page_of(
        lambda p: coupons_service.list_shop_coupons(db, shop_id, p, state=state, query=query), cursor
    )
    used = coupons_service.used_counts(db, [c.id for c in rows])
    now = clock.now()
    params = [f"state={state.value}"] if state else []
    if query:
        params.append(f"q={query}")
    return console.render(
        "merchant/coupons.html",
        "coupons",
        rows=[(c, coupons_service.coupon_state(c, now), used[c.id]) for c in rows],
        state=state.value if state else "",
        states=[s.value for s in CouponState],
        q=query,
        base="/merchant/coupons" + ("?" + "&".join(params) if params else ""),
        next_cursor=next_cursor,
        membership_on=membership_on(console),
        ending_soon=coupons_service.coupons_ending_within(db, shop_id, 3, now),
    )


def _typed_from(coupon: Coupon | None) -> dict[str, Any]:
    if coupon is None:
        start = clock.now().astimezone(DISPLAY_TZ).replace(second=0, microsecond=0)
        return {
            "kind": "amount",
            "per_user_limit": "1",
            "threshold": "0",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "members_only": False,
        }
    return {
        "name": coupon.name,
        "kind": "percent" if coupon.percent_off is not None else "amount",
        "threshold": f"{coupon.threshold_fen // 100}.{coupon.threshold_fen % 100:02d}",
        "discount": f"{coupon.discount_fen // 100}.{coupon.discount_fen % 100:02d}",
        "percent": str(coupon.percent_off or ""),
        "per_user_limit": str(coupon.per_user_limit),
        "total_quantity": str(coupon.total_quantity or ""),
        "starts_at": _local_input(coupon.starts_at),
        "ends_at": _local_input(coupon.ends_at),
        "members_only": coupon.members_only,
    }


def _render_editor(
    console: Console, coupon: Coupon | None, form: Form | None, status_code: int = 200
) -> Response:
    state = coupons_service.coupon_state(coupon) if coupon is not None else None
    return console.render(
        "merchant/coupon.html",
        "coupons",
        status_code=status_code,
        coupon=coupon,
        state=state.value if state else "",
        used=coupons_service.used_counts(console.db, [coupon.id])[coupon.id] if coupon else 0,
        # Once shoppers hold the coupon, what they hold cannot change (the service refuses it too).
        terms_locked=coupon is not None and coupon.claimed_count > 0,
        form=form,
        typed=form.values if form is not None else _typed_from(coupon),
        # A members-only coupon is claimable only while the shop runs a membership (the hint says so).
        membership_on=membership_on(console),
    )


def _read_coupon(console: Console, form: Form) -> dict[str, Any] | None:
    name = form.text("name", required=True, max_length=80)
    kind = form.choice("kind", list(KINDS)) or "amount"
    threshold = yuan_to_fen(form, "threshold") or 0
    discount = yuan_to_fen(form, "discount", required=True, minimum_fen=1)
    percent = None
    if kind == "percent":
        percent = form.integer("percent", required=True, minimum=1, maximum=99)
    else:
        form.text("percent")
    per_user_limit = form.integer(
        "per_user_limit", required=True, minimum=1, maximum=coupons_service.MAX_PER_USER_LIMIT
    )
    total_quantity = form.integer("total_quantity", minimum=1, maximum=MAX_QUANTITY)
    starts_at = _parse_local(form, "starts_at")
    ends_at = _parse_local(form, "ends_at")
    members_only = form.data.get("members_only") == "on"
    form.values["members_only"] = members_only
    if not form.ok:
        return None
    return {
        "name": name,
        "threshold_fen": threshold,
        "discount_fen": discount,
        "percent_off": percent,
        "per_user_limit": per_user_limit,
        "total_quantity": total_quantity,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "members_only": members_only,
    }


def membership_on(console: Console) -> bool:
    """Whether the shop runs a membership programme now (its members-only coupons can be claimed)."""
    assert console.shop_id is not None
    program = membership_service.get_program(console.db, console.shop_id)
    return program is not None and program.enabled


@router.get("/coupons/new")
def new_coupon(console: MerchantConsole) -> Response:
    console.require_manager()
    return _render_editor(console, None, None)


@router.post("/coupons/new")
def create_coupon(console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    form = Form(data, console.t)
    terms = _read_coupon(console, form)
    if terms is None:
        return _render_editor(console, None, form, status_code=422)
    try:
        coupon = coupons_service.create_coupon(
            console.db, funded_by=CouponFunder.shop, shop_id=console.shop_id, **terms
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc, FORM_FIELDS)
        return _render_editor(console, None, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/coupons/{coupon.id}", flash="coupons.created")


@router.get("/coupons/{coupon_id}")
def coupon(console: MerchantConsole, coupon_id: IdPath) -> Response:
    assert console.shop_id is not None
    found = coupons_service.get_shop_coupon(console.db, console.shop_id, coupon_id)
    return _render_editor(console, found, None)


@router.post("/coupons/{coupon_id}")
def update_coupon(console: MerchantConsole, coupon_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    found = coupons_service.get_shop_coupon(console.db, console.shop_id, coupon_id)
    form = Form(data, console.t)
    terms = _read_coupon(console, form)
    if terms is None:
        return _render_editor(console, found, form, status_code=422)
    # The boxes show times to the minute: a time left as shown keeps its stored value (seconds and
    # all), so saving a coupon without touching its start is not a change to what shoppers hold.
    for name in ("starts_at", "ends_at"):
        if form.values.get(name) == _local_input(getattr(found, name)):
            terms[name] = getattr(found, name)
    try:
        coupons_service.update_shop_coupon(console.db, console.shop_id, coupon_id, **terms)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc, FORM_FIELDS)
        found = coupons_service.get_shop_coupon(console.db, console.shop_id, coupon_id)
        return _render_editor(console, found, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/coupons/{coupon_id}", flash="coupons.saved")


@router.post("/coupons/{coupon_id}/end")
def end_coupon(console: MerchantConsole, coupon_id: IdPath) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    try:
        coupons_service.end_shop_coupon(console.db, console.shop_id, coupon_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        return console.redirect(f"/merchant/coupons/{coupon_id}", flash="coupons.already_ended")
    return console.redirect(f"/merchant/coupons/{coupon_id}", flash="coupons.ended")
