"""My sample requests (寄样): ask a shop for a sample of a product in the plaza, follow each request
(requested, approved, shipped, received; or rejected with the merchant's reason, or cancelled),
cancel one before it ships, confirm receipt.

The same ``affiliate.samples`` calls as the JSON API, scoped to the caller's publishing account.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.affiliate import samples as samples_service
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import SampleStatus
from zhongcao.catalog import service as catalog_service
from zhongcao.errors import DomainError
from zhongcao.shops import service as shops_service
from zhongcao.web.console import Console, CreatorConsole, CursorQuery, IdPath, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/creator")

STATUSES = [s.value for s in SampleStatus]
FIELDS = ("recipient", "phone", "address", "message")
PICK_LIMIT = 40


def _render_list(
    console: Console, status: SampleStatus | None, cursor: str | None, message: str | None = None
) -> Response:
    db, account_id = console.db, console.account_id
    assert account_id is not None
    rows, next_cursor = page_of(
        lambda p: samples_service.creator_samples_page(db, account_id, p, status=status), cursor
    )
    briefs = catalog_service.product_briefs(db, {s.product_id for s in rows})
    shops = shops_service.shops_by_ids(db, {s.shop_id for s in rows})
    return console.render(
        "creator/samples.html",
        "samples",
        status_code=409 if message else 200,
        rows=[(s, briefs.get(s.product_id), shops.get(s.shop_id)) for s in rows],
        status=status.value if status else "",
        statuses=STATUSES,
        next_cursor=next_cursor,
        cancellable={s.value for s in samples_service.CANCELLABLE},
        message=message,
    )


@router.get("/samples")
def samples(
    console: CreatorConsole,
    status: Annotated[SampleStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    return _render_list(console, status, cursor)


def _render_form(
    console: Console,
    product_id: int | None,
    q: str = "",
    form: Form | None = None,
    status_code: int = 200,
) -> Response:
    """The request form for one product; without one, the plaza's products to choose from."""
    db, account_id = console.db, console.account_id
    assert account_id is not None
    product = catalog_service.product_briefs(db, [product_id]).get(product_id) if product_id else None
    choices = []
    if product is None:
        entries, _ = page_of(
            lambda p: affiliate_service.plaza_page(db, account_id, p), None, limit=PICK_LIMIT
        )
        seen: set[int] = set()
        needle = q.lower()
        for e in entries:
            if e.product.id in seen or (
                needle and needle not in f"{e.product.title_zh} {e.product.title_en}".lower()
            ):
                continue
            seen.add(e.product.id)
            choices.append(e)
    pending = (
        samples_service.open_samples_by_product(db, account_id, [product.id]).get(product.id)
        if product
        else None
    )
    shop = shops_service.shops_by_ids(db, [product.shop_id]).get(product.shop_id) if product else None
    return console.render(
        "creator/sample_new.html",
        "samples",
        status_code=status_code,
        product=product,
        shop=shop,
        pending=pending,
        choices=choices,
        q=q,
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/samples/new")
def new_sample(
    console: CreatorConsole,
    product_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    q: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    return _render_form(console, product_id, q.strip())


@router.post("/samples")
def create_sample(console: CreatorConsole, data: FormData) -> Response:
    assert console.account_id is not None
    form = Form(data, console.t)
    product_id = form.integer("product_id", required=True, minimum=1, maximum=2**63 - 1)
    recipient = form.text("recipient", required=True, max_length=samples_service.MAX_RECIPIENT)
    phone = form.text("phone", required=True, max_length=20)
    address = form.text("address", required=True, max_length=samples_service.MAX_ADDRESS)
    message = form.text("message", max_length=samples_service.MAX_MESSAGE)
    if not form.ok or product_id is None:
        return _render_form(console, product_id, form=form, status_code=422)
    try:
        samples_service.request_sample(
            console.db,
            console.account_id,
            product_id,
            recipient=recipient,
            phone=phone,
            address=address,
            message=message,
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc, {"product_id": ""})  # the product's refusals go above the form
        return _render_form(console, product_id, form=form, status_code=exc.status_code)
    return console.redirect("/creator/samples", flash="samples.requested")


def _act(console: Console, sample_id: int, action: str) -> Response:
    assert console.account_id is not None
    change = samples_service.cancel_sample if action == "cancel" else samples_service.confirm_received
    try:
        change(console.db, console.account_id, sample_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        changed = exc.code == "illegal_transition"
        message = console.t("samples.err.changed") if changed else error_message(console.t, exc)
        return _render_list(console, None, None, message=message)
    return console.redirect("/creator/samples", flash=f"samples.done.{action}")


@router.post("/samples/{sample_id}/cancel")
def cancel(console: CreatorConsole, sample_id: IdPath, _: FormData) -> Response:
    return _act(console, sample_id, "cancel")


@router.post("/samples/{sample_id}/received")
def received(console: CreatorConsole, sample_id: IdPath, _: FormData) -> Response:
    return _act(console, sample_id, "received")
