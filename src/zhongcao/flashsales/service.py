"""Flash sales: setting one up, joining it, its state, and keeping the admission counters true to
PostgreSQL (docs/flash-sales.md).

* A merchant (or an operator, for a campaign) creates a sale on an SKU: the sale's units are taken off
  the SKU's stock at once (409 ``insufficient_stock`` when it has fewer). A sale either starts at
  ``starts_at`` or waits for the host of its live room to pin the product (``start_by_pin``).
* A buyer joins (``joining.join``): the admission decides at once (Redis or in-process, ``admission``),
  the ticket is recorded in ``flash_admissions`` before the answer goes out, and the job writer
  (``writer``) turns tickets into orders in batches. The buyer hears of the order on their user channel.
* :func:`sync` (run by the job with the writer) rebuilds missing counters from PostgreSQL, gives
  released units back to the counters, gives back tickets whose request died before PostgreSQL
  recorded them, and ends sales past ``ends_at``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.audit import service as audit_service
from zhongcao.campaigns import service as campaigns_service
from zhongcao.catalog import lookup, stock
from zhongcao.config import Settings
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, DomainError, InvalidInput, NotFound
from zhongcao.flashsales import admission as adm
from zhongcao.flashsales.models import (
    HOLDING,
    RELEASED,
    AdmissionState,
    FlashAdmission,
    FlashSale,
    FlashSaleStatus,
)
from zhongcao.realtime.outbox import bus_for, publish_after_commit
from zhongcao.realtime.service import live_channel, user_channel

log = logging.getLogger("zhongcao.flashsales")

MAX_QUANTITY = 100_000
MAX_LIMIT = 10
MAX_WINDOW_MINUTES = 24 * 60


class SaleRebuilding(DomainError):
    """The admission counters are being rebuilt from PostgreSQL (Redis restarted): retry shortly."""

    status_code = 503
    code = "sale_rebuilding"
    headers = {"Retry-After": "1"}


class AdmissionUnavailable(DomainError):
    status_code = 503
    code = "sale_unavailable"
    headers = {"Retry-After": "1"}


def product_channel(product_id: int) -> str:
    """A product's page listens here for its flash sale's state (``flash_sale`` messages)."""
    return f"product:{int(product_id)}"


def sale_key(sale: FlashSale) -> str:
    """The counters' name: the id and the creation time, so a test database that restarts its ids
    (or another deployment sharing the Redis) never meets a stale sale's counters."""
    return f"{sale.id}.{int(sale.created_at.timestamp() * 1_000_000)}"


# --- creating, starting, ending ------------------------------------------------------------------


@dataclass(frozen=True)
class NewSale:
    sku_id: int
    title: str
    price_fen: int
    quantity: int
    per_buyer_limit: int = 1
    payment_window_minutes: int = 15
    starts_at: datetime | None = None  # None with live_content_id: starts when the host pins it
    ends_at: datetime | None = None
    live_content_id: int | None = None
    campaign_id: int | None = None


def _check(new: NewSale, now: datetime) -> None:
    if not 0 < new.price_fen <= 10**10:
        raise InvalidInput("the flash price must be positive", code="invalid_price", field="price_fen")
    if not 0 < new.quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be 1 to {MAX_QUANTITY}", code="invalid_quantity", field="quantity")
    if not 0 < new.per_buyer_limit <= MAX_LIMIT:
        raise InvalidInput(
            f"the per-buyer limit must be 1 to {MAX_LIMIT}", code="invalid_limit", field="per_buyer_limit"
        )
    if not 0 < new.payment_window_minutes <= MAX_WINDOW_MINUTES:
        raise InvalidInput(
            "the payment window must be 1 minute to 24 hours",
            code="invalid_payment_window",
            field="payment_window_minutes",
        )
    if new.starts_at is None and new.live_content_id is None:
        raise InvalidInput(
            "give a start time, or a live room whose host starts it by pinning the product",
            code="start_required",
            field="starts_at",
        )
    start = new.starts_at or now
    if new.ends_at is not None and new.ends_at <= max(start, now):
        raise InvalidInput(
            "the end must be after the start and in the future", code="invalid_end", field="ends_at"
        )


def create_sale(
    db: Session,
    *,
    shop_id: int | None,
    created_by: int,
    new: NewSale,
    settings: Settings,
    reason: str | None = None,
) -> FlashSale:
    """Set up a sale and take its units off the SKU's stock. ``shop_id`` None: an operator's, on any
    shop's SKU, for a campaign (``new.campaign_id``, required), recorded in the audit log with
    ``reason`` in the same transaction. A merchant's SKU of another shop is 404 ``sku_not_found``."""
    now = clock.now()
    _check(new, now)
    if shop_id is None:
        if new.campaign_id is None:
            raise InvalidInput("an operator's flash sale belongs to a campaign", code="campaign_required")
        campaigns_service.get_campaign(db, new.campaign_id)  # 404 campaign_not_found
    info = lookup.skus_by_ids(db, [new.sku_id]).get(new.sku_id)
    if info is None or (shop_id is not None and info.shop_id != shop_id):
        raise NotFound("no such SKU", code="sku_not_found", field="sku_id")
    lookup.ensure_for_sale(info, field="sku_id")
    if new.price_fen >= info.price_fen:
        raise InvalidInput(
            "the flash price must be below the SKU's price",
            code="price_not_below_list",
            field="price_fen",
            details={"list_price_fen": info.price_fen},
        )
    if new.live_content_id is not None:
        try:
            content = content_service.content_for_shop(db, info.shop_id, new.live_content_id)
        except NotFound:
            content = None
        if content is None or content.kind is not ContentKind.live:
            raise NotFound(
                "no such live session of this shop", code="live_not_found", field="live_content_id"
            )
        if content.status in (ContentStatus.ended, ContentStatus.removed):
            raise Conflict("this live session is over", code="live_over", field="live_content_id")
        if info.product_id not in content_service.anchored_product_ids(db, content.id):
            raise InvalidInput(
                "anchor the product in the live session first",
                code="product_not_anchored",
                field="live_content_id",
            )
    if not stock.try_reserve(db, new.sku_id, new.quantity):
        db.rollback()
        raise Conflict(
            "the SKU has fewer units on sale than the flash sale's quantity",
            code="insufficient_stock",
            field="quantity",
            details={"stock": info.stock},
        )
    sale = FlashSale(
        shop_id=info.shop_id,
        product_id=info.product_id,
        sku_id=new.sku_id,
        title=new.title,
        price_fen=new.price_fen,
        quantity=new.quantity,
        per_buyer_limit=new.per_buyer_limit,
        payment_window_minutes=new.payment_window_minutes,
        starts_at=new.starts_at or now,
        ends_at=new.ends_at,
        status=FlashSaleStatus.scheduled if new.starts_at is not None else FlashSaleStatus.waiting_for_pin,
        live_content_id=new.live_content_id,
        campaign_id=new.campaign_id,
        created_by=created_by,
        created_at=now,
    )
    db.add(sale)
    db.flush()
    if shop_id is None:
        audit_service.record(
            db,
            actor_user_id=created_by,
            action="flash_sale.create",
            target_kind="flash_sale",
            target_id=sale.id,
            reason=(reason or "").strip() or f"campaign {new.campaign_id} flash sale",
            after={
                "campaign_id": new.campaign_id,
                "shop_id": sale.shop_id,
                "sku_id": sale.sku_id,
                "price_fen": sale.price_fen,
                "quantity": sale.quantity,
                "per_buyer_limit": sale.per_buyer_limit,
                "starts_at": sale.starts_at,
            },
        )
    _announce(db, sale, remaining=sale.quantity)
    db.commit()
    rebuild(db, sale, adm.for_settings(settings))
    return sale


def _open(sale: FlashSale) -> bool:
    return sale.status is FlashSaleStatus.scheduled


def start_by_pin(db: Session, sale: FlashSale, settings: Settings) -> FlashSale:
    """The host pins the sale's product in its live room: the sale starts now."""
    if sale.status is not FlashSaleStatus.waiting_for_pin or sale.live_content_id is None:
        raise Conflict(
            "only a sale waiting for its live room's pin starts this way",
            code="sale_not_waiting_for_pin",
            details={"status": sale.status.value},
        )
    content_service.pin_product(db, sale.live_content_id, sale.product_id)  # commits the pin
    now = clock.now()
    changed = rows_changed(
        db.execute(
            update(FlashSale)
            .where(FlashSale.id == sale.id, FlashSale.status == FlashSaleStatus.waiting_for_pin)
            .values(status=FlashSaleStatus.scheduled, starts_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    db.refresh(sale)
    if changed:
        _announce(db, sale)
    db.commit()
    counters = adm.for_settings(settings)
    if not counters.update(
        sale_key(sale), open=True, starts_at_ms=adm.to_ms(now), ends_at_ms=adm.to_ms(sale.ends_at)
    ):
        rebuild(db, sale, counters)
    return sale


def end_sale(
    db: Session,
    sale_id: int,
    settings: Settings,
    now: datetime | None = None,
    *,
    operator_id: int | None = None,
    reason: str | None = None,
) -> FlashSale:
    """End the sale: no more admissions; the units no ticket holds go back to the SKU's stock
    (tickets already admitted still get their orders). ``operator_id``: an operator ended it (audited,
    with ``reason``, in the same transaction)."""
    now = now or clock.now()
    sale = _lock(db, sale_id)
    if sale.status is FlashSaleStatus.ended:
        db.commit()
        return sale
    if operator_id is not None:
        audit_service.record(
            db,
            actor_user_id=operator_id,
            action="flash_sale.end",
            target_kind="flash_sale",
            target_id=sale.id,
            reason=(reason or "").strip() or "ended by an operator",
            before={"status": sale.status, "units_taken": sale.units_taken},
            after={"status": FlashSaleStatus.ended},
        )
    holding = _count_holding(db, sale.id)
    back = sale.quantity - sale.returned_to_stock - holding
    if back > 0:
        stock.release(db, sale.sku_id, back)
    sale.returned_to_stock += max(0, back)
    sale.status = FlashSaleStatus.ended
    sale.ended_at = now
    db.flush()
    _announce(db, sale, remaining=0)
    db.commit()
    counters = adm.for_settings(settings)
    try:
        counters.update(sale_key(sale), open=False, starts_at_ms=adm.to_ms(sale.starts_at), ends_at_ms=1)
    except redis.RedisError:
        log.warning("could not close flash sale %s's counters (PostgreSQL says ended)", sale.id)
    return sale


# --- reading -------------------------------------------------------------------------------------


def get_sale(db: Session, sale_id: int) -> FlashSale:
    sale = db.get(FlashSale, sale_id)
    if sale is None:
        raise NotFound("no such flash sale", code="flash_sale_not_found")
    return sale


def get_for_shop(db: Session, shop_id: int, sale_id: int) -> FlashSale:
    sale = db.get(FlashSale, sale_id)
    if sale is None or sale.shop_id != shop_id:
        raise NotFound("no such flash sale", code="flash_sale_not_found")
    return sale


def list_sales(
    db: Session,
    *,
    shop_id: int | None = None,
    campaign_id: int | None = None,
    status: FlashSaleStatus | None = None,
    limit: int = 100,
) -> list[FlashSale]:
    """Newest first: a shop's, a campaign's, or every sale; ``status`` narrows to one status."""
    stmt = select(FlashSale).order_by(FlashSale.id.desc()).limit(limit)
    if shop_id is not None:
        stmt = stmt.where(FlashSale.shop_id == shop_id)
    if campaign_id is not None:
        stmt = stmt.where(FlashSale.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(FlashSale.status == status)
    return list(db.scalars(stmt))


def current_for_product(db: Session, product_id: int) -> FlashSale | None:
    """The product's flash sale to show: the newest not ended (else None)."""
    return db.scalar(
        select(FlashSale)
        .where(FlashSale.product_id == product_id, FlashSale.status != FlashSaleStatus.ended)
        .order_by(FlashSale.id.desc())
        .limit(1)
    )


def waiting_for_room(db: Session, content_id: int) -> list[FlashSale]:
    return list(
        db.scalars(
            select(FlashSale)
            .where(FlashSale.live_content_id == content_id, FlashSale.status != FlashSaleStatus.ended)
            .order_by(FlashSale.id)
        )
    )


def _count_holding(db: Session, sale_id: int) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(FlashAdmission)
            .where(FlashAdmission.sale_id == sale_id, FlashAdmission.state.in_(HOLDING))
        )
        or 0
    )


@dataclass(frozen=True)
class SaleState:
    sale: FlashSale
    phase: str  # waiting_for_pin | upcoming | on_sale | sold_out | ended
    remaining: int
    rebuilding: bool


def sale_state(db: Session, sale: FlashSale, settings: Settings) -> SaleState:
    """The sale as a viewer sees it now. Remaining units come from the counters (PostgreSQL's count
    when the counters are missing)."""
    rebuilding = False
    remaining: int
    if sale.status is FlashSaleStatus.ended:
        return SaleState(sale, "ended", 0, False)
    try:
        snap = adm.for_settings(settings).snapshot(sale_key(sale))
    except redis.RedisError:
        snap = None
    if snap is None:
        rebuilding = True
        remaining = max(0, sale.quantity - sale.returned_to_stock - _count_holding(db, sale.id))
    else:
        remaining = snap.remaining
    now = clock.now()
    if sale.status is FlashSaleStatus.waiting_for_pin:
        phase = "waiting_for_pin"
    elif sale.ends_at is not None and now >= sale.ends_at:
        phase = "ended"
    elif now < sale.starts_at:
        phase = "upcoming"
    elif remaining <= 0:
        phase = "sold_out"
    else:
        phase = "on_sale"
    return SaleState(sale, phase, remaining, rebuilding)


def tickets_of(db: Session, sale_id: int, user_id: int) -> list[FlashAdmission]:
    return list(
        db.scalars(
            select(FlashAdmission)
            .where(FlashAdmission.sale_id == sale_id, FlashAdmission.user_id == user_id)
            .order_by(FlashAdmission.seq)
        )
    )


def state_message(state: SaleState) -> dict[str, Any]:
    sale = state.sale
    return {
        "type": "flash_sale",
        "sale_id": sale.id,
        "product_id": sale.product_id,
        "phase": state.phase,
        "remaining": state.remaining,
        "quantity": sale.quantity,
        "starts_at": sale.starts_at.isoformat(),
    }


def _announce(db: Session, sale: FlashSale, remaining: int | None = None) -> None:
    """Tell the product's page and the live room the sale's state once this transaction commits."""
    phase = (
        "ended"
        if sale.status is FlashSaleStatus.ended
        else "waiting_for_pin"
        if sale.status is FlashSaleStatus.waiting_for_pin
        else "on_sale"
    )
    message = {
        "type": "flash_sale",
        "sale_id": sale.id,
        "product_id": sale.product_id,
        "phase": phase,
        "remaining": remaining,
        "quantity": sale.quantity,
        "starts_at": sale.starts_at.isoformat(),
    }
    publish_after_commit(db, product_channel(sale.product_id), message)
    if sale.live_content_id is not None:
        publish_after_commit(db, live_channel(sale.live_content_id), message)


def publish_state(db: Session, sale: FlashSale, remaining: int) -> None:
    """A sale-state message outside any transaction (an admission changed the count)."""
    phase = "sold_out" if remaining <= 0 else "on_sale"
    message = {
        "type": "flash_sale",
        "sale_id": sale.id,
        "product_id": sale.product_id,
        "phase": phase,
        "remaining": remaining,
        "quantity": sale.quantity,
        "starts_at": sale.starts_at.isoformat(),
    }
    bus = bus_for(db)
    try:
        bus.publish(product_channel(sale.product_id), message)
        if sale.live_content_id is not None:
            bus.publish(live_channel(sale.live_content_id), message)
    except Exception:  # viewers re-read the state; the admission stands
        log.exception("could not publish flash sale %s's state", sale.id)


def ticket_message(ticket: FlashAdmission) -> dict[str, Any]:
    return {
        "type": "flash_ticket",
        "sale_id": ticket.sale_id,
        "ticket": ticket.ticket,
        "state": ticket.state.value,
        "checkout_id": ticket.checkout_id,
        "order_id": ticket.order_id,
    }


# --- keeping the counters true -------------------------------------------------------------------


def _lock(db: Session, sale_id: int) -> FlashSale:
    """The sale's row, locked against the other writers of its counts (the job writer, ending it, a
    cancelled order giving its unit back). FOR NO KEY UPDATE, not FOR UPDATE: a join's new ticket
    references the row (its foreign key takes FOR KEY SHARE), and must not wait for the writer's whole
    batch of orders to commit (measured: admissions queued behind every batch, p50 > 1 s)."""
    sale = db.scalar(
        select(FlashSale)
        .where(FlashSale.id == sale_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if sale is None:
        raise NotFound("no such flash sale", code="flash_sale_not_found")
    return sale


# Advisory-lock namespace of a sale's counters (the high bits; the sale's id below): joins record
# tickets under the shared lock, a rebuild counts them under the exclusive one.
_COUNTERS_LOCK = 0x5EC << 48


def counters_lock(db: Session, sale_id: int, *, shared: bool) -> None:
    """PostgreSQL: hold the sale's counters lock to the end of this transaction. SQLite needs none:
    its write transactions run one at a time (BEGIN IMMEDIATE)."""
    if db.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        db.execute(text(f"SELECT {function}(:k)"), {"k": _COUNTERS_LOCK | int(sale_id)})


def rebuild(db: Session, sale: FlashSale, counters: adm.Admission) -> int:
    """Load the sale's counters from PostgreSQL; returns the new generation. Released tickets are
    counted as given back (their flags set in the same step).

    Under the sale's exclusive counters lock, so every ticket a join is recording is committed (and
    counted) first; the generation goes up, so a request the lost counters admitted can no longer be
    recorded (``join`` checks it under the shared lock). The counters are loaded before the lock
    goes: two rebuilds never interleave."""
    counters_lock(db, sale.id, shared=False)
    generation = int(
        db.execute(
            update(FlashSale)
            .where(FlashSale.id == sale.id)
            .values(counters_generation=FlashSale.counters_generation + 1)
            .returning(FlashSale.counters_generation)
            .execution_options(synchronize_session=False)
        ).scalar_one()
    )
    rows = db.execute(
        select(
            FlashAdmission.user_id,
            FlashAdmission.seq,
            FlashAdmission.address_key,
            FlashAdmission.state,
            FlashAdmission.request_key,
        ).where(FlashAdmission.sale_id == sale.id)
    ).all()
    seq_by_user: dict[int, int] = {}
    by_address: dict[str, int] = {}
    requests: dict[str, int] = {}
    sold = 0
    for user_id, seq, where, state, request_key in rows:
        seq_by_user[user_id] = max(seq_by_user.get(user_id, 0), seq)
        by_address[where] = by_address.get(where, 0) + 1
        if request_key:
            requests[request_key] = seq
        if state in HOLDING:
            sold += 1
    quantity = (
        sale.quantity - sale.returned_to_stock if sale.status is FlashSaleStatus.ended else sale.quantity
    )
    try:
        counters.load(
            sale_key(sale),
            adm.Counters(
                quantity=quantity,
                sold=min(sold, quantity),
                limit=sale.per_buyer_limit,
                starts_at_ms=adm.to_ms(sale.starts_at),
                ends_at_ms=adm.to_ms(sale.ends_at),
                open=_open(sale),
                seq_by_user=seq_by_user,
                by_address=by_address,
                requests=requests,
            ),
            generation,
        )
    except Exception:
        db.rollback()
        raise
    db.execute(
        update(FlashAdmission)
        .where(FlashAdmission.sale_id == sale.id, FlashAdmission.state.in_(RELEASED))
        .values(counters_returned=True)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    log.info(
        "flash sale %s: counters rebuilt from PostgreSQL (generation %s, %s held)", sale.id, generation, sold
    )
    return generation


def sync(db: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Keep every running sale's counters true to PostgreSQL (see the module's docstring)."""
    now = now or clock.now()
    counters = adm.for_settings(settings)
    counts = {"rebuilt": 0, "given_back": 0, "ended": 0, "pending_given_back": 0}
    sales = list(
        db.scalars(select(FlashSale).where(FlashSale.status != FlashSaleStatus.ended).order_by(FlashSale.id))
    )
    for sale in sales:
        if sale.ends_at is not None and now >= sale.ends_at:
            end_sale(db, sale.id, settings, now)
            counts["ended"] += 1
            continue
        key = sale_key(sale)
        snap = counters.snapshot(key)
        # Missing (Redis restarted), or not PostgreSQL's generation (a rebuild died between loading
        # the counters and committing): joins could record nothing until the two agree.
        if snap is None or (counters.kind == "redis" and snap.generation != sale.counters_generation):
            rebuild(db, sale, counters)
            counts["rebuilt"] += 1
            continue
        cutoff = adm.to_ms(now - timedelta(seconds=adm.PENDING_GRACE_S))
        for user_id, seq in counters.stale_pending(key, cutoff):
            recorded = db.scalar(
                select(FlashAdmission.id).where(
                    FlashAdmission.sale_id == sale.id,
                    FlashAdmission.user_id == user_id,
                    FlashAdmission.seq == seq,
                )
            )
            if recorded is not None:
                counters.recorded(key, user_id, seq)
            elif counters.give_back(key, f"{user_id}:{seq}"):
                counts["pending_given_back"] += 1
        db.rollback()
    released = db.execute(
        select(FlashAdmission.id, FlashAdmission.sale_id)
        .where(FlashAdmission.state.in_(RELEASED), FlashAdmission.counters_returned.is_(False))
        .order_by(FlashAdmission.id)
        .limit(1000)
    ).all()
    by_sale = {s.id: s for s in sales}
    for admission_id, sid in released:
        found = by_sale.get(sid) or db.get(FlashSale, sid)
        if found is None:
            continue
        sale = found
        if sale.status is not FlashSaleStatus.ended and counters.give_back(
            sale_key(sale), f"a{admission_id}"
        ):
            counts["given_back"] += 1
            remaining = counters.snapshot(sale_key(sale))
            if remaining is not None:
                publish_state(db, sale, remaining.remaining)
        db.execute(
            update(FlashAdmission)
            .where(FlashAdmission.id == admission_id)
            .values(counters_returned=True)
            .execution_options(synchronize_session=False)
        )
        db.commit()
    return counts


# --- what commerce tells (signals, wired in flows) -----------------------------------------------


def on_checkout_cancelled(db: Session, data: dict[str, Any]) -> None:
    """A flash-sale checkout was cancelled unpaid (expired or by the buyer): commerce has just given
    its unit back to the SKU's stock; take it back for the sale while the sale runs (in this
    transaction), or leave it in stock when the sale has ended."""
    ticket = db.scalar(
        select(FlashAdmission)
        .where(
            FlashAdmission.checkout_id == data["checkout_id"], FlashAdmission.state == AdmissionState.ordered
        )
        .with_for_update()
    )
    if ticket is None:
        return
    sale = _lock(db, ticket.sale_id)
    ticket.state = AdmissionState.expired
    ticket.closed_at = clock.now()
    sale.units_taken -= 1
    if sale.status is FlashSaleStatus.ended or not stock.try_reserve(db, sale.sku_id, 1):
        sale.returned_to_stock += 1  # the unit stays in the SKU's stock
        ticket.counters_returned = True
    db.flush()
    publish_after_commit(db, user_channel(ticket.user_id), ticket_message(ticket))


def on_order_paid(db: Session, data: dict[str, Any]) -> None:
    ticket = db.scalar(
        select(FlashAdmission).where(
            FlashAdmission.order_id == data["order_id"], FlashAdmission.state == AdmissionState.ordered
        )
    )
    if ticket is None:
        return
    ticket.state = AdmissionState.paid
    db.flush()
    publish_after_commit(db, user_channel(ticket.user_id), ticket_message(ticket))
