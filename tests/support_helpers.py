"""Helpers for the campaigns, support and experience tests: orders and after-sales cases written
as rows.

Orders are inserted directly (checkout, order, one item) so these tests state only what they need
and do not depend on the checkout flow.
"""

from __future__ import annotations

from datetime import timedelta

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
