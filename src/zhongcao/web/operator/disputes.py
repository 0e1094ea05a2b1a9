"""The operator's disputes: escalated after-sales cases (the queue with filters; a case with both
sides' statements and evidence images, the order's timeline and the decision form) and shoppers'
complaints (the queue with filters; resolve with an outcome and a note the shopper sees).

The same service calls as ``POST /api/ops/after-sales/{id}/arbitrate`` and
``POST /api/ops/complaints/{id}/resolve``: a reason is required, and the decision is in the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleReason
from zhongcao.audit import service as audit_service
from zhongcao.commerce import service as order_service
from zhongcao.fields import MAX_ID
from zhongcao.media import service as media_service
from zhongcao.shops import service as shops_service
from zhongcao.support import service as support_service
from zhongcao.support.models import ComplaintReason, ComplaintStatus
from zhongcao.users import service as users_service
from zhongcao.web.console import Console, CursorQuery, IdPath, OperatorConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form
from zhongcao.web.shopper.orders import timeline

router = APIRouter(prefix="/operator")

CASES = "/operator/after-sales"
COMPLAINTS = "/operator/complaints"
# "Waiting longer than": the queue's age filter, in hours.
AGES = (24, 72, 168)
CASE_REASONS = [r.value for r in AfterSaleReason]
COMPLAINT_REASONS = [r.value for r in ComplaintReason]
COMPLAINT_STATUSES = [s.value for s in ComplaintStatus]
ShopQuery = Annotated[str | None, Query(max_length=20)]


def read_reason(form: Form) -> str:
    """The reason every operator action needs: the form again with the message when it is blank."""
    reason = form.text("reason", max_length=audit_service.MAX_REASON)
    if not reason and "reason" not in form.errors:
        form.error("reason", form.t("err.reason_required"))
    return reason


def _shop_id(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def _query(**params: Any) -> str:
    pairs = [f"{k}={v}" for k, v in params.items() if v not in (None, "")]
    return ("?" + "&".join(pairs)) if pairs else ""


# --- escalated after-sales cases -------------------------------------------------------------------


@router.get("/after-sales")
def cases(
    console: OperatorConsole,
    reason: Annotated[str | None, Query(max_length=20)] = None,
    age: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    shop: ShopQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    wanted = AfterSaleReason(reason) if reason in CASE_REASONS else None
    hours = age if age in AGES else None
    shop_id = _shop_id(shop)
    rows, next_cursor = page_of(
        lambda p: aftersales_service.escalated_queue(
            db,
            p,
            reason=wanted,
            shop_id=shop_id,
            older_than=timedelta(hours=hours) if hours else None,
        ),
        cursor,
    )
    return console.render(
        "operator/cases.html",
        "after_sales",
        rows=rows,
        next_cursor=next_cursor,
        shops=shops_service.shops_by_ids(db, [r.shop_id for r in rows]),
        reason=wanted.value if wanted else "",
        reasons=CASE_REASONS,
        age=hours or "",
        ages=AGES,
        shop=shop_id or "",
        filtered=bool(wanted or hours or shop_id),
        base=CASES + _query(reason=wanted.value if wanted else "", age=hours, shop=shop_id),
    )


def _case_events(case: Any, order: Any, shipment: Any) -> list[tuple[str, Any]]:
    """The order's steps and the case's, in time order (message keys under ``timeline.``)."""
    events = timeline(order, shipment)
    for name in (
        "requested",
        "decided",
        "return_shipped",
        "returned",
        "escalated",
        "arbitrated",
        "refunded",
        "closed",
    ):
        at = getattr(case, f"{name}_at")
        if at is not None:
            events.append((f"case_{name}", at))
    return sorted(events, key=lambda pair: pair[1])


def _render_case(console: Console, case_id: int, form: Form | None, status_code: int = 200) -> Response:
    db = console.db
    case = aftersales_service.get_case(db, case_id)
    order = order_service.get_order_for_shop(db, case.shop_id, case.order_id)
    item = order_service.get_order_item(db, case.order_id, case.order_item_id)
    evidence = aftersales_service.evidence_for(db, case.id)
    urls = media_service.image_urls(db, [e.media_id for e in evidence])
    return console.render(
        "operator/case.html",
        "after_sales",
        status_code=status_code,
        case=case,
        order=order,
        item=item,
        shop=shops_service.shops_by_ids(db, [case.shop_id]).get(case.shop_id),
        buyer=users_service.users_by_ids(db, [case.user_id]).get(case.user_id),
        evidence={
            side: [(e, urls.get(e.media_id, {})) for e in evidence if e.side.value == side]
            for side in ("buyer", "merchant")
        },
        events=_case_events(case, order, order_service.get_shipment(db, order.id)),
        history=audit_service.entries_for(db, "after_sale", case.id),
        can_decide=case.status.value == "arbitrating",
        form=form,
        typed=form.values if form is not None else {"refund": "yes"},
    )


@router.get("/after-sales/{case_id}")
def case(console: OperatorConsole, case_id: IdPath) -> Response:
    return _render_case(console, case_id, None)


@router.post("/after-sales/{case_id}")
def decide_case(console: OperatorConsole, case_id: IdPath, data: FormData) -> Response:
    """``refund`` (yes / no), ``merchant_at_fault`` (a checkbox) and the required ``reason``."""
    form = Form(data, console.t)
    refund = form.choice("refund", ["yes", "no"], message=console.t("workbench.case.pick_refund"))
    at_fault = form.text("merchant_at_fault") == "on"
    form.values["merchant_at_fault"] = at_fault
    reason = read_reason(form)
    if not form.ok:
        return _render_case(console, case_id, form, status_code=422)
    return console.decide(
        form,
        lambda: aftersales_service.arbitrate(
            console.db,
            case_id,
            merchant_at_fault=at_fault,
            refund=refund == "yes",
            note=reason,
            actor_user_id=console.user_id,
        ),
        refused=lambda f, code: _render_case(console, case_id, f, status_code=code),
        done=f"{CASES}/{case_id}",
        flash="workbench.case.decided",
    )


# --- complaints ------------------------------------------------------------------------------------


@router.get("/complaints")
def complaints(
    console: OperatorConsole,
    status: Annotated[str | None, Query(max_length=20)] = None,
    reason: Annotated[str | None, Query(max_length=30)] = None,
    shop: ShopQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    wanted_status = ComplaintStatus(status) if status in COMPLAINT_STATUSES else None
    wanted_reason = ComplaintReason(reason) if reason in COMPLAINT_REASONS else None
    shop_id = _shop_id(shop)
    rows, next_cursor = page_of(
        lambda p: support_service.list_complaints(
            db, p, status=wanted_status, shop_id=shop_id, reason=wanted_reason
        ),
        cursor,
    )
    return console.render(
        "operator/complaints.html",
        "complaints",
        rows=rows,
        next_cursor=next_cursor,
        shops=shops_service.shops_by_ids(db, [r.shop_id for r in rows]),
        status=wanted_status.value if wanted_status else "",
        statuses=COMPLAINT_STATUSES,
        reason=wanted_reason.value if wanted_reason else "",
        reasons=COMPLAINT_REASONS,
        shop=shop_id or "",
        filtered=bool(wanted_status or wanted_reason or shop_id),
        base=COMPLAINTS
        + _query(
            status=wanted_status.value if wanted_status else "",
            reason=wanted_reason.value if wanted_reason else "",
            shop=shop_id,
        ),
    )


def _render_complaint(
    console: Console, complaint_id: int, form: Form | None, status_code: int = 200
) -> Response:
    db = console.db
    row = support_service.get_complaint(db, complaint_id)
    return console.render(
        "operator/complaint.html",
        "complaints",
        status_code=status_code,
        row=row,
        shop=shops_service.shops_by_ids(db, [row.shop_id]).get(row.shop_id),
        user=users_service.users_by_ids(db, [row.user_id]).get(row.user_id),
        history=audit_service.entries_for(db, "complaint", row.id),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/complaints/{complaint_id}")
def complaint(console: OperatorConsole, complaint_id: IdPath) -> Response:
    return _render_complaint(console, complaint_id, None)


@router.post("/complaints/{complaint_id}")
def resolve_complaint(console: OperatorConsole, complaint_id: IdPath, data: FormData) -> Response:
    """``outcome`` (upheld / dismissed) and the ``reason`` the shopper sees."""
    form = Form(data, console.t)
    outcome = form.choice("outcome", ["upheld", "dismissed"], message=console.t("workbench.complaint.pick"))
    reason = read_reason(form)
    if not form.ok:
        return _render_complaint(console, complaint_id, form, status_code=422)
    return console.decide(
        form,
        lambda: support_service.resolve_complaint(
            console.db, complaint_id, upheld=outcome == "upheld", note=reason, actor_user_id=console.user_id
        ),
        refused=lambda f, code: _render_complaint(console, complaint_id, f, status_code=code),
        done=f"{COMPLAINTS}/{complaint_id}",
        flash="workbench.complaint.resolved",
    )
