"""Bad requests get a clean 4xx with a code and leave the database exactly as it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from tests.commerce_helpers import ADDRESS, created_order, first_sku, give_coupon, make_campaign, paid_order
from tests.factories import add_staff, auth, make_product, make_shop, make_user
from zhongcao.campaigns.models import Campaign, UserCoupon
from zhongcao.catalog.models import Sku
from zhongcao.commerce.models import Order
from zhongcao.db import Base
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role

# Rows that a refused request may legitimately write: its stored idempotent answer, and the
# auth token's last-used stamp.
IGNORED_TABLES = {"idempotency_records", "auth_tokens"}


def _snapshot(db) -> dict[str, Any]:
    db.expire_all()
    counts = {
        table.name: db.scalar(text(f'SELECT count(*) FROM "{table.name}"'))
        for table in Base.metadata.sorted_tables
        if table.name not in IGNORED_TABLES
    }
    return {
        "counts": counts,
        "stock": db.execute(select(Sku.id, Sku.stock, Sku.sold_count).order_by(Sku.id)).all(),
        "budgets": db.execute(select(Campaign.id, Campaign.spent_fen).order_by(Campaign.id)).all(),
        "coupons": db.execute(select(UserCoupon.id, UserCoupon.status).order_by(UserCoupon.id)).all(),
        "orders": db.execute(select(Order.id, Order.status, Order.refunded_fen).order_by(Order.id)).all(),
        "checkouts": db.scalar(text("SELECT string_agg(status, ',') FROM checkouts"))
        if db.bind.dialect.name == "postgresql"
        else db.scalar(text("SELECT group_concat(status) FROM checkouts")),
        "spent": db.scalar(select(func.sum(Campaign.spent_fen))),
    }


def test_refused_requests_change_nothing(client, db):
    paid = paid_order(db, stock=5)
    buyer, shop = paid.buyer, paid.shop
    unpaid = created_order(db, buyer=buyer, shop=shop, product=paid.product)
    other_shop = make_shop(db)
    other_buyer = make_user(db)
    foreign = paid_order(db, buyer=other_buyer, shop=other_shop)
    scarce = first_sku(db, make_product(db, shop.shop, stock=1))
    campaign_product = make_product(db, shop.shop, price_fen=1000)
    make_campaign(db, [campaign_product], subsidy_per_item_fen=100, budget_fen=10_000)
    theirs = give_coupon(db, other_buyer, shop_id=shop.shop.id)
    mine = give_coupon(db, buyer, shop_id=shop.shop.id, threshold_fen=10**7)
    agent = add_staff(db, shop.shop, StaffRole.service_agent)
    sku = paid.sku

    headers = auth(db, buyer)
    owner = auth(db, shop.owner)
    operator = auth(db, make_user(db, Role.operator))
    keys = iter(range(10**6))

    def key() -> dict[str, str]:
        return {**headers, "Idempotency-Key": f"bad-{next(keys)}"}

    def checkout_body(items: Any, **extra: Any) -> dict[str, Any]:
        return {"items": items, "shipping_address": ADDRESS, **extra}

    good_line = {"sku_id": first_sku(db, campaign_product).id, "quantity": 1}
    requests: list[tuple[str, str, dict[str, str], Any, int, str]] = [
        # checkout
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([{"sku_id": sku.id, "quantity": 0}]),
            422,
            "validation_error",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([{"sku_id": sku.id, "quantity": -1}]),
            422,
            "validation_error",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([{"sku_id": "one", "quantity": 1}]),
            422,
            "validation_error",
        ),
        ("post", "/api/checkout", key(), {"items": [good_line]}, 422, "address_required"),  # or address_id
        ("post", "/api/checkout", key(), checkout_body([good_line], extra=1), 422, "validation_error"),
        ("post", "/api/checkout", headers, checkout_body([good_line]), 422, "idempotency_key_required"),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([{"sku_id": 10**9, "quantity": 1}]),
            404,
            "sku_not_found",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([good_line, {"sku_id": scarce.id, "quantity": 2}]),
            409,
            "insufficient_stock",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([good_line], shop_coupon_ids=[theirs.id]),
            422,
            "coupon_not_applicable",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([good_line], shop_coupon_ids=[mine.id]),
            422,
            "coupon_not_applicable",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([good_line], platform_coupon_id=10**9),
            422,
            "coupon_not_applicable",
        ),
        (
            "post",
            "/api/checkout",
            key(),
            checkout_body([{**good_line, "attribution": {"channel": "live", "content_id": 10**9}}]),
            422,
            "invalid_attribution",
        ),
        # pay
        (
            "post",
            f"/api/checkouts/{foreign.checkout.id}/pay",
            key(),
            {"payment_method": "pm_card_ok"},
            404,
            "checkout_not_found",
        ),
        (
            "post",
            f"/api/checkouts/{10**9}/pay",
            key(),
            {"payment_method": "pm_card_ok"},
            404,
            "checkout_not_found",
        ),
        (
            "post",
            f"/api/checkouts/{unpaid.checkout.id}/pay",
            headers,
            {"payment_method": "pm_card_ok"},
            422,
            "idempotency_key_required",
        ),
        (
            "post",
            f"/api/checkouts/{unpaid.checkout.id}/pay",
            key(),
            {"payment_method": ["x"]},
            422,
            "validation_error",
        ),
        (
            "post",
            f"/api/checkouts/{paid.checkout.id}/pay",
            key(),
            {"payment_method": "pm_card_ok"},
            409,
            "checkout_not_payable",
        ),
        ("get", f"/api/checkouts/{foreign.checkout.id}", headers, None, 404, "checkout_not_found"),
        # buyer orders
        ("post", f"/api/orders/{foreign.order.id}/cancel", headers, None, 404, "order_not_found"),
        ("post", f"/api/orders/{paid.order.id}/confirm-receipt", headers, None, 409, "illegal_transition"),
        (
            "post",
            f"/api/orders/{paid.order.id}/cancel",
            headers,
            {"reason": "x" * 41},
            422,
            "validation_error",
        ),
        ("get", f"/api/orders/{foreign.order.id}", headers, None, 404, "order_not_found"),
        # merchant
        (
            "post",
            f"/api/merchant/orders/{foreign.order.id}/ship",
            owner,
            {"carrier_name": "顺丰", "tracking_number": "SF123456"},
            404,
            "order_not_found",
        ),
        (
            "post",
            f"/api/merchant/orders/{foreign.order.id}/cancel",
            owner,
            {"reason": "x"},
            404,
            "order_not_found",
        ),
        (
            "post",
            f"/api/merchant/orders/{unpaid.order.id}/ship",
            owner,
            {"carrier_name": "顺丰", "tracking_number": "SF123456"},
            409,
            "illegal_transition",
        ),
        (
            "post",
            f"/api/merchant/orders/{paid.order.id}/ship",
            owner,
            {"carrier_name": "顺丰", "tracking_number": "#!"},
            422,
            "validation_error",
        ),
        (
            "post",
            f"/api/merchant/orders/{paid.order.id}/ship",
            auth(db, agent),
            {"carrier_name": "顺丰", "tracking_number": "SF123456"},
            403,
            "wrong_shop_role",
        ),
        ("post", f"/api/merchant/orders/{paid.order.id}/cancel", headers, {"reason": "x"}, 403, "wrong_role"),
        ("get", f"/api/merchant/orders/{foreign.order.id}", owner, None, 404, "order_not_found"),
        # carrier events
        ("post", f"/api/ops/shipments/{paid.order.id}/delivered", owner, None, 403, "wrong_role"),
        ("post", f"/api/ops/shipments/{10**9}/delivered", operator, None, 404, "order_not_found"),
        ("post", f"/api/ops/shipments/{paid.order.id}/picked-up", operator, None, 409, "illegal_transition"),
        # cart
        ("post", "/api/cart/items", headers, {"sku_id": sku.id, "quantity": 0}, 422, "validation_error"),
        ("post", "/api/cart/items", headers, {"sku_id": 10**9, "quantity": 1}, 404, "sku_not_found"),
        ("patch", "/api/cart/items/1", headers, {"quantity": 2}, 404, "cart_item_not_found"),
        ("delete", "/api/cart/items/1", headers, None, 404, "cart_item_not_found"),
    ]
    before = _snapshot(db)
    for method, path, hdrs, body, status, code in requests:
        r = client.request(method, path, headers=hdrs, json=body)
        assert r.status_code == status, (method, path, body, r.text)
        assert r.json()["error"]["code"] == code, (method, path, r.text)
    assert _snapshot(db) == before
