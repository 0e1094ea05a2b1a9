"""Shared pieces for the after-sales, reviews and end-to-end tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.commerce_helpers import OrderBundle
from tests.factories import auth
from zhongcao.affiliate.models import CommissionEntry
from zhongcao.aftersales.models import AfterSale
from zhongcao.catalog.models import Sku
from zhongcao.commerce.models import Order, OrderItem, Payment, Refund
from zhongcao.reviews.models import Review


def open_case(
    client: TestClient, headers: dict[str, str], bundle: OrderBundle, **body: Any
) -> dict[str, Any]:
    payload = {"order_item_id": bundle.item.id, "kind": "refund_only", "reason": "quality", **body}
    r = client.post(f"/api/orders/{bundle.order.id}/after-sales", json=payload, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def buyer_headers(db: Session, bundle: OrderBundle) -> dict[str, str]:
    return auth(db, bundle.buyer)


def owner_headers(db: Session, bundle: OrderBundle) -> dict[str, str]:
    return auth(db, bundle.shop.owner)


def counts(db: Session) -> dict[str, int]:
    """Row counts of what after-sales and reviews may write, to show that a refusal wrote nothing."""
    db.expire_all()
    return {
        model.__tablename__: int(db.scalar(select(func.count()).select_from(model)) or 0)
        for model in (AfterSale, Refund, Review, CommissionEntry)
    }


def money(db: Session, bundle: OrderBundle) -> dict[str, int]:
    """Where the money of the bundle's first line stands, read fresh from the database."""
    db.expire_all()
    order = db.get(Order, bundle.order.id)
    item = db.get(OrderItem, bundle.item.id)
    assert order is not None and item is not None
    payment = db.scalar(select(Payment).where(Payment.checkout_id == order.checkout_id))
    assert payment is not None
    refunds = db.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(Refund.payment_id == payment.id)
    )
    return {
        "order_refunded": order.refunded_fen,
        "item_refunded": item.refunded_fen,
        "item_refunded_quantity": item.refunded_quantity,
        "payment_refunded": payment.refunded_fen,
        "refunds": int(refunds or 0),
    }


def sku_stock(db: Session, sku_id: int) -> int:
    db.expire_all()
    sku = db.get(Sku, sku_id)
    assert sku is not None
    return sku.stock
