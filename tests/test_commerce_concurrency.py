"""Concurrency on PostgreSQL: stock, campaign budgets, double payment, idempotency keys.

Thread counts are kept so that two xdist workers running these at once stay under PostgreSQL's
default 100 connections.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.commerce_helpers import checkout_request, first_sku, make_campaign
from tests.factories import make_product, make_shop, make_user
from zhongcao.campaigns.models import Campaign
from zhongcao.catalog.models import Sku
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import idempotency
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import Checkout, Order, OrderItem, OrderStatus, Payment, SimulatedCharge
from zhongcao.db import Database
from zhongcao.errors import DomainError

pytestmark = pytest.mark.pg_only


def _race(database: Database, n: int, work: Callable[[Any, int], Any]) -> list[Any]:
    """Run ``work(session, i)`` in ``n`` threads released together; return results or errors."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        session = database.session()
        try:
            barrier.wait()
            return work(session, i)
        except DomainError as exc:
            return exc
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_fifty_checkouts_for_ten_units(database, db):
    buyers = [make_user(db) for _ in range(5)]
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=10))
    request = checkout_request([{"sku_id": sku.id, "quantity": 1}])

    def buy(session, i: int) -> Any:
        return checkout_service.place_checkout(session, buyers[i % 5].id, request).id

    results = _race(database, 50, buy)
    ok = [r for r in results if isinstance(r, int)]
    failed = [r for r in results if isinstance(r, DomainError)]
    assert len(ok) == 10 and len(failed) == 40
    assert {e.code for e in failed} == {"insufficient_stock"}
    db.expire_all()
    assert db.get(Sku, sku.id).stock == 0
    assert db.scalar(select(func.sum(OrderItem.quantity))) == 10
    assert db.scalar(select(func.count()).select_from(Checkout)) == 10


def test_campaign_budget_is_never_overspent(database, db):
    buyer = make_user(db)
    shop = make_shop(db)
    products = [make_product(db, shop.shop, price_fen=5000, stock=1000) for _ in range(2)]
    campaign = make_campaign(db, products, subsidy_per_item_fen=300, budget_fen=3000)
    skus = [first_sku(db, p) for p in products]

    def buy(session, i: int) -> Any:
        request = checkout_request([{"sku_id": skus[i % 2].id, "quantity": 1 + i % 3}])
        return checkout_service.place_checkout(session, buyer.id, request)

    placed = _race(database, 20, buy)
    assert all(isinstance(c, Checkout) for c in placed)

    def live_subsidy() -> int:
        return db.scalar(
            select(func.coalesce(func.sum(OrderItem.campaign_subsidy_fen), 0))
            .join(Order, Order.id == OrderItem.order_id)
            .where(Order.status != OrderStatus.cancelled)
        )

    db.expire_all()
    spent = db.get(Campaign, campaign.id).spent_fen
    assert 0 < spent <= 3000 and spent == live_subsidy()

    # Cancelling subsidised checkouts while others check out keeps the books exact.
    subsidised = [
        c.id
        for c in placed
        if db.scalar(select(Order).where(Order.checkout_id == c.id)).campaign_subsidy_fen > 0
    ]
    order_ids = {c: db.scalar(select(Order.id).where(Order.checkout_id == c)) for c in subsidised}

    def mixed(session, i: int) -> Any:
        if i < len(subsidised):
            return order_service.cancel_order_as_buyer(session, buyer.id, order_ids[subsidised[i]]).id
        return buy(session, i)

    _race(database, len(subsidised) + 10, mixed)
    db.expire_all()
    spent = db.get(Campaign, campaign.id).spent_fen
    assert spent <= 3000 and spent == live_subsidy()


def test_concurrent_payments_charge_once(database, db):
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=5))
    checkout = checkout_service.place_checkout(
        db, buyer.id, checkout_request([{"sku_id": sku.id, "quantity": 2}])
    )

    def pay(session, i: int) -> Any:
        return checkout_service.pay_checkout(
            session, buyer.id, checkout.id, payment_method="pm_card_ok", client_key=f"key-{i}"
        ).status

    results = _race(database, 8, pay)
    codes = Counter(r.code if isinstance(r, DomainError) else "paid" for r in results)
    assert codes == {"paid": 1, "checkout_not_payable": 7}
    db.expire_all()
    assert (
        db.scalar(
            select(func.count()).select_from(SimulatedCharge).where(SimulatedCharge.status == "captured")
        )
        == 1
    )
    assert db.scalar(select(func.count()).select_from(Payment)) == 1
    assert (db.get(Sku, sku.id).stock, db.get(Sku, sku.id).sold_count) == (3, 2)


def test_concurrent_requests_with_one_key_act_once(database, db):
    buyer = make_user(db)
    sku = first_sku(db, make_product(db, make_shop(db).shop, stock=50))
    request = checkout_request([{"sku_id": sku.id, "quantity": 1}])
    body = request.model_dump(mode="json")

    def attempt(session, i: int) -> Any:
        def action() -> tuple[int, Any]:
            checkout = checkout_service.place_checkout(session, buyer.id, request, commit=False)
            return 201, {"id": checkout.id}

        outcome = idempotency.execute(
            session, user_id=buyer.id, scope="checkout", key="one-key", body=body, action=action
        )
        return outcome.body["id"]

    results = _race(database, 12, attempt)
    ids = {r for r in results if isinstance(r, int)}
    others = [r for r in results if isinstance(r, DomainError)]
    assert len(ids) == 1
    assert all(e.code == "idempotency_in_progress" for e in others)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Checkout)) == 1
    assert db.get(Sku, sku.id).stock == 49
