"""Money reconciles on every order, whatever mix of shops, coupons, subsidies and commissions."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from tests.commerce_helpers import first_sku, give_coupon, make_campaign, make_content, make_plan, pay, place
from tests.factories import make_category, make_creator, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.affiliate.models import CommissionEntry, PlanKind
from zhongcao.campaigns.models import Campaign
from zhongcao.commerce import service as order_service
from zhongcao.commerce.checkout import allocate_capped
from zhongcao.commerce.models import Order, OrderItem, OrderStatus
from zhongcao.errors import DomainError
from zhongcao.finance import service as finance_service
from zhongcao.finance.models import Settlement
from zhongcao.money import apply_bps


def test_allocate_capped_properties():
    rng = random.Random(7)
    for _ in range(2000):
        n = rng.randint(1, 6)
        caps = [rng.choice([0, 1, 5, 100, rng.randint(0, 10_000)]) for _ in range(n)]
        weights = [rng.choice([0, 1, rng.randint(0, 10_000)]) for _ in range(n)]
        total = rng.randint(0, sum(caps))
        parts = allocate_capped(total, weights, caps)
        assert sum(parts) == total
        assert all(0 <= p <= c for p, c in zip(parts, caps, strict=True))
    assert allocate_capped(100, [3000, 1000], [3000, 1000]) == [75, 25]
    assert allocate_capped(100, [1, 1], [10, 1000]) == [10, 90]
    with pytest.raises(ValueError):
        allocate_capped(11, [1, 1], [5, 5])


def _assert_order_reconciles(order: Order) -> None:
    items = order.items
    assert items
    for field in (
        "shop_discount_fen",
        "platform_discount_fen",
        "campaign_subsidy_fen",
        "platform_fee_fen",
        "commission_fen",
    ):
        assert getattr(order, field) == sum(getattr(i, field) for i in items), field
    assert order.item_total_fen == sum(i.line_total_fen for i in items)
    assert order.paid_fen == sum(i.paid_fen for i in items) + order.shipping_fen
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
    assert order.shop_settlement_fen >= 0
    for item in items:
        assert item.line_total_fen == item.unit_price_fen * item.quantity
        assert item.paid_fen >= 0
        base = item.line_total_fen - item.shop_discount_fen
        assert item.platform_fee_fen == apply_bps(base, item.platform_fee_bps)
        assert item.commission_fen == min(apply_bps(base, item.commission_bps), base - item.platform_fee_fen)
        if item.commission_bps:
            assert item.account_id is not None and item.affiliate_plan_id is not None


def test_randomised_checkouts_reconcile(db):
    rng = random.Random(20240501)
    buyers = [make_user(db) for _ in range(3)]
    shops = [
        make_shop(
            db, shipping_fee_fen=rng.choice([0, 600, 1000]), free_shipping_threshold_fen=rng.choice([0, 9900])
        )
        for _ in range(3)
    ]
    creators = [make_creator(db, top_kol=i == 0)[1] for i in range(3)]
    products = []
    for shop in shops:
        for _ in range(3):
            category = make_category(db, platform_fee_bps=rng.choice([None, 200, 550, 1000]))
            products.append(
                make_product(
                    db,
                    shop.shop,
                    category=category,
                    price_fen=rng.choice([99, 1001, 2599, 8800]),
                    stock=10_000,
                )
            )
    plans = {}
    for product in products:
        kind = rng.choice([None, PlanKind.open, PlanKind.targeted, PlanKind.exclusive])
        if kind is PlanKind.targeted:
            make_plan(db, product, kind=PlanKind.open, commission_bps=rng.randint(100, 2000))
        if kind is not None:
            plans[product.id] = make_plan(
                db, product, kind=kind, commission_bps=rng.randint(1, 9000), creators=creators[:2]
            )
    campaigns = [
        make_campaign(db, products[0:4], subsidy_per_item_fen=300, budget_fen=20_000),
        make_campaign(db, products[3:7], subsidy_per_item_fen=1500, budget_fen=50_000),
    ]
    videos = {c.id: make_content(db, c, products) for c in creators}
    videos[shops[0].account.id] = make_content(db, shops[0].account, products[:3])

    placed = []
    for _ in range(40):
        buyer = rng.choice(buyers)
        chosen = rng.sample(products, rng.randint(1, 5))
        lines = []
        for product in chosen:
            line = {"sku_id": first_sku(db, product).id, "quantity": rng.randint(1, 4)}
            roll = rng.random()
            if roll < 0.4:
                account_id = rng.choice(list(videos))
                if account_id == shops[0].account.id and product not in products[:3]:
                    account_id = creators[0].id
                line["attribution"] = {"channel": "short_video", "content_id": videos[account_id].id}
            elif roll < 0.6:
                line["attribution"] = {"channel": "search"}
            lines.append(line)
        shop_ids = sorted({p.shop_id for p in chosen})
        totals = {sid: 0 for sid in shop_ids}
        for product, line in zip(chosen, lines, strict=True):
            totals[product.shop_id] += first_sku(db, product).price_fen * line["quantity"]
        # Thresholds are either none or exactly reached (the boundary counts as reached).
        shop_coupons = [
            give_coupon(
                db,
                buyer,
                shop_id=sid,
                threshold_fen=rng.choice([0, totals[sid]]),
                discount_fen=rng.randint(1, 3000),
            ).id
            for sid in shop_ids
            if rng.random() < 0.5
        ]
        platform_coupon = (
            give_coupon(
                db,
                buyer,
                threshold_fen=rng.choice([0, sum(totals.values())]),
                discount_fen=rng.randint(1, 8000),
            ).id
            if rng.random() < 0.5
            else None
        )
        try:
            checkout = place(
                db, buyer, lines, shop_coupon_ids=shop_coupons, platform_coupon_id=platform_coupon
            )
        except DomainError as exc:
            # Only possible when subsidies and shop coupons left nothing for the platform coupon.
            assert exc.details.get("reason") == "nothing_to_discount", exc.code
            continue
        assert checkout.total_fen == sum(o.paid_fen for o in checkout.orders)
        assert len(checkout.orders) == len(shop_ids)
        placed.append((buyer, checkout))
    assert len(placed) >= 35

    # Pay most, cancel some paid ones and some unpaid ones.
    for buyer, checkout in placed:
        roll = rng.random()
        if roll < 0.8:
            pay(db, buyer, checkout)
            if roll < 0.2:
                order_service.cancel_order_as_buyer(db, buyer.id, checkout.orders[0].id)
        elif roll < 0.9:
            order_service.cancel_order_as_buyer(db, buyer.id, checkout.orders[0].id)

    db.expire_all()
    orders = db.scalars(select(Order)).all()
    assert any(o.platform_discount_fen for o in orders) and any(o.shop_discount_fen for o in orders)
    assert any(o.campaign_subsidy_fen for o in orders) and any(o.commission_fen for o in orders)
    assert any(o.shipping_fen for o in orders)
    for order in orders:
        _assert_order_reconciles(order)
        if order.status is OrderStatus.cancelled and order.paid_at is not None:
            assert order.refunded_fen == order.paid_fen
    # Budgets hold exactly the subsidy of orders that are not cancelled.
    for campaign in campaigns:
        live = db.scalar(
            select(func.coalesce(func.sum(OrderItem.campaign_subsidy_fen), 0))
            .join(Order, Order.id == OrderItem.order_id)
            .where(OrderItem.campaign_id == campaign.id, Order.status != OrderStatus.cancelled)
        )
        spent = db.get(Campaign, campaign.id).spent_fen
        assert spent == live and spent <= campaign.budget_fen

    # Settlements (docs/money.md, Settlement): complete the paid orders, refund part of some lines
    # before or after completion; every settlement holds its identity, its commission is what the
    # ledger holds for the order, and each shop's statement totals are the sum of its settlements.
    paid = [o for o in orders if o.status is OrderStatus.paid]
    for order in paid:
        order_service.ship_order(
            db, order.shop_id, order.id, carrier_name="顺丰", tracking_number="SF1234567890"
        )
        order_service.record_delivery(db, order.id)
        item = order.items[0]
        if item.paid_fen > 0 and rng.random() < 0.3:
            order_service.refund_order_item(
                db, item, amount_fen=rng.randint(1, item.paid_fen), reason="goodwill"
            )
            db.commit()
        order_service.confirm_receipt(db, order.user_id, order.id)
        if rng.random() < 0.3:
            item = order.items[-1]
            if item.paid_fen > item.refunded_fen:
                left = item.paid_fen - item.refunded_fen
                order_service.refund_order_item(db, item, amount_fen=rng.randint(1, left), reason="goodwill")
                db.commit()
    finance_service.run_settlements(db)
    db.expire_all()
    settlements = {s.order_id: s for s in db.scalars(select(Settlement))}
    assert set(settlements) == {o.id for o in paid}
    assert any(s.refunded_fen for s in settlements.values()) and any(
        s.commission_fen for s in settlements.values()
    )
    assert any(s.subsidy_fen for s in settlements.values())
    for order in paid:
        row = settlements[order.id]
        ledger = db.scalar(
            select(func.coalesce(func.sum(CommissionEntry.amount_fen), 0)).where(
                CommissionEntry.order_id == order.id
            )
        )
        assert row.commission_fen == ledger
        assert (row.paid_fen, row.refunded_fen) == (order.paid_fen, order.refunded_fen)
        assert row.settlement_fen == (
            order.paid_fen + order.platform_subsidy_fen - order.platform_fee_fen - ledger - order.refunded_fen
        )
    today = clock.business_today()  # statements count business days (UTC+8)
    for shop in shops:
        totals = finance_service.statement(db, shop.shop.id, today, today).total
        mine = [s for s in settlements.values() if s.shop_id == shop.shop.id]
        assert totals.orders == len(mine)
        for name in finance_service.AMOUNTS:
            assert getattr(totals, name) == sum(getattr(s, name) for s in mine)
