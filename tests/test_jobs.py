from __future__ import annotations

from datetime import timedelta

from tests.commerce_helpers import created_order, delivered_order
from zhongcao.commerce.models import CheckoutStatus, Order, OrderStatus
from zhongcao.jobs import run_due_jobs


def test_jobs_expire_checkouts_and_complete_orders(database, db):
    unpaid = created_order(db)
    delivered = delivered_order(db)
    later = delivered.order.delivered_at + timedelta(days=8)
    db.commit()
    counts = run_due_jobs(database, now=later)
    assert counts["expired_checkouts"] == 1 and counts["completed_orders"] == 1
    assert counts["shop_scores"] == 2  # the nightly score batch: every active shop, once a day
    assert counts["settlements_recorded"] == 1 and counts["settlements_settled"] == 0  # settled in 7 days
    db.expire_all()
    assert db.get(Order, unpaid.order.id).checkout.status is CheckoutStatus.cancelled
    assert db.get(Order, delivered.order.id).status is OrderStatus.completed
    db.commit()  # end the test's read transaction: SQLite has one writer
    assert run_due_jobs(database, now=later) == {
        "expired_checkouts": 0,
        "carrier_parcels_tracked": 0,  # the delivered order's carrier was typed as free text
        "carrier_events": 0,
        "carrier_deliveries": 0,
        "carrier_lost": 0,
        "carrier_claims": 0,
        "carrier_failed": 0,
        "after_sales_approved": 0,
        "after_sales_closed": 0,
        "after_sales_failed": 0,
        "completed_orders": 0,
        "settlements_recorded": 0,
        "settlements_refreshed": 1,  # still pending: a refund could still lower it
        "settlements_settled": 0,
        "coupon_ending_notifications": 0,
        "shop_scores": 0,  # already computed within the last 24 h
        "inbounds_received": 0,
        **{
            f"warehouse_{step}": 0
            for step in ("queued", "picked", "packed", "handed_over", "short", "cancelled", "failed")
        },
        **{
            f"flash_{key}": 0
            for key in (
                "written",
                "rejected",
                "failed",
                "rebuilt",
                "given_back",
                "ended",
                "pending_given_back",
            )
        },
    }
