"""The platform warehouse (云仓): inbound shipments, receipt into stock, the fulfilment job, the shop's
manual ship refused, and the API's answers to bad input (docs/warehouse.md)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.api_helpers import assert_error, snapshot
from tests.commerce_helpers import first_sku, pay, place
from tests.factories import auth, make_product, make_shop, make_user
from zhongcao import clock, fulfilment_flows
from zhongcao.catalog.models import Sku
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import OrderStatus, Shipment
from zhongcao.config import Settings
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.users.models import Role
from zhongcao.warehouse import fulfilment
from zhongcao.warehouse import service as warehouse
from zhongcao.warehouse.models import FulfilmentStatus, InboundStatus, WarehouseStock

FAST = Settings(warehouse_time_scale=0)
SHIP = {"carrier_name": "顺丰", "tracking_number": "SF1234567890"}


def _stock(db, sku_id: int) -> int:
    db.expire_all()
    return db.get(Sku, sku_id).stock


def _on_hand(db, sku_id: int) -> int:
    db.expire_all()
    return db.scalar(select(WarehouseStock.on_hand).where(WarehouseStock.sku_id == sku_id))


def _received_sku(db, *, sent: int = 20, home_stock: int = 7):
    """A shop whose SKU moved to the east warehouse: ``sent`` units received, ``home_stock`` withdrawn."""
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=home_stock)
    sku = first_sku(db, product)
    inbound = warehouse.create_inbound(
        db,
        shop.shop.id,
        shop.owner.id,
        warehouse_code="east",
        lines=[warehouse.NewLine(sku.id, sent)],
        carrier_name="顺丰",
        tracking_number="SF0001",
        dispatch=True,
    )
    warehouse.receive_inbound(db, inbound.id)
    return shop, product, sku, inbound


def _buy(db, sku_id: int, quantity: int = 1, buyer=None):
    buyer = buyer or make_user(db, Role.shopper)
    checkout = place(db, buyer, [{"sku_id": sku_id, "quantity": quantity}])
    pay(db, buyer, checkout)
    return checkout.orders[0].id, buyer


# --- inbound shipments and receipt -------------------------------------------------------------------


def test_receipt_enrols_the_sku_and_sells_from_the_warehouse(db):
    shop, _, sku, inbound = _received_sku(db, sent=20, home_stock=7)
    db.expire_all()
    assert inbound.status is InboundStatus.received and inbound.received_by is None
    assert inbound.lines[0].received_quantity == 20 and inbound.lines[0].discrepancy == 0
    # The shop's own 7 units left sale at enrolment; the 20 received are what sells now.
    assert _stock(db, sku.id) == 20 and _on_hand(db, sku.id) == 20
    row = warehouse.stock_for_skus(db, [sku.id])[sku.id]
    assert row.withdrawn_at_enrolment == 7 and row.received_total == 20
    [line] = warehouse.shop_stock(db, shop.shop.id)
    assert (line.sellable, line.reserved, line.in_transit) == (20, 0, 0)
    # A second inbound adds to the same SKU's stock.
    second = warehouse.create_inbound(
        db, shop.shop.id, shop.owner.id, warehouse_code="east", lines=[warehouse.NewLine(sku.id, 5)]
    )
    assert second.status is InboundStatus.draft
    warehouse.dispatch_inbound(db, shop.shop.id, second.id, carrier_name="中通", tracking_number="ZT0009")
    assert warehouse.shop_stock(db, shop.shop.id)[0].in_transit == 5
    warehouse.receive_inbound(db, second.id)
    assert _stock(db, sku.id) == 25 and _on_hand(db, sku.id) == 25


def test_partial_receipt_records_the_discrepancy(db):
    shop = make_shop(db)
    product = make_product(db, shop.shop, skus=2, stock=0)
    a, b = sorted(s.id for s in product.skus)
    inbound = warehouse.create_inbound(
        db,
        shop.shop.id,
        shop.owner.id,
        warehouse_code="south",
        lines=[warehouse.NewLine(a, 10), warehouse.NewLine(b, 4)],
        carrier_name="顺丰",
        tracking_number="SF0002",
        dispatch=True,
    )
    line_a = next(x for x in inbound.lines if x.sku_id == a)
    operator = make_user(db, Role.operator)
    warehouse.receive_inbound(db, inbound.id, counted={line_a.id: 8}, operator_user_id=operator.id)
    db.expire_all()
    inbound = warehouse.get_inbound(db, inbound.id)
    assert inbound.has_discrepancy and inbound.received_units == 12 and inbound.received_by == operator.id
    assert {x.sku_id: x.discrepancy for x in inbound.lines} == {a: -2, b: 0}
    assert _stock(db, a) == 8 and _stock(db, b) == 4


def test_receipt_is_idempotent(db):
    _, _, sku, inbound = _received_sku(db, sent=20)
    before = snapshot(db, ("skus", "warehouse_stock", "warehouse_inbound_lines"))
    with pytest.raises(Conflict) as exc:
        warehouse.receive_inbound(db, inbound.id)
    assert exc.value.code == "inbound_not_in_transit"
    # The simulated warehouse's job finds nothing to receive either.
    assert warehouse.receive_due_inbounds(db, clock.now() + timedelta(days=3)) == 0
    assert snapshot(db, ("skus", "warehouse_stock", "warehouse_inbound_lines")) == before


def test_the_receiving_job_waits_for_the_transit_time(db):
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, stock=0))
    inbound = warehouse.create_inbound(
        db,
        shop.shop.id,
        shop.owner.id,
        warehouse_code="north",
        lines=[warehouse.NewLine(sku.id, 3)],
        carrier_name="圆通",
        tracking_number="YT0001",
        dispatch=True,
    )
    now = clock.now()
    assert warehouse.receive_due_inbounds(db, now + timedelta(hours=23)) == 0
    assert warehouse.receive_due_inbounds(db, now + timedelta(hours=25)) == 1
    assert warehouse.get_inbound(db, inbound.id).status is InboundStatus.received
    assert _stock(db, sku.id) == 3
    # The demo's fast-forward: a time scale of 0 receives at once.
    other = warehouse.create_inbound(
        db,
        shop.shop.id,
        shop.owner.id,
        warehouse_code="north",
        lines=[warehouse.NewLine(sku.id, 2)],
        carrier_name="圆通",
        tracking_number="YT0002",
        dispatch=True,
    )
    assert warehouse.receive_due_inbounds(db, clock.now(), FAST) == 1
    assert warehouse.get_inbound(db, other.id).status is InboundStatus.received


def test_inbound_rules(db):
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, stock=0))
    other_shop = make_shop(db)
    foreign = first_sku(db, make_product(db, other_shop.shop))

    def create(**kw):
        args = {"warehouse_code": "east", "lines": [warehouse.NewLine(sku.id, 1)], **kw}
        return warehouse.create_inbound(db, shop.shop.id, shop.owner.id, **args)

    for kwargs, error, code, field in [
        ({"warehouse_code": "mars"}, InvalidInput, "unknown_warehouse", "warehouse"),
        ({"lines": []}, InvalidInput, "no_lines", "lines"),
        ({"lines": [warehouse.NewLine(sku.id, 0)]}, InvalidInput, "invalid_quantity", "lines[0].quantity"),
        (
            {"lines": [warehouse.NewLine(sku.id, 1), warehouse.NewLine(sku.id, 2)]},
            InvalidInput,
            "duplicate_sku",
            "lines[1].sku_id",
        ),
        ({"lines": [warehouse.NewLine(foreign.id, 1)]}, NotFound, "sku_not_found", "lines[0].sku_id"),
        ({"dispatch": True}, InvalidInput, "carrier_required", "carrier_name"),
    ]:
        with pytest.raises(error) as exc:
            create(**kwargs)
        assert (exc.value.code, exc.value.details.get("field")) == (code, field), kwargs
    # One SKU, one warehouse: an open inbound to east keeps it out of south.
    draft = create()
    with pytest.raises(Conflict) as exc:
        create(warehouse_code="south")
    assert exc.value.code == "sku_in_other_warehouse"
    # Cancel a draft; a cancelled inbound cannot be dispatched, received or cancelled again.
    warehouse.cancel_inbound(db, shop.shop.id, draft.id)
    with pytest.raises(Conflict):
        warehouse.dispatch_inbound(db, shop.shop.id, draft.id, carrier_name="顺丰", tracking_number="SF0001")
    with pytest.raises(Conflict):
        warehouse.receive_inbound(db, draft.id)
    with pytest.raises(Conflict):
        warehouse.cancel_inbound(db, shop.shop.id, draft.id)
    # Another shop's inbound is not found.
    with pytest.raises(NotFound):
        warehouse.cancel_inbound(db, other_shop.shop.id, draft.id)
    assert _stock(db, sku.id) == 0


# --- fulfilment ---------------------------------------------------------------------------------


def test_fulfilment_job_picks_packs_and_ships_once(db):
    shop, _, sku, _ = _received_sku(db, sent=10)
    order_id, _ = _buy(db, sku.id, 3)
    assert _stock(db, sku.id) == 7 and _on_hand(db, sku.id) == 10
    now = clock.now()
    # Real time (scale 1): queued at once, picked after 30 minutes, packed after 30 more, then handed over.
    counts = fulfilment.run(db, now, Settings())
    assert counts["queued"] == 1 and counts["picked"] == 0
    assert fulfilment.run(db, now + timedelta(minutes=31), Settings())["picked"] == 1
    assert _on_hand(db, sku.id) == 7
    assert fulfilment.run(db, now + timedelta(minutes=62), Settings())["packed"] == 1
    with clock.travel(now + timedelta(minutes=125)):
        counts = fulfilment.run(db, clock.now(), Settings())
    assert counts["handed_over"] == 1
    db.expire_all()
    order = commerce_service.get_order_for_shop(db, shop.shop.id, order_id)
    assert order.status is OrderStatus.shipped
    shipment = db.scalar(select(Shipment).where(Shipment.order_id == order_id))
    assert shipment.platform_warehouse is True and shipment.carrier_name == "jd"
    assert shipment.tracking_number.startswith("YCE")
    task = warehouse.fulfilment_for_order(db, order_id)
    assert task.status is FulfilmentStatus.handed_over and task.handed_over_at is not None
    # Idempotent: later runs do nothing more.
    before = snapshot(db, ("warehouse_fulfilments", "shipments", "warehouse_stock", "skus"))
    assert not any(fulfilment.run(db, clock.now() + timedelta(days=1), FAST).values())
    assert snapshot(db, ("warehouse_fulfilments", "shipments", "warehouse_stock", "skus")) == before


def test_the_shop_cannot_ship_a_warehouse_order(db, client):
    shop, _, sku, _ = _received_sku(db, sent=10)
    order_id, _ = _buy(db, sku.id)
    with pytest.raises(Conflict) as exc:
        fulfilment_flows.ship_order_as_shop(
            db, shop.shop.id, order_id, carrier_name="顺丰", tracking_number="SF12345"
        )
    assert exc.value.code == "order_fulfilled_by_warehouse"
    db.rollback()
    r = client.post(f"/api/merchant/orders/{order_id}/ship", json=SHIP, headers=auth(db, shop.owner))
    assert_error(r, 409, "order_fulfilled_by_warehouse")
    # Still refused once queued, and the job ships it.
    fulfilment.run(db, clock.now(), FAST)
    db.expire_all()
    assert commerce_service.get_order_for_shop(db, shop.shop.id, order_id).status is OrderStatus.shipped


def test_cancelled_after_pick_puts_units_back_on_the_shelf(db):
    shop, _, sku, _ = _received_sku(db, sent=10)
    order_id, buyer = _buy(db, sku.id, 2)
    now = clock.now()
    fulfilment.run(db, now + timedelta(minutes=40), Settings())  # queued
    fulfilment.run(db, now + timedelta(minutes=80), Settings())
    assert warehouse.fulfilment_for_order(db, order_id).status in (
        FulfilmentStatus.picked,
        FulfilmentStatus.packed,
    )
    assert _on_hand(db, sku.id) == 8
    commerce_service.cancel_order_as_buyer(db, buyer.id, order_id)
    assert fulfilment.run(db, now + timedelta(minutes=90), Settings())["cancelled"] == 1
    assert _on_hand(db, sku.id) == 10 and _stock(db, sku.id) == 10
    assert warehouse.fulfilment_for_order(db, order_id).status is FulfilmentStatus.cancelled


def test_orders_placed_before_enrolment_and_mixed_orders_are_the_shops(db):
    shop = make_shop(db)
    product = make_product(db, shop.shop, skus=2, stock=5)
    a, b = sorted(s.id for s in product.skus)
    early, _ = _buy(db, a)  # before a moves to the warehouse: the shop's own unit
    inbound = warehouse.create_inbound(
        db,
        shop.shop.id,
        shop.owner.id,
        warehouse_code="east",
        lines=[warehouse.NewLine(a, 6)],
        carrier_name="顺丰",
        tracking_number="SF0003",
        dispatch=True,
    )
    warehouse.receive_inbound(db, inbound.id)
    assert _stock(db, a) == 6  # the shop's 4 units left sale; the warehouse's 6 sell
    buyer = make_user(db, Role.shopper)
    checkout = place(db, buyer, [{"sku_id": a, "quantity": 2}, {"sku_id": b, "quantity": 1}])
    pay(db, buyer, checkout)
    mixed = checkout.orders[0].id
    assert fulfilment.run(db, clock.now(), FAST)["queued"] == 0
    assert _stock(db, a) == 4
    for order_id in (early, mixed):
        fulfilment_flows.ship_order_as_shop(
            db, shop.shop.id, order_id, carrier_name="顺丰", tracking_number="SF0077"
        )
    # The mixed order's 2 warehouse units were never picked: back on sale once the shop shipped.
    assert _stock(db, a) == 6 and _on_hand(db, a) == 6


def test_short_shelves_hand_the_order_back_to_the_shop(db):
    shop, _, sku, _ = _received_sku(db, sent=3)
    # The shop raised the sellable stock by hand past what the warehouse holds.
    db.get(Sku, sku.id).stock = 10
    db.commit()
    order_id, _ = _buy(db, sku.id, 5)
    assert fulfilment.run(db, clock.now(), FAST)["short"] == 1
    assert _on_hand(db, sku.id) == 3
    fulfilment_flows.ship_order_as_shop(
        db, shop.shop.id, order_id, carrier_name="顺丰", tracking_number="SF0005"
    )
    db.expire_all()
    assert commerce_service.get_order_for_shop(db, shop.shop.id, order_id).status is OrderStatus.shipped


# --- the API ------------------------------------------------------------------------------------


def test_api_inbound_flow_and_bad_input(db, client):
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, stock=0))
    owner = auth(db, shop.owner)
    ops = auth(db, make_user(db, Role.operator))
    assert {w["code"] for w in client.get("/api/warehouses").json()} == {"east", "south", "north"}
    url = "/api/merchant/warehouse/inbounds"
    good = {"warehouse": "east", "lines": [{"sku_id": sku.id, "quantity": 4}]}
    for body, status, code, field in [
        ({**good, "warehouse": "mars"}, 422, "validation_error", "warehouse"),
        ({**good, "lines": []}, 422, "validation_error", "lines"),
        (
            {**good, "lines": [{"sku_id": sku.id, "quantity": "4"}]},
            422,
            "validation_error",
            "lines[0].quantity",
        ),
        (
            {**good, "lines": [{"sku_id": sku.id, "quantity": 0}]},
            422,
            "validation_error",
            "lines[0].quantity",
        ),
        ({**good, "lines": [{"sku_id": 2**63, "quantity": 1}]}, 422, "validation_error", "lines[0].sku_id"),
        ({**good, "lines": [{"sku_id": 999999, "quantity": 1}]}, 404, "sku_not_found", "lines[0].sku_id"),
        ({**good, "dispatch": True}, 422, "carrier_required", "carrier_name"),
        ({**good, "note": "a\x00b"}, 422, "validation_error", "note"),
        (
            {**good, "dispatch": True, "carrier_name": "顺丰", "tracking_number": "顺丰!"},
            422,
            "validation_error",
            "tracking_number",
        ),
    ]:
        assert_error(client.post(url, json=body, headers=owner), status, code, field)
    r = client.post(url, json=good, headers=owner)
    assert r.status_code == 201, r.text
    inbound = r.json()
    assert inbound["status"] == "draft" and inbound["expected_units"] == 4
    iid = inbound["id"]
    # The operators' queue holds in-transit inbounds only.
    assert client.get("/api/ops/warehouse/inbounds", headers=ops).json()["items"] == []
    assert_error(
        client.post(
            f"{url}/{iid}/dispatch", json={"carrier_name": "", "tracking_number": "SF1"}, headers=owner
        ),
        422,
        "validation_error",
        "carrier_name",
    )
    r = client.post(
        f"{url}/{iid}/dispatch", json={"carrier_name": "顺丰", "tracking_number": "SF1234"}, headers=owner
    )
    assert r.status_code == 200 and r.json()["status"] == "in_transit"
    [queued] = client.get("/api/ops/warehouse/inbounds", headers=ops).json()["items"]
    line_id = queued["lines"][0]["id"]
    receive = f"/api/ops/warehouse/inbounds/{iid}/receive"
    # Only operators receive; bad counts are refused naming the field.
    assert client.post(receive, json={}, headers=owner).status_code == 403
    assert_error(
        client.post(receive, json={"lines": [{"line_id": line_id, "received_quantity": -1}]}, headers=ops),
        422,
        "validation_error",
        "lines[0].received_quantity",
    )
    assert_error(
        client.post(receive, json={"lines": [{"line_id": 999999, "received_quantity": 1}]}, headers=ops),
        422,
        "unknown_line",
    )
    r = client.post(receive, json={"lines": [{"line_id": line_id, "received_quantity": 3}]}, headers=ops)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received" and r.json()["lines"][0]["discrepancy"] == -1
    assert_error(client.post(receive, json={}, headers=ops), 409, "inbound_not_in_transit")
    assert_error(client.post(f"{url}/{iid}/cancel", headers=owner), 409, "inbound_not_cancellable")
    [stock] = client.get("/api/merchant/warehouse/stock", headers=owner).json()
    assert (stock["on_hand"], stock["sellable"], stock["warehouse"]) == (3, 3, "east")
    [promise] = client.get(f"/api/warehouse/promises?sku_id={sku.id}&sku_id=999").json()
    assert promise == {"sku_id": sku.id, "warehouse": "east", "in_stock": True, "days_min": 1, "days_max": 2}
    # Paid, then shipped by the warehouse job; the shop sees its task.
    order_id, _ = _buy(db, sku.id)
    fulfilment.run(db, clock.now(), FAST)
    [task] = client.get("/api/merchant/warehouse/fulfilments", headers=owner).json()["items"]
    assert task["order_id"] == order_id and task["status"] == "handed_over"


# --- the warehouse's stock is not the shop's to edit; returns go back to its shelves ------------------


def test_a_warehouse_skus_stock_cannot_be_edited_by_hand(db, client):
    shop, product, sku, _ = _received_sku(db, sent=12)
    headers = auth(db, shop.owner)
    before = snapshot(db, ("skus", "warehouse_stock"))
    for body, field in (({"delta": 5}, "delta"), ({"set": 0}, "set")):
        r = client.post(f"/api/merchant/skus/{sku.id}/stock", json=body, headers=headers)
        assert_error(r, 409, "stock_held_by_warehouse", field=field)
    # The bulk edit refuses the product, all or nothing, and the editor the SKU's stock.
    from zhongcao.catalog import bulk, editor

    result = bulk.bulk_edit(db, shop.shop.id, [product.id], stock=99)
    assert result.changed == 0 and [r.code for r in result.refusals] == ["stock_held_by_warehouse"]
    draft = editor.draft_of(db.get(type(product), product.id))
    assert draft.skus[0].held_by == "east"
    moved = dataclasses.replace(draft, skus=[dataclasses.replace(draft.skus[0], stock=40)])
    with pytest.raises(Conflict) as exc:
        editor.save_product(db, shop.shop.id, moved, product_id=product.id)
    assert exc.value.code == "stock_held_by_warehouse" and exc.value.details["field"] == "skus[0].stock"
    assert snapshot(db, ("skus", "warehouse_stock")) == before
    # Price and everything else still save; the stock stays the warehouse's.
    priced = dataclasses.replace(draft, skus=[dataclasses.replace(draft.skus[0], price_fen=4321)])
    editor.save_product(db, shop.shop.id, priced, product_id=product.id)
    assert _stock(db, sku.id) == 12 and db.get(Sku, sku.id).price_fen == 4321
    # A SKU the shop still ships itself keeps its hand-edited stock.
    own = first_sku(db, make_product(db, shop.shop, stock=3))
    r = client.post(f"/api/merchant/skus/{own.id}/stock", json={"delta": 2}, headers=headers)
    assert r.status_code == 200 and r.json()["stock"] == 5


def test_a_return_of_a_warehouse_order_goes_back_on_its_shelves(db, client):
    shop, _, sku, _ = _received_sku(db, sent=10)
    order_id, buyer = _buy(db, sku.id, 2)
    fulfilment.run(db, clock.now(), FAST)
    assert _on_hand(db, sku.id) == 8 and _stock(db, sku.id) == 8
    commerce_service.record_delivery(db, order_id)
    assert warehouse.return_address(db, order_id).code.value == "east"
    item = commerce_service.get_order_for_shop(db, shop.shop.id, order_id).items[0]
    buyer_h, owner_h = auth(db, buyer), auth(db, shop.owner)
    r = client.post(
        f"/api/orders/{order_id}/after-sales",
        json={"order_item_id": item.id, "kind": "return_and_refund", "reason": "quality", "quantity": 2},
        headers=buyer_h,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert client.post(f"/api/merchant/after-sales/{cid}/approve", headers=owner_h).status_code == 200
    r = client.post(
        f"/api/after-sales/{cid}/return-shipped", json={"tracking_number": "SF0002"}, headers=buyer_h
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/api/merchant/after-sales/{cid}/receive-return", headers=owner_h)
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    # The two units are back on the warehouse's shelves and on sale: on hand equals sellable again.
    assert _on_hand(db, sku.id) == 10 and _stock(db, sku.id) == 10
    # Receiving twice is refused and shelves nothing more.
    r = client.post(f"/api/merchant/after-sales/{cid}/receive-return", headers=owner_h)
    assert r.status_code == 409
    assert _on_hand(db, sku.id) == 10 and _stock(db, sku.id) == 10


def test_a_return_of_the_shops_own_order_does_not_touch_the_warehouse(db):
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, stock=5))
    order_id, _ = _buy(db, sku.id)
    fulfilment_flows.ship_order_as_shop(
        db, shop.shop.id, order_id, carrier_name="顺丰", tracking_number="SF0003"
    )
    assert warehouse.return_address(db, order_id) is None
    assert warehouse.shelve_return(db, order_id, sku.id, 1, clock.now()) is None
