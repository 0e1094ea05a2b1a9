"""The sample queue (寄样): creators' requests with counts by status; approve (with an optional
note), reject (with the reason the creator reads), ship (carrier and tracking number).

The same ``affiliate.samples`` calls as the JSON API. Every shop role may look; owners and operators
decide and ship.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.affiliate import samples as samples_service
from zhongcao.affiliate.models import SampleStatus
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.errors import DomainError, InvalidInput
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/merchant")

STATUSES = [s.value for s in SampleStatus]
ACTIONS = ("approve", "reject", "ship")


def _render(
    console: Console,
    status: SampleStatus | None,
    cursor: str | None,
    form: Form | None = None,
    form_id: int | None = None,
    status_code: int = 200,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: samples_service.shop_samples_page(db, shop_id, p, status=status), cursor
    )
    briefs = catalog_service.product_briefs(db, {s.product_id for s in rows})
    accounts = content_service.accounts_by_ids(db, [s.account_id for s in rows])
    return console.render(
        "merchant/alliance_samples.html",
        "alliance_samples",
        status_code=status_code,
        rows=[(s, briefs.get(s.product_id), accounts.get(s.account_id)) for s in rows],
        followers=content_reads.shown_follower_counts(db, accounts),
        counts=samples_service.shop_sample_counts(db, shop_id),
        status=status.value if status else "",
        statuses=STATUSES,
        next_cursor=next_cursor,
        form=form,
        form_id=form_id,
        typed=form.values if form is not None else {},
    )


@router.get("/alliance/samples")
def samples(
    console: MerchantConsole,
    status: Annotated[SampleStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    return _render(console, status, cursor)


@router.post("/alliance/samples/{sample_id}/{action}")
def act(console: MerchantConsole, sample_id: IdPath, action: str, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    if action not in ACTIONS:
        raise InvalidInput("unknown action", code="unknown_action", field="action")
    db, shop_id = console.db, console.shop_id
    sample = samples_service.sample_for_shop(db, shop_id, sample_id)  # another shop's: the 404 page
    back = sample.status
    form = Form(data, console.t)
    try:
        if action == "approve":
            note = form.text("note", max_length=samples_service.MAX_NOTE)
            if form.ok:
                samples_service.approve_sample(db, shop_id, sample_id, console.user_id, note)
        elif action == "reject":
            reason = form.text("reason", required=True, max_length=samples_service.MAX_NOTE)
            if form.ok:
                samples_service.reject_sample(db, shop_id, sample_id, console.user_id, reason)
        else:
            carrier = form.text("carrier_name", required=True, max_length=samples_service.MAX_CARRIER)
            tracking = form.text("tracking_number", required=True, max_length=64)
            if form.ok:
                samples_service.ship_sample(db, shop_id, sample_id, carrier, tracking)
    except DomainError as exc:
        db.rollback()
        if exc.code == "illegal_transition":  # decided meanwhile (another tab, a colleague)
            form.message = console.t("samples.err.changed")
        else:
            form.add_domain_error(exc)
        return _render(console, back, None, form, sample_id, status_code=exc.status_code)
    if not form.ok:
        return _render(console, back, None, form, sample_id, status_code=422)
    # An approval leads to the approved list, where the parcel is shipped next; otherwise back.
    after = SampleStatus.approved if action == "approve" else back
    return console.redirect(
        f"/merchant/alliance/samples?status={after.value}#sample-{sample_id}", flash=f"samples.done.{action}"
    )
