"""HTTP endpoints: the carriers, an order's tracking (buyer and shop), a real carrier's webhook."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zhongcao.deps import DbSession, MerchantCtx, ShopperUser
from zhongcao.errors import NotFound
from zhongcao.fields import IdPath
from zhongcao.logistics import carriers, service, webhook
from zhongcao.logistics.schemas import CarrierOut, TrackingEventOut, TrackingOut, WebhookEvent, WebhookResult

router = APIRouter()


def _webhook_body_schema() -> dict[str, Any]:
    # The Kind enum is a component of the schema already (TrackingEventOut); point at it there.
    schema = WebhookEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def _carrier_out(carrier: carriers.CarrierInfo) -> CarrierOut:
    return CarrierOut(code=carrier.code, name_zh=carrier.name_zh, name_en=carrier.name_en)


def tracking_out(tracking: service.Tracking) -> TrackingOut:
    return TrackingOut(
        order_id=tracking.order_id,
        carrier=_carrier_out(tracking.carrier) if tracking.carrier is not None else None,
        carrier_name=tracking.carrier_name,
        tracking_number=tracking.tracking_number,
        status=tracking.status,
        delayed=tracking.delayed,
        expected_delivery_at=tracking.expected_delivery_at,
        events=[
            TrackingEventOut(
                kind=e.kind,
                at=e.at,
                location_zh=e.location_zh,
                location_en=e.location_en,
                description=e.description,
                source=e.source,
            )
            for e in tracking.events
        ],
    )


def _found(tracking: service.Tracking | None) -> TrackingOut:
    if tracking is None:
        raise NotFound("the order has not shipped yet", code="not_shipped")
    return tracking_out(tracking)


@router.get("/api/logistics/carriers", response_model=list[CarrierOut], tags=["logistics"])
def list_carriers() -> list[CarrierOut]:
    """The carriers a shop may ship with: ``code`` goes in the ship request's ``carrier_name``."""
    return [_carrier_out(c) for c in carriers.CARRIERS]


@router.get("/api/orders/{order_id}/tracking", response_model=TrackingOut, tags=["orders"])
def buyer_tracking(order_id: IdPath, user: ShopperUser, db: DbSession) -> TrackingOut:
    """The parcel's carrier, status, expected delivery and every scan, newest first (404
    ``not_shipped`` before the order ships)."""
    return _found(service.buyer_tracking(db, user.id, order_id))


@router.get("/api/merchant/orders/{order_id}/tracking", response_model=TrackingOut, tags=["merchant"])
def merchant_tracking(order_id: IdPath, ctx: MerchantCtx, db: DbSession) -> TrackingOut:
    return _found(service.shop_tracking(db, ctx.shop_id, order_id))


def _receive(
    request: Request, carrier_code: str, timestamp: str | None, signature: str | None, body: bytes
) -> dict[str, Any]:
    settings = request.app.state.settings
    verified = webhook.verify(settings, carrier_code, timestamp, signature, body)
    db: Session = request.app.state.database.session()
    try:
        return webhook.receive(db, settings, verified).model_dump(mode="json")
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


@router.post(
    "/api/logistics/webhooks/{carrier_code}",
    response_model=WebhookResult,
    tags=["logistics"],
    responses={401: {}, 404: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _webhook_body_schema()}},
        }
    },
)
async def carrier_webhook(
    request: Request,
    carrier_code: Annotated[str, Path(max_length=32)],
    timestamp: Annotated[str | None, Header(alias=webhook.TIMESTAMP_HEADER, max_length=20)] = None,
    signature: Annotated[str | None, Header(alias=webhook.SIGNATURE_HEADER, max_length=200)] = None,
) -> dict[str, Any]:
    """A carrier's tracking event, signed with its secret (docs/logistics.md): HMAC-SHA256 of
    ``timestamp + "." + body`` in ``X-Zhongcao-Signature`` (``sha256=<hex>``), Unix seconds in
    ``X-Zhongcao-Timestamp``. 401 ``missing_signature``, ``bad_timestamp``, ``stale_timestamp`` (more
    than 5 minutes away: replay protection) or ``bad_signature``; 404 ``unknown_carrier``,
    ``webhook_not_configured`` or ``unknown_tracking_number``. An event id seen before answers 200
    with ``duplicate: true`` and changes nothing."""
    body = await request.body()
    return await run_in_threadpool(_receive, request, carrier_code, timestamp, signature, body)
