"""The owner's side of content moderation, shared by the merchant's and the creator's consoles: why
an operator took the content down, the one appeal with its statement, and the operator's decision.
The pages call the same ``content.moderation`` functions as the owners' API endpoints."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from zhongcao.content import moderation
from zhongcao.errors import DomainError, NotFound
from zhongcao.web.console import Console
from zhongcao.web.forms import Form


def render_takedown(
    console: Console, content: Any, back: str, action: str, form: Form | None = None, status_code: int = 200
) -> Response:
    """The owner's take-down page, shared by the merchant's and the creator's consoles."""
    content_id = int(content.id)
    takedown = moderation.latest_takedown(console.db, content_id)
    if takedown is None:
        raise NotFound("this content was not taken down by an operator", code="takedown_not_found")
    return console.render(
        "console/takedown.html",
        "studio" if console.kind == "merchant" else "home",
        status_code=status_code,
        content=content,
        takedown=takedown,
        back=back,
        action=action,
        form=form,
        typed=form.values if form is not None else {},
    )


def appeal_from_form(console: Console, content: Any, data: Any, back: str, action: str) -> Response:
    content_id = int(content.id)
    form = Form(data, console.t)
    statement = form.text("statement", required=True, max_length=moderation.MAX_STATEMENT)
    if not form.ok:
        return render_takedown(console, content, back, action, form, status_code=422)
    try:
        moderation.appeal(console.db, content_id, user_id=console.user_id, statement=statement)
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc)
        return render_takedown(console, content, back, action, form, status_code=exc.status_code)
    return console.redirect(action.removesuffix("/appeal") + "/takedown", flash="moderation.appealed")
