"""The carriers the platform knows, and the simulated carrier that moves their parcels.

The registry
    Each carrier has a code (``sf``, ``zto`` …: what ``Shipment.carrier_name`` holds for new
    shipments), its names in Chinese and English, the names people type for it (顺丰, SF …), and a
    speed profile. :func:`resolve` turns any of those into the carrier.

The carrier interface
    A carrier integration answers one question, :meth:`CarrierIntegration.plan`: given a parcel,
    what will happen to it and when. The simulated carrier answers it from the carrier's speed
    profile and the route (:mod:`zhongcao.logistics.routes`); a real carrier does not plan, it
    reports: its events arrive on the signed webhook (:mod:`zhongcao.logistics.webhook`).

The simulated carrier
    Pickup within hours, a scan leaving the origin's sorting centre, a transfer hub on long trips,
    arrival in the destination city, out for delivery in the morning if it arrived too late in the
    day, delivered a few hours later. A small share of parcels are delayed (one to two and a half
    days) and a smaller share lost (the carrier declares it lost after three days without a scan).
    Everything is drawn from a generator seeded by the carrier code and tracking number, so the
    same parcel always gets the same plan (tests predict it). ``scale`` shrinks every duration
    (``ZHONGCAO_CARRIER_TIME_SCALE``).
"""

from __future__ import annotations

import enum
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from zhongcao.errors import InvalidInput
from zhongcao.logistics.routes import Place, Route, km_between

CHINA = timezone(timedelta(hours=8))
# A lost parcel: the carrier declares it lost after this long without a scan.
LOST_AFTER_HOURS = 72.0


class Kind(enum.StrEnum):
    """What a tracking event says happened."""

    picked_up = "picked_up"
    in_transit = "in_transit"
    arrived_city = "arrived_city"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    delayed = "delayed"
    lost = "lost"
    returned = "returned"  # sent back to the shop


@dataclass(frozen=True)
class SpeedProfile:
    pickup_hours: tuple[float, float]  # from the merchant's hand-over to the first scan
    sort_hours: tuple[float, float]  # at each sorting centre or hub
    km_per_hour: float  # line haul, door to door of the hubs
    delay_rate: float  # share of parcels held up on the way
    loss_rate: float  # share of parcels lost


@dataclass(frozen=True)
class CarrierInfo:
    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    profile: SpeedProfile


_EXPRESS = SpeedProfile((1.0, 4.0), (1.0, 3.0), 55.0, 0.02, 0.002)
_NETWORK = SpeedProfile((2.0, 8.0), (2.0, 5.0), 38.0, 0.04, 0.005)

CARRIERS: tuple[CarrierInfo, ...] = (
    CarrierInfo("sf", "顺丰速运", "SF Express", ("顺丰", "sf express", "shunfeng"), _EXPRESS),
    CarrierInfo(
        "jd",
        "京东物流",
        "JD Logistics",
        ("京东", "京东快递", "jd express", "jingdong"),
        SpeedProfile((1.0, 3.0), (1.0, 3.0), 50.0, 0.02, 0.001),
    ),
    CarrierInfo("zto", "中通快递", "ZTO Express", ("中通", "zto express"), _NETWORK),
    CarrierInfo("yto", "圆通速递", "YTO Express", ("圆通", "圆通快递", "yto express"), _NETWORK),
    CarrierInfo("yunda", "韵达快递", "Yunda Express", ("韵达", "yd"), _NETWORK),
    CarrierInfo("sto", "申通快递", "STO Express", ("申通", "sto express"), _NETWORK),
    CarrierInfo("jt", "极兔速递", "J&T Express", ("极兔", "j&t", "jtexpress"), _NETWORK),
    CarrierInfo(
        "ems",
        "中国邮政 EMS",
        "China Post EMS",
        ("ems", "邮政", "中国邮政", "邮政ems", "china post"),
        SpeedProfile((2.0, 10.0), (2.0, 6.0), 30.0, 0.05, 0.003),
    ),
    CarrierInfo(
        "deppon",
        "德邦快递",
        "Deppon Express",
        ("德邦", "德邦物流", "deppon"),
        SpeedProfile((2.0, 8.0), (2.0, 6.0), 34.0, 0.03, 0.002),
    ),
)
BY_CODE = {c.code: c for c in CARRIERS}


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


_BY_NAME = {_key(name): c for c in CARRIERS for name in (c.code, c.name_zh, c.name_en, *c.aliases)}


def get(code: str | None) -> CarrierInfo | None:
    return BY_CODE.get(code or "")


def resolve(name: str, *, field: str = "carrier_name") -> CarrierInfo:
    """The carrier a code or a name (顺丰, SF Express, sf …) names; 422 ``unknown_carrier`` else."""
    carrier = _BY_NAME.get(_key(name))
    if carrier is None:
        raise InvalidInput(
            "unknown carrier; use one of the codes of GET /api/logistics/carriers",
            code="unknown_carrier",
            field=field,
            details={"carriers": [c.code for c in CARRIERS]},
        )
    return carrier


def label(name: str, locale: str) -> str:
    """What a page shows for a shipment's carrier: its name in ``locale``, or the text as stored
    (a free-text name from before the registry)."""
    carrier = _BY_NAME.get(_key(name))
    if carrier is None:
        return name
    return carrier.name_en if locale.startswith("en") else carrier.name_zh


# --- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEvent:
    kind: Kind
    at: datetime
    location_zh: str
    location_en: str

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "zh": self.location_zh,
            "en": self.location_en,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PlannedEvent:
        return cls(Kind(raw["kind"]), datetime.fromisoformat(raw["at"]), raw["zh"], raw["en"])


class CarrierIntegration(Protocol):
    """What the platform asks of a carrier that it drives itself."""

    def plan(
        self,
        carrier: CarrierInfo,
        tracking_number: str,
        route: Route,
        shipped_at: datetime,
        *,
        scale: float = 1.0,
        picked_up_at: datetime | None = None,
        destination_label: tuple[str, str] = ("", ""),
    ) -> list[PlannedEvent]: ...


def _rng(carrier: CarrierInfo, tracking_number: str) -> random.Random:
    seed = int.from_bytes(hashlib.sha256(f"{carrier.code}:{tracking_number}".encode()).digest()[:8], "big")
    return random.Random(seed)


def _stop(kind: Kind, hours: float, place: tuple[str, str]) -> tuple[Kind, float, str, str]:
    return (kind, hours, place[0], place[1])


def _hub(place: Place, what_zh: str, what_en: str) -> tuple[str, str]:
    return (f"{place.city.name_zh}{what_zh}", f"{place.city.name_en} {what_en}")


def _local_hour(shipped_at: datetime, hours: float) -> float:
    local = (shipped_at + timedelta(hours=hours)).astimezone(CHINA)
    return local.hour + local.minute / 60


class SimulatedCarrier:
    """Plans a parcel's journey from the carrier's speed profile and the route (see the module)."""

    def plan(
        self,
        carrier: CarrierInfo,
        tracking_number: str,
        route: Route,
        shipped_at: datetime,
        *,
        scale: float = 1.0,
        picked_up_at: datetime | None = None,
        destination_label: tuple[str, str] = ("", ""),
    ) -> list[PlannedEvent]:
        """Every event of the parcel's journey, in order. ``picked_up_at`` fixes the first scan (the
        rest follows from it); ``destination_label`` names a destination the route does not know."""
        rng = _rng(carrier, tracking_number)
        p = carrier.profile
        origin = route.origin
        dest_place: tuple[str, str] = (
            (route.destination.name_zh(), route.destination.name_en())
            if route.destination is not None
            else destination_label
        )
        haul = rng.lognormvariate(0.0, 0.15)  # this trip's traffic, weather, luck
        h = rng.uniform(*p.pickup_hours)
        stops = [_stop(Kind.picked_up, h, _hub(origin, "揽收网点", "pickup point"))]
        h += rng.uniform(*p.sort_hours)
        stops.append(_stop(Kind.in_transit, h, _hub(origin, "转运中心", "sorting centre")))
        dest_code = route.destination.province.code if route.destination is not None else None
        if route.same_city:
            h += rng.uniform(2.0, 5.0)
        elif route.via is not None and dest_code is not None:
            h += max(2.0, km_between(origin.province.code, route.via.province.code) / p.km_per_hour) * haul
            stops.append(_stop(Kind.in_transit, h, _hub(route.via, "转运中心", "transfer hub")))
            h += rng.uniform(*p.sort_hours)
            h += max(2.0, km_between(route.via.province.code, dest_code) / p.km_per_hour) * haul
        else:
            h += max(3.0, route.distance_km / p.km_per_hour) * haul
        arrival_place = (
            _hub(route.destination, "分拨中心", "depot") if route.destination is not None else dest_place
        )
        stops.append(_stop(Kind.arrived_city, h, arrival_place))
        if route.remote:  # a long way from the city's depot to the door
            h += rng.uniform(12.0, 36.0)
        hour = _local_hour(shipped_at, h)
        if 7.0 <= hour < 16.0:
            h += rng.uniform(1.0, 3.0)
        else:  # too late for today's round: out in the morning
            h += (24.0 - hour + 8.0) % 24.0 + rng.uniform(0.0, 2.0)
        stops.append(_stop(Kind.out_for_delivery, h, dest_place))
        h += rng.uniform(1.0, 5.0)
        stops.append(_stop(Kind.delivered, h, dest_place))

        roll = rng.random()
        last_transit = max(i for i, s in enumerate(stops) if s[0] is Kind.in_transit)
        if roll < p.loss_rate:
            kept = stops[: last_transit + 1]
            silent = kept[-1][1] + LOST_AFTER_HOURS + rng.uniform(0.0, 24.0)
            stops = [*kept, (Kind.lost, silent, kept[-1][2], kept[-1][3])]
        elif roll < p.loss_rate + p.delay_rate:
            at = rng.randint(1, last_transit)
            held = rng.uniform(24.0, 60.0)
            kind, when, zh, en = stops[at]
            delayed = (Kind.delayed, when + rng.uniform(2.0, 8.0), zh, en)
            later = [(k, t + held, z, e) for k, t, z, e in stops[at + 1 :]]
            stops = [*stops[: at + 1], delayed, *later]

        first = stops[0][1]
        start = picked_up_at if picked_up_at is not None else shipped_at + timedelta(hours=first * scale)
        return [
            PlannedEvent(kind, start + timedelta(hours=(hours - first) * scale), zh, en)
            for kind, hours, zh, en in stops
        ]

    def between(
        self,
        route: Route,
        start: datetime,
        delivered_at: datetime,
        destination_label: tuple[str, str] = ("", ""),
    ) -> list[PlannedEvent]:
        """The scans after a pickup at ``start`` for a parcel known to arrive at ``delivered_at`` (the
        demo world decides its parcels' transit times itself): evenly placed along the trip."""
        span = delivered_at - start
        dest_place = (
            (route.destination.name_zh(), route.destination.name_en())
            if route.destination is not None
            else destination_label
        )
        stops: list[tuple[Kind, float, tuple[str, str]]] = [
            (Kind.in_transit, 0.1, _hub(route.origin, "转运中心", "sorting centre"))
        ]
        if route.via is not None:
            stops.append((Kind.in_transit, 0.4, _hub(route.via, "转运中心", "transfer hub")))
        arrival = (
            _hub(route.destination, "分拨中心", "depot") if route.destination is not None else dest_place
        )
        stops += [
            (Kind.arrived_city, 0.7, arrival),
            (Kind.out_for_delivery, 0.9, dest_place),
            (Kind.delivered, 1.0, dest_place),
        ]
        return [PlannedEvent(kind, start + span * share, zh, en) for kind, share, (zh, en) in stops]


SIMULATED = SimulatedCarrier()


def expected_delivery(plan: Sequence[PlannedEvent]) -> datetime | None:
    """When the plan delivers (None for a parcel that will be lost)."""
    return next((e.at for e in plan if e.kind is Kind.delivered), None)
