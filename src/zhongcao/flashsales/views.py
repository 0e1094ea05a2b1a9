"""Flash sales over the API: a shop's sales (``/api/merchant/flash-sales``), operators' campaign
sales (``/api/operator/flash-sales``), and for everyone a sale's state, its live stream of changes,
and joining it (``/api/flash-sales/{id}``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from zhongcao.campaigns import service as campaigns_service
from zhongcao.config import Settings
from zhongcao.deps import (
    DbSession,
    MerchantCtx,
    OperatorUser,
    OptionalUser,
    ShopManagerCtx,
    ShopperUser,
    client_address,
    request_token,
)
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.fields import IdPath
from zhongcao.flashsales import joining, service
from zhongcao.flashsales.models import FlashAdmission, FlashSale
from zhongcao.flashsales.schemas import (
    CampaignFlashSaleIn,
    FlashSaleIn,
    FlashSaleOut,
    FlashSaleStateOut,
    JoinIn,
    JoinOut,
    OperatorEndIn,
    OperatorFlashSaleIn,
    TicketOut,
)
from zhongcao.realtime.service import user_channel
from zhongcao.request_limits import BuyLimits, buy_limits_for
from zhongcao.users import addresses
from zhongcao.users import service as users_service

router = APIRouter(tags=["flash sales"])

STREAM_SECONDS = 30.0
RESYNC_SECONDS = 5.0


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def buy_limits(request: Request) -> BuyLimits:
    """The app's buy-endpoint rate limits (made on first use from the app's settings)."""
    return buy_limits_for(request.app)


def sale_out(db: Session, sale: FlashSale, settings: Settings) -> FlashSaleOut:
    state = service.sale_state(db, sale, settings)
    return FlashSaleOut(
        id=sale.id,
        shop_id=sale.shop_id,
        product_id=sale.product_id,
        sku_id=sale.sku_id,
        title=sale.title,
        price_fen=sale.price_fen,
        quantity=sale.quantity,
        per_buyer_limit=sale.per_buyer_limit,
        payment_window_minutes=sale.payment_window_minutes,
        starts_at=sale.starts_at,
        ends_at=sale.ends_at,
        status=sale.status,
        live_content_id=sale.live_content_id,
        campaign_id=sale.campaign_id,
        units_taken=sale.units_taken,
        returned_to_stock=sale.returned_to_stock,
        phase=state.phase,
        remaining=state.remaining,
    )


def ticket_out(ticket: FlashAdmission, sale: FlashSale) -> TicketOut:
    pay_by = ticket.written_at + timedelta(minutes=sale.payment_window_minutes) if ticket.written_at else None
    return TicketOut(
        ticket=ticket.ticket,
        sale_id=ticket.sale_id,
        seq=ticket.seq,
        state=ticket.state,
        admitted_at=ticket.admitted_at,
        checkout_id=ticket.checkout_id,
        order_id=ticket.order_id,
        pay_by=pay_by,
    )


def _new_sale(body: FlashSaleIn, campaign_id: int | None = None) -> service.NewSale:
    return service.NewSale(
        sku_id=body.sku_id,
        title=body.title,
        price_fen=body.price_fen,
        quantity=body.quantity,
        per_buyer_limit=body.per_buyer_limit,
        payment_window_minutes=body.payment_window_minutes,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        live_content_id=body.live_content_id,
        campaign_id=campaign_id,
    )


# --- merchants -----------------------------------------------------------------------------------


@router.get("/api/merchant/flash-sales", response_model=list[FlashSaleOut])
def merchant_list(ctx: MerchantCtx, db: DbSession, request: Request) -> list[FlashSaleOut]:
    """The shop's flash sales, newest first."""
    return [sale_out(db, s, _settings(request)) for s in service.list_sales(db, shop_id=ctx.shop_id)]


@router.post("/api/merchant/flash-sales", response_model=FlashSaleOut, status_code=status.HTTP_201_CREATED)
def merchant_create(body: FlashSaleIn, ctx: ShopManagerCtx, db: DbSession, request: Request) -> FlashSaleOut:
    """Set up a flash sale on one of the shop's SKUs (its units leave the SKU's stock at once)."""
    settings = _settings(request)
    sale = service.create_sale(
        db, shop_id=ctx.shop_id, created_by=ctx.user.id, new=_new_sale(body), settings=settings
    )
    return sale_out(db, sale, settings)


@router.get("/api/merchant/flash-sales/{sale_id}", response_model=FlashSaleOut)
def merchant_get(sale_id: IdPath, ctx: MerchantCtx, db: DbSession, request: Request) -> FlashSaleOut:
    return sale_out(db, service.get_for_shop(db, ctx.shop_id, sale_id), _settings(request))


@router.post("/api/merchant/flash-sales/{sale_id}/start", response_model=FlashSaleOut)
def merchant_start(sale_id: IdPath, ctx: ShopManagerCtx, db: DbSession, request: Request) -> FlashSaleOut:
    """Pin the product in the sale's live room and start the sale now (the host dashboard's pin)."""
    settings = _settings(request)
    sale = service.start_by_pin(db, service.get_for_shop(db, ctx.shop_id, sale_id), settings)
    return sale_out(db, sale, settings)


@router.post("/api/merchant/flash-sales/{sale_id}/end", response_model=FlashSaleOut)
def merchant_end(sale_id: IdPath, ctx: ShopManagerCtx, db: DbSession, request: Request) -> FlashSaleOut:
    """End the sale: units no ticket holds go back to the SKU's stock."""
    settings = _settings(request)
    service.get_for_shop(db, ctx.shop_id, sale_id)
    return sale_out(db, service.end_sale(db, sale_id, settings), settings)


# --- operators -----------------------------------------------------------------------------------


@router.get("/api/operator/flash-sales", response_model=list[FlashSaleOut])
def operator_list(_: OperatorUser, db: DbSession, request: Request) -> list[FlashSaleOut]:
    """Every shop's flash sales, newest first."""
    return [sale_out(db, s, _settings(request)) for s in service.list_sales(db)]


@router.post("/api/operator/flash-sales", response_model=FlashSaleOut, status_code=status.HTTP_201_CREATED)
def operator_create(
    body: OperatorFlashSaleIn, user: OperatorUser, db: DbSession, request: Request
) -> FlashSaleOut:
    """A flash sale for a campaign, on any shop's SKU (audited)."""
    settings = _settings(request)
    sale = service.create_sale(
        db,
        shop_id=None,
        created_by=user.id,
        new=_new_sale(body, body.campaign_id),
        settings=settings,
        reason=body.reason,
    )
    return sale_out(db, sale, settings)


@router.post("/api/operator/flash-sales/{sale_id}/end", response_model=FlashSaleOut)
def operator_end(sale_id: IdPath, user: OperatorUser, db: DbSession, request: Request) -> FlashSaleOut:
    settings = _settings(request)
    service.get_sale(db, sale_id)
    return sale_out(db, service.end_sale(db, sale_id, settings, operator_id=user.id), settings)


@router.get("/api/ops/campaigns/{campaign_id}/flash-sales", response_model=list[FlashSaleOut], tags=["ops"])
def ops_campaign_list(
    campaign_id: IdPath, _: OperatorUser, db: DbSession, request: Request
) -> list[FlashSaleOut]:
    """The campaign's flash sales (any shop's), newest first."""
    campaigns_service.get_campaign(db, campaign_id)
    settings = _settings(request)
    return [sale_out(db, s, settings) for s in service.list_sales(db, campaign_id=campaign_id)]


@router.post(
    "/api/ops/campaigns/{campaign_id}/flash-sales",
    response_model=FlashSaleOut,
    status_code=status.HTTP_201_CREATED,
    tags=["ops"],
)
def ops_campaign_create(
    campaign_id: IdPath, body: CampaignFlashSaleIn, user: OperatorUser, db: DbSession, request: Request
) -> FlashSaleOut:
    """A flash sale in the campaign on any shop's SKU: the merchant's rules (its units leave the SKU's
    stock at once), recorded in the audit log (``flash_sale.create``)."""
    settings = _settings(request)
    sale = service.create_sale(
        db,
        shop_id=None,
        created_by=user.id,
        new=_new_sale(body, campaign_id),
        settings=settings,
        reason=body.reason,
    )
    return sale_out(db, sale, settings)


@router.post("/api/ops/flash-sales/{sale_id}/end", response_model=FlashSaleOut, tags=["ops"])
def ops_end(
    sale_id: IdPath, user: OperatorUser, db: DbSession, request: Request, body: OperatorEndIn | None = None
) -> FlashSaleOut:
    """End (cancel) any flash sale: units no ticket holds go back to the SKU's stock (audited,
    ``flash_sale.end``)."""
    settings = _settings(request)
    service.get_sale(db, sale_id)
    sale = service.end_sale(
        db, sale_id, settings, operator_id=user.id, reason=body.reason if body is not None else None
    )
    return sale_out(db, sale, settings)


# --- everyone ------------------------------------------------------------------------------------


@router.get("/api/flash-sales/{sale_id}", response_model=FlashSaleStateOut)
def sale_state(sale_id: IdPath, user: OptionalUser, db: DbSession, request: Request) -> FlashSaleStateOut:
    """The sale now (phase, units left) and, signed in, the caller's tickets."""
    sale = service.get_sale(db, sale_id)
    tickets = service.tickets_of(db, sale.id, user.id) if user is not None else []
    return FlashSaleStateOut(
        sale=sale_out(db, sale, _settings(request)), tickets=[ticket_out(t, sale) for t in tickets]
    )


def shipping_address_for(
    db: Session, user_id: int, body: JoinIn
) -> dict[str, str] | Callable[[], dict[str, str]]:
    """Where the order will ship: the address given, else the saved one named (or the default one) as
    a function the join calls only when a unit is there to give (a refusal reads no address)."""
    if body.address_id is not None and body.shipping_address is not None:
        raise InvalidInput(
            "send either shipping_address or address_id, not both",
            code="address_or_saved_address",
            field="address_id",
        )
    if body.shipping_address is not None:
        return body.shipping_address.model_dump()
    return lambda: _saved_address(db, user_id, body.address_id)


def _saved_address(db: Session, user_id: int, address_id: int | None) -> dict[str, str]:
    if address_id is not None:
        return addresses.shipping_address(db, user_id, address_id)
    default = addresses.default_address(db, user_id)
    if default is None:
        raise InvalidInput(
            "add a shipping address first: the order is written for you after you are admitted",
            code="address_required",
            field="address_id",
        )
    return addresses.shipping_address(db, user_id, default.id)


@router.post("/api/flash-sales/{sale_id}/join", response_model=JoinOut, status_code=status.HTTP_201_CREATED)
def join(sale_id: IdPath, body: JoinIn, user: ShopperUser, db: DbSession, request: Request) -> JoinOut:
    """Ask for one unit. 201 with a ticket (``queued``: the order follows within a second, on the
    user channel and in ``GET /api/flash-sales/{id}``); 409 ``sold_out``, ``limit_reached``,
    ``address_limit_reached``, ``sale_not_started``, ``sale_ended``; 429 past the rate limits; 503
    ``sale_rebuilding`` while the counters are rebuilt (retry after ``Retry-After``)."""
    buy_limits(request).spend("flash", user.id, client_address(request))
    address = shipping_address_for(db, user.id, body)
    joined = joining.join(
        db,
        sale_id,
        user.id,
        shipping_address=address,
        request_key=request.headers.get("Idempotency-Key", ""),
        content_id=body.content_id,
        settings=_settings(request),
    )
    return JoinOut(
        ticket=ticket_out(joined.ticket, joined.sale),
        remaining=joined.remaining,
        duplicate=joined.duplicate,
    )


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'), default=str)}\n\n"


@router.get("/api/flash-sales/{sale_id}/events")
async def sale_events(sale_id: IdPath, request: Request) -> Response:
    """Server-Sent Events: ``state`` (phase, remaining) at once and on every change, for every viewer;
    ``ticket`` (state, checkout to pay) for the signed-in buyer's own tickets. Ends after 30 s (the
    browser reconnects by itself)."""
    return await stream_sale(request, sale_id)


async def stream_sale(request: Request, sale_id: int) -> Response:
    database = request.app.state.database
    settings = _settings(request)

    def read(user_id: int | None) -> tuple[dict[str, Any], list[dict[str, Any]], int] | None:
        with database.session(read_only=True) as db:
            sale = db.get(FlashSale, sale_id)
            if sale is None:
                return None
            if user_id is None:
                token = request_token(request)
                found = users_service.user_for_token(db, token) if token else None
                user_id = found.id if found is not None else 0
            state = service.state_message(service.sale_state(db, sale, settings))
            tickets = (
                [
                    ticket_out(t, sale).model_dump(mode="json")
                    for t in service.tickets_of(db, sale.id, user_id)
                ]
                if user_id
                else []
            )
            return state, tickets, user_id

    first = await to_thread.run_sync(read, None)
    if first is None:  # the API's own error body, like every other 404
        raise NotFound("flash sale not found", code="flash_sale_not_found")
    state, tickets, user_id = first
    channels = [service.product_channel(int(state["product_id"]))]
    if user_id:
        channels.append(user_channel(user_id))
    bus = request.app.state.realtime.bus

    async def stream() -> AsyncIterator[str]:
        async with bus.subscribe(channels) as subscription:
            yield "retry: 1000\n\n"
            yield _sse("state", state)
            for ticket in tickets:
                yield _sse("ticket", ticket)
            deadline = time.monotonic() + STREAM_SECONDS
            next_resync = time.monotonic() + RESYNC_SECONDS
            while time.monotonic() < deadline:
                message = await subscription.get(timeout=1.0)
                if message is not None:
                    kind = message.data.get("type")
                    if kind == "flash_sale" and message.data.get("sale_id") == sale_id:
                        if message.data.get("remaining") is None:
                            next_resync = 0  # a change of phase: read the whole state
                        else:
                            yield _sse("state", message.data)
                    elif kind == "flash_ticket" and message.data.get("sale_id") == sale_id:
                        await asyncio.sleep(0.02)
                        again = await to_thread.run_sync(read, user_id)
                        for ticket in (again or ({}, [], 0))[1]:
                            yield _sse("ticket", ticket)
                if time.monotonic() >= next_resync:
                    next_resync = time.monotonic() + RESYNC_SECONDS
                    again = await to_thread.run_sync(read, user_id)
                    if again is not None:
                        yield _sse("state", again[0])
                    else:
                        yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
