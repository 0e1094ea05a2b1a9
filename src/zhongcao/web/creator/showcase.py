"""My showcase (商品橱窗): the products I chose from the plaza, in my order, with whether my followers
see each one (and why not), the commission each would pay me now, and buttons to move and remove.

Everything goes through :mod:`zhongcao.affiliate.showcase` (the same code as ``/api/creator/showcase``).
Products are added from the plaza (``/creator/plaza``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.affiliate import showcase as showcase_service
from zhongcao.errors import DomainError
from zhongcao.web.console import Console, CreatorConsole, IdPath
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/creator")


SHOWS = ["visible", "hidden"]


def _render(
    console: Console, form: Form | None = None, status_code: int = 200, show: str | None = None
) -> Response:
    assert console.account_id is not None
    entries = showcase_service.entries(console.db, console.account_id)
    listed = [e for e in entries if show is None or e.available == (show == "visible")]
    return console.render(
        "creator/showcase.html",
        "showcase",
        status_code=status_code,
        entries=listed,
        total=len(entries),
        shown=sum(1 for e in entries if e.available),
        show=show or "",
        shows=SHOWS,
        form=form,
        account_id=console.account_id,
        limit=showcase_service.MAX_SHOWCASE_ITEMS,
    )


@router.get("/showcase")
def showcase(console: CreatorConsole, show: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return _render(console, show=show if show in SHOWS else None)


def _refused(console: Console, exc: DomainError) -> Response:
    console.db.rollback()
    form = Form({}, console.t)
    form.message = error_message(console.t, exc)
    return _render(console, form, status_code=exc.status_code)


@router.post("/showcase/{product_id}/move")
def move(console: CreatorConsole, product_id: IdPath, data: FormData) -> Response:
    assert console.account_id is not None
    form = Form(data, console.t)
    position = form.integer("position", required=True, minimum=1, maximum=showcase_service.MAX_SHOWCASE_ITEMS)
    if position is None:
        return _render(console, form, status_code=422)
    try:
        showcase_service.move(console.db, console.account_id, product_id, position)
    except DomainError as exc:
        return _refused(console, exc)
    return console.redirect(f"/creator/showcase#item-{product_id}", flash="creator.showcase.moved")


@router.post("/showcase/{product_id}/remove")
def remove(console: CreatorConsole, product_id: IdPath, _: FormData) -> Response:
    assert console.account_id is not None
    try:
        showcase_service.remove(console.db, console.account_id, product_id)
    except DomainError as exc:
        return _refused(console, exc)
    return console.redirect("/creator/showcase", flash="creator.showcase.removed")
