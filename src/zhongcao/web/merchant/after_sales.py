"""After-sales cases: the list and the case page (the whole timeline, both sides' evidence images,
the decision: approve, reject with a reason, confirm the returned parcel's receipt; add the shop's
own evidence images). The same service calls as ``/api/merchant/after-sales/...``."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from zhongcao import fulfilment_flows
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleStatus
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import service as order_service
from zhongcao.errors import DomainError, NotFound
from zhongcao.fields import MAX_ID
from zhongcao.media.service import Uploader
from zhongcao.warehouse import service as warehouse_service
from zhongcao.web.after_sale_case import (
    MERCHANT_EVIDENCE_PATH,
    case_events,
    discard_image,
    evidence_by_side,
    store_image,
)
from zhongcao.web.console import (
    Console,
    CursorQuery,
    IdPath,
    MerchantConsole,
    page_of,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/merchant")

CASE_FLASH = {
    "approve": "merchant.case.approved",
    "reject": "merchant.case.rejected",
    "receive": "merchant.case.received",
}
CASE_FILTERS = (
    "requested",
    "return_shipped",
    "awaiting_return",
    "rejected",
    "arbitrating",
    "refunded",
    "closed",
)


@router.get("/after-sales")
def after_sales(
    console: MerchantConsole,
    status: Annotated[AfterSaleStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: aftersales_service.list_for_shop(db, shop_id, p, status=status), cursor
    )
    items = {i.id: i for i in checkout_service.items_of(db, sorted({c.order_id for c in rows}))}
    return console.render(
        "merchant/after_sales.html",
        "after_sales",
        cases=[(c, items.get(c.order_item_id)) for c in rows],
        status=status.value if status else "",
        filters=CASE_FILTERS,
        next_cursor=next_cursor,
    )


def _render_case(console: Console, case_id: int, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    case = aftersales_service.get_for_shop(console.db, console.shop_id, case_id)
    item = order_service.get_order_item(console.db, case.order_id, case.order_item_id)
    return console.render(
        "merchant/after_sale.html",
        "after_sales",
        status_code=status_code,
        case=case,
        item=item,
        respond_by=case.requested_at + aftersales_service.AUTO_APPROVE_AFTER,
        return_to=warehouse_service.return_address(console.db, case.order_id),
        events=case_events(case),
        evidence=evidence_by_side(console.db, case.id),
        can_add_evidence=aftersales_service.is_open(case),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.post(MERCHANT_EVIDENCE_PATH.removeprefix("/merchant"))
def after_sale_evidence(console: MerchantConsole, request: Request, data: FormData) -> Response:
    """One image for an open case about the shop (multipart: ``case_id`` and ``image``); managers only,
    as ``POST /api/merchant/after-sales/{id}/evidence``."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    case_id = form.integer("case_id", required=True, minimum=1, maximum=MAX_ID)
    if case_id is None:
        return console.redirect("/merchant/after-sales")
    case = aftersales_service.get_for_shop(console.db, console.shop_id, case_id)
    if not aftersales_service.is_open(case):
        form.message = console.t("aftersale.evidence.closed")
        return _render_case(console, case_id, form, status_code=409)
    uploader = Uploader(user_id=console.user_id, shop_id=console.shop_id, shop_role=console.staff_role)
    media_id = store_image(request, console.db, data, form, uploader)
    if media_id is None:
        return _render_case(console, case_id, form, status_code=422)
    try:
        aftersales_service.add_merchant_evidence(console.db, uploader, case_id, media_id)
    except DomainError as exc:
        discard_image(request, console.db, media_id, uploader)
        form.add_domain_error(exc)
        return _render_case(console, case_id, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/after-sales/{case_id}", flash="aftersale.evidence.added")


@router.get("/after-sales/{case_id}")
def after_sale(console: MerchantConsole, case_id: IdPath) -> Response:
    return _render_case(console, case_id, None)


@router.post("/after-sales/{case_id}/{action}")
def after_sale_decide(console: MerchantConsole, case_id: IdPath, action: str, data: FormData) -> Response:
    """approve | reject (with a note the buyer sees) | receive (the returned parcel arrived).
    Owners and operators only: a service agent reads the case but does not decide it."""
    console.require_manager()
    assert console.shop_id is not None
    db, shop_id = console.db, console.shop_id
    form = Form(data, console.t)
    note = form.text("note", required=action == "reject", max_length=1000)
    if action not in CASE_FLASH:
        raise NotFound("page not found", code="not_found")
    if not form.ok:
        return _render_case(console, case_id, form, status_code=422)
    try:
        if action == "approve":
            aftersales_service.approve(db, shop_id, case_id)
        elif action == "reject":
            aftersales_service.reject(db, shop_id, case_id, note=note)
        else:
            fulfilment_flows.receive_return_as_shop(db, shop_id, case_id)
    except DomainError as exc:
        db.rollback()
        if exc.status_code == 404:
            raise
        if exc.code == "illegal_transition":
            form.message = console.t("merchant.case.already_decided")
        else:
            form.add_domain_error(exc)
        return _render_case(
            console, case_id, form, status_code=exc.status_code if exc.status_code < 500 else 503
        )
    return console.redirect(f"/merchant/after-sales/{case_id}", flash=CASE_FLASH[action])


# --- the customer-service inbox ----------------------------------------------------------------------
