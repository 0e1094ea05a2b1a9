"""The shop's quick replies: saved answers its agents drop into the reply box of a conversation."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.errors import DomainError
from zhongcao.support import chat as chat_service
from zhongcao.support import service as support_service
from zhongcao.web.console import Console, IdPath, MerchantConsole
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/merchant/inbox/quick-replies")


def _render(
    console: Console, form: Form | None, *, editing: int | None = None, q: str = "", status_code: int = 200
) -> Response:
    assert console.shop_id is not None
    rows = chat_service.list_quick_replies(console.db, console.shop_id)
    needle = q.strip().lower()
    shown = [r for r in rows if needle in r.title.lower() or needle in r.body.lower()] if needle else rows
    current = next((r for r in rows if r.id == editing), None)
    typed = (
        form.values
        if form is not None
        else ({"title": current.title, "body": current.body} if current else {})
    )
    return console.render(
        "merchant/quick_replies.html",
        "inbox",
        status_code=status_code,
        quick_replies=shown,
        total=len(rows),
        limit=chat_service.QUICK_REPLIES_PER_SHOP,
        editing=current,
        form=form,
        typed=typed,
        q=q,
    )


@router.get("")
def quick_replies(
    console: MerchantConsole,
    edit: Annotated[int | None, Query(ge=1)] = None,
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    return _render(console, None, editing=edit, q=q)


def _read(console: Console, data: FormData) -> tuple[Form, str, str]:
    form = Form(data, console.t)
    title = form.text("title", required=True, max_length=chat_service.QUICK_REPLY_TITLE_MAX)
    body = form.text("body", required=True, max_length=support_service.MESSAGE_MAX)
    return form, title, body


@router.post("")
def create(console: MerchantConsole, data: FormData) -> Response:
    assert console.shop_id is not None
    form, title, body = _read(console, data)
    if form.ok:
        try:
            chat_service.create_quick_reply(console.db, console.shop_id, title=title, body=body)
        except DomainError as exc:
            console.db.rollback()
            form.add_domain_error(exc)
    if not form.ok:
        return _render(console, form, status_code=422)
    return console.redirect("/merchant/inbox/quick-replies", flash="chat.quick.saved")


@router.post("/{quick_reply_id}")
def update(console: MerchantConsole, quick_reply_id: IdPath, data: FormData) -> Response:
    assert console.shop_id is not None
    chat_service.get_quick_reply(console.db, console.shop_id, quick_reply_id)  # another shop's: 404
    form, title, body = _read(console, data)
    if form.ok:
        try:
            chat_service.update_quick_reply(
                console.db, console.shop_id, quick_reply_id, title=title, body=body
            )
        except DomainError as exc:
            console.db.rollback()
            form.add_domain_error(exc)
    if not form.ok:
        return _render(console, form, editing=quick_reply_id, status_code=422)
    return console.redirect("/merchant/inbox/quick-replies", flash="chat.quick.saved")


@router.post("/{quick_reply_id}/delete")
def delete(console: MerchantConsole, quick_reply_id: IdPath, _: FormData) -> Response:
    assert console.shop_id is not None
    chat_service.delete_quick_reply(console.db, console.shop_id, quick_reply_id)
    return console.redirect("/merchant/inbox/quick-replies", flash="chat.quick.deleted")
