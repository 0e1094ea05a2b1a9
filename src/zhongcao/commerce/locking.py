"""Checkouts read under lock, and what an unpaid checkout holds given back (cancel, expiry).

Split from :mod:`zhongcao.commerce.checkout` (which re-exports these names): paying and cancelling
both lock the checkout row first, then its orders, then touch SKUs and campaigns in id order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.campaigns import reservations
from zhongcao.catalog import stock
from zhongcao.commerce import states, tx
from zhongcao.commerce.models import Checkout, CheckoutStatus, Order, OrderItem, OrderStatus, Payment
from zhongcao.errors import Conflict, NotFound

log = logging.getLogger("zhongcao.commerce")


# --- reading and locking -------------------------------------------------------------------------


def get_checkout_for_buyer(db: Session, user_id: int, checkout_id: int) -> Checkout:
    checkout = db.get(Checkout, checkout_id)
    if checkout is None or checkout.user_id != user_id:
        raise NotFound("checkout not found", code="checkout_not_found")
    return checkout


def lock_checkout(db: Session, checkout_id: int, user_id: int | None = None) -> Checkout:
    """The checkout row, locked for this transaction and freshly read (404 if not the caller's)."""
    stmt = (
        select(Checkout)
        .where(Checkout.id == checkout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user_id is not None:
        stmt = stmt.where(Checkout.user_id == user_id)
    checkout = db.scalar(stmt)
    if checkout is None:
        raise NotFound("checkout not found", code="checkout_not_found")
    return checkout


def locked_orders(db: Session, checkout_id: int) -> list[Order]:
    return list(
        db.scalars(
            select(Order)
            .where(Order.checkout_id == checkout_id)
            .order_by(Order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def items_of(db: Session, order_ids: Sequence[int], *, lock: bool = False) -> list[OrderItem]:
    """The orders' items in id order, freshly read; ``lock`` also takes their row locks."""
    if not order_ids:
        return []
    stmt = select(OrderItem).where(OrderItem.order_id.in_(order_ids)).order_by(OrderItem.id)
    if lock:
        stmt = stmt.with_for_update()
    return list(db.scalars(stmt.execution_options(populate_existing=True)))


def payments_of(db: Session, checkout_id: int) -> list[Payment]:
    return list(db.scalars(select(Payment).where(Payment.checkout_id == checkout_id).order_by(Payment.id)))


# --- releasing -----------------------------------------------------------------------------------


def release_items(db: Session, items: Sequence[OrderItem], *, unrecord_sale: bool) -> None:
    """Give the items' units back to stock (and un-count them as sold) and their subsidy back to
    the campaign budget. SKUs and campaigns are touched in id order (no lock-order deadlocks)."""
    for item in sorted(items, key=lambda i: (i.sku_id, i.id)):
        stock.release(db, item.sku_id, item.quantity)
        if unrecord_sale:
            stock.unrecord_sale(db, item.sku_id, item.quantity)
    subsidy: dict[int, int] = defaultdict(int)
    for item in items:
        if item.campaign_id is not None and item.campaign_subsidy_fen > 0:
            subsidy[item.campaign_id] += item.campaign_subsidy_fen
    for campaign_id in sorted(subsidy):
        reservations.release_budget(db, campaign_id, subsidy[campaign_id])


def cancel_unpaid(db: Session, checkout: Checkout, now: datetime, reason: str) -> list[Order]:
    """Cancel a locked, unpaid checkout and all its orders, releasing stock, budget and coupons."""
    if checkout.status is not CheckoutStatus.pending_payment:
        raise Conflict(
            "only an unpaid checkout can be cancelled as a whole",
            code="checkout_not_cancellable",
            details={"status": checkout.status.value},
        )
    orders = locked_orders(db, checkout.id)
    for order in orders:
        states.move(order, OrderStatus.cancelled, now)
        order.cancel_reason = reason
    release_items(db, items_of(db, [o.id for o in orders]), unrecord_sale=False)
    reservations.release_checkout_coupons(db, checkout.id)
    checkout.status = CheckoutStatus.cancelled
    checkout.cancelled_at = now
    db.flush()
    # A flash sale takes its units back for the sale, in this transaction (flows wires it).
    signals.emit(db, "checkout_cancelled", checkout_id=checkout.id, reason=reason)
    return orders


def expire_unpaid_checkouts(db: Session, now: datetime | None = None) -> int:
    """Cancel every unpaid checkout past its ``expires_at``; returns how many. Commits each one."""
    now = now or clock.now()
    due = list(
        db.scalars(
            select(Checkout.id)
            .where(Checkout.status == CheckoutStatus.pending_payment, Checkout.expires_at <= now)
            .order_by(Checkout.id)
        )
    )

    def expire(checkout_id: int) -> bool:
        checkout = lock_checkout(db, checkout_id)
        # Re-checked under the lock: it may have been paid or cancelled meanwhile.
        if checkout.status is not CheckoutStatus.pending_payment or checkout.expires_at > now:
            return False
        cancel_unpaid(db, checkout, now, "payment_timeout")
        return True

    expired = tx.each_in_own_transaction(db, due, expire)
    if expired:
        log.info("expired %d unpaid checkouts", expired)
    return expired
