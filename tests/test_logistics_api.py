"""The carrier through the API and the pages (issue #17, item 1), on SQLite and PostgreSQL: shipping
with a carrier code, tracking for the buyer and the shop, and a real carrier's webhook with its
signature, replay protection and idempotency; every bad request a clean 4xx with a code."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.commerce_helpers import paid_order
from tests.factories import auth, make_user
from tests.web_helpers import seed_world, web_login
from zhongcao import clock
from zhongcao.aftersales.models import AfterSaleReason
from zhongcao.commerce.models import Order, OrderStatus
from zhongcao.logistics import service as logistics_service
from zhongcao.logistics.models import Parcel, TrackingEvent
from zhongcao.logistics.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from zhongcao.users.models import User

SECRET = "sf-webhook-secret-0123456789"
HOOK = "/api/logistics/webhooks/sf"


@pytest.fixture
def settings(settings):
    # SF is a real carrier here (its events come signed); the others stay simulated.
    return settings.model_copy(
        update={"carrier_webhook_secrets": {"sf": SECRET}, "carrier_time_scale": 0.001}
    )


def _ship(client, db, bundle, carrier: str = "sf", number: str = "SF1000000001"):
    return client.post(
        f"/api/merchant/orders/{bundle.order.id}/ship",
        json={"carrier_name": carrier, "tracking_number": number},
        headers=auth(db, bundle.shop.owner),
    )


def _event(
    number: str = "SF1000000001", event_id: str = "evt-1", kind: str = "picked_up", **extra: Any
) -> bytes:
    at = extra.pop("at", clock.now() - timedelta(minutes=5))
    body = {"event_id": event_id, "tracking_number": number, "kind": kind, "at": at.isoformat(), **extra}
    return json.dumps(body, ensure_ascii=False).encode()


def _post(
    client, body: bytes, *, secret: str = SECRET, timestamp: int | None = None, path: str = HOOK, **headers
):
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    sent = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sign(secret, stamp, body),
        **headers,
    }
    return client.post(path, content=body, headers={k: v for k, v in sent.items() if v is not None})


def _code(response) -> str:
    return response.json()["error"]["code"]


def test_ship_with_a_carrier_code_and_track_it(client, db):
    bundle = paid_order(db)
    carriers = client.get("/api/logistics/carriers").json()
    assert {"code": "sf", "name_zh": "顺丰速运", "name_en": "SF Express"} in carriers
    refused = _ship(client, db, bundle, carrier="DHL")
    assert refused.status_code == 422 and _code(refused) == "unknown_carrier"
    assert refused.json()["error"]["details"]["field"] == "carrier_name"
    buyer = auth(db, bundle.buyer)
    early = client.get(f"/api/orders/{bundle.order.id}/tracking", headers=buyer)
    assert early.status_code == 404 and _code(early) == "not_shipped"

    shipped = _ship(client, db, bundle, carrier="中通快递", number="ZT1000000001")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["shipment"]["carrier_name"] == "zto"
    tracking = client.get(f"/api/orders/{bundle.order.id}/tracking", headers=buyer).json()
    assert tracking["carrier"] == {"code": "zto", "name_zh": "中通快递", "name_en": "ZTO Express"}
    assert tracking["status"] == "awaiting_pickup" and tracking["events"] == []
    assert tracking["expected_delivery_at"] is not None
    # The job (ZTO is simulated; time scaled down a thousandfold) moves it to the door.
    with clock.travel(clock.now() + timedelta(hours=12)):
        logistics_service.run_carrier_updates(db, client.app.state.settings)
    tracking = client.get(f"/api/orders/{bundle.order.id}/tracking", headers=buyer).json()
    assert tracking["status"] == "delivered" and tracking["events"][0]["kind"] == "delivered"
    assert tracking["events"][-1]["kind"] == "picked_up" and tracking["events"][0]["location_en"]
    merchant = client.get(
        f"/api/merchant/orders/{bundle.order.id}/tracking", headers=auth(db, bundle.shop.owner)
    )
    assert merchant.status_code == 200 and merchant.json()["events"] == tracking["events"]
    # Another buyer sees nothing.
    other = client.get(f"/api/orders/{bundle.order.id}/tracking", headers=auth(db, make_user(db)))
    assert other.status_code == 404 and _code(other) == "order_not_found"
    assert client.get(f"/api/orders/{bundle.order.id}", headers=buyer).json()["status"] == "delivered"


def test_a_signed_event_moves_the_order_once(client, db):
    bundle = paid_order(db)
    assert _ship(client, db, bundle).status_code == 200
    first = _post(client, _event(location="杭州转运中心", location_en="Hangzhou hub"))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "event_id": "evt-1",
        "tracking_number": "SF1000000001",
        "duplicate": False,
        "parcel_status": "in_transit",
    }
    again = _post(client, _event(location="杭州转运中心"))  # the carrier retries: recorded once
    assert again.status_code == 200 and again.json()["duplicate"] is True
    db.expire_all()
    assert db.query(TrackingEvent).filter_by(order_id=bundle.order.id).count() == 1
    parcel = db.query(Parcel).filter_by(order_id=bundle.order.id).one()
    assert not parcel.simulated and parcel.status.value == "in_transit"
    delivered = _post(
        client, _event(event_id="evt-2", kind="delivered", at=clock.now() - timedelta(minutes=1))
    )
    assert delivered.status_code == 200 and delivered.json()["parcel_status"] == "delivered"
    db.expire_all()
    order = db.get(Order, bundle.order.id)
    assert order.status is OrderStatus.delivered
    # The job never drives a carrier that reports for itself.
    with clock.travel(clock.now() + timedelta(days=30)):
        counts = logistics_service.run_carrier_updates(db, client.app.state.settings)
    assert counts["carrier_events"] == 0
    late = _post(client, _event(event_id="evt-3", kind="in_transit"))  # a late scan never moves it back
    assert late.status_code == 200 and late.json()["parcel_status"] == "delivered"


def test_a_lost_parcel_reported_by_the_carrier_opens_the_refund(client, db):
    bundle = paid_order(db)
    _ship(client, db, bundle)
    lost = _post(client, _event(kind="lost", description="分拨中心遗失"))
    assert lost.status_code == 200 and lost.json()["parcel_status"] == "lost"
    cases = client.get("/api/after-sales", headers=auth(db, bundle.buyer)).json()["items"]
    assert len(cases) == 1 and cases[0]["reason"] == AfterSaleReason.logistics.value
    assert cases[0]["status"] == "requested"


def test_webhook_refusals_are_clean(client, db):
    bundle = paid_order(db)
    _ship(client, db, bundle)
    body = _event()
    now = int(time.time())
    checks = {
        "bad_signature": _post(client, body, secret="not-the-secret-at-all"),
        "stale_timestamp": _post(client, body, timestamp=now - 301),
        "missing_signature": _post(client, body, **{SIGNATURE_HEADER: None}),
        "bad_timestamp": client.post(
            HOOK, content=body, headers={TIMESTAMP_HEADER: "yesterday", SIGNATURE_HEADER: "sha256=00"}
        ),
        "unknown_carrier": _post(client, body, path="/api/logistics/webhooks/dhl"),
        "webhook_not_configured": _post(client, body, path="/api/logistics/webhooks/zto"),
        "unknown_tracking_number": _post(client, _event(number="SF9999999999")),
        "validation_error": _post(client, _event(kind="teleported")),
        "invalid_json": _post(client, b"{not json"),
        "invalid_event_time": _post(client, _event(at=clock.now() + timedelta(hours=2))),
    }
    statuses = {code: (r.status_code, _code(r)) for code, r in checks.items()}
    assert statuses == {
        "bad_signature": (401, "bad_signature"),
        "stale_timestamp": (401, "stale_timestamp"),
        "missing_signature": (401, "missing_signature"),
        "bad_timestamp": (401, "bad_timestamp"),
        "unknown_carrier": (404, "unknown_carrier"),
        "webhook_not_configured": (404, "webhook_not_configured"),
        "unknown_tracking_number": (404, "unknown_tracking_number"),
        "validation_error": (422, "validation_error"),
        "invalid_json": (422, "invalid_json"),
        "invalid_event_time": (422, "invalid_event_time"),
    }
    assert checks["validation_error"].json()["error"]["details"]["field"] == "kind"
    # A body changed after signing fails the signature (the event id is the same, the kind is not).
    stamp = str(int(time.time()))
    tampered = client.post(
        HOOK,
        content=_event(kind="delivered"),
        headers={TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, body)},
    )
    assert tampered.status_code == 401 and _code(tampered) == "bad_signature"
    db.expire_all()
    assert db.query(TrackingEvent).count() == 0
    assert db.get(Order, bundle.order.id).status is OrderStatus.shipped


def test_the_order_page_shows_the_tracking_in_both_languages(client, db):
    world = seed_world(db)
    buyer = db.get(User, world.shopper_id)
    bundle = paid_order(db, buyer=buyer)
    assert _ship(client, db, bundle, carrier="jd", number="JD1000000001").status_code == 200
    with clock.travel(datetime.now(UTC) + timedelta(hours=3)):
        logistics_service.run_carrier_updates(db, client.app.state.settings)
    web_login(client, world.shopper_email)
    page = client.get(f"/orders/{bundle.order.id}").text
    assert "物流信息" in page and "京东物流" in page and "JD1000000001" in page and "已签收" in page
    assert 'data-parcel-status="delivered"' in page and "杭州市西湖区" in page
    client.get(f"/locale?to=en&next=/orders/{bundle.order.id}")
    page = client.get(f"/orders/{bundle.order.id}").text
    assert "Delivery tracking" in page and "JD Logistics" in page and "Picked up" in page
    assert "Xihu District, Hangzhou" in page and "京东物流" not in page


def test_a_lost_parcel_and_a_delay_are_said_in_words_on_the_order_page(client, db):
    world = seed_world(db)
    buyer = db.get(User, world.shopper_id)
    bundle = paid_order(db, buyer=buyer)
    _ship(client, db, bundle)
    assert _post(client, _event(kind="delayed", location="郑州转运中心")).status_code == 200
    web_login(client, world.shopper_email)
    page = client.get(f"/orders/{bundle.order.id}").text
    assert "data-delayed" in page and "快递公司报告包裹延误" in page and "运输延误" in page
    assert _post(client, _event(event_id="evt-2", kind="lost")).status_code == 200
    page = client.get(f"/orders/{bundle.order.id}").text
    assert 'data-parcel-status="lost"' in page and "data-lost" in page and "data-delayed" not in page
    assert "平台已为你申请全额退款" in page and 'href="/after-sales/' in page
