"""Products recommended to the creator (``/creator/recommended``): what fits its audience and content,
each with its reasons, the plan to promote under, a button that puts it in the creator's showcase, a
link to request a sample and, where a targeted plan pays more, a form to apply to it (the plaza's own
apply route, ``POST /creator/plans/{id}/apply``).

The same ranking as ``GET /api/creator/recommendations`` (:mod:`zhongcao.affiliate.matching_service`).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.affiliate import matching_service
from zhongcao.affiliate import showcase as showcase_service
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID
from zhongcao.money import apply_bps
from zhongcao.web.console import CreatorConsole
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.match_reasons import category_names, sentence

router = APIRouter(prefix="/creator")
SHOWN = 20


def _render(console: CreatorConsole, *, message: str | None = None, status_code: int = 200) -> Response:
    assert console.account_id is not None
    matches = matching_service.recommended_products(console.db, console.account_id, SHOWN)
    in_showcase = showcase_service.in_showcase(
        console.db, console.account_id, [m.product.id for m in matches]
    )
    names = category_names(console.db, [m.reasons for m in matches], console.page.locale)
    rows = [
        {
            "match": m,
            "reasons": [sentence(console, "creator", r, names) for r in m.reasons],
            "per_sale": None
            if m.product.price_fen is None
            else apply_bps(m.product.price_fen, m.plan.commission_bps),
            "in_showcase": m.product.id in in_showcase,
        }
        for m in matches
    ]
    return console.render(
        "creator/recommended.html", "recommended", rows=rows, message=message, status_code=status_code
    )


@router.get("/recommended")
def recommended(console: CreatorConsole) -> Response:
    return _render(console)


@router.post("/recommended/showcase")
def add_to_showcase(console: CreatorConsole, data: FormData) -> Response:
    """A row's "add to showcase" button (the same rule as the plaza's: ``affiliate.showcase.add``)."""
    assert console.account_id is not None
    form = Form(data, console.t)
    product_id = form.integer("product_id", required=True, minimum=1, maximum=MAX_ID)
    if product_id is None:
        return _render(console, message=console.t("form.fix_errors"), status_code=422)
    try:
        showcase_service.add(console.db, console.account_id, product_id)
    except DomainError as exc:
        console.db.rollback()
        return _render(console, message=error_message(console.t, exc), status_code=exc.status_code)
    return console.redirect("/creator/recommended", flash="creator.showcase.added")
