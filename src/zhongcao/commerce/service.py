"""Orders after checkout: cancellation, shipping, delivery, completion, refunds, and reads.

Placing and paying checkouts lives in :mod:`zhongcao.commerce.checkout`, the cart in
:mod:`zhongcao.commerce.cart`; status changes all go through :mod:`zhongcao.commerce.states`.

Cancellation
    An unpaid (``created``) order is cancelled together with its whole checkout: one payment
    covers all of a checkout's orders, so paying for part of it is not possible. Stock, coupons
    and campaign budget are all released. A ``paid`` order (buyer, or merchant e.g. out of stock)
    is cancelled alone and refunded in full through the provider; its units go back to stock
    and stop counting as sold, and its campaign subsidy goes back to the campaign budget. Coupons
    are spent once paid and are not returned (the other orders of the checkout still used them).

Attribution
    An order item's attribution (channel, content, account, campaign, carrier) is frozen when the
    order is paid. An ORM guard (:mod:`zhongcao.commerce.states`) refuses any later change.

Locks
    Order rows are locked (``SELECT ... FOR UPDATE``) before their status is read for a change,
    always checkout before order before item before payment, so concurrent actions serialise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, true
from sqlalchemy.orm import Session, selectinload

from zhongcao import clock
from zhongcao.affiliate import ledger
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import money_facts, states, tx
from zhongcao.commerce.models import (
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    Shipment,
)
from zhongcao.commerce.payments import ProviderRejected, ProviderUnavailable, get_provider
from zhongcao.config import Settings, get_settings
from zhongcao.db import core
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id

# --- reads ---------------------------------------------------------------------------------------


def get_order_for_buyer(db: Session, user_id: int, order_id: int, *, field: str | None = None) -> Order:
    """The buyer's own order; another buyer's is not found (naming ``field`` when one is given)."""
    order = db.get(Order, order_id)
    if order is None or order.user_id != user_id:
        raise NotFound("order not found", code="order_not_found", field=field)
    return order


def get_order_for_shop(db: Session, shop_id: int, order_id: int) -> Order:
    order = db.get(Order, order_id)
    if order is None or order.shop_id != shop_id:
        raise NotFound("order not found", code="order_not_found")
    return order


def get_order_item(db: Session, order_id: int, item_id: int) -> OrderItem:
    item = db.get(OrderItem, item_id)
    if item is None or item.order_id != order_id:
        raise NotFound("order item not found", code="order_item_not_found")
    return item


def get_shipment(db: Session, order_id: int) -> Shipment | None:
    return db.scalar(select(Shipment).where(Shipment.order_id == order_id))


def shipments_by_order(db: Session, order_ids: Sequence[int]) -> dict[int, Shipment]:
    if not order_ids:
        return {}
    return {s.order_id: s for s in db.scalars(select(Shipment).where(Shipment.order_id.in_(order_ids)))}


def _orders_page(
    db: Session, whose: ColumnElement[bool], params: PageParams, status: OrderStatus | None
) -> tuple[Sequence[Order], str | None]:
    stmt = select(Order).where(whose).options(selectinload(Order.items))
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return paginate_by_id(db, stmt, Order.id, params)


def list_buyer_orders(
    db: Session, user_id: int, params: PageParams, *, status: OrderStatus | None = None
) -> tuple[Sequence[Order], str | None]:
    return _orders_page(db, Order.user_id == user_id, params, status)


def list_shop_orders(
    db: Session, shop_id: int, params: PageParams, *, status: OrderStatus | None = None
) -> tuple[Sequence[Order], str | None]:
    return _orders_page(db, Order.shop_id == shop_id, params, status)


def _lock_order(db: Session, order_id: int) -> Order:
    order = db.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("order not found", code="order_not_found")
    return order


def _captured_payment(db: Session, checkout_id: int) -> Payment:
    payment = db.scalar(
        select(Payment)
        .where(
            Payment.checkout_id == checkout_id,
            Payment.status.in_(
                (PaymentStatus.captured, PaymentStatus.partially_refunded, PaymentStatus.refunded)
            ),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:  # a paid order always has one; anything else is corrupt data
        raise RuntimeError(f"checkout {checkout_id} is paid but has no captured payment")
    return payment


# --- refunds -------------------------------------------------------------------------------------


def _provider_refund(db: Session, payment: Payment, amount_fen: int, key: str) -> str:
    try:
        result = get_provider().refund(
            db, ref=payment.provider_ref or "", amount_fen=amount_fen, idempotency_key=key
        )
    except ProviderUnavailable as exc:
        raise tx.ServiceUnavailable(
            "the payment provider is unavailable; nothing was refunded, try again",
            code="payment_provider_unavailable",
        ) from exc
    except ProviderRejected as exc:
        raise Conflict(
            "the payment provider refused the refund",
            code="refund_refused",
            details={"provider_code": exc.code},
        ) from exc
    payment.refunded_fen += amount_fen
    payment.status = (
        PaymentStatus.refunded
        if payment.refunded_fen >= payment.amount_fen
        else PaymentStatus.partially_refunded
    )
    return result.ref


def refund_order_item(
    db: Session,
    order_item: OrderItem,
    *,
    amount_fen: int,
    quantity: int = 0,
    after_sale_id: int | None = None,
    reason: str = "after_sale",
) -> Refund:
    """Refund part or all of what an order line paid, through the payment provider.

    Updates the payment, order and item totals and reverses the refunded share of any commission
    already accrued. Refuses (409 ``refund_exceeds_paid``) more than the line has left. The
    provider's idempotency key comes from ``after_sale_id`` (one refund per case) or is fresh.
    Flushes; the caller commits."""
    if amount_fen <= 0:
        raise InvalidInput("a refund must be positive", code="invalid_refund_amount", field="amount_fen")
    if quantity < 0:
        raise InvalidInput("quantity must not be negative", code="invalid_refund_quantity", field="quantity")
    db.flush()
    order = _lock_order(db, order_item.order_id)
    db.refresh(order_item, with_for_update=True)
    if order.status not in (
        OrderStatus.paid,
        OrderStatus.shipped,
        OrderStatus.delivered,
        OrderStatus.completed,
    ):
        raise Conflict(
            f"an order that is {order.status.value} cannot be refunded",
            code="order_not_refundable",
            details={"status": order.status.value},
        )
    left = order_item.paid_fen - order_item.refunded_fen
    if amount_fen > left:
        raise Conflict(
            "the refund is more than what is left of the line's payment",
            code="refund_exceeds_paid",
            details={"refundable_fen": left, "amount_fen": amount_fen},
        )
    if order_item.refunded_quantity + quantity > order_item.quantity:
        raise Conflict(
            "more units than the line has left",
            code="refund_exceeds_quantity",
            details={"refundable_quantity": order_item.quantity - order_item.refunded_quantity},
        )
    payment = _captured_payment(db, order.checkout_id)
    key = f"refund:after_sale:{after_sale_id}" if after_sale_id is not None else f"refund:{uuid.uuid4().hex}"
    provider_ref = _provider_refund(db, payment, amount_fen, key)
    refunded_before = order_item.refunded_fen
    order.refunded_fen += amount_fen
    order_item.refunded_fen += amount_fen
    order_item.refunded_quantity += quantity
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        order_item_id=order_item.id,
        after_sale_id=after_sale_id,
        amount_fen=amount_fen,
        provider_ref=provider_ref,
        reason=reason,
    )
    db.add(refund)
    db.flush()
    ledger.reverse_for_refund(db, order_item, refunded_before_fen=refunded_before, refund_id=refund.id)
    db.flush()
    return refund


# --- cancellation --------------------------------------------------------------------------------


def _cancel_paid(db: Session, order: Order, now: datetime, reason: str) -> None:
    """Cancel a locked, paid order: refund all that is left of it, release its stock and subsidy."""
    states.move(order, OrderStatus.cancelled, now)
    order.cancel_reason = reason
    items = checkout_service.items_of(db, [order.id], lock=True)
    amount = order.paid_fen - order.refunded_fen
    refund: Refund | None = None
    if amount > 0:
        payment = _captured_payment(db, order.checkout_id)
        provider_ref = _provider_refund(db, payment, amount, f"cancel:order:{order.id}")
        refund = Refund(
            payment_id=payment.id,
            order_id=order.id,
            amount_fen=amount,
            provider_ref=provider_ref,
            reason="cancel",
            created_at=now,
        )
        db.add(refund)
        db.flush()
        order.refunded_fen = order.paid_fen
    for item in items:
        before = item.refunded_fen
        item.refunded_fen = item.paid_fen
        item.refunded_quantity = item.quantity
        if refund is not None and item.refunded_fen != before:
            db.flush()
            ledger.reverse_for_refund(db, item, refunded_before_fen=before, refund_id=refund.id)
    checkout_service.release_items(db, items, unrecord_sale=True)
    db.flush()


def _cancel_as_buyer(db: Session, user_id: int, order_id: int, reason: str, now: datetime) -> Order:
    order = get_order_for_buyer(db, user_id, order_id)
    checkout = checkout_service.lock_checkout(db, order.checkout_id)
    order = _lock_order(db, order.id)
    if order.status is OrderStatus.created:
        checkout_service.cancel_unpaid(db, checkout, now, reason)
    elif order.status is OrderStatus.paid:
        _cancel_paid(db, order, now, reason)
    else:
        raise states.illegal(order.status, OrderStatus.cancelled)
    return order


def cancel_order_as_buyer(
    db: Session, user_id: int, order_id: int, *, reason: str | None = None, commit: bool = True
) -> Order:
    """The buyer cancels: an unpaid order cancels its whole checkout; a paid one is refunded."""
    return tx.run(
        db, commit, lambda: _cancel_as_buyer(db, user_id, order_id, reason or "buyer_cancelled", clock.now())
    )


def _cancel_as_merchant(db: Session, shop_id: int, order_id: int, reason: str, now: datetime) -> Order:
    order = _lock_order(db, get_order_for_shop(db, shop_id, order_id).id)
    if order.status is not OrderStatus.paid:
        # An unpaid order is its buyer's to cancel (it would cancel their whole checkout).
        raise states.illegal(order.status, OrderStatus.cancelled)
    _cancel_paid(db, order, now, reason)
    return order


def cancel_order_as_merchant(
    db: Session, shop_id: int, order_id: int, *, reason: str, commit: bool = True
) -> Order:
    """The shop cancels a paid order it cannot fulfil; the buyer is refunded in full."""
    return tx.run(db, commit, lambda: _cancel_as_merchant(db, shop_id, order_id, reason, clock.now()))


# --- fulfilment ----------------------------------------------------------------------------------


def _ship(
    db: Session,
    shop_id: int,
    order_id: int,
    carrier_name: str,
    tracking_number: str,
    platform_warehouse: bool,
    now: datetime,
) -> Order:
    order = _lock_order(db, get_order_for_shop(db, shop_id, order_id).id)
    states.move(order, OrderStatus.shipped, now)
    db.add(
        Shipment(
            order_id=order.id,
            shop_id=order.shop_id,
            carrier_name=carrier_name,
            tracking_number=tracking_number,
            platform_warehouse=platform_warehouse,
            shipped_at=now,
            created_at=now,
        )
    )
    db.flush()
    return order


def ship_order(
    db: Session,
    shop_id: int,
    order_id: int,
    *,
    carrier_name: str,
    tracking_number: str,
    platform_warehouse: bool = False,
    commit: bool = True,
) -> Order:
    """The shop hands the parcel to a carrier: ``paid -> shipped`` with a Shipment row."""
    return tx.run(
        db,
        commit,
        lambda: _ship(db, shop_id, order_id, carrier_name, tracking_number, platform_warehouse, clock.now()),
    )


def _event_time(at: datetime | None, earliest: datetime, now: datetime) -> datetime:
    if at is None:
        return now
    if at > now:
        raise InvalidInput("an event cannot be in the future", code="invalid_event_time", field="at")
    if at < earliest:
        raise InvalidInput(
            "an event cannot be before the shipment's previous event",
            code="invalid_event_time",
            field="at",
            details={"earliest": earliest.isoformat()},
        )
    return at


def _shipment_of(db: Session, order: Order) -> Shipment:
    shipment = get_shipment(db, order.id)
    if shipment is None:  # a shipped order always has one
        raise RuntimeError(f"order {order.id} is {order.status.value} but has no shipment")
    return shipment


def _pickup(db: Session, order_id: int, at: datetime | None, now: datetime) -> Order:
    order = _lock_order(db, order_id)
    if order.status is not OrderStatus.shipped:
        raise states.illegal(order.status, "picked_up")
    shipment = _shipment_of(db, order)
    if shipment.picked_up_at is not None:
        raise Conflict(
            "the carrier has already picked this parcel up",
            code="already_picked_up",
            details={"picked_up_at": shipment.picked_up_at.isoformat()},
        )
    shipment.picked_up_at = _event_time(at, shipment.shipped_at, now)
    db.flush()
    return order


def record_pickup(db: Session, order_id: int, *, at: datetime | None = None, commit: bool = True) -> Order:
    """The carrier scanned the parcel (platform logistics integration)."""
    return tx.run(db, commit, lambda: _pickup(db, order_id, at, clock.now()))


def _deliver(db: Session, order_id: int, at: datetime | None, now: datetime) -> Order:
    order = _lock_order(db, order_id)
    states.ensure(order, OrderStatus.delivered)
    shipment = _shipment_of(db, order)
    when = _event_time(at, shipment.picked_up_at or shipment.shipped_at, now)
    states.move(order, OrderStatus.delivered, when)
    shipment.delivered_at = when
    db.flush()
    return order


def record_delivery(db: Session, order_id: int, *, at: datetime | None = None, commit: bool = True) -> Order:
    """The carrier delivered the parcel: ``shipped -> delivered``."""
    return tx.run(db, commit, lambda: _deliver(db, order_id, at, clock.now()))


def _complete(db: Session, order: Order, now: datetime) -> None:
    states.move(order, OrderStatus.completed, now)
    ledger.accrue_for_completed_order(db, checkout_service.items_of(db, [order.id], lock=True))
    db.flush()


def _confirm(db: Session, user_id: int, order_id: int, now: datetime) -> Order:
    order = _lock_order(db, get_order_for_buyer(db, user_id, order_id).id)
    _complete(db, order, now)
    return order


def confirm_receipt(db: Session, user_id: int, order_id: int, *, commit: bool = True) -> Order:
    """The buyer confirms receipt: ``delivered -> completed``; commissions are accrued."""
    return tx.run(db, commit, lambda: _confirm(db, user_id, order_id, clock.now()))


def complete_due_orders(
    db: Session,
    now: datetime | None = None,
    *,
    held: Callable[[Session, int], bool],
    settings: Settings | None = None,
) -> int:
    """Complete every order delivered at least ``settings.auto_complete_days`` ago that ``held``
    does not hold (checked under the order's lock). Commits each. The rule that an open after-sales
    case holds an order is :func:`zhongcao.flows.complete_due_orders`'s (after-sales reads commerce,
    so commerce cannot ask it): call that."""
    now = now or clock.now()
    settings = settings or get_settings()
    cutoff = now - timedelta(days=settings.auto_complete_days)
    due = list(
        db.scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.delivered, Order.delivered_at <= cutoff)
            .order_by(Order.id)
        )
    )

    def complete(order_id: int) -> bool:
        order = _lock_order(db, order_id)
        due_now = (
            order.status is OrderStatus.delivered and order.delivered_at and order.delivered_at <= cutoff
        )
        # A held order (an open after-sales case) keeps its commission pending; the next run
        # completes it.
        if not due_now or held(db, order.id):
            return False
        _complete(db, order, now)
        return True

    return tx.each_in_own_transaction(db, due, complete)


# Re-exported so other domains find every commerce command in one module.
AttributionFrozen = states.AttributionFrozen
place_checkout = checkout_service.place_checkout
pay_checkout = checkout_service.pay_checkout
expire_unpaid_checkouts = checkout_service.expire_unpaid_checkouts
get_checkout_for_buyer = checkout_service.get_checkout_for_buyer
OrderMoney = money_facts.OrderMoney  # settlements (zhongcao.finance)
completed_order_money = money_facts.completed_order_money
order_money = money_facts.order_money


# --- facts for the shop experience score (read by zhongcao.experience) -------------------------------


def _not_among(column: Any, excluding: Collection[int]) -> ColumnElement[bool]:
    """``column NOT IN excluding`` (true when nothing is excluded): the integrity domain's flagged
    orders, left out of what bought orders must not lift (issue #19)."""
    return column.not_in(sorted(excluding)) if excluding else true()


def paid_order_counts(
    db: Session, since: datetime, until: datetime, *, excluding: Collection[int] = ()
) -> dict[int, int]:
    """``shop id -> orders paid in [since, until)`` (not counting the orders in ``excluding``)."""
    rows = db.execute(
        select(Order.shop_id, func.count())
        .where(Order.paid_at.is_not(None), Order.paid_at >= since, Order.paid_at < until)
        .where(_not_among(Order.id, excluding))
        .group_by(Order.shop_id)
    )
    return {shop_id: n for shop_id, n in rows}


def sold_units_by_sku(db: Session, order_ids: Collection[int]) -> dict[int, tuple[int, int]]:
    """``sku id -> (product id, units)`` over the lines of ``order_ids`` that count in the SKUs'
    ``sold_count`` (paid, not cancelled since): what the integrity domain takes off the sales shown
    for brushed orders (issue #19)."""
    ids = sorted(set(order_ids))
    out: dict[int, tuple[int, int]] = {}
    for start in range(0, len(ids), 500):  # SQLite's parameter limit
        rows = db.execute(
            select(OrderItem.sku_id, OrderItem.product_id, func.sum(OrderItem.quantity))
            .join(Order, Order.id == OrderItem.order_id)
            .where(
                OrderItem.order_id.in_(ids[start : start + 500]),
                Order.paid_at.is_not(None),
                Order.status != OrderStatus.cancelled,
            )
            .group_by(OrderItem.sku_id, OrderItem.product_id)
        )
        for sku_id, product_id, units in rows:
            before = out.get(int(sku_id), (int(product_id), 0))[1]
            out[int(sku_id)] = (int(product_id), before + int(units))
    return out


@dataclass(frozen=True)
class OrderRow:
    """One paid order as the integrity detectors read it."""

    order_id: int
    user_id: int
    shop_id: int
    product_id: int
    paid_at: datetime
    paid_fen: int
    shipping_address: dict[str, Any]
    completed_at: datetime | None
    refunded_fen: int
    device_key: int | None = None  # the device it was paid from (zhongcao.devices), when known


def paid_order_rows(db: Session, since: datetime, until: datetime) -> list[OrderRow]:
    """Orders paid in [since, until), oldest first, with their first line's product and the device
    their captured payment came from."""
    first_product = (
        select(func.min(OrderItem.product_id)).where(OrderItem.order_id == Order.id).scalar_subquery()
    )
    device = (
        select(func.max(Payment.device_key))
        .where(Payment.checkout_id == Order.checkout_id, Payment.status == PaymentStatus.captured)
        .scalar_subquery()
    )
    stmt = (
        select(
            Order.id,
            Order.user_id,
            Order.shop_id,
            first_product,
            Order.paid_at,
            Order.paid_fen,
            Order.shipping_address,
            Order.completed_at,
            Order.refunded_fen,
            device,
        )
        .where(Order.paid_at.is_not(None), Order.paid_at >= since, Order.paid_at < until)
        .order_by(Order.paid_at, Order.id)
    )
    return [
        OrderRow(
            int(i),
            int(u),
            int(s),
            int(p or 0),
            at,
            int(fen),
            dict(addr or {}),
            done,
            int(refunded),
            None if dev is None else int(dev),
        )  # fmt: skip
        for i, u, s, p, at, fen, addr, done, refunded, dev in db.execute(stmt)
    ]


def returning_customers(db: Session, buyer_ids: Collection[int], before: datetime) -> set[tuple[int, int]]:
    """``(buyer id, shop id)`` pairs, among ``buyer_ids``, with an order paid before ``before``: who
    is a shop's returning customer rather than a new one (the integrity hold, issue #19)."""
    ids = sorted(set(buyer_ids))
    out: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 500):  # SQLite's parameter limit
        rows = db.execute(
            select(Order.user_id, Order.shop_id)
            .where(
                Order.user_id.in_(ids[start : start + 500]),
                Order.paid_at.is_not(None),
                Order.paid_at < before,
            )
            .distinct()
        )
        out |= {(int(u), int(s)) for u, s in rows}
    return out


def order_sales(db: Session, order_ids: Collection[int]) -> list[tuple[int, int, int]]:
    """``(order id, shop id, paid fen)`` of the given orders that were paid."""
    out: list[tuple[int, int, int]] = []
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), 500):
        rows = db.execute(
            select(Order.id, Order.shop_id, Order.paid_fen).where(
                Order.id.in_(ids[start : start + 500]), Order.paid_at.is_not(None)
            )
        )
        out += [(int(i), int(s), int(f)) for i, s, f in rows]
    return out


def fulfilment_rows(
    db: Session, since: datetime, until: datetime, *, excluding: Collection[int] = ()
) -> list[tuple[int, datetime, datetime | None, datetime | None, bool, datetime | None]]:
    """Orders paid in [since, until) with their shipment: ``(shop id, paid at, picked up at, delivered
    at, platform warehouse, shipped at)`` (``None`` where it has not happened)."""
    stmt = (
        select(
            Order.shop_id,
            Order.paid_at,
            Shipment.picked_up_at,
            Shipment.delivered_at,
            Shipment.platform_warehouse,
            Shipment.shipped_at,
        )
        .join(Shipment, Shipment.order_id == Order.id, isouter=True)
        .where(Order.paid_at.is_not(None), Order.paid_at >= since, Order.paid_at < until)
        .where(_not_among(Order.id, excluding))
    )
    return [(s, p, u, d, bool(w), sh) for s, p, u, d, w, sh in db.execute(stmt) if p is not None]


def delivered_order_counts(
    db: Session, since: datetime, until: datetime, *, excluding: Collection[int] = ()
) -> dict[int, int]:
    """``shop id -> orders delivered in [since, until)`` (not counting the orders in ``excluding``)."""
    rows = db.execute(
        select(Order.shop_id, func.count())
        .where(Order.delivered_at.is_not(None), Order.delivered_at >= since, Order.delivered_at < until)
        .where(_not_among(Order.id, excluding))
        .group_by(Order.shop_id)
    )
    return {shop_id: n for shop_id, n in rows}


@dataclass(frozen=True)
class OrderFacts:
    """What happened to one order, for NPS drivers and analytics (first item's attribution)."""

    order_id: int
    shop_id: int
    product_id: int | None
    channel: str | None
    paid_at: datetime | None
    picked_up_at: datetime | None
    delivered_at: datetime | None
    platform_warehouse: bool


def order_facts(db: Session, order_ids: Sequence[int]) -> dict[int, OrderFacts]:
    ids = sorted(set(order_ids))
    out: dict[int, OrderFacts] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        first_items = dict(
            db.execute(
                select(OrderItem.order_id, OrderItem.id)
                .where(OrderItem.order_id.in_(chunk))
                .order_by(OrderItem.id.desc())
            ).all()
        )
        items = {
            item_id: (product_id, channel)
            for item_id, product_id, channel in db.execute(
                select(OrderItem.id, OrderItem.product_id, OrderItem.channel).where(
                    OrderItem.id.in_(list(first_items.values()))
                )
            )
        }
        rows = db.execute(
            select(
                Order.id,
                Order.shop_id,
                Order.paid_at,
                Shipment.picked_up_at,
                Order.delivered_at,
                Shipment.platform_warehouse,
            )
            .join(Shipment, Shipment.order_id == Order.id, isouter=True)
            .where(Order.id.in_(chunk))
        )
        for order_id, shop_id, paid_at, picked, delivered, warehouse in rows:
            product_id, channel = items.get(first_items.get(order_id, -1), (None, None))
            out[order_id] = OrderFacts(
                order_id=order_id,
                shop_id=shop_id,
                product_id=product_id,
                channel=channel.value if channel is not None else None,
                paid_at=paid_at,
                picked_up_at=picked,
                delivered_at=delivered,
                platform_warehouse=bool(warehouse),
            )
    return out


def sales_rows(db: Session) -> list[tuple]:
    """Every paid order line for analytics: ``(order id, item id, shop id, user id, product id,
    channel, carrier, content id, account id, paid at, quantity, paid fen, refunded fen, commission
    fen, order status)``, in item id order."""
    stmt = (
        select(
            OrderItem.order_id,
            OrderItem.id,
            OrderItem.shop_id,
            Order.user_id,
            OrderItem.product_id,
            OrderItem.channel,
            OrderItem.carrier,
            OrderItem.content_id,
            OrderItem.account_id,
            Order.paid_at,
            OrderItem.quantity,
            OrderItem.paid_fen,
            OrderItem.refunded_fen,
            OrderItem.commission_fen,
            Order.status,
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.paid_at.is_not(None))
        .order_by(OrderItem.id)
    )
    return [tuple(r) for r in db.execute(stmt)]


def shop_gmv_fen(db: Session, since: datetime, until: datetime) -> dict[int, int]:
    """``shop id -> fen paid for orders paid in [since, until)``."""
    rows = db.execute(
        select(Order.shop_id, func.sum(Order.paid_fen))
        .where(Order.paid_at.is_not(None), Order.paid_at >= since, Order.paid_at < until)
        .group_by(Order.shop_id)
    )
    return {shop_id: int(total or 0) for shop_id, total in rows}


@dataclass(frozen=True)
class ContentSale:
    """A paid order line attributed to a piece of content (a live room's purchase ticker)."""

    item_id: int
    user_id: int
    product_id: int
    title_zh: str
    title_en: str
    quantity: int
    paid_at: datetime


def content_sales(
    db: Session, content_id: int, *, recent_lines: int = 5000, limit: int = 20
) -> list[ContentSale]:
    """Paid lines attributed to ``content_id`` among the newest ``recent_lines`` order lines, newest
    first. The window keeps the read to a primary-key range however large the table (the ticker
    polls it every few seconds); a line placed earlier than that and paid just now is left out."""
    newest = db.scalar(select(func.max(OrderItem.id))) or 0
    rows = db.execute(
        select(
            OrderItem.id,
            Order.user_id,
            OrderItem.product_id,
            OrderItem.title_zh,
            OrderItem.title_en,
            OrderItem.quantity,
            Order.paid_at,
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            OrderItem.id > newest - recent_lines,
            OrderItem.content_id == content_id,
            Order.paid_at.is_not(None),
        )
        .order_by(OrderItem.id.desc())
        .limit(limit)
    ).all()
    return [
        ContentSale(item, user, product, title_zh, title_en, quantity, paid_at)
        for item, user, product, title_zh, title_en, quantity, paid_at in rows
        if paid_at is not None  # the query's paid filter, said again for the type checker
    ]


# Prebuilt Core statement: every feed request asks (a third of the ORM's cost for the same rows).
_RECENT_PURCHASES = (
    select(OrderItem.product_id, Order.paid_at)
    .join(Order, Order.id == OrderItem.order_id)
    .where(
        Order.user_id == bindparam("user_id"), Order.paid_at.is_not(None), Order.paid_at >= bindparam("since")
    )
    .order_by(Order.paid_at)
    .limit(bindparam("limit"))
)


def recent_purchases(
    db: Session, user_id: int, since: datetime, limit: int = 50
) -> list[tuple[int, datetime]]:
    """``(product id, paid at)`` of the user's paid order lines since ``since``, oldest first."""
    rows = core(db).execute(_RECENT_PURCHASES, {"user_id": user_id, "since": since, "limit": limit})
    return [(int(p), at) for p, at in rows if at is not None]


@dataclass(frozen=True)
class CreatorSales:
    """What one creator sold of a shop's goods under affiliate plans (paid order lines)."""

    account_id: int
    orders: int
    items: int
    gmv_fen: int  # paid for the lines
    refunded_fen: int
    commission_fen: int  # the commission the lines carry (before refunds)


def shop_creator_sales(
    db: Session, shop_id: int, since: datetime, until: datetime
) -> dict[int, CreatorSales]:
    """``creator account id -> CreatorSales`` over the shop's lines sold under an affiliate plan and
    paid in ``[since, until)``."""
    rows = db.execute(
        select(
            OrderItem.account_id,
            func.count(func.distinct(OrderItem.order_id)),
            func.sum(OrderItem.quantity),
            func.sum(OrderItem.paid_fen),
            func.sum(OrderItem.refunded_fen),
            func.sum(OrderItem.commission_fen),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            OrderItem.shop_id == shop_id,
            OrderItem.affiliate_plan_id.is_not(None),
            OrderItem.account_id.is_not(None),
            Order.paid_at.is_not(None),
            Order.paid_at >= since,
            Order.paid_at < until,
        )
        .group_by(OrderItem.account_id)
    )
    return {
        account_id: CreatorSales(
            account_id, int(orders), int(items or 0), int(gmv or 0), int(back or 0), int(fee or 0)
        )
        for account_id, orders, items, gmv, back, fee in rows
        if account_id is not None  # the query's filter, said again for the type checker
    }
