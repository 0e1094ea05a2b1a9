"""Parcels from hand-over to the door: shipping through a registered carrier, the simulated carrier's
job, recording events (simulated or from a webhook), their effect on the order, and the tracking
timeline.

Effects of an event on the order (through commerce's service, in the event's transaction)
    the first scan of any kind records the pickup; ``delivered`` delivers the order (the buyer may
    then confirm, review, answer the survey, ask for after-sales); ``lost`` and ``returned`` open a
    refund-only after-sales case on each line for the buyer (reason: logistics), which the shop
    approves, or the after-sales deadline approves for it; ``delayed`` marks the parcel, which the
    order pages show. Events never move an order backwards, and an event recorded twice (same
    carrier, same event id) has no second effect.

Which shipments the job drives
    Every undelivered shipment whose ``carrier_name`` is a registered carrier's code, without a
    webhook secret, while ``carrier_simulation`` is on: shipped by a shop through the pages or the
    API, by the platform warehouse, by anyone calling ``commerce.service.ship_order``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce import shipments as commerce_shipments
from zhongcao.commerce.models import OrderStatus
from zhongcao.commerce.shipments import ShipmentFacts
from zhongcao.config import Settings, get_settings
from zhongcao.errors import Conflict, DomainError, InvalidInput, NotFound
from zhongcao.logistics import carriers, routes
from zhongcao.logistics.carriers import SIMULATED, CarrierInfo, Kind, PlannedEvent
from zhongcao.logistics.models import Parcel, ParcelStatus, TrackingEvent, TrackingSource

log = logging.getLogger("zhongcao.logistics")

# The job adopts undelivered shipments handed over this recently (older ones are a real carrier's
# or from before the registry).
ADOPT_WITHIN = timedelta(days=30)
BATCH = 2000

S = ParcelStatus
FINAL = frozenset({S.delivered, S.lost, S.returned})
# How far along each kind of event puts a parcel (a late scan never moves it back).
STATUS_OF: dict[Kind, ParcelStatus] = {
    Kind.picked_up: S.in_transit,
    Kind.in_transit: S.in_transit,
    Kind.arrived_city: S.in_transit,
    Kind.out_for_delivery: S.out_for_delivery,
    Kind.delivered: S.delivered,
    Kind.lost: S.lost,
    Kind.returned: S.returned,
}
RANK = {
    S.awaiting_pickup: 0,
    S.in_transit: 1,
    S.out_for_delivery: 2,
    S.lost: 3,
    S.returned: 3,
    S.delivered: 4,
}
MOVEMENT = frozenset(
    {Kind.picked_up, Kind.in_transit, Kind.arrived_city, Kind.out_for_delivery, Kind.delivered}
)


def simulated_codes(settings: Settings) -> list[str]:
    """The carriers the simulated carrier drives: every registered one without a webhook secret."""
    if not settings.carrier_simulation:
        return []
    return [c.code for c in carriers.CARRIERS if c.code not in settings.carrier_webhook_secrets]


def _destination_label(address: dict[str, Any]) -> tuple[str, str]:
    text = f"{address.get('city', '')}{address.get('district', '')}".strip()
    return (text, text)


# --- shipping and tracking -------------------------------------------------------------------------


def start_tracking(
    db: Session,
    facts: ShipmentFacts,
    settings: Settings,
    *,
    planned_pickup_at: datetime | None = None,
    simulated: bool | None = None,
    held: bool = False,
) -> Parcel:
    """The parcel for a shipment on a registered carrier, with the simulated carrier's plan when it
    drives that carrier (``simulated`` overrides the settings: the demo world always simulates).
    ``held``: the caller writes the plan's events itself (:func:`advance_order`), the job leaves the
    parcel alone until :func:`release_parcels` (the demo world during its simulation)."""
    carrier = carriers.get(facts.carrier_name)
    if carrier is None:
        raise ValueError(f"shipment {facts.shipment_id}'s carrier {facts.carrier_name!r} is not registered")
    route = routes.route_for(
        facts.shop_id, facts.shipping_address, platform_warehouse=facts.platform_warehouse
    )
    if simulated is None:
        simulated = carrier.code in simulated_codes(settings)
    plan: list[PlannedEvent] = []
    if simulated:
        plan = SIMULATED.plan(
            carrier,
            facts.tracking_number,
            route,
            facts.shipped_at,
            scale=settings.carrier_time_scale,
            picked_up_at=planned_pickup_at,
            destination_label=_destination_label(facts.shipping_address),
        )
    parcel = Parcel(
        shipment_id=facts.shipment_id,
        order_id=facts.order_id,
        shop_id=facts.shop_id,
        carrier_code=carrier.code,
        tracking_number=facts.tracking_number,
        simulated=simulated and not held,
        status=S.awaiting_pickup,
        origin_province=route.origin.province.code,
        destination_province=route.destination.province.code if route.destination is not None else None,
        distance_km=route.distance_km,
        plan=[e.to_json() for e in plan],
        next_step=0,
        next_due_at=plan[0].at if plan else None,
        expected_delivery_at=carriers.expected_delivery(plan),
        created_at=clock.now(),
    )
    db.add(parcel)
    db.flush()
    return parcel


def ship_order(
    db: Session,
    shop_id: int,
    order_id: int,
    *,
    carrier: str,
    tracking_number: str,
    platform_warehouse: bool = False,
    settings: Settings | None = None,
    planned_pickup_at: datetime | None = None,
    simulated: bool | None = None,
    held: bool = False,
    commit: bool = True,
) -> Any:
    """The shop hands the parcel to a registered carrier (a code or a name: ``sf``, 顺丰, SF
    Express; 422 ``unknown_carrier`` else): the order is shipped with the carrier's code and its
    tracking starts at once. Returns the order."""
    settings = settings or get_settings()
    info = carriers.resolve(carrier)
    try:
        order = commerce_service.ship_order(
            db,
            shop_id,
            order_id,
            carrier_name=info.code,
            tracking_number=tracking_number,
            platform_warehouse=platform_warehouse,
            commit=False,
        )
        facts = commerce_shipments.of_order(db, order.id)
        assert facts is not None  # just created
        start_tracking(
            db, facts, settings, planned_pickup_at=planned_pickup_at, simulated=simulated, held=held
        )
    except BaseException:
        db.rollback()
        raise
    if commit:
        db.commit()
    return order


# --- recording events ------------------------------------------------------------------------------


@dataclass
class Recorded:
    """What recording events did (counts for the job, the answer for a webhook)."""

    events: int = 0
    duplicates: int = 0
    deliveries: int = 0
    lost: int = 0
    statuses: list[str] = field(default_factory=list)


def _lock(db: Session, parcel_id: int) -> Parcel:
    parcel = db.get(Parcel, parcel_id, with_for_update=True, populate_existing=True)
    if parcel is None:
        raise NotFound("parcel not found", code="parcel_not_found")
    return parcel


def _move_order_checked(db: Session, parcel: Parcel, kind: Kind, at: datetime, result: Recorded) -> None:
    facts = commerce_shipments.of_order(db, parcel.order_id)
    if facts is None or facts.order_status is not OrderStatus.shipped:
        return  # delivered already (by hand, or an earlier report)
    now = clock.now()
    if facts.picked_up_at is None:
        # A carrier's clock may be a little ahead of ours, or report out of order: commerce
        # refuses events in the future or before the hand-over.
        commerce_service.record_pickup(
            db, parcel.order_id, at=min(max(at, facts.shipped_at), now), commit=False
        )
    if kind is Kind.delivered:
        earliest = facts.picked_up_at or facts.shipped_at
        commerce_service.record_delivery(db, parcel.order_id, at=min(max(at, earliest), now), commit=False)
        result.deliveries += 1


def _move_order(
    db: Session,
    parcel: Parcel,
    status: ParcelStatus,
    kind: Kind,
    at: datetime,
    result: Recorded,
    *,
    in_order: bool,
) -> None:
    """The order follows the parcel: pickup at the first movement, delivery at ``delivered``.

    ``in_order``: the simulated carrier's own events, in order and never in the future, go straight
    to commerce (its refusal of a move already made by hand is no error); a carrier's report is
    first checked against the shipment and clamped to what commerce accepts."""
    first = status is S.awaiting_pickup
    if kind not in MOVEMENT or (kind is not Kind.delivered and not first):
        return
    if not in_order:
        _move_order_checked(db, parcel, kind, at, result)
        return
    try:
        if first:
            with contextlib.suppress(Conflict):  # picked up by hand already
                commerce_service.record_pickup(db, parcel.order_id, at=at, commit=False)
        if kind is Kind.delivered:
            with contextlib.suppress(Conflict):  # delivered by hand already
                commerce_service.record_delivery(db, parcel.order_id, at=at, commit=False)
                result.deliveries += 1
    except InvalidInput:  # a hand-recorded scan later than the plan's: take the checked way
        _move_order_checked(db, parcel, kind, at, result)


def _status_after(status: ParcelStatus, kind: Kind) -> ParcelStatus:
    target = STATUS_OF.get(kind)
    if target is not None and (target is S.delivered or RANK[target] > RANK[status]):
        return target
    return status


def _mark(parcel: Parcel, kind: Kind, at: datetime, result: Recorded) -> None:
    """What one new event says about the parcel: its status (never backwards), a delay, a loss."""
    result.events += 1
    if kind is Kind.delayed:
        parcel.delayed_at = parcel.delayed_at or at
    target = STATUS_OF.get(kind)
    if target is not None and (target is S.delivered or RANK[target] > RANK[parcel.status]):
        if target in (S.lost, S.returned) and parcel.status not in FINAL:
            parcel.lost_at = at
            result.lost += 1
        parcel.status = target
    if parcel.last_event_at is None or at > parcel.last_event_at:
        parcel.last_event_at = at
    result.statuses.append(parcel.status.value)


def _row(
    parcel: Parcel,
    kind: Kind,
    at: datetime,
    location_zh: str,
    location_en: str | None,
    description: str,
    source: TrackingSource,
    external_id: str,
) -> dict[str, Any]:
    return {
        "parcel_id": parcel.id,
        "order_id": parcel.order_id,
        "carrier_code": parcel.carrier_code,
        "kind": kind,
        "location_zh": location_zh,
        "location_en": location_en,
        "description": description,
        "at": at,
        "source": source,
        "external_id": external_id,
        "created_at": clock.now(),
    }


def record_reported(
    db: Session,
    parcel: Parcel,
    *,
    kind: Kind,
    at: datetime,
    location: str,
    location_en: str | None,
    description: str,
    event_id: str,
    result: Recorded,
) -> bool:
    """A real carrier's event (the webhook) for a locked parcel: recorded and applied, or False (and
    no effect) when its event id was recorded before."""
    seen = db.scalar(
        select(TrackingEvent.id).where(
            TrackingEvent.carrier_code == parcel.carrier_code, TrackingEvent.external_id == event_id
        )
    )
    if seen is not None:
        result.duplicates += 1
        return False
    _move_order(db, parcel, parcel.status, kind, at, result, in_order=False)
    row = _row(parcel, kind, at, location, location_en, description, TrackingSource.webhook, event_id)
    db.execute(insert(TrackingEvent), [row])
    _mark(parcel, kind, at, result)
    db.flush()
    return True


def _advance(db: Session, parcel: Parcel, now: datetime, result: Recorded) -> None:
    """Write the locked parcel's planned events whose time has come (one multi-row insert; a step is
    written once: ``next_step`` moves past it in the same transaction, and the carrier's event id,
    unique, is the step's)."""
    plan = [PlannedEvent.from_json(raw) for raw in parcel.plan or []]
    first = step = parcel.next_step
    while step < len(plan) and plan[step].at <= now:
        step += 1
    due = list(enumerate(plan[first:step], start=first))
    # The order's moves first, the parcel's row last: one UPDATE of it per run, not one per event.
    status = parcel.status
    for _, e in due:
        _move_order(db, parcel, status, e.kind, e.at, result, in_order=True)
        status = _status_after(status, e.kind)
    if due:
        source = TrackingSource.simulated
        db.execute(
            insert(TrackingEvent),
            [
                _row(parcel, e.kind, e.at, e.location_zh, e.location_en, "", source, f"sim:{parcel.id}:{i}")
                for i, e in due
            ],
        )
    for _, e in due:
        _mark(parcel, e.kind, e.at, result)
    parcel.next_step = step
    parcel.next_due_at = plan[step].at if step < len(plan) else None


def _parcel_of_order(db: Session, order_id: int, *, lock: bool = False) -> Parcel | None:
    stmt = select(Parcel).where(Parcel.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.scalar(stmt)


def advance_order(
    db: Session, order_id: int, now: datetime | None = None, *, commit: bool = True
) -> Recorded:
    """Write the simulated events of the order's parcel whose time has come (the demo world calls
    this at its own pickup and delivery times; the job does the same for every parcel)."""
    now = now or clock.now()
    result = Recorded()
    parcel = _parcel_of_order(db, order_id, lock=True)
    if parcel is None:
        return result
    _advance(db, parcel, now, result)
    if commit:
        db.commit()
    return result


def pick_up(db: Session, order_id: int, at: datetime, *, delivered_at: datetime) -> Recorded:
    """The demo world's pickup: the scans due by ``at`` (the pickup), then the rest of the trip placed
    to arrive at ``delivered_at`` (the world decides its transit times), in one transaction."""
    result = Recorded()
    parcel = _parcel_of_order(db, order_id, lock=True)
    facts = commerce_shipments.of_order(db, order_id)
    if parcel is None or facts is None:
        return result
    _advance(db, parcel, at, result)
    _replan(parcel, facts, delivered_at)
    db.commit()
    return result


def replan(db: Session, order_id: int, *, delivered_at: datetime, commit: bool = True) -> None:
    """Fix when the order's parcel arrives: the events not yet written are placed again between the
    last written one and ``delivered_at``."""
    parcel = _parcel_of_order(db, order_id, lock=True)
    facts = commerce_shipments.of_order(db, order_id)
    if parcel is None or facts is None:
        return
    _replan(parcel, facts, delivered_at)
    db.flush()
    if commit:
        db.commit()


def _replan(parcel: Parcel, facts: ShipmentFacts, delivered_at: datetime) -> None:
    written = list(parcel.plan or [])[: parcel.next_step]
    start = datetime.fromisoformat(written[-1]["at"]) if written else facts.shipped_at
    route = routes.route_for(
        facts.shop_id, facts.shipping_address, platform_warehouse=facts.platform_warehouse
    )
    rest = SIMULATED.between(route, start, delivered_at, _destination_label(facts.shipping_address))
    parcel.plan = [*written, *(e.to_json() for e in rest)]
    parcel.next_due_at = rest[0].at
    parcel.expected_delivery_at = delivered_at


def release_parcels(db: Session, order_ids: Sequence[int], *, commit: bool = True) -> int:
    """Hand held parcels (:func:`start_tracking`'s ``held``) with events still to come to the carrier
    job: the demo world's parcels on their way when its simulation ends."""
    released = 0
    for start in range(0, len(order_ids), 500):
        chunk = list(order_ids[start : start + 500])
        result = db.execute(
            update(Parcel)
            .where(Parcel.order_id.in_(chunk), Parcel.simulated.is_(False), Parcel.next_due_at.is_not(None))
            .values(simulated=True)
        )
        released += int(getattr(result, "rowcount", 0) or 0)
    if commit:
        db.commit()
    return released


# --- lost parcels: the buyer's refund ------------------------------------------------------------------


def open_claims(db: Session, parcel_id: int, now: datetime | None = None) -> int:
    """For a lost or returned parcel whose order was not delivered: a refund-only after-sales case
    (reason logistics) on each line not yet refunded, opened for the buyer. Idempotent: lines with a
    case already open are skipped; the parcel remembers that its claim was opened. Commits."""
    now = now or clock.now()
    parcel = _lock(db, parcel_id)
    if parcel.claim_opened_at is not None or parcel.status not in (S.lost, S.returned):
        db.rollback()
        return 0
    order = commerce_service.get_order_for_shop(db, parcel.shop_id, parcel.order_id)
    opened = 0
    if order.status is OrderStatus.shipped:
        carrier = carriers.get(parcel.carrier_code)
        name = f"{carrier.name_zh} {parcel.tracking_number}" if carrier else parcel.tracking_number
        what = (
            "快递丢失，平台已为你申请退款 (parcel lost by the carrier)"
            if parcel.status is S.lost
            else "快递被退回商家，平台已为你申请退款 (parcel returned to the shop by the carrier)"
        )
        user_id, order_id = order.user_id, order.id
        lines = [
            (i.id, i.quantity - i.refunded_quantity) for i in order.items if i.refunded_quantity < i.quantity
        ]
        db.rollback()  # open_case locks and commits each line on its own
        for item_id, quantity in lines:
            try:
                aftersales_service.open_case(
                    db,
                    user_id,
                    order_id,
                    order_item_id=item_id,
                    kind=AfterSaleKind.refund_only,
                    reason=AfterSaleReason.logistics,
                    description=f"{what}: {name}",
                    quantity=quantity,
                    now=now,
                    parcel_lost=True,
                )
                opened += 1
            except DomainError as exc:  # a case open already, nothing left to refund
                db.rollback()
                log.info("parcel %s: no claim on order item %s: %s", parcel_id, item_id, exc.code)
        parcel = _lock(db, parcel_id)
    parcel.claim_opened_at = now
    db.commit()
    return opened


# --- the job -----------------------------------------------------------------------------------------


def _known_shipments(db: Session, shipment_ids: Sequence[int]) -> set[int]:
    known: set[int] = set()
    for start in range(0, len(shipment_ids), 500):
        chunk = list(shipment_ids[start : start + 500])
        known |= set(db.scalars(select(Parcel.shipment_id).where(Parcel.shipment_id.in_(chunk))))
    return known


def adopt_shipments(db: Session, settings: Settings, now: datetime) -> int:
    """Start tracking every recent undelivered shipment on a simulated carrier that has no parcel yet
    (shipped by anyone: a shop, the platform warehouse, a script). Commits each."""
    facts = commerce_shipments.undelivered(db, simulated_codes(settings), now - ADOPT_WITHIN)
    known = _known_shipments(db, [f.shipment_id for f in facts])
    db.rollback()
    adopted = 0
    for shipment in facts:
        if shipment.shipment_id in known:
            continue
        try:
            start_tracking(db, shipment, settings)
            db.commit()
        except IntegrityError:  # another runner adopted it a moment ago
            db.rollback()
            continue
        adopted += 1
    return adopted


def run_carrier_updates(db: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """The ``carrier_updates`` job: adopt new shipments, write every simulated event whose time has
    come (each parcel in its own transaction, under its row lock), open the refund claims of lost
    parcels. Running it twice does nothing twice."""
    now = now or clock.now()
    counts = {"carrier_parcels_tracked": 0, "carrier_events": 0, "carrier_deliveries": 0}
    counts |= {"carrier_lost": 0, "carrier_claims": 0, "carrier_failed": 0}
    with clock.frozen(now):
        counts["carrier_parcels_tracked"] = adopt_shipments(db, settings, now)
        due = list(
            db.scalars(
                select(Parcel.id)
                .where(Parcel.simulated.is_(True), Parcel.next_due_at.is_not(None), Parcel.next_due_at <= now)
                .order_by(Parcel.next_due_at)
                .limit(BATCH)
            )
        )
        db.rollback()
        for parcel_id in due:
            result = Recorded()
            try:
                parcel = _lock(db, parcel_id)
                if parcel.next_due_at is None or parcel.next_due_at > now:
                    db.rollback()  # another runner wrote them since we looked
                    continue
                _advance(db, parcel, now, result)
                db.commit()
            except DomainError as exc:
                db.rollback()
                counts["carrier_failed"] += 1
                log.warning("parcel %s: carrier events not applied: %s", parcel_id, exc)
                continue
            counts["carrier_events"] += result.events
            counts["carrier_deliveries"] += result.deliveries
            counts["carrier_lost"] += result.lost
        unclaimed = list(
            db.scalars(
                select(Parcel.id).where(
                    Parcel.status.in_((S.lost, S.returned)), Parcel.claim_opened_at.is_(None)
                )
            )
        )
        db.rollback()
        for parcel_id in unclaimed:
            counts["carrier_claims"] += open_claims(db, parcel_id, now)
    return counts


# --- reads ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tracking:
    """An order's parcel as the pages and the API show it (newest event first)."""

    order_id: int
    carrier: CarrierInfo | None  # None: a free-text carrier name from before the registry
    carrier_name: str
    tracking_number: str
    parcel: Parcel | None
    events: list[TrackingEvent]

    @property
    def status(self) -> str:
        return self.parcel.status.value if self.parcel is not None else "untracked"

    @property
    def delayed(self) -> bool:
        return bool(self.parcel and self.parcel.delayed_at and self.parcel.status not in FINAL)

    @property
    def expected_delivery_at(self) -> datetime | None:
        if self.parcel is None or self.parcel.status in FINAL:
            return None
        return self.parcel.expected_delivery_at


def tracking_for_order(db: Session, order_id: int) -> Tracking | None:
    """The order's tracking (None before it ships). Check the caller may see the order first."""
    facts = commerce_shipments.of_order(db, order_id)
    if facts is None:
        return None
    parcel = _parcel_of_order(db, order_id)
    events = (
        list(
            db.scalars(
                select(TrackingEvent)
                .where(TrackingEvent.parcel_id == parcel.id)
                .order_by(TrackingEvent.at.desc(), TrackingEvent.id.desc())
            )
        )
        if parcel is not None
        else []
    )
    return Tracking(
        order_id=order_id,
        carrier=carriers.get(facts.carrier_name),
        carrier_name=facts.carrier_name,
        tracking_number=facts.tracking_number,
        parcel=parcel,
        events=events,
    )


def buyer_tracking(db: Session, user_id: int, order_id: int) -> Tracking | None:
    commerce_service.get_order_for_buyer(db, user_id, order_id)
    return tracking_for_order(db, order_id)


def shop_tracking(db: Session, shop_id: int, order_id: int) -> Tracking | None:
    commerce_service.get_order_for_shop(db, shop_id, order_id)
    return tracking_for_order(db, order_id)
