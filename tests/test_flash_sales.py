"""Flash sales through the API and the job writer, on SQLite and PostgreSQL (in-process admission;
tests/test_flash_sale_redis.py runs the Redis path): setting up takes the units off the SKU's stock,
joining gives a ticket, the writer writes one order per ticket at the flash price (idempotently),
an unpaid order's unit goes back to the sale, missing counters are rebuilt from PostgreSQL, and a bot
gets no more than its limit."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from tests.commerce_helpers import ADDRESS
from tests.factories import PASSWORD, auth, make_user
from tests.flashsale_helpers import address, make_sale, write_all
from zhongcao import clock
from zhongcao.catalog.models import Sku
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Order, OrderStatus
from zhongcao.flashsales import admission as adm
from zhongcao.flashsales import service
from zhongcao.flashsales.models import AdmissionState, FlashAdmission, FlashSale
from zhongcao.users.models import Role


def _join(client, headers, sale_id, n, **extra):  # type: ignore[no-untyped-def]
    body = {"shipping_address": address(n), **extra}
    return client.post(f"/api/flash-sales/{sale_id}/join", json=body, headers=headers)


def test_merchant_sets_up_a_sale_and_its_units_leave_the_sku(client, db) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_product, make_shop

    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=10, price_fen=9900)
    sku_id = product.skus[0].id
    headers = auth(db, shop.owner)
    body = {"sku_id": sku_id, "title": "限时秒杀", "price_fen": 1990, "quantity": 4, "per_buyer_limit": 1}
    refused = client.post("/api/merchant/flash-sales", json=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "starts_at"
    body["starts_at"] = (clock.now() + timedelta(minutes=5)).isoformat()
    made = client.post("/api/merchant/flash-sales", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["phase"] == "upcoming" and made.json()["remaining"] == 4
    assert db.get(Sku, sku_id).stock == 6
    too_many = client.post("/api/merchant/flash-sales", json={**body, "quantity": 7}, headers=headers)
    assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "insufficient_stock"
    not_cheaper = client.post("/api/merchant/flash-sales", json={**body, "price_fen": 9900}, headers=headers)
    assert not_cheaper.json()["error"]["code"] == "price_not_below_list"
    listed = client.get("/api/merchant/flash-sales", headers=headers).json()
    assert [s["id"] for s in listed] == [made.json()["id"]]
    # Before the start: refused cleanly.
    buyer = auth(db, make_user(db))
    early = _join(client, buyer, made.json()["id"], 1)
    assert early.status_code == 409 and early.json()["error"]["code"] == "sale_not_started"
    # Ending gives the units back to the SKU.
    ended = client.post(f"/api/merchant/flash-sales/{made.json()['id']}/end", headers=headers)
    assert ended.json()["phase"] == "ended" and ended.json()["returned_to_stock"] == 4
    db.expire_all()
    assert db.get(Sku, sku_id).stock == 10


def test_buyers_join_the_writer_writes_their_orders_and_they_pay(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=2, stock=5)
    sale_id = world.sale.id
    buyers = [make_user(db) for _ in range(3)]
    heads = [auth(db, b) for b in buyers]
    first = _join(client, heads[0], sale_id, 0)
    assert first.status_code == 201, first.text
    assert first.json()["ticket"]["state"] == "queued" and first.json()["remaining"] == 1
    again = _join(client, heads[0], sale_id, 0)
    assert again.status_code == 409 and again.json()["error"]["code"] == "limit_reached"
    assert _join(client, heads[1], sale_id, 1).status_code == 201
    sold_out = _join(client, heads[2], sale_id, 2)
    assert sold_out.status_code == 409 and sold_out.json()["error"]["code"] == "sold_out"

    assert write_all(db, settings) == {"written": 2, "rejected": 0, "failed": 0}
    assert write_all(db, settings) == {"written": 0, "rejected": 0, "failed": 0}  # idempotent
    state = client.get(f"/api/flash-sales/{sale_id}", headers=heads[0]).json()
    assert state["sale"]["phase"] == "sold_out" and state["sale"]["units_taken"] == 2
    (ticket,) = state["tickets"]
    assert ticket["state"] == "ordered" and ticket["pay_by"]
    order = db.get(Order, ticket["order_id"])
    assert order.items[0].unit_price_fen == 1990 and order.paid_fen == 1990
    # The SKU's stock was taken once, when the sale was set up.
    assert db.get(Sku, world.sku.id).stock == 3
    paid = client.post(
        f"/api/checkouts/{ticket['checkout_id']}/pay",
        json={"payment_method": "pm_card_ok"},
        headers={**heads[0], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 200, paid.text
    db.expire_all()
    assert (
        db.scalar(select(FlashAdmission.state).where(FlashAdmission.user_id == buyers[0].id))
        == AdmissionState.paid
    )


def test_an_unpaid_order_gives_its_unit_back_to_the_sale(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=1, stock=5, window=1)
    sale_id = world.sale.id
    late, next_buyer = make_user(db), make_user(db)
    assert _join(client, auth(db, late), sale_id, 1).status_code == 201
    write_all(db, settings)
    assert _join(client, auth(db, next_buyer), sale_id, 2).json()["error"]["code"] == "sold_out"
    expired = commerce_service.expire_unpaid_checkouts(db, clock.now() + timedelta(minutes=2))
    assert expired == 1
    db.expire_all()
    ticket = db.scalar(select(FlashAdmission).where(FlashAdmission.user_id == late.id))
    assert ticket.state is AdmissionState.expired
    assert db.get(Sku, world.sku.id).stock == 4  # still set aside for the sale
    assert db.get(FlashSale, sale_id).units_taken == 0
    assert service.sync(db, settings)["given_back"] == 1
    assert service.sync(db, settings)["given_back"] == 0
    assert _join(client, auth(db, next_buyer), sale_id, 2).status_code == 201
    assert write_all(db, settings)["written"] == 1
    orders = db.scalars(select(Order).order_by(Order.id)).all()
    assert [o.status for o in orders] == [OrderStatus.cancelled, OrderStatus.created]


def test_missing_counters_are_rebuilt_from_postgresql(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=3, stock=5)
    sale_id = world.sale.id
    holder, other = make_user(db), make_user(db)
    assert _join(client, auth(db, holder), sale_id, 1).status_code == 201
    write_all(db, settings)
    adm.for_settings(settings).forget(service.sale_key(world.sale))  # Redis restarted
    waiting = _join(client, auth(db, other), sale_id, 2)
    assert waiting.status_code == 503 and waiting.json()["error"]["code"] == "sale_rebuilding"
    assert waiting.headers["Retry-After"] == "1"
    assert service.sync(db, settings)["rebuilt"] == 1
    assert _join(client, auth(db, holder), sale_id, 1).json()["error"]["code"] == "limit_reached"
    joined = _join(client, auth(db, other), sale_id, 2)
    assert joined.status_code == 201 and joined.json()["remaining"] == 1


def test_a_bot_firing_100_requests_gets_at_most_its_limit(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=50, stock=60, limit=2)
    bot = make_user(db)
    headers = auth(db, bot)
    codes: dict[str, int] = {}
    for i in range(100):
        answer = _join(client, headers, world.sale.id, i)  # a new address each time, too
        assert answer.status_code < 500
        code = "admitted" if answer.status_code == 201 else answer.json()["error"]["code"]
        codes[code] = codes.get(code, 0) + 1
    assert codes["admitted"] == 2
    assert codes["too_many_requests"] >= 50  # past 30 a minute the account is refused at the door
    count = db.scalar(
        select(func.count()).select_from(FlashAdmission).where(FlashAdmission.user_id == bot.id)
    )
    assert count == 2


def test_operator_sets_up_a_campaign_sale_on_any_sku(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.commerce_helpers import make_campaign
    from tests.factories import make_product, make_shop

    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=10, price_fen=9900)
    campaign = make_campaign(db, [product])
    operator = auth(db, make_user(db, Role.operator))
    body = {
        "sku_id": product.skus[0].id,
        "title": "双11 秒杀",
        "price_fen": 990,
        "quantity": 5,
        "starts_at": clock.now().isoformat(),
        "campaign_id": campaign.id,
    }
    made = client.post("/api/operator/flash-sales", json=body, headers=operator)
    assert made.status_code == 201, made.text
    assert made.json()["campaign_id"] == campaign.id and made.json()["shop_id"] == shop.shop.id
    assert (
        client.post("/api/operator/flash-sales", json=body, headers=auth(db, shop.owner)).status_code == 403
    )
    assert [s["id"] for s in client.get("/api/operator/flash-sales", headers=operator).json()] == [
        made.json()["id"]
    ]


def test_checkout_is_rate_limited_per_account_on_the_api_and_the_page(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.web_helpers import form_token, web_login

    world = make_sale(db, settings, quantity=1, stock=500)
    bot = make_user(db)
    headers = auth(db, bot)
    body = {"items": [{"sku_id": world.sku.id, "quantity": 1}], "shipping_address": ADDRESS}
    first = client.post("/api/checkout", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert first.status_code == 201, first.text
    codes = [201] + [
        client.post(
            "/api/checkout", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        ).status_code
        for _ in range(39)
    ]
    assert codes.count(201) == settings.buy_requests_per_account_per_minute
    assert set(codes[settings.buy_requests_per_account_per_minute :]) == {429}
    refused = client.post(
        "/api/checkout", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert refused.json()["error"]["code"] == "too_many_requests" and refused.headers["Retry-After"]
    # The checkout page's POST counts against the same account: refused with the form and a message.
    web_login(client, bot.email, PASSWORD)
    url = f"/checkout?sku_id={world.sku.id}&quantity=1"
    token = form_token(client, url)
    page = client.post(url, data={"csrf_token": token, "sku_id": str(world.sku.id), "quantity": "1"})
    assert page.status_code == 429 and "form-error" in page.text
    # Another account is not affected.
    other = auth(db, make_user(db))
    assert (
        client.post(
            "/api/checkout", json=body, headers={**other, "Idempotency-Key": uuid.uuid4().hex}
        ).status_code
        == 201
    )


def test_a_saved_address_is_read_only_when_a_unit_is_there_to_give(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=1, stock=5)
    sale_id = world.sale.id
    no_address = auth(db, make_user(db))
    # A unit to give and no saved address: told to add one, and the unit stays in the sale.
    refused = client.post(f"/api/flash-sales/{sale_id}/join", json={}, headers=no_address)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "address_required"
    assert client.get(f"/api/flash-sales/{sale_id}").json()["sale"]["remaining"] == 1
    saved = make_user(db)
    saved_headers = auth(db, saved)
    saved_address = {
        "recipient": "李四",
        "phone": "13800138000",
        "province_code": "330000",
        "city_code": "330100",
        "district_code": "330106",
        "detail": "文三路 100 号",
    }
    made = client.post("/api/me/addresses", json=saved_address, headers=saved_headers)
    assert made.status_code == 201, made.text
    joined = client.post(f"/api/flash-sales/{sale_id}/join", json={}, headers=saved_headers)
    assert joined.status_code == 201, joined.text
    ticket = db.scalar(select(FlashAdmission).where(FlashAdmission.user_id == saved.id))
    assert ticket is not None and "文三路 100 号" in str(ticket.shipping_address)
    # Sold out: the buyer without an address hears that, not about addresses.
    again = client.post(f"/api/flash-sales/{sale_id}/join", json={}, headers=no_address)
    assert again.status_code == 409 and again.json()["error"]["code"] == "sold_out"
