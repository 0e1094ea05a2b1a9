"""Helpers for the campaigns, support and experience tests: orders written as rows, database
snapshots, error assertions and cursor walks.

Orders are inserted directly (checkout, order, one item) so these tests state only what they need
and do not depend on the checkout flow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_product
from zhongcao import clock
from zhongcao.aftersales.models import AfterSale, AfterSaleKind, AfterSaleReason, AfterSaleStatus
from zhongcao.catalog.models import Product
from zhongcao.commerce.models import Checkout, CheckoutStatus, Order, OrderItem, OrderStatus
from zhongcao.shops.models import Shop
from zhongcao.users.models import User

_DELIVERED = {OrderStatus.delivered, OrderStatus.completed}
_SHIPPED = _DELIVERED | {OrderStatus.shipped}


def make_order(
    db: Session,
    buyer: User,
    shop: Shop,
    *,
    product: Product | None = None,
    status: OrderStatus = OrderStatus.delivered,
    paid_fen: int = 9900,
) -> Order:
    """A paid one-item order of ``buyer`` at ``shop`` in ``status`` (reconciling, no discounts)."""
    product = product or make_product(db, shop, price_fen=paid_fen)
    sku = product.skus[0]
    now = clock.now()
    checkout = Checkout(
        user_id=buyer.id,
        status=CheckoutStatus.paid,
        total_fen=paid_fen,
        expires_at=now + timedelta(minutes=30),
        paid_at=now,
    )
    db.add(checkout)
    db.flush()
    order = Order(
        checkout_id=checkout.id,
        user_id=buyer.id,
        shop_id=shop.id,
        status=status,
        item_total_fen=paid_fen,
        paid_fen=paid_fen,
        shop_settlement_fen=paid_fen,
        paid_at=now,
        shipped_at=now if status in _SHIPPED else None,
        delivered_at=now if status in _DELIVERED else None,
        completed_at=now if status == OrderStatus.completed else None,
    )
    db.add(order)
    db.flush()
    db.add(
        OrderItem(
            order_id=order.id,
            shop_id=shop.id,
            product_id=product.id,
            sku_id=sku.id,
            title_zh=product.title_zh,
            title_en=product.title_en,
            unit_price_fen=paid_fen,
            quantity=1,
            line_total_fen=paid_fen,
            paid_fen=paid_fen,
        )
    )
    db.commit()
    return order


def make_after_sale(
    db: Session, order: Order, *, status: AfterSaleStatus = AfterSaleStatus.refunded
) -> AfterSale:
    item = db.query(OrderItem).filter(OrderItem.order_id == order.id).one()
    case = AfterSale(
        order_id=order.id,
        order_item_id=item.id,
        user_id=order.user_id,
        shop_id=order.shop_id,
        kind=AfterSaleKind.refund_only,
        reason=AfterSaleReason.quality,
        status=status,
        quantity=1,
        amount_fen=item.paid_fen,
        requested_at=clock.now(),
    )
    db.add(case)
    db.commit()
    return case


def snapshot(db: Session, tables: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables``, read on a connection of its own (the test session stays idle).

    Comparing snapshots taken before and after a refused request proves it changed nothing. The
    test session's transaction is ended first: on SQLite it would hold the single write lock.
    """
    db.commit()
    with db.get_bind().connect() as conn:
        out = {
            name: [tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}" ORDER BY id'))]
            for name in tables
        }
        conn.rollback()
    return out


def count(db: Session, table: str, where: str = "", **params: Any) -> int:
    """Rows of ``table`` (optionally matching a SQL condition), on a connection of its own."""
    sql = f'SELECT COUNT(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
    db.commit()
    with db.get_bind().connect() as conn:
        value = conn.execute(text(sql), params).scalar_one()
        conn.rollback()
    return int(value)


def assert_error(response: Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is the one error shape with this status and code (and ``details.field``)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    if field is not None:
        assert error["details"].get("field") == field, body
    return error


def walk(
    client: TestClient, url: str, *, headers: dict[str, str] | None = None, limit: int = 2, **params: Any
) -> list[int]:
    """Follow ``next_cursor`` through every page; return the ids in the order served."""
    ids: list[int] = []
    cursor: str | None = None
    for _ in range(1000):
        query = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        r = client.get(url, params=query, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination did not end")


@contextlib.contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Set the platform clock process-wide (the test client serves from another thread)."""
    clock.set_now(moment)
    try:
        yield
    finally:
        clock.set_now(None)
