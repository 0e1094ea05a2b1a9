"""The sanctioned side of integrity (issue #19), shared by the merchant's and the creator's consoles:
each step of the escalation with the reason an operator gave, the case it came from, and the one
appeal with its statement and the decision. The same service calls as
``/api/merchant/integrity/sanctions`` and ``/api/creator/integrity/sanctions``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao import integrity_flows
from zhongcao.errors import DomainError, NotFound
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import SanctionSubject
from zhongcao.web.console import Console, CreatorConsole, IdPath, MerchantConsole
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter()
MAX_STATEMENT = 500


def _subject(console: Console) -> tuple[SanctionSubject, int]:
    if console.kind == "merchant":
        assert console.shop_id is not None
        return SanctionSubject.shop, console.shop_id
    assert console.account_id is not None
    return SanctionSubject.creator, console.account_id


def _render(console: Console, form: Form | None = None, which: int = 0, status_code: int = 200) -> Response:
    subject, subject_id = _subject(console)
    can_appeal = console.kind == "creator" or console.can_manage
    return console.render(
        "console/integrity_sanctions.html",
        "integrity",
        status_code=status_code,
        rows=integrity_service.sanctions_for(console.db, subject, subject_id),
        base=f"/{console.kind}/integrity",
        can_appeal=can_appeal,
        form=form,
        which=which,
        typed=form.values if form is not None else {},
    )


def _appeal(console: Console, sanction_id: int, data: FormData) -> Response:
    subject, subject_id = _subject(console)
    row = integrity_service.get_sanction(console.db, sanction_id)
    if not integrity_flows.may_appeal(
        console.db,
        row,
        shop_id=subject_id if subject is SanctionSubject.shop else None,
        account_id=subject_id if subject is SanctionSubject.creator else None,
    ):
        raise NotFound("no such sanction", code="sanction_not_found")
    form = Form(data, console.t)
    statement = form.text("statement", required=True, max_length=MAX_STATEMENT)
    if not form.ok:
        return _render(console, form, sanction_id, status_code=422)
    try:
        integrity_service.appeal(console.db, sanction_id, user_id=console.user_id, statement=statement)
        console.db.commit()
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc)
        if form.ok:
            form.message = error_message(console.t, exc)
        return _render(console, form, sanction_id, status_code=exc.status_code)
    return console.redirect(f"/{console.kind}/integrity", flash="integrity.appealed")


@router.get("/merchant/integrity")
def merchant_sanctions(console: MerchantConsole) -> Response:
    return _render(console)


@router.post("/merchant/integrity/{sanction_id}/appeal")
def merchant_appeal(console: MerchantConsole, sanction_id: IdPath, data: FormData) -> Response:
    console.require_manager()
    return _appeal(console, sanction_id, data)


@router.get("/creator/integrity")
def creator_sanctions(console: CreatorConsole) -> Response:
    return _render(console)


@router.post("/creator/integrity/{sanction_id}/appeal")
def creator_appeal(console: CreatorConsole, sanction_id: IdPath, data: FormData) -> Response:
    return _appeal(console, sanction_id, data)
