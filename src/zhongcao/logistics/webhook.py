"""A real carrier's tracking events, pushed to ``POST /api/logistics/webhooks/{carrier_code}``.

Each request carries one event and two headers (docs/logistics.md has signing examples):

* ``X-Zhongcao-Timestamp``: Unix seconds when the carrier signed it;
* ``X-Zhongcao-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the carrier's secret
  (``ZHONGCAO_CARRIER_WEBHOOK_SECRETS``), of ``timestamp + "." + body`` (the raw bytes).

Checks, in order: the carrier is registered (404 ``unknown_carrier``) and has a secret
(404 ``webhook_not_configured``); both headers present (401 ``missing_signature``); the timestamp a
number (401 ``bad_timestamp``) within the tolerance of our clock, 5 minutes by default
(401 ``stale_timestamp``: a captured request cannot be replayed later); the signature matches
(401 ``bad_signature``, compared in constant time); then the body (422 naming the field), the
tracking number (404 ``unknown_tracking_number``). An event id recorded before answers 200 with
``"duplicate": true`` and changes nothing: carriers retry, and a replay inside the window is a
duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.commerce import shipments as commerce_shipments
from zhongcao.config import Settings
from zhongcao.errors import DomainError, InvalidInput, NotFound, Unauthorized
from zhongcao.logistics import carriers, service
from zhongcao.logistics.models import Parcel
from zhongcao.logistics.schemas import WebhookEvent, WebhookResult

TIMESTAMP_HEADER = "X-Zhongcao-Timestamp"
SIGNATURE_HEADER = "X-Zhongcao-Signature"
# A carrier's event may say it happened a little in our future (clock skew), not more.
FUTURE_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` signed at ``timestamp`` (what a carrier sends)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class Verified:
    carrier: carriers.CarrierInfo
    event: WebhookEvent


def verify(
    settings: Settings, carrier_code: str, timestamp: str | None, signature: str | None, body: bytes
) -> Verified:
    """The carrier and its event, once the request is proven to be the carrier's and fresh."""
    carrier = carriers.get(carrier_code)
    if carrier is None:
        raise NotFound("no carrier has this code", code="unknown_carrier", field="carrier_code")
    secret = settings.carrier_webhook_secrets.get(carrier.code)
    if not secret:
        raise NotFound(
            "this carrier's webhook is not configured (ZHONGCAO_CARRIER_WEBHOOK_SECRETS)",
            code="webhook_not_configured",
            field="carrier_code",
        )
    if not timestamp or not signature:
        missing = TIMESTAMP_HEADER if not timestamp else SIGNATURE_HEADER
        raise Unauthorized(f"the {missing} header is missing", code="missing_signature", field=missing)
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise Unauthorized(
            "the timestamp must be Unix seconds", code="bad_timestamp", field=TIMESTAMP_HEADER
        ) from None
    age = clock.now().timestamp() - signed_at
    if abs(age) > settings.carrier_webhook_tolerance_seconds:
        raise Unauthorized(
            "the timestamp is too far from now: a replayed or delayed request",
            code="stale_timestamp",
            field=TIMESTAMP_HEADER,
            details={"tolerance_seconds": settings.carrier_webhook_tolerance_seconds},
        )
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode(errors="replace")):
        raise Unauthorized("the signature does not match", code="bad_signature", field=SIGNATURE_HEADER)
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body must be a JSON object", code="invalid_json", field="body") from None
    try:
        event = WebhookEvent.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg')}", code="validation_error", field=where) from None
    return Verified(carrier, event)


def _parcel_for(db: Session, settings: Settings, carrier: carriers.CarrierInfo, number: str) -> Parcel:
    parcel = db.scalar(
        select(Parcel)
        .where(Parcel.carrier_code == carrier.code, Parcel.tracking_number == number)
        .order_by(Parcel.id.desc())
        .limit(1)
    )
    if parcel is not None:
        return parcel
    shipments = commerce_shipments.by_tracking_number(db, carrier.code, number)
    if not shipments:
        raise NotFound(
            "no shipment with this carrier has this tracking number",
            code="unknown_tracking_number",
            field="tracking_number",
        )
    try:
        parcel = service.start_tracking(db, shipments[0], settings, simulated=False)
        db.commit()
    except IntegrityError:  # tracked a moment ago by the job or another delivery of this event
        db.rollback()
        parcel = db.scalar(select(Parcel).where(Parcel.shipment_id == shipments[0].shipment_id))
        assert parcel is not None
    return parcel


def receive(db: Session, settings: Settings, verified: Verified) -> WebhookResult:
    """Record a verified event once and apply it to the order (see :mod:`zhongcao.logistics.service`)."""
    carrier, event = verified.carrier, verified.event
    now = clock.now()
    if (event.at - now).total_seconds() > FUTURE_SKEW_SECONDS:
        raise InvalidInput("the event is in the future", code="invalid_event_time", field="at")
    parcel = _parcel_for(db, settings, carrier, event.tracking_number)
    result = service.Recorded()
    try:
        parcel = db.get(Parcel, parcel.id, with_for_update=True, populate_existing=True) or parcel
        fresh = service.record_reported(
            db,
            parcel,
            kind=event.kind,
            at=event.at,
            location=event.location,
            location_en=event.location_en,
            description=event.description,
            event_id=event.event_id,
            result=result,
        )
        status = parcel.status.value
        db.commit()
    except IntegrityError:  # the same event id, delivered twice at once
        db.rollback()
        fresh = False
        status = parcel.status.value
    except DomainError:
        db.rollback()
        raise
    if fresh and status in ("lost", "returned"):
        service.open_claims(db, parcel.id, now)
    return WebhookResult(
        event_id=event.event_id,
        tracking_number=event.tracking_number,
        duplicate=not fresh,
        parcel_status=status,
    )
