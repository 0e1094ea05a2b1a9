"""Platform campaigns from the shop's side: which ones it may join, the experience-score gate with
its reason, registering products and withdrawing them. The same ``campaigns.service`` calls as the
JSON API (``register_product`` applies every gate; the page only explains them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import clock
from zhongcao.campaigns import service as campaigns_service
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.errors import Conflict, DomainError
from zhongcao.experience import scores as experience_scores
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/merchant")


def _score_text(centi: int | None) -> str:
    return "—" if centi is None else f"{centi / 100:.2f}"


def refusal_reason(console: Console, exc: DomainError) -> str:
    """A gate's refusal in words, with the numbers: "your score 4.10 is below this campaign's 4.50"."""
    details = exc.details
    if exc.code == "shop_score_too_low":
        key = "campaigns.gate.platform" if details.get("gate") == "platform" else "campaigns.gate.campaign"
        return console.t(
            key, score=_score_text(details.get("score")), required=_score_text(details.get("required"))
        )
    if exc.code == "shop_not_scored":
        return console.t("campaigns.gate.not_scored", required=_score_text(details.get("required")))
    return error_message(console.t, exc)


def _state(campaign: Any, now: Any) -> str:
    return "running" if campaigns_service.is_open(campaign, now) else "upcoming"


STATES = ("running", "upcoming")


@router.get("/campaigns")
def campaigns(
    console: MerchantConsole,
    state: Annotated[Literal["running", "upcoming"] | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: campaigns_service.list_registrable_campaigns(db, p, state=state), cursor
    )
    now = clock.now()
    counts = campaigns_service.shop_registration_counts(db, shop_id, [c.id for c in rows])
    items = []
    for campaign in rows:
        refusal = campaigns_service.score_refusal(db, shop_id, campaign)
        items.append(
            {
                "campaign": campaign,
                "state": _state(campaign, now),
                "registered": counts[campaign.id],
                "refusal": refusal_reason(console, refusal) if refusal is not None else None,
            }
        )
    return console.render(
        "merchant/campaigns.html",
        "campaigns",
        items=items,
        state=state or "",
        states=STATES,
        base="/merchant/campaigns" + (f"?state={state}" if state else ""),
        next_cursor=next_cursor,
        score=_score_text(experience_scores.current_score_centi(db, shop_id)),
    )


def _render_campaign(
    console: Console,
    campaign_id: int,
    cursor: str | None,
    refused: tuple[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    campaign = campaigns_service.get_campaign(db, campaign_id)
    if campaigns_service.is_closed(campaign):
        raise_closed = Conflict("this campaign has ended or was cancelled", code="campaign_closed")
        refusal_text: str | None = error_message(console.t, raise_closed)
    else:
        refusal = campaigns_service.score_refusal(db, shop_id, campaign)
        refusal_text = refusal_reason(console, refusal) if refusal is not None else None
    products, next_cursor = page_of(
        lambda p: catalog_service.list_shop_products(db, shop_id, p, status=ProductStatus.active), cursor
    )
    eligible = campaigns_service.eligible_category_ids(db, campaign_id)
    registrations = campaigns_service.shop_registrations_for_products(
        db, shop_id, campaign_id, [p.id for p in products]
    )
    rows = []
    for product in products:
        registration = registrations.get(product.id)
        registered = registration is not None and registration.withdrawn_at is None
        rows.append(
            {
                "product": product,
                "eligible": product.category_id in eligible,
                "registered": registered,
                "withdrawn": registration is not None and registration.withdrawn_at is not None,
                "since": registration.created_at if registration is not None else None,
            }
        )
    return console.render(
        "merchant/campaign.html",
        "campaigns",
        status_code=status_code,
        campaign=campaign,
        state=_state(campaign, clock.now()),
        categories=campaigns_service.campaign_categories(db, campaign_id),
        refusal=refusal_text,
        rows=rows,
        refused=refused,
        next_cursor=next_cursor,
        score=_score_text(experience_scores.current_score_centi(db, shop_id)),
    )


@router.get("/campaigns/{campaign_id}")
def campaign(console: MerchantConsole, campaign_id: IdPath, cursor: CursorQuery = None) -> Response:
    return _render_campaign(console, campaign_id, cursor)


@router.post("/campaigns/{campaign_id}/registrations")
def register(console: MerchantConsole, campaign_id: IdPath, data: FormData) -> Response:
    """Register one product; a refusal is shown on the page with its reason."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    product_id = form.integer("product_id", required=True, minimum=1)
    withdraw = form.text("action") == "withdraw"
    if product_id is None:
        return console.redirect(f"/merchant/campaigns/{campaign_id}")
    try:
        if withdraw:
            campaigns_service.withdraw_registration(console.db, console.shop_id, campaign_id, product_id)
        else:
            campaigns_service.register_product(console.db, console.shop_id, campaign_id, product_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.code in ("campaign_not_found", "product_not_found"):
            raise
        return _render_campaign(
            console,
            campaign_id,
            None,
            refused=(product_id, refusal_reason(console, exc)),
            status_code=exc.status_code,
        )
    flash = "campaigns.withdrawn" if withdraw else "campaigns.registered"
    return console.redirect(f"/merchant/campaigns/{campaign_id}", flash=flash)
