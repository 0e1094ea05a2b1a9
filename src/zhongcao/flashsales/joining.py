"""Joining a flash sale: the buyer asks for one unit, the admission (Redis or in-process) decides at
once, and an admitted buyer's ticket is recorded in PostgreSQL before the answer goes out
(docs/flash-sales.md). The writer (``writer``) turns tickets into orders."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.config import Settings
from zhongcao.errors import Conflict
from zhongcao.flashsales import admission as adm
from zhongcao.flashsales import service
from zhongcao.flashsales.models import AdmissionState, FlashAdmission, FlashSale, FlashSaleStatus

log = logging.getLogger("zhongcao.flashsales")


def address_key(address: dict[str, Any]) -> str:
    """One shipping address, however it was typed: its place, not who receives it."""
    place = "|".join(
        "".join(str(address.get(part, "")).lower().split())
        for part in ("province", "city", "district", "line")
    )
    return hashlib.sha256(place.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Joined:
    ticket: FlashAdmission
    remaining: int
    duplicate: bool
    sale: FlashSale


@dataclass(frozen=True)
class _JoinFacts:
    """What a join needs of a sale that never changes: its counters' name and its live room."""

    key: str
    live_content_id: int | None


_join_facts_cache: dict[int, _JoinFacts] = {}


def _join_facts(db: Session, sale_id: int) -> _JoinFacts:
    """The sale's unchanging facts, read from PostgreSQL once per process (404 when no such sale)."""
    facts = _join_facts_cache.get(sale_id)
    if facts is None:
        sale = service.get_sale(db, sale_id)
        facts = _JoinFacts(service.sale_key(sale), sale.live_content_id)
        if len(_join_facts_cache) > 10_000:  # a process sees a few sales; never an unbounded map
            _join_facts_cache.clear()
        _join_facts_cache[sale_id] = facts
    return facts


def forget_join_facts() -> None:
    """Empty the cache (tests: their database restarts its ids, so a sale id names another sale)."""
    _join_facts_cache.clear()


def join(
    db: Session,
    sale_id: int,
    user_id: int,
    *,
    shipping_address: dict[str, Any] | Callable[[], dict[str, Any]],
    request_key: str,
    content_id: int | None,
    settings: Settings,
) -> Joined:
    """Ask for one unit: admitted (the ticket, recorded in PostgreSQL) or a 409 saying why not.

    The refusals a sale's peak is made of (sold out, limit reached) cost the Lua script alone: the
    sale's row is read only for an admission or an answer that needs it (its status, its start).
    ``shipping_address`` may be a function that reads it (the buyer's saved address): it is called only
    when a unit is there to give, so a refusal reads no address either."""
    facts = _join_facts(db, sale_id)
    counters = adm.for_settings(settings)
    key = facts.key
    if content_id is not None and content_id != facts.live_content_id:
        content_id = None  # attribute only the sale's own live room
    address = shipping_address if isinstance(shipping_address, dict) else None
    where = address_key(address) if address is not None else ""
    # A request key is the buyer's own: another buyer sending the same one is a different request.
    scoped_key = f"{user_id}:{request_key}"[:64] if request_key else ""
    try:
        decision = counters.admit(key, user_id, where, scoped_key, adm.now_ms())
        if decision.outcome == adm.NEED_ADDRESS:  # nothing was taken: read the address, ask again
            assert not isinstance(shipping_address, dict)
            address = shipping_address()
            where = address_key(address)
            decision = counters.admit(key, user_id, where, scoped_key, adm.now_ms())
    except redis.RedisError as exc:
        raise service.AdmissionUnavailable(
            "the flash sale cannot take requests right now; try again"
        ) from exc
    outcome = decision.outcome
    if outcome == adm.SOLD_OUT:
        raise Conflict("sold out", code="sold_out")
    if outcome == adm.LIMIT and decision.seq == 0:
        raise Conflict("you reached this sale's limit per buyer", code="limit_reached")
    if outcome == adm.ADDRESS_LIMIT:
        raise Conflict(
            "this shipping address reached the sale's limit", code="address_limit_reached", field="address_id"
        )
    sale = service.get_sale(db, sale_id)
    if outcome == adm.REBUILDING:
        if sale.status is FlashSaleStatus.ended:
            raise Conflict("this flash sale has ended", code="sale_ended")
        raise service.SaleRebuilding("the flash sale is catching up; try again in a moment")
    if outcome == adm.DUPLICATE or (outcome == adm.LIMIT and decision.seq > 0):
        found = db.scalar(
            select(FlashAdmission).where(
                FlashAdmission.sale_id == sale.id,
                FlashAdmission.user_id == user_id,
                FlashAdmission.seq == decision.seq,
            )
        )
        if outcome == adm.DUPLICATE and found is not None:
            return Joined(found, decision.remaining, duplicate=True, sale=sale)
        raise Conflict(
            f"you already hold {sale.per_buyer_limit} ticket(s) of this sale, its limit per buyer",
            code="limit_reached",
            details={"limit": sale.per_buyer_limit, "ticket": found.ticket if found is not None else None},
        )
    if outcome == adm.NOT_STARTED:
        raise Conflict(
            "the flash sale has not started yet",
            code="sale_not_started",
            details={"starts_at": sale.starts_at.isoformat()},
        )
    if outcome == adm.CLOSED:
        if sale.status is FlashSaleStatus.waiting_for_pin:
            raise Conflict("the flash sale starts when the host pins the product", code="sale_not_started")
        raise Conflict("this flash sale has ended", code="sale_ended")
    # Recorded only while the counters that admitted it are current: under the shared counters lock a
    # rebuild cannot be counting the tickets, and its generation says whether one came in between.
    # (Redis: counters shared by every process. The in-process ones of the embedded default live and
    # die with the one API process, which rebuilds them itself.)
    if counters.kind == "redis":
        service.counters_lock(db, sale.id, shared=True)
        current = db.scalar(select(FlashSale.counters_generation).where(FlashSale.id == sale.id))
        if current != decision.generation:
            db.rollback()
            raise service.SaleRebuilding("the flash sale is catching up; try again in a moment")
    assert address is not None  # admitted: asked with the address (need_address asked again)
    ticket = FlashAdmission(
        sale_id=sale.id,
        user_id=user_id,
        seq=decision.seq,
        state=AdmissionState.queued,
        admitted_at=clock.now(),
        address_key=where,
        shipping_address=dict(address),
        content_id=content_id,
        request_key=scoped_key or None,
    )
    db.add(ticket)
    try:
        db.commit()
    except IntegrityError:
        # PostgreSQL holds this (user, seq) already: the counters were rebuilt while a request was in
        # flight. The unit goes back; the limit stands.
        db.rollback()
        counters.give_back(key, f"{user_id}:{decision.seq}")
        raise Conflict("you reached this sale's limit per buyer", code="limit_reached") from None
    try:
        counters.recorded(key, user_id, decision.seq)
    except redis.RedisError:
        log.warning("flash sale %s: ticket %s recorded but still pending", sale.id, ticket.ticket)
    remaining = decision.remaining
    step = max(1, sale.quantity // 50)
    if remaining <= 0 or remaining % step == 0:  # every unit for small sales, every 2% for large
        service.publish_state(db, sale, remaining)
    return Joined(ticket, remaining, duplicate=False, sale=sale)
