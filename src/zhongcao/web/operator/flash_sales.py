"""An operator's flash sales for a campaign (issue #18: "a merchant, or an operator for a campaign,
sets up a flash sale"): on the campaign's page, the campaign's sales with their units left, a new
sale on any shop's SKU, and ending one. The same service calls as the merchant's pages and
``/api/ops/campaigns/{id}/flash-sales``; each is recorded in the audit log with its reason."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.errors import DomainError
from zhongcao.flashsales import service as flashsales_service
from zhongcao.web.console import IdPath, OperatorConsole
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form
from zhongcao.web.merchant.flash_sales import read_new_sale
from zhongcao.web.operator.dashboards import render_campaign

router = APIRouter(prefix="/operator")


@router.post("/campaigns/{campaign_id}/flash-sales")
def create(console: OperatorConsole, campaign_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    reason = form.text("reason", max_length=500)
    new = read_new_sale(form, data)
    if new is None:
        return render_campaign(console, campaign_id, None, flash_form=form, status_code=422)
    try:
        flashsales_service.create_sale(
            console.db,
            shop_id=None,
            created_by=console.user_id,
            new=flashsales_service.NewSale(**{**new.__dict__, "campaign_id": campaign_id}),
            settings=console.page.request.app.state.settings,
            reason=reason,
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc, {"price_fen": "price"})
        return render_campaign(console, campaign_id, None, flash_form=form, status_code=exc.status_code)
    return console.redirect(f"/operator/campaigns/{campaign_id}#flash-sales", flash="flash.created")


@router.post("/campaigns/{campaign_id}/flash-sales/{sale_id}/end")
def end(console: OperatorConsole, campaign_id: IdPath, sale_id: IdPath, data: FormData) -> Response:
    sale = flashsales_service.get_sale(console.db, sale_id)
    if sale.campaign_id != campaign_id:
        return console.redirect(f"/operator/campaigns/{campaign_id}", flash="flash.not_found")
    form = Form(data, console.t)
    flashsales_service.end_sale(
        console.db,
        sale_id,
        console.page.request.app.state.settings,
        operator_id=console.user_id,
        reason=form.text("reason", max_length=500),
    )
    return console.redirect(f"/operator/campaigns/{campaign_id}#flash-sales", flash="flash.ended_notice")
