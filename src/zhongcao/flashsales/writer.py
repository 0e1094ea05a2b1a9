"""The job writer: admitted tickets become orders, in batches (job ``flash_sale_orders``).

Each run takes up to :data:`BATCH` queued tickets (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
job workers never take the same ticket), locks each sale's row once, and writes one checkout and
order per ticket through commerce (``commerce.flash_checkout``), all in one transaction. The sale's
row is PostgreSQL's guard: ``units_taken`` never passes the units the sale still has (its CHECK is
the last line of defence), so a ticket that the counters admitted wrongly (a rebuild raced a request)
is *rejected* here, never oversold. A ticket whose product went off sale is *failed*. Each buyer
hears the outcome on their user channel once the batch commits.

Running it twice is harmless: a ticket leaves ``queued`` in the transaction that writes its order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.commerce import flash_checkout
from zhongcao.config import Settings
from zhongcao.errors import DomainError
from zhongcao.flashsales import service
from zhongcao.flashsales.models import AdmissionState, FlashAdmission, FlashSaleStatus
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import user_channel

log = logging.getLogger("zhongcao.flashsales")

BATCH = 200


def write_batch(db: Session, settings: Settings, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """Write the orders of up to ``batch`` queued tickets; returns what happened to them."""
    counts = {"written": 0, "rejected": 0, "failed": 0}
    stmt = (
        select(FlashAdmission)
        .where(FlashAdmission.state == AdmissionState.queued)
        .order_by(FlashAdmission.id)
        .limit(batch)
    )
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    tickets = list(db.scalars(stmt))
    if not tickets:
        db.rollback()
        return counts
    by_sale: dict[int, list[FlashAdmission]] = defaultdict(list)
    for ticket in tickets:
        by_sale[ticket.sale_id].append(ticket)
    for sale_id in sorted(by_sale):  # sale rows locked in id order: no lock-order deadlock
        sale = service._lock(db, sale_id)
        for ticket in by_sale[sale_id]:
            # The units the sale still has: all of them while it runs; once ended, those it kept.
            capacity = sale.quantity - sale.returned_to_stock
            if sale.units_taken >= capacity:
                ticket.state = AdmissionState.rejected
                ticket.closed_at = now
                counts["rejected"] += 1
            else:
                request = flash_checkout.FlashCheckoutRequest(
                    user_id=ticket.user_id,
                    sku_id=sale.sku_id,
                    unit_price_fen=sale.price_fen,
                    shipping_address=dict(ticket.shipping_address),
                    payment_window_minutes=sale.payment_window_minutes,
                    content_id=ticket.content_id,
                )
                try:
                    checkout = flash_checkout.place_flash_checkout(db, request, settings, now)
                except DomainError as exc:  # refused before anything was written
                    log.warning("flash sale %s: ticket %s failed: %s", sale.id, ticket.ticket, exc.code)
                    ticket.state = AdmissionState.failed
                    ticket.closed_at = now
                    counts["failed"] += 1
                else:
                    ticket.state = AdmissionState.ordered
                    ticket.checkout_id = checkout.id
                    ticket.order_id = checkout.orders[0].id
                    ticket.written_at = now
                    sale.units_taken += 1
                    counts["written"] += 1
            publish_after_commit(db, user_channel(ticket.user_id), service.ticket_message(ticket))
        if sale.status is FlashSaleStatus.ended and counts["rejected"]:
            log.info("flash sale %s ended: %d late tickets rejected", sale.id, counts["rejected"])
    db.commit()
    return counts
