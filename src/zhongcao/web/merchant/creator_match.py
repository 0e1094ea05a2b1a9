"""Creators recommended for one of the shop's products (``/merchant/creator-match?product_id=``), each
with its reasons, and the way to act on it: list the creator on the product's targeted plan (the
service behind ``POST /api/merchant/affiliate/plans/{id}/creators``) or, when the product has an open
plan and no targeted one, open a targeted plan for the creator at a better rate.

The same ranking as ``GET /api/merchant/affiliate/products/{id}/recommended-creators``. Commission terms
are the shop's commercial decisions: owners and operators only, as on the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.affiliate import matching_service
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog import service as catalog_service
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID
from zhongcao.web.console import Console, MerchantConsole
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message
from zhongcao.web.match_reasons import category_names, sentence

router = APIRouter(prefix="/merchant/creator-match")
SHOWN = 20
PICKABLE = 200  # the shop's newest products on sale offered in the picker


def _products(console: Console) -> list[Any]:
    assert console.shop_id is not None
    ids = catalog_service.product_ids_of_shop(console.db, console.shop_id, active_only=True)[-PICKABLE:]
    briefs = catalog_service.product_briefs(console.db, ids)
    return [briefs[i] for i in reversed(ids) if i in briefs and briefs[i].on_sale]


def _render(
    console: Console,
    product_id: int | None,
    form: Form | None = None,
    form_account: int | None = None,
    status_code: int = 200,
) -> Response:
    assert console.shop_id is not None
    products = _products(console)
    if product_id is None and products:
        product_id = products[0].id
    product = next((p for p in products if p.id == product_id), None)
    rows: list[dict[str, Any]] = []
    open_plan = targeted = None
    problem = None
    if product_id is not None and product is None:
        problem = console.t("match.merchant.not_yours")
        status_code = 404 if status_code == 200 else status_code
    if product is not None:
        plans = affiliate_service.active_plans_for_product(console.db, product.id)
        open_plan = next((p for p in plans if p.kind == PlanKind.open), None)
        targeted = next((p for p in plans if p.kind == PlanKind.targeted), None)
        try:
            matches = matching_service.recommended_creators(console.db, console.shop_id, product.id, SHOWN)
        except DomainError as exc:
            console.db.rollback()
            matches, problem = [], error_message(console.t, exc)
        names = category_names(console.db, [m.reasons for m in matches], console.page.locale)
        rows = [
            {"match": m, "reasons": [sentence(console, "merchant", r, names) for r in m.reasons]}
            for m in matches
        ]
    suggested = (open_plan.commission_bps + 500) if open_plan is not None else 1000
    return console.render(
        "merchant/creator_match.html",
        "creator_match",
        status_code=status_code,
        products=products,
        product=product,
        rows=rows,
        open_plan=open_plan,
        targeted=targeted,
        problem=problem,
        form=form,
        form_account=form_account,
        suggested_rate=f"{min(suggested, 9000) / 100:g}",
        typed=form.values if form is not None else {},
    )


@router.get("")
def creator_match(
    console: MerchantConsole, product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> Response:
    console.require_manager()
    return _render(console, product_id)


@router.post("/invite")
def invite(console: MerchantConsole, data: FormData) -> Response:
    """List a recommended creator on the product's targeted plan, or open one for it at ``rate`` %."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    product_id = form.integer("product_id", required=True, minimum=1, maximum=MAX_ID)
    account_id = form.integer("account_id", required=True, minimum=1, maximum=MAX_ID)
    plan_id = form.integer("plan_id", minimum=1, maximum=MAX_ID)
    rate = form.text("rate", max_length=6) if plan_id is None else ""
    bps = None
    if plan_id is None and form.ok:
        try:
            bps = round(float(rate) * 100)
        except ValueError:
            form.error("rate", console.t("form.invalid_number"))
        else:
            if not 1 <= bps <= affiliate_service.MAX_COMMISSION_BPS:
                form.error("rate", console.t("form.invalid_number"))
    if form.ok and product_id is not None and account_id is not None:
        try:
            if plan_id is not None:
                affiliate_service.add_plan_creator(console.db, console.shop_id, plan_id, account_id)
            else:
                assert bps is not None
                affiliate_service.create_plan(
                    console.db,
                    console.shop_id,
                    product_id=product_id,
                    kind=PlanKind.targeted,
                    commission_bps=bps,
                    creator_account_ids=[account_id],
                )
        except DomainError as exc:
            console.db.rollback()
            form.add_domain_error(exc, {"commission_bps": "rate"})
    if not form.ok:
        return _render(console, product_id, form, account_id, status_code=422)
    return console.redirect(
        f"/merchant/creator-match?product_id={product_id}", flash="match.merchant.invited"
    )
