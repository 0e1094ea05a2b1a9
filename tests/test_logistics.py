"""The simulated carrier (issue #17, item 1) on SQLite and PostgreSQL: its plans are realistic and the
same for the same parcel; the ``carrier_updates`` job picks up any shipment on a simulated carrier,
writes the scans whose time has come, delivers the order, and does nothing twice; a delayed parcel
says so; a lost one opens the buyer's refund."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.commerce_helpers import ADDRESS, paid_order
from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleReason, AfterSaleStatus
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Order, OrderStatus
from zhongcao.config import Settings
from zhongcao.errors import InvalidInput
from zhongcao.jobs import run_due_jobs
from zhongcao.logistics import carriers, routes
from zhongcao.logistics import service as logistics_service
from zhongcao.logistics.carriers import Kind
from zhongcao.logistics.models import Parcel, ParcelStatus, TrackingEvent

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SF = carriers.BY_CODE["sf"]


def _settings(**changes: object) -> Settings:
    return Settings(**changes)  # type: ignore[arg-type]


def _number(shop_id: int, want: Kind, prefix: str = "SF") -> str:
    """A tracking number whose plan (from this shop to the test address) has ``want`` in it."""
    route = routes.route_for(shop_id, ADDRESS)
    for i in range(20_000):
        number = f"{prefix}{i:010d}"
        if want in {e.kind for e in carriers.SIMULATED.plan(SF, number, route, T0)}:
            return number
    raise AssertionError(f"no {want} parcel in 20,000 numbers")


# --- plans ---------------------------------------------------------------------------------------------


def test_a_plan_is_the_same_for_the_same_parcel_and_follows_the_route():
    near = routes.route_for(1, {"province": "上海市", "city": "上海市", "district": "浦东新区"})
    far = routes.route_for(1, {"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"})
    plan = carriers.SIMULATED.plan(SF, "SF0000000001", far, T0)
    assert plan == carriers.SIMULATED.plan(SF, "SF0000000001", far, T0)
    assert plan != carriers.SIMULATED.plan(SF, "SF0000000002", far, T0)
    kinds = [e.kind for e in plan]
    assert kinds[0] is Kind.picked_up and kinds[-1] in (Kind.delivered, Kind.lost)
    assert [e.at for e in plan] == sorted(e.at for e in plan) and plan[0].at > T0
    assert far.via is not None and "转运中心" in plan[2].location_zh  # a transfer hub on a long trip
    assert "天山区" in plan[-1].location_zh and "Tianshan" in plan[-1].location_en
    # The same carrier is slower across the country than within a city, on average.
    numbers = [f"SF{i:010d}" for i in range(200)]

    def hours(route: routes.Route) -> float:
        total = [
            (carriers.expected_delivery(p) - T0).total_seconds() / 3600
            for p in (carriers.SIMULATED.plan(SF, n, route, T0) for n in numbers)
            if carriers.expected_delivery(p) is not None
        ]
        return sum(total) / len(total)

    assert hours(far) > hours(near) + 24
    # A faster network carrier, and the time scale shrinking every duration.
    zto = carriers.BY_CODE["zto"]
    assert sum(
        (carriers.expected_delivery(carriers.SIMULATED.plan(zto, n, far, T0)) or T0) > T0 for n in numbers
    )
    scaled = carriers.SIMULATED.plan(SF, "SF0000000001", far, T0, scale=0.01)
    assert (scaled[-1].at - T0) * 100 == pytest.approx(plan[-1].at - T0, abs=timedelta(seconds=1))


def test_a_small_share_is_delayed_and_fewer_are_lost():
    route = routes.route_for(7, ADDRESS)
    plans = [carriers.SIMULATED.plan(carriers.BY_CODE["zto"], f"ZT{i}", route, T0) for i in range(5000)]
    delayed = sum(any(e.kind is Kind.delayed for e in p) for p in plans) / len(plans)
    lost = sum(p[-1].kind is Kind.lost for p in plans) / len(plans)
    assert 0.02 < delayed < 0.07 and 0.001 < lost < 0.012


def test_carriers_resolve_by_code_or_name():
    assert carriers.resolve("顺丰").code == "sf" and carriers.resolve("SF Express").code == "sf"
    assert carriers.resolve(" ZTO ").code == "zto" and carriers.resolve("中通快递").code == "zto"
    assert carriers.label("sf", "en") == "SF Express" and carriers.label("sf", "zh") == "顺丰速运"
    assert carriers.label("某某快递", "en") == "某某快递"  # a free-text name from before the registry
    with pytest.raises(InvalidInput) as refused:
        carriers.resolve("DHL")
    assert refused.value.code == "unknown_carrier" and refused.value.details["field"] == "carrier_name"


# --- the job -------------------------------------------------------------------------------------------


def _ship(db, bundle, number: str, carrier: str = "sf", **kwargs) -> Parcel:
    logistics_service.ship_order(
        db, bundle.shop.shop.id, bundle.order.id, carrier=carrier, tracking_number=number, **kwargs
    )
    parcel = db.query(Parcel).filter_by(order_id=bundle.order.id).one()
    return parcel


def test_the_job_delivers_a_shipped_order_once(db):
    bundle = paid_order(db)
    settings = _settings(carrier_time_scale=0.001)
    parcel = _ship(db, bundle, "SF0000000001", settings=settings)
    assert parcel.simulated and parcel.status is ParcelStatus.awaiting_pickup and parcel.carrier_code == "sf"
    assert db.get(Order, bundle.order.id).status is OrderStatus.shipped
    plan = [carriers.PlannedEvent.from_json(raw) for raw in parcel.plan]
    assert plan[-1].kind is Kind.delivered
    db.commit()

    # Half-way: the scans up to now, the order picked up, not delivered.
    middle = plan[2].at + timedelta(microseconds=1)
    counts = logistics_service.run_carrier_updates(db, settings, middle)
    assert counts["carrier_events"] == 3 and counts["carrier_deliveries"] == 0
    db.expire_all()
    shipment = commerce_service.get_shipment(db, bundle.order.id)
    assert shipment is not None and shipment.picked_up_at == plan[0].at
    tracking = logistics_service.tracking_for_order(db, bundle.order.id)
    assert tracking is not None and tracking.status == "in_transit"
    assert [e.kind for e in tracking.events] == [plan[2].kind, Kind.in_transit, Kind.picked_up]
    assert tracking.expected_delivery_at == plan[-1].at
    db.commit()

    after = plan[-1].at + timedelta(minutes=1)
    counts = logistics_service.run_carrier_updates(db, settings, after)
    assert counts["carrier_events"] == len(plan) - 3 and counts["carrier_deliveries"] == 1
    db.expire_all()
    order = db.get(Order, bundle.order.id)
    assert order.status is OrderStatus.delivered and order.delivered_at == plan[-1].at
    db.commit()
    # Again: nothing to do, nothing done twice.
    again = logistics_service.run_carrier_updates(db, settings, after + timedelta(days=1))
    assert again["carrier_events"] == 0 and again["carrier_parcels_tracked"] == 0
    assert db.query(TrackingEvent).filter_by(order_id=bundle.order.id).count() == len(plan)
    # The buyer can now confirm receipt.
    commerce_service.confirm_receipt(db, bundle.buyer.id, bundle.order.id)


def test_the_job_picks_up_a_shipment_whoever_shipped_it(db):
    warehouse = paid_order(db)
    old_style = paid_order(db)
    # The platform warehouse ships through commerce directly, with a carrier code.
    commerce_service.ship_order(
        db,
        warehouse.shop.shop.id,
        warehouse.order.id,
        carrier_name="jd",
        tracking_number="JD000001",
        platform_warehouse=True,
    )
    # A free-text carrier (from before the registry) is not the simulated carrier's.
    commerce_service.ship_order(
        db, old_style.shop.shop.id, old_style.order.id, carrier_name="顺丰", tracking_number="SF9"
    )
    db.commit()
    settings = _settings(carrier_time_scale=0.0001)
    with clock.travel(clock.now() + timedelta(hours=2)):
        counts = logistics_service.run_carrier_updates(db, settings)
    assert counts["carrier_parcels_tracked"] == 1 and counts["carrier_deliveries"] == 1
    db.expire_all()
    parcel = db.query(Parcel).filter_by(order_id=warehouse.order.id).one()
    # From the platform warehouse nearest the buyer (Hangzhou: Shanghai's).
    assert parcel.origin_province == "310000" and parcel.destination_province == "330000"
    assert db.get(Order, warehouse.order.id).status is OrderStatus.delivered
    assert db.get(Order, old_style.order.id).status is OrderStatus.shipped
    assert db.query(Parcel).filter_by(order_id=old_style.order.id).count() == 0


def test_a_carrier_with_a_webhook_secret_is_left_to_its_webhook(db):
    bundle = paid_order(db)
    settings = _settings(carrier_webhook_secrets={"sf": "s" * 32}, carrier_time_scale=0.0001)
    parcel = _ship(db, bundle, "SF0000000001", settings=settings)
    assert not parcel.simulated and parcel.plan == [] and parcel.next_due_at is None
    db.commit()
    with clock.travel(clock.now() + timedelta(days=30)):
        counts = logistics_service.run_carrier_updates(db, settings)
    assert counts["carrier_events"] == 0
    assert logistics_service.simulated_codes(_settings(carrier_simulation=False)) == []


def test_a_delayed_parcel_says_so_until_it_arrives(db):
    bundle = paid_order(db)
    settings = _settings(carrier_time_scale=1.0)
    number = _number(bundle.shop.shop.id, Kind.delayed)
    parcel = _ship(db, bundle, number, settings=settings)
    plan = [carriers.PlannedEvent.from_json(raw) for raw in parcel.plan]
    delay = next(e for e in plan if e.kind is Kind.delayed)
    db.commit()
    logistics_service.run_carrier_updates(db, settings, delay.at)
    db.expire_all()
    tracking = logistics_service.tracking_for_order(db, bundle.order.id)
    assert tracking is not None and tracking.delayed and tracking.events[0].kind is Kind.delayed
    db.commit()
    logistics_service.run_carrier_updates(db, settings, plan[-1].at)
    db.expire_all()
    tracking = logistics_service.tracking_for_order(db, bundle.order.id)
    assert tracking is not None and tracking.status == "delivered" and not tracking.delayed


def test_a_lost_parcel_opens_the_buyers_refund(db):
    bundle = paid_order(db)
    settings = _settings()
    number = _number(bundle.shop.shop.id, Kind.lost)
    parcel = _ship(db, bundle, number, settings=settings)
    plan = [carriers.PlannedEvent.from_json(raw) for raw in parcel.plan]
    assert plan[-1].kind is Kind.lost and Kind.delivered not in {e.kind for e in plan}
    db.commit()
    counts = logistics_service.run_carrier_updates(db, settings, plan[-1].at)
    assert counts["carrier_lost"] == 1 and counts["carrier_claims"] == 1
    db.expire_all()
    assert db.get(Order, bundle.order.id).status is OrderStatus.shipped
    (case,) = aftersales_service.cases_for_order(db, bundle.order.id)
    assert case.reason is AfterSaleReason.logistics and case.status is AfterSaleStatus.requested
    assert case.amount_fen == bundle.item.paid_fen and case.user_id == bundle.buyer.id
    db.commit()
    again = logistics_service.run_carrier_updates(db, settings, plan[-1].at + timedelta(days=1))
    assert again["carrier_claims"] == 0 and len(aftersales_service.cases_for_order(db, bundle.order.id)) == 1
    # The shop approves (or the deadline does): the buyer is refunded.
    aftersales_service.approve(db, bundle.shop.shop.id, case.id)
    db.expire_all()
    assert db.get(Order, bundle.order.id).refunded_fen == bundle.item.paid_fen


def test_the_demo_world_fixes_its_own_transit_times(db):
    bundle = paid_order(db)
    in_flight = paid_order(db)
    shipped = clock.now()
    pickup = shipped + timedelta(hours=3)
    arrival = pickup + timedelta(days=2, hours=5)
    for each in (bundle, in_flight):
        _ship(db, each, f"SIM{each.order.id:010d}", planned_pickup_at=pickup, simulated=True, held=True)
    db.commit()
    # The world writes its parcels' scans itself: the job leaves them alone...
    later = arrival + timedelta(days=3)
    assert logistics_service.run_carrier_updates(db, _settings(), later)["carrier_events"] == 0
    with clock.frozen(pickup):
        assert logistics_service.pick_up(db, bundle.order.id, pickup, delivered_at=arrival).events == 1
    with clock.frozen(arrival):
        result = logistics_service.advance_order(db, bundle.order.id, arrival)
    assert result.deliveries == 1 and result.events >= 4
    db.expire_all()
    order = db.get(Order, bundle.order.id)
    assert order.status is OrderStatus.delivered and order.delivered_at == arrival
    # ... until the simulation ends: a parcel still on its way goes to the job.
    assert logistics_service.release_parcels(db, [bundle.order.id, in_flight.order.id]) == 1
    with clock.frozen(later):
        counts = logistics_service.run_carrier_updates(db, _settings(), later)
    assert counts["carrier_deliveries"] == 1
    db.expire_all()
    assert db.get(Order, in_flight.order.id).status is OrderStatus.delivered


def test_the_job_runs_with_the_business_rules(database, db):
    bundle = paid_order(db)
    _ship(db, bundle, "SF0000000001", settings=_settings())
    db.commit()
    parcel = db.query(Parcel).filter_by(order_id=bundle.order.id).one()
    end = datetime.fromisoformat(parcel.plan[-1]["at"])
    db.commit()
    with clock.frozen(end):
        counts = run_due_jobs(database, now=end)
    assert counts["carrier_events"] == len(parcel.plan)
    db.expire_all()
    assert db.get(Order, bundle.order.id).status is OrderStatus.delivered
