"""Build carts, checkouts and orders in any state through commerce's own services.

For any domain's tests::

    from tests.commerce_helpers import paid_order, delivered_order

    bundle = delivered_order(db)                       # one shop, one product, quantity 1
    bundle = delivered_order(db, quantity=3, creator=True, commission_bps=1500)
    bundle.order, bundle.item, bundle.buyer, bundle.shop (ShopBundle), bundle.product, bundle.creator

Rows that other domains own (affiliate plans, campaigns, coupons, content) are inserted directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import ShopBundle, make_creator, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.affiliate.models import AffiliatePlan, AffiliatePlanCreator, PlanKind
from zhongcao.campaigns.models import Campaign, CampaignProduct, Coupon, CouponFunder, UserCoupon
from zhongcao.catalog.models import Product, Sku
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import Checkout, Order, OrderItem
from zhongcao.commerce.schemas import CheckoutCreate
from zhongcao.content.models import Account, Content, ContentAnchor, ContentKind, ContentStatus
from zhongcao.users.models import Role, User

ADDRESS: dict[str, str] = {
    "name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "line": "文三路 100 号",
}


# --- rows owned by other domains -----------------------------------------------------------------


def first_sku(db: Session, product: Product) -> Sku:
    sku = db.scalar(select(Sku).where(Sku.product_id == product.id).order_by(Sku.id))
    assert sku is not None
    return sku


def make_plan(
    db: Session,
    product: Product,
    *,
    kind: PlanKind = PlanKind.open,
    commission_bps: int = 1000,
    creators: Sequence[Account] = (),
) -> AffiliatePlan:
    plan = AffiliatePlan(
        shop_id=product.shop_id, product_id=product.id, kind=kind, commission_bps=commission_bps
    )
    db.add(plan)
    db.flush()
    for account in creators:
        db.add(AffiliatePlanCreator(plan_id=plan.id, account_id=account.id))
    db.commit()
    return plan


def make_content(db: Session, account: Account, products: Sequence[Product]) -> Content:
    """A published short video by ``account`` anchoring ``products``."""
    content = Content(
        account_id=account.id,
        kind=ContentKind.short_video,
        status=ContentStatus.published,
        title_zh="种草视频",
        title_en="A video",
    )
    db.add(content)
    db.flush()
    for position, product in enumerate(products):
        db.add(ContentAnchor(content_id=content.id, product_id=product.id, position=position))
    db.commit()
    return content


def make_campaign(
    db: Session,
    products: Sequence[Product],
    *,
    subsidy_per_item_fen: int = 500,
    budget_fen: int = 100_000,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Campaign:
    now = clock.now()
    campaign = Campaign(
        slug=f"campaign-{uuid.uuid4().hex[:10]}",
        name_zh="大促",
        name_en="Sale",
        starts_at=starts_at or now - timedelta(days=1),
        ends_at=ends_at or now + timedelta(days=7),
        subsidy_per_item_fen=subsidy_per_item_fen,
        budget_fen=budget_fen,
    )
    db.add(campaign)
    db.flush()
    for product in products:
        db.add(CampaignProduct(campaign_id=campaign.id, product_id=product.id, shop_id=product.shop_id))
    db.commit()
    return campaign


def give_coupon(
    db: Session,
    user: User,
    *,
    shop_id: int | None = None,
    threshold_fen: int = 0,
    discount_fen: int = 1000,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> UserCoupon:
    """A coupon (shop-funded when ``shop_id`` is given, else platform-funded) claimed by ``user``."""
    now = clock.now()
    coupon = Coupon(
        funded_by=CouponFunder.shop if shop_id is not None else CouponFunder.platform,
        shop_id=shop_id,
        name="满减券",
        threshold_fen=threshold_fen,
        discount_fen=discount_fen,
        claimed_count=1,
        starts_at=starts_at or now - timedelta(days=1),
        ends_at=ends_at or now + timedelta(days=30),
    )
    db.add(coupon)
    db.flush()
    user_coupon = UserCoupon(coupon_id=coupon.id, user_id=user.id, claimed_at=now)
    db.add(user_coupon)
    db.commit()
    return user_coupon


# --- checkouts and orders ------------------------------------------------------------------------


def checkout_request(items: Sequence[dict[str, Any]], **extra: Any) -> CheckoutCreate:
    return CheckoutCreate.model_validate({"items": list(items), "shipping_address": ADDRESS, **extra})


def place(db: Session, buyer: User, items: Sequence[dict[str, Any]], **extra: Any) -> Checkout:
    """Place a checkout through the service (committed)."""
    return checkout_service.place_checkout(db, buyer.id, checkout_request(items, **extra))


def pay(db: Session, buyer: User, checkout: Checkout, payment_method: str = "pm_card_ok") -> Checkout:
    return checkout_service.pay_checkout(
        db, buyer.id, checkout.id, payment_method=payment_method, client_key=uuid.uuid4().hex
    )


@dataclass
class OrderBundle:
    order: Order
    checkout: Checkout
    buyer: User
    shop: ShopBundle
    product: Product
    sku: Sku
    creator: Account | None
    content: Content | None

    @property
    def item(self) -> OrderItem:
        return self.order.items[0]

    def refresh(self, db: Session) -> OrderBundle:
        db.refresh(self.order)
        for item in self.order.items:
            db.refresh(item)
        return self


def created_order(
    db: Session,
    *,
    buyer: User | None = None,
    shop: ShopBundle | None = None,
    product: Product | None = None,
    quantity: int = 1,
    price_fen: int = 9900,
    stock: int = 100,
    shipping_fee_fen: int = 0,
    creator: Account | bool | None = None,
    commission_bps: int = 1000,
    address: dict[str, str] | None = None,
) -> OrderBundle:
    """An unpaid order. ``creator=True`` (or an Account) sells it through a creator's video under
    an open affiliate plan at ``commission_bps``, so the item carries a commission. Every buyer ships
    to :data:`ADDRESS` unless ``address`` is given (buyers sharing an address look like a brushing
    ring to integrity's sales hold)."""
    buyer = buyer or make_user(db, Role.shopper)
    shop = shop or make_shop(db, shipping_fee_fen=shipping_fee_fen)
    product = product or make_product(db, shop.shop, price_fen=price_fen, stock=stock)
    sku = first_sku(db, product)
    account: Account | None = None
    content: Content | None = None
    item: dict[str, Any] = {"sku_id": sku.id, "quantity": quantity}
    if creator:
        account = creator if isinstance(creator, Account) else make_creator(db)[1]
        make_plan(db, product, commission_bps=commission_bps)
        content = make_content(db, account, [product])
        item["attribution"] = {"channel": "short_video", "content_id": content.id}
    checkout = place(db, buyer, [item], **({"shipping_address": address} if address else {}))
    order = checkout.orders[0]
    return OrderBundle(
        order=order,
        checkout=checkout,
        buyer=buyer,
        shop=shop,
        product=product,
        sku=sku,
        creator=account,
        content=content,
    )


def paid_order(db: Session, *, payment_method: str = "pm_card_ok", **kwargs: Any) -> OrderBundle:
    bundle = created_order(db, **kwargs)
    pay(db, bundle.buyer, bundle.checkout, payment_method)
    return bundle.refresh(db)


def shipped_order(db: Session, **kwargs: Any) -> OrderBundle:
    bundle = paid_order(db, **kwargs)
    order_service.ship_order(
        db, bundle.shop.shop.id, bundle.order.id, carrier_name="顺丰", tracking_number="SF1234567890"
    )
    return bundle.refresh(db)


def delivered_order(db: Session, **kwargs: Any) -> OrderBundle:
    bundle = shipped_order(db, **kwargs)
    order_service.record_delivery(db, bundle.order.id)
    return bundle.refresh(db)


def completed_order(db: Session, **kwargs: Any) -> OrderBundle:
    bundle = delivered_order(db, **kwargs)
    order_service.confirm_receipt(db, bundle.buyer.id, bundle.order.id)
    return bundle.refresh(db)
