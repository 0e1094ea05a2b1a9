"""The flash sale on a product's page and in its live room: the countdown, the buy button, "in
queue", "sold out" and "your order is ready to pay", kept current over the sale's event stream
(``GET /api/flash-sales/{id}/events``, js/flash.js). Joining goes through the same service as the API
(``POST /api/flash-sales/{id}/join``), with the page's rate limits and default address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from zhongcao.deps import client_address
from zhongcao.errors import DomainError
from zhongcao.flashsales import joining as flashsales_joining
from zhongcao.flashsales import service as flashsales_service
from zhongcao.flashsales.schemas import JoinIn
from zhongcao.flashsales.views import buy_limits, shipping_address_for
from zhongcao.web.context import FormData, ShopperPage
from zhongcao.web.forms import error_message
from zhongcao.web.shopper.common import IdPath

router = APIRouter()


def flash_context(page: Any, product_id: int) -> dict[str, Any] | None:
    """What the widget needs to draw its first state (the stream keeps it current), or None."""
    sale = flashsales_service.current_for_product(page.db, product_id)
    if sale is None:
        return None
    state = flashsales_service.sale_state(page.db, sale, page.request.app.state.settings)
    tickets = flashsales_service.tickets_of(page.db, sale.id, page.shopper_id) if page.shopper_id else []
    return {"sale": sale, "state": state, "ticket": tickets[-1] if tickets else None}


@router.post("/flash-sales/{sale_id}/join")
def join(page: ShopperPage, sale_id: IdPath, data: FormData) -> Response:
    """The buy button (JSON for the page's script; a plain form post comes back to the product)."""
    assert page.user is not None
    raw_room = str(data.get("content_id") or "")
    room = int(raw_room) if raw_room.isdigit() and len(raw_room) < 19 else None
    request = page.request
    try:
        buy_limits(request).spend("flash", page.user.id, client_address(request))
        address = shipping_address_for(page.db, page.user.id, JoinIn())
        joined = flashsales_joining.join(
            page.db,
            sale_id,
            page.user.id,
            shipping_address=address,
            request_key=str(data.get("request_key") or "")[:64],
            content_id=room,
            settings=request.app.state.settings,
        )
    except DomainError as exc:
        page.db.rollback()
        body = {"error": {"code": exc.code, "message": error_message(page.t, exc)}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    ticket = joined.ticket
    return JSONResponse(
        {"ticket": ticket.ticket, "state": ticket.state.value, "remaining": joined.remaining},
        status_code=201,
    )
