"""One order's whole life through the public HTTP API, with the books checked after every step.

A shopper finds a product in a creator's short video (the shop runs an open affiliate plan on it),
buys two units, and returns one. Only the users, the shop and its catalog are set up with
factories; every action after that is an HTTP request. After each step the test checks:

* stock: taken at checkout, untouched by payment, one unit back when the return is received;
* money: both reconciliation identities of the order and of its line, the payment's refunded
  amount equals the refunds, the line's refunded amount and units;
* the commission ledger: empty until the order completes, then summing to the line's net
  commission ``commission - round_half_up(commission * refunded / paid)`` (affiliate/ledger.py);
* attribution: channel short_video, the video's id, the creator's account, carrier "A", frozen
  by payment and never changed afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import auth, make_category, make_creator, make_product, make_shop, make_user
from zhongcao.affiliate.models import CommissionEntry
from zhongcao.catalog.models import Sku
from zhongcao.commerce.models import Checkout, Order, OrderItem, Payment, Refund
from zhongcao.money import apply_bps
from zhongcao.users.models import Role

PRICE_FEN = 9900
STOCK = 10
COMMISSION_BPS = 2000
FEE_BPS = 600
ADDRESS = {
    "name": "李四",
    "phone": "13900139000",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "line": "漕溪北路 1 号",
}


@dataclass
class Expected:
    stock: int = STOCK
    refunded_fen: int = 0
    refunded_quantity: int = 0
    completed: bool = False
    paid: bool = False


@dataclass
class World:
    client: TestClient
    db: Session
    buyer: dict[str, str]
    owner: dict[str, str]
    operator: dict[str, str]
    creator: dict[str, str]
    product_id: int
    sku_id: int
    creator_account_id: int
    content_id: int = 0
    checkout_id: int = 0
    order_id: int = 0
    item_id: int = 0
    case_id: int = 0
    frozen_at: str | None = None
    expected: Expected = field(default_factory=Expected)

    # --- HTTP ----------------------------------------------------------------------------------

    def call(
        self, method: str, path: str, headers: dict[str, str], json: Any = None, status: int = 200
    ) -> Any:
        r = self.client.request(method, path, headers=headers, json=json)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def keyed(self, headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "Idempotency-Key": uuid.uuid4().hex}

    # --- what must hold after every step ---------------------------------------------------------

    def check(self) -> None:
        db, exp = self.db, self.expected
        db.expire_all()
        sku = db.get(Sku, self.sku_id)
        assert sku is not None and sku.stock == exp.stock
        if not self.order_id:
            return
        order = db.get(Order, self.order_id)
        item = db.get(OrderItem, self.item_id)
        checkout = db.get(Checkout, self.checkout_id)
        assert order is not None and item is not None and checkout is not None

        # Money: the order's two identities, the line's, and the refunds.
        assert (
            order.item_total_fen
            - order.shop_discount_fen
            - order.platform_discount_fen
            - order.campaign_subsidy_fen
            + order.shipping_fen
            == order.paid_fen
        )
        assert (
            order.paid_fen + order.platform_discount_fen + order.campaign_subsidy_fen
            == order.shop_settlement_fen + order.platform_fee_fen + order.commission_fen
        )
        assert (
            item.line_total_fen
            - item.shop_discount_fen
            - item.platform_discount_fen
            - item.campaign_subsidy_fen
            == item.paid_fen
        )
        assert order.paid_fen == checkout.total_fen == item.paid_fen == 2 * PRICE_FEN
        assert item.commission_fen == order.commission_fen == apply_bps(2 * PRICE_FEN, COMMISSION_BPS)
        assert item.platform_fee_fen == order.platform_fee_fen == apply_bps(2 * PRICE_FEN, FEE_BPS)
        assert item.refunded_fen == order.refunded_fen == exp.refunded_fen
        assert item.refunded_quantity == exp.refunded_quantity
        refunds = db.scalar(
            select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(Refund.order_id == order.id)
        )
        payment = db.scalar(select(Payment).where(Payment.checkout_id == checkout.id))
        if exp.paid:
            assert payment is not None and payment.amount_fen == order.paid_fen
            assert payment.refunded_fen == refunds == exp.refunded_fen
        else:
            assert payment is None and refunds == 0

        # The commission ledger.
        entries = db.scalars(select(CommissionEntry).where(CommissionEntry.order_item_id == item.id)).all()
        if not exp.completed:
            assert entries == []
        else:
            commission = item.commission_fen
            # round_half_up(commission * refunded / paid), written out independently of money.py
            taken_back = (commission * exp.refunded_fen * 2 + item.paid_fen) // (2 * item.paid_fen)
            assert sum(e.amount_fen for e in entries) == commission - taken_back
            assert {e.account_id for e in entries} == {self.creator_account_id}

        # Attribution, as the buyer's API shows it and as stored.
        shown = self.call("GET", f"/api/orders/{self.order_id}", self.buyer)["items"][0]["attribution"]
        assert shown["channel"] == "short_video"
        assert shown["content_id"] == self.content_id
        assert shown["account_id"] == self.creator_account_id
        assert shown["carrier"] == "A"
        assert (item.channel.value, item.content_id, item.account_id, item.carrier.value) == (
            "short_video",
            self.content_id,
            self.creator_account_id,
            "A",
        )
        if exp.paid:
            assert shown["frozen_at"] is not None
            if self.frozen_at is None:
                self.frozen_at = shown["frozen_at"]
            assert shown["frozen_at"] == self.frozen_at
        else:
            assert shown["frozen_at"] is None

    # --- the steps -------------------------------------------------------------------------------

    def publish(self) -> None:
        plan = self.call(
            "POST",
            "/api/merchant/affiliate/plans",
            self.owner,
            {"product_id": self.product_id, "kind": "open", "commission_bps": COMMISSION_BPS},
            status=201,
        )
        assert plan["status"] == "active"
        content = self.call(
            "POST",
            "/api/creator/content",
            self.creator,
            {
                "kind": "short_video",
                "title_zh": "开箱测评",
                "title_en": "Unboxing",
                "duration_seconds": 45,
                "anchors": [self.product_id],
            },
            status=201,
        )
        self.content_id = content["id"]
        # The shopper sees the video and the product anchored to it.
        seen = self.call("GET", f"/api/content/{self.content_id}", self.buyer)
        assert [a["product_id"] for a in seen["anchors"]] == [self.product_id]
        self.check()

    def place(self) -> None:
        checkout = self.call(
            "POST",
            "/api/checkout",
            self.keyed(self.buyer),
            {
                "items": [
                    {
                        "sku_id": self.sku_id,
                        "quantity": 2,
                        "attribution": {"channel": "short_video", "content_id": self.content_id},
                    }
                ],
                "shipping_address": ADDRESS,
            },
            status=201,
        )
        assert checkout["status"] == "pending_payment"
        self.checkout_id = checkout["id"]
        order = checkout["orders"][0]
        self.order_id, self.item_id = order["id"], order["items"][0]["id"]
        assert order["status"] == "created"
        self.expected.stock -= 2
        self.check()

    def pay(self) -> None:
        paid = self.call(
            "POST",
            f"/api/checkouts/{self.checkout_id}/pay",
            self.keyed(self.buyer),
            {"payment_method": "pm_card_ok"},
        )
        assert paid["status"] == "paid"
        assert paid["orders"][0]["status"] == "paid"
        self.expected.paid = True
        self.check()

    def ship(self) -> None:
        shipped = self.call(
            "POST",
            f"/api/merchant/orders/{self.order_id}/ship",
            self.owner,
            {"carrier_name": "顺丰", "tracking_number": "SF1000000001"},
        )
        assert shipped["status"] == "shipped"
        self.check()

    def pick_up(self) -> None:
        picked = self.call("POST", f"/api/ops/shipments/{self.order_id}/picked-up", self.operator)
        assert picked["shipment"]["picked_up_at"] is not None
        self.check()

    def deliver(self) -> None:
        delivered = self.call("POST", f"/api/ops/shipments/{self.order_id}/delivered", self.operator)
        assert delivered["status"] == "delivered"
        self.check()

    def review(self) -> None:
        review = self.call(
            "POST",
            f"/api/orders/{self.order_id}/items/{self.item_id}/reviews",
            self.buyer,
            {"rating": 4, "text": "颜色正，尺码偏小", "tags": ["颜色正", "尺码偏小"]},
            status=201,
        )
        assert review["is_first"] is True
        listed = self.call("GET", f"/api/products/{self.product_id}/reviews", {})
        assert [r["id"] for r in listed["items"]] == [review["id"]]
        assert listed["summary"]["count"] == 1 and listed["summary"]["average_rating_centi"] == 400
        self.check()

    def open_return(self, kind: str = "return_and_refund") -> None:
        case = self.call(
            "POST",
            f"/api/orders/{self.order_id}/after-sales",
            self.buyer,
            {
                "order_item_id": self.item_id,
                "kind": kind,
                "reason": "quality",
                "quantity": 1,
                "description": "小了",
            },
            status=201,
        )
        assert case["status"] == "requested" and case["amount_fen"] == PRICE_FEN
        self.case_id = case["id"]
        merchant_view = self.call("GET", "/api/merchant/after-sales?status=requested", self.owner)
        assert [c["id"] for c in merchant_view["items"]] == [self.case_id]
        self.check()

    def approve(self, *, refunds_now: bool = False) -> None:
        case = self.call("POST", f"/api/merchant/after-sales/{self.case_id}/approve", self.owner)
        if refunds_now:
            assert case["status"] == "refunded"
            self.expected.refunded_fen += PRICE_FEN
            self.expected.refunded_quantity += 1
        else:
            assert case["status"] == "awaiting_return"
        self.check()

    def ship_return(self) -> None:
        case = self.call(
            "POST",
            f"/api/after-sales/{self.case_id}/return-shipped",
            self.buyer,
            {"tracking_number": "YT2000000002"},
        )
        assert case["status"] == "return_shipped"
        self.check()

    def receive_return(self) -> None:
        case = self.call("POST", f"/api/merchant/after-sales/{self.case_id}/receive-return", self.owner)
        assert case["status"] == "refunded" and case["refunded_at"] is not None
        self.expected.stock += 1
        self.expected.refunded_fen += PRICE_FEN
        self.expected.refunded_quantity += 1
        order = self.call("GET", f"/api/orders/{self.order_id}", self.buyer)
        assert order["refunded_fen"] == self.expected.refunded_fen
        assert order["items"][0]["refunded_quantity"] == self.expected.refunded_quantity
        self.check()

    def confirm(self) -> None:
        order = self.call("POST", f"/api/orders/{self.order_id}/confirm-receipt", self.buyer)
        assert order["status"] == "completed"
        self.expected.completed = True
        self.check()


@pytest.fixture
def world(client, db) -> World:
    operator = make_user(db, Role.operator)
    bundle = make_shop(db)
    product = make_product(
        db,
        bundle.shop,
        category=make_category(db, platform_fee_bps=FEE_BPS),
        price_fen=PRICE_FEN,
        stock=STOCK,
    )
    sku = db.scalar(select(Sku).where(Sku.product_id == product.id))
    creator_user, creator_account = make_creator(db)
    registered = client.post(
        "/api/auth/register",
        json={"email": "shopper@example.com", "password": "a long password", "display_name": "买家"},
    )
    assert registered.status_code == 201, registered.text
    w = World(
        client=client,
        db=db,
        buyer={"Authorization": f"Bearer {registered.json()['token']}"},
        owner=auth(db, bundle.owner),
        operator=auth(db, operator),
        product_id=product.id,
        sku_id=sku.id,
        creator_account_id=creator_account.id,
        creator=auth(db, creator_user),
    )
    w.check()
    return w


def test_buy_review_return_one_unit_then_complete(world: World) -> None:
    world.publish()
    world.place()
    world.pay()
    world.ship()
    world.pick_up()
    world.deliver()
    world.review()
    world.open_return()
    world.approve()
    world.ship_return()
    world.receive_return()
    world.confirm()
    # Completed after the refund: one accrual of the net, no reversal.
    entries = world.db.scalars(
        select(CommissionEntry).where(CommissionEntry.order_item_id == world.item_id)
    ).all()
    assert [(e.kind.value, e.amount_fen) for e in entries] == [
        ("accrual", apply_bps(2 * PRICE_FEN, COMMISSION_BPS) // 2)
    ]
    # The creator sees it in their commission balance.
    mine = world.call("GET", "/api/creator/commissions", world.creator)
    assert mine["balance_fen"] == entries[0].amount_fen


def test_refund_after_completion_reverses_commission(world: World) -> None:
    world.publish()
    world.place()
    world.pay()
    world.ship()
    world.pick_up()
    world.deliver()
    world.review()
    world.confirm()
    accrued = apply_bps(2 * PRICE_FEN, COMMISSION_BPS)
    entries = world.db.scalars(
        select(CommissionEntry).where(CommissionEntry.order_item_id == world.item_id)
    ).all()
    assert [(e.kind.value, e.amount_fen) for e in entries] == [("accrual", accrued)]

    world.open_return()
    world.approve()
    world.ship_return()
    world.receive_return()
    world.db.expire_all()
    entries = world.db.scalars(
        select(CommissionEntry)
        .where(CommissionEntry.order_item_id == world.item_id)
        .order_by(CommissionEntry.id)
    ).all()
    assert [(e.kind.value, e.amount_fen) for e in entries] == [
        ("accrual", accrued),
        ("reversal", -(accrued // 2)),
    ]
    refund = world.db.scalar(select(Refund).where(Refund.after_sale_id == world.case_id))
    assert refund is not None and entries[1].refund_id == refund.id
    mine = world.call("GET", "/api/creator/commissions", world.creator)
    assert mine["balance_fen"] == accrued - accrued // 2


def test_refund_only_after_completion(world: World) -> None:
    world.publish()
    world.place()
    world.pay()
    world.ship()
    world.pick_up()
    world.deliver()
    world.confirm()
    world.open_return(kind="refund_only")
    world.approve(refunds_now=True)
    # No parcel came back: stock stays where the sale left it.
    assert world.expected.stock == STOCK - 2
