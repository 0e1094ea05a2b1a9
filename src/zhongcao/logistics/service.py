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

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
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
from zhongcao.errors import DomainError, NotFound
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
) -> Parcel:
    """The parcel for a shipment on a registered carrier, with the simulated carrier's plan when it
    drives that carrier (``simulated`` overrides the settings: the demo world always simulates)."""
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
        simulated=simulated,
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
        start_tracking(db, facts, settings, planned_pickup_at=planned_pickup_at, simulated=simulated)
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


def _move_order(db: Session, parcel: Parcel, kind: Kind, at: datetime, result: Recorded) -> None:
    """The order follows the parcel: pickup at the first movement, delivery at ``delivered``."""
    if kind not in MOVEMENT or (kind is not Kind.delivered and parcel.status is not S.awaiting_pickup):
        return
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


def _record(
    db: Session,
    parcel: Parcel,
    *,
    kind: Kind,
    at: datetime,
    location_zh: str,
    location_en: str | None,
    description: str,
    source: TrackingSource,
    external_id: str,
    result: Recorded,
) -> TrackingEvent | None:
    """Write one event for a locked parcel and apply it; None (and no effect) when the carrier's
    event id was recorded before."""
    seen = db.scalar(
        select(TrackingEvent.id).where(
            TrackingEvent.carrier_code == parcel.carrier_code, TrackingEvent.external_id == external_id
        )
    )
    if seen is not None:
        result.duplicates += 1
        return None
    event = TrackingEvent(
        parcel_id=parcel.id,
        order_id=parcel.order_id,
        carrier_code=parcel.carrier_code,
        kind=kind,
        location_zh=location_zh,
        location_en=location_en,
        description=description,
        at=at,
        source=source,
        external_id=external_id,
        created_at=clock.now(),
    )
    db.add(event)
    db.flush()
    result.events += 1
    _move_order(db, parcel, kind, at, result)
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
    return event


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
) -> TrackingEvent | None:
    """A real carrier's event (the webhook) for a locked parcel; None when its id was seen before."""
    return _record(
        db,
        parcel,
        kind=kind,
        at=at,
        location_zh=location,
        location_en=location_en,
        description=description,
        source=TrackingSource.webhook,
        external_id=event_id,
        result=result,
    )


def _advance(db: Session, parcel: Parcel, now: datetime, result: Recorded) -> None:
    plan = [PlannedEvent.from_json(raw) for raw in parcel.plan or []]
    step = parcel.next_step
    while step < len(plan) and plan[step].at <= now:
        event = plan[step]
        _record(
            db,
            parcel,
            kind=event.kind,
            at=event.at,
            location_zh=event.location_zh,
            location_en=event.location_en,
            description="",
            source=TrackingSource.simulated,
            external_id=f"sim:{parcel.id}:{step}",
            result=result,
        )
        step += 1
    parcel.next_step = step
    parcel.next_due_at = plan[step].at if step < len(plan) else None
    db.flush()


def _parcel_of_order(db: Session, order_id: int) -> Parcel | None:
    return db.scalar(select(Parcel).where(Parcel.order_id == order_id))


def advance_order(
    db: Session, order_id: int, now: datetime | None = None, *, commit: bool = True
) -> Recorded:
    """Write the simulated events of the order's parcel whose time has come (the demo world calls
    this at its own pickup and delivery times; the job does the same for every parcel)."""
    now = now or clock.now()
    result = Recorded()
    parcel = _parcel_of_order(db, order_id)
    if parcel is None:
        return result
    _advance(db, _lock(db, parcel.id), now, result)
    if commit:
        db.commit()
    return result


def replan(db: Session, order_id: int, *, delivered_at: datetime, commit: bool = True) -> None:
    """Fix when the order's parcel arrives (the demo world decides its transit times): the events not
    yet written are placed again between the last written one and ``delivered_at``."""
    parcel = _parcel_of_order(db, order_id)
    facts = commerce_shipments.of_order(db, order_id)
    if parcel is None or facts is None:
        return
    parcel = _lock(db, parcel.id)
    written = list(parcel.plan or [])[: parcel.next_step]
    start = datetime.fromisoformat(written[-1]["at"]) if written else facts.shipped_at
    route = routes.route_for(
        facts.shop_id, facts.shipping_address, platform_warehouse=facts.platform_warehouse
    )
    rest = SIMULATED.between(route, start, delivered_at, _destination_label(facts.shipping_address))
    parcel.plan = [*written, *(e.to_json() for e in rest)]
    parcel.next_due_at = rest[0].at
    parcel.expected_delivery_at = delivered_at
    db.flush()
    if commit:
        db.commit()


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
