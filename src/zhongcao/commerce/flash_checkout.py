"""A checkout for a flash-sale ticket: one unit of one SKU at the flash price, written by the job
writer for a buyer admitted earlier (zhongcao.flashsales.writer).

It is an ordinary checkout with ordinary orders (paid, cancelled and expired by the same code) with
three differences: the price is the sale's, no coupon, subsidy or member price applies (the flash
price is final), and no stock is reserved, because the sale set its units aside from the SKU's stock
when it was created. When such a checkout is cancelled unpaid, :func:`checkout.cancel_unpaid` gives
the unit back to the SKU's stock like any other; the flash-sale domain takes it back for the sale in
the same transaction (the ``checkout_cancelled`` signal).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zhongcao.commerce import checkout as checkout_rules
from zhongcao.commerce.models import Channel, Checkout, CheckoutStatus
from zhongcao.commerce.schemas import AttributionIn
from zhongcao.config import Settings


@dataclass(frozen=True)
class FlashCheckoutRequest:
    user_id: int
    sku_id: int
    unit_price_fen: int
    shipping_address: dict[str, str]
    payment_window_minutes: int
    content_id: int | None = None  # the live room the buyer joined from


def place_flash_checkout(
    db: Session, request: FlashCheckoutRequest, settings: Settings, now: datetime
) -> Checkout:
    """Write the checkout and its order, flushed only (the writer commits its batch). Raises the
    ordinary checkout errors (404 ``sku_not_found``, 409 ``not_for_sale``) before writing anything."""
    attribution = (
        AttributionIn(channel=Channel.live, content_id=request.content_id)
        if request.content_id is not None
        else AttributionIn(channel=Channel.product_page)
    )
    # from_cart=True: an attribution that no longer holds (the room ended) is dropped, not refused.
    spec = checkout_rules._LineSpec(
        field="sku_id", sku_id=request.sku_id, quantity=1, attribution=attribution, from_cart=True
    )
    (line,) = checkout_rules._resolve_lines(db, [spec], settings, now)
    line.info = replace(line.info, price_fen=request.unit_price_fen)
    line.offer = None  # the flash price is final: no campaign subsidy on top
    (shop_order,) = checkout_rules._group_by_shop(db, [line])
    checkout = Checkout(
        user_id=request.user_id,
        status=CheckoutStatus.pending_payment,
        total_fen=0,
        expires_at=now + timedelta(minutes=request.payment_window_minutes),
        created_at=now,
    )
    order = checkout_rules._build_order(checkout, request.user_id, shop_order, dict(request.shipping_address))
    order.created_at = now
    checkout.total_fen = order.paid_fen
    db.add(checkout)
    db.add(order)
    db.flush()
    return checkout
