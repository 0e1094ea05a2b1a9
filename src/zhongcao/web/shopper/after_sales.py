"""The shopper's after-sales case page (phone first): what was asked, the timeline, both sides'
evidence images, and the moves the case's state allows — add a photo, post the return's carrier
and tracking number, withdraw, escalate to the platform after a rejection.

The same service calls as ``POST /api/after-sales/{id}/evidence``, ``/return-shipped``,
``/cancel`` and ``/escalate``; a move the state no longer allows is refused with the reason shown.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.schemas import TrackingNumber
from zhongcao.commerce import service as order_service
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID
from zhongcao.media.service import Uploader
from zhongcao.warehouse import service as warehouse_service
from zhongcao.web.after_sale_case import (
    RETURN_CARRIERS,
    SHOPPER_EVIDENCE_PATH,
    case_events,
    discard_image,
    evidence_by_side,
    store_image,
)
from zhongcao.web.context import FormData, ShopperPage
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import IdPath

router = APIRouter()

A = aftersales_service.Action
FLASH = {
    "evidence": "aftersale.evidence.added",
    "return-shipped": "aftersale.return.sent",
    "withdraw": "aftersale.withdrawn",
    "escalate": "aftersale.escalated",
}


def _render(page: ShopperPage, case_id: int, form: Form | None = None, status_code: int = 200) -> Response:
    assert page.user is not None
    case = aftersales_service.get_for_buyer(page.db, page.user.id, case_id)
    item = order_service.get_order_item(page.db, case.order_id, case.order_item_id)
    # A return waits from the shop's approval, or from the ruling that ordered it.
    return_from = case.arbitrated_at or case.decided_at
    return page.render(
        "shopper/after_sale_case.html",
        status_code=status_code,
        case=case,
        item=item,
        events=case_events(case),
        evidence=evidence_by_side(page.db, case.id),
        carriers=RETURN_CARRIERS,
        can_ship=aftersales_service.can(case, A.ship_return),
        return_to=warehouse_service.return_address(page.db, case.order_id),
        can_withdraw=aftersales_service.can(case, A.cancel),
        can_escalate=aftersales_service.can(case, A.escalate),
        can_add_evidence=aftersales_service.is_open(case),
        escalate_by=(case.decided_at + aftersales_service.ESCALATION_WINDOW) if case.decided_at else None,
        ship_by=return_from + aftersales_service.RETURN_SHIP_WINDOW if return_from else None,
        form=form,
        values=form.values if form is not None else {},
    )


def _refused(page: ShopperPage, case_id: int, form: Form, exc: DomainError) -> Response:
    page.db.rollback()
    if exc.status_code == 404 and exc.code == "after_sale_not_found":
        raise exc
    if exc.code == "illegal_transition":
        form.message = page.t("aftersale.not_now")
    else:
        form.add_domain_error(exc)
    return _render(page, case_id, form, status_code=exc.status_code if exc.status_code < 500 else 503)


@router.post(SHOPPER_EVIDENCE_PATH)
def add_evidence(page: ShopperPage, request: Request, data: FormData) -> Response:
    """One photo for one of your open cases (multipart: ``case_id`` and ``image``)."""
    assert page.user is not None
    form = Form(data, page.t)
    case_id = form.integer("case_id", required=True, minimum=1, maximum=MAX_ID)
    if case_id is None:
        return page.redirect("/orders")
    case = aftersales_service.get_for_buyer(page.db, page.user.id, case_id)
    if not aftersales_service.is_open(case):
        form.message = page.t("aftersale.evidence.closed")
        return _render(page, case_id, form, status_code=409)
    uploader = Uploader(user_id=page.user.id)
    media_id = store_image(request, page.db, data, form, uploader)
    if media_id is None:
        return _render(page, case_id, form, status_code=422)
    try:
        aftersales_service.add_buyer_evidence(page.db, page.user.id, case_id, media_id)
    except DomainError as exc:
        discard_image(request, page.db, media_id, uploader)
        form.values["image"] = ""
        return _refused(page, case_id, form, exc)
    return page.redirect(f"/after-sales/{case_id}", flash=FLASH["evidence"])


@router.get("/after-sales/{case_id}")
def case_page(page: ShopperPage, case_id: IdPath) -> Response:
    return _render(page, case_id)


@router.post("/after-sales/{case_id}/return-shipped")
def return_shipped(page: ShopperPage, case_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    carrier = form.choice(
        "carrier_name", list(RETURN_CARRIERS), message=page.t("aftersale.return.pick_carrier")
    )
    tracking = form.text("tracking_number", required=True, max_length=64)
    if tracking and not _tracking_ok(tracking):
        form.error("tracking_number", page.t("aftersale.return.bad_tracking"))
    if not form.ok or carrier is None:
        return _render(page, case_id, form, status_code=422)
    try:
        aftersales_service.mark_return_shipped(
            page.db, page.user.id, case_id, tracking_number=tracking, carrier_name=carrier
        )
    except DomainError as exc:
        return _refused(page, case_id, form, exc)
    return page.redirect(f"/after-sales/{case_id}", flash=FLASH["return-shipped"])


_TRACKING = TypeAdapter(TrackingNumber)


def _tracking_ok(value: str) -> bool:
    try:
        _TRACKING.validate_python(value)
    except ValidationError:
        return False
    return True


@router.post("/after-sales/{case_id}/withdraw")
def withdraw(page: ShopperPage, case_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    try:
        aftersales_service.cancel(page.db, page.user.id, case_id)
    except DomainError as exc:
        return _refused(page, case_id, form, exc)
    return page.redirect(f"/after-sales/{case_id}", flash=FLASH["withdraw"])


@router.post("/after-sales/{case_id}/escalate")
def escalate(page: ShopperPage, case_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    try:
        aftersales_service.escalate(page.db, page.user.id, case_id)
    except DomainError as exc:
        return _refused(page, case_id, form, exc)
    return page.redirect(f"/after-sales/{case_id}", flash=FLASH["escalate"])
