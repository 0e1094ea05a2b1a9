"""Helpers for the content and affiliate tests: their tables, plans, ledger rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.affiliate import ledger
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import AffiliatePlan, PlanKind
from zhongcao.catalog.models import Product
from zhongcao.commerce.models import Checkout, CheckoutStatus, Order, OrderItem, OrderStatus
from zhongcao.content.models import Account

# Every table the content and affiliate endpoints may write (for ``api_helpers.snapshot``).
CONTENT_TABLES = (
    "accounts",
    "follows",
    "content",
    "live_product_sets",
    "content_anchors",
    "affiliate_plans",
    "affiliate_plan_creators",
    "creator_applications",
)


def future(hours: int = 2) -> str:
    return (clock.now() + timedelta(hours=hours)).isoformat()


def make_plan(
    db: Session,
    product: Product,
    kind: PlanKind = PlanKind.open,
    commission_bps: int = 1000,
    creators: list[Account] | None = None,
) -> AffiliatePlan:
    return affiliate_service.create_plan(
        db,
        product.shop_id,
        product_id=product.id,
        kind=kind,
        commission_bps=commission_bps,
        creator_account_ids=[a.id for a in creators or []],
    )


def make_commissioned_item(
    db: Session, product: Product, account: Account, *, paid_fen: int = 10_000, commission_fen: int = 1_000
) -> OrderItem:
    """A completed order of one item credited to ``account``, reconciling as the checks demand."""
    sku = product.skus[0]
    buyer_id = db.execute(text("SELECT id FROM users ORDER BY id LIMIT 1")).scalar_one()
    checkout = Checkout(
        user_id=buyer_id,
        status=CheckoutStatus.paid,
        total_fen=paid_fen,
        expires_at=clock.now(),
        paid_at=clock.now(),
    )
    db.add(checkout)
    db.flush()
    order = Order(
        checkout_id=checkout.id,
        user_id=buyer_id,
        shop_id=product.shop_id,
        status=OrderStatus.completed,
        item_total_fen=paid_fen,
        paid_fen=paid_fen,
        commission_fen=commission_fen,
        shop_settlement_fen=paid_fen - commission_fen,
        completed_at=clock.now(),
    )
    db.add(order)
    db.flush()
    item = OrderItem(
        order_id=order.id,
        shop_id=product.shop_id,
        product_id=product.id,
        sku_id=sku.id,
        title_zh=product.title_zh,
        title_en=product.title_en,
        unit_price_fen=paid_fen,
        quantity=1,
        line_total_fen=paid_fen,
        paid_fen=paid_fen,
        account_id=account.id,
        commission_bps=1000,
        commission_fen=commission_fen,
    )
    db.add(item)
    db.flush()
    ledger.accrue_for_completed_order(db, [item])
    db.commit()
    return item
