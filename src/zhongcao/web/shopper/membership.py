"""A shop's membership, from the shopper's side: the tiers, joining (consent required, phone
optional) and, once a member, the tier reached by spend in the shop and what the next one needs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao import flows
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.errors import DomainError
from zhongcao.membership import service as membership_service
from zhongcao.shops import service as shops_service
from zhongcao.web.context import FormData, Page, ShopperPage, WebContext
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import IdPath

router = APIRouter()


def _render(page: WebContext, shop_id: int, form: Form | None, status_code: int = 200) -> Response:
    shop = shops_service.get_active_shop(page.db, shop_id)
    status = flows.member_status(page.db, shop_id, page.shopper_id)
    enabled = bool(status.program and status.program.enabled)
    # The shop's members-only coupons, shown while the programme runs (the reason to join).
    member_offers = (
        [
            o
            for o in coupons_service.offers_for_shop(page.db, page.shopper_id, shop_id)
            if o.coupon.members_only
        ]
        if enabled
        else []
    )
    return page.render(
        "shopper/membership.html",
        status_code=status_code,
        shop=shop,
        status=status,
        enabled=enabled,
        member_offers=member_offers,
        is_member=enabled and status.member is not None,
        here=f"/shops/{shop_id}/membership",
        tiers=membership_service.tiers_of(status.program),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/shops/{shop_id}/membership")
def membership(page: Page, shop_id: IdPath) -> Response:
    return _render(page, shop_id, None)


@router.post("/shops/{shop_id}/membership")
def join(page: ShopperPage, shop_id: IdPath, data: FormData) -> Response:
    assert page.user_id is not None
    form = Form(data, page.t)
    consent = data.get("consent") == "on"
    form.values["consent"] = consent
    phone = form.text("phone", max_length=20)
    if not consent:
        form.error("consent", page.t("membership.consent_required"))
    if form.ok:
        try:
            membership_service.join(page.db, shop_id, page.user_id, consent=consent, phone=phone or None)
            return page.redirect(f"/shops/{shop_id}/membership", flash="membership.joined")
        except DomainError as exc:
            page.db.rollback()
            form.add_domain_error(exc)
    return _render(page, shop_id, form, status_code=422)
