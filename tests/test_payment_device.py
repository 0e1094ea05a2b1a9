"""The device a payment comes from (issue #19, item 2: orders as buyer × shop × time ×
address/device/payment): browsers carry a random ``zc_device`` cookie, API clients an
``X-Device-Id`` header; the payment keeps only its hash, the order detectors read it, and buyers paying
from one phone are linked as buyers shipping to one address are."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.api_helpers import assert_error
from tests.commerce_helpers import ADDRESS, created_order
from tests.factories import auth
from tests.web_helpers import form_token, web_login
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce.models import Payment
from zhongcao.devices import DEVICE_COOKIE, device_key

PHONE = "ring-phone-0001-abcdef"


def _api_pay(client, db, bundle, device: str | None):  # type: ignore[no-untyped-def]
    headers = {**auth(db, bundle.buyer), "Idempotency-Key": uuid.uuid4().hex}
    if device is not None:
        headers["X-Device-Id"] = device
    return client.post(
        f"/api/checkouts/{bundle.checkout.id}/pay", json={"payment_method": "pm_card_ok"}, headers=headers
    )


def _payment(db, bundle) -> Payment:  # type: ignore[no-untyped-def]
    db.expire_all()
    payment = db.scalar(select(Payment).where(Payment.checkout_id == bundle.checkout.id))
    assert payment is not None
    return payment


def test_the_api_keeps_only_the_hash_of_the_paying_device(client, db) -> None:
    named, unnamed = created_order(db), created_order(db)
    assert _api_pay(client, db, named, PHONE).status_code == 200
    assert _payment(db, named).device_key == device_key(PHONE)
    assert _api_pay(client, db, unnamed, None).status_code == 200
    assert _payment(db, unnamed).device_key is None  # unknown never blocks a purchase


def test_a_malformed_device_id_is_refused_and_nothing_is_paid(client, db) -> None:
    bundle = created_order(db)
    for bad in ("short", "has spaces in it, sixteen+", "x" * 65):
        assert_error(_api_pay(client, db, bundle, bad), 422, "validation_error", field="X-Device-Id")
    db.expire_all()
    assert db.scalar(select(Payment).where(Payment.checkout_id == bundle.checkout.id)) is None
    assert _api_pay(client, db, bundle, PHONE).status_code == 200


def test_a_browser_gets_a_device_cookie_and_pays_with_it(client, db) -> None:
    bundle = created_order(db)
    web_login(client, bundle.buyer.email)
    client.get("/")
    device = client.cookies.get(DEVICE_COOKIE)
    assert device and device_key(device) is not None
    token = form_token(client, f"/checkouts/{bundle.checkout.id}/pay")
    response = client.post(
        f"/checkouts/{bundle.checkout.id}/pay",
        data={"payment_method": "pm_card_ok", "csrf_token": token, "idempotency_key": uuid.uuid4().hex},
    )
    assert response.status_code < 400, response.text
    assert _payment(db, bundle).device_key == device_key(device)
    client.get("/")
    assert client.cookies.get(DEVICE_COOKIE) == device  # kept, not renewed on every page


def test_buyers_paying_from_one_phone_are_held_like_buyers_sharing_an_address(client, db, settings) -> None:
    from zhongcao import integrity_flows

    first = created_order(db, address={**ADDRESS, "line": "曙光路 1 号"})
    ring = [first] + [
        created_order(
            db, shop=first.shop, product=first.product, address={**ADDRESS, "line": f"曙光路 {i} 号"}
        )
        for i in range(2, 4)
    ]
    for bundle in ring:
        assert _api_pay(client, db, bundle, PHONE).status_code == 200
    sku = first.item.sku_id
    assert catalog_service.shown_sold_counts(db, [sku])[sku] == 3
    integrity_flows.publish_flags(db, settings)
    assert catalog_service.shown_sold_counts(db, [sku])[sku] == 0  # held: three addresses, one phone
