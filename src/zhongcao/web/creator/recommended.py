"""Products recommended to the creator (``/creator/recommended``): what fits its audience and content,
each with its reasons, the plan to promote under and, where a targeted plan pays more, a form to apply
to it (the plaza's own apply route, ``POST /creator/plans/{id}/apply``).

The same ranking as ``GET /api/creator/recommendations`` (:mod:`zhongcao.affiliate.matching_service`).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.affiliate import matching_service
from zhongcao.money import apply_bps
from zhongcao.web.console import CreatorConsole
from zhongcao.web.match_reasons import category_names, sentence

router = APIRouter(prefix="/creator")
SHOWN = 20


@router.get("/recommended")
def recommended(console: CreatorConsole) -> Response:
    assert console.account_id is not None
    matches = matching_service.recommended_products(console.db, console.account_id, SHOWN)
    names = category_names(console.db, [m.reasons for m in matches], console.page.locale)
    rows = [
        {
            "match": m,
            "reasons": [sentence(console, "creator", r, names) for r in m.reasons],
            "per_sale": None
            if m.product.price_fen is None
            else apply_bps(m.product.price_fen, m.plan.commission_bps),
        }
        for m in matches
    ]
    return console.render("creator/recommended.html", "recommended", rows=rows)
