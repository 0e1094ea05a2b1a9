"""Settlements (issue #15, item 6): the money identities, the job's schedule and idempotence, the
statement and its CSV, creators' pending/settled/reversed commission."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from tests.commerce_helpers import completed_order, delivered_order
from tests.factories import add_staff, auth, make_shop
from zhongcao import clock
from zhongcao.affiliate.models import CommissionEntry
from zhongcao.commerce import service as order_service
from zhongcao.config import Settings
from zhongcao.finance import service as finance_service
from zhongcao.finance.models import Settlement, SettlementStatus
from zhongcao.shops.models import StaffRole


def _settlements(db) -> dict[int, Settlement]:
    db.expire_all()
    return {s.order_id: s for s in db.scalars(select(Settlement))}


def _ledger_sum(db, order_id: int) -> int:
    return sum(db.scalars(select(CommissionEntry.amount_fen).where(CommissionEntry.order_id == order_id)))


def _world(db):
    """One shop, three completed orders: plain, through a creator, through a creator then refunded."""
    shop = make_shop(db, shipping_fee_fen=800)
    plain = completed_order(db, shop=shop, price_fen=12_345)
    sold = completed_order(db, shop=shop, creator=True, commission_bps=1500, quantity=2)
    refunded = completed_order(db, shop=shop, creator=True, commission_bps=2000, price_fen=9_999)
    order_service.refund_order_item(db, refunded.item, amount_fen=3_333, reason="goodwill")
    db.commit()
    return shop, plain, sold, refunded


def test_settlement_job_records_settles_after_n_days_and_is_idempotent(db):
    shop, plain, sold, refunded = _world(db)
    pending_order = delivered_order(db, shop=shop)  # not completed: no settlement
    now = clock.now()
    counts = finance_service.run_settlements(db, now)
    assert counts["settlements_recorded"] == 3 and counts["settlements_settled"] == 0
    rows = _settlements(db)
    assert set(rows) == {plain.order.id, sold.order.id, refunded.order.id}
    assert pending_order.order.id not in rows
    for bundle in (plain, sold, refunded):
        order, row = bundle.refresh(db).order, rows[bundle.order.id]
        assert row.status is SettlementStatus.pending and row.settled_at is None
        assert row.shop_id == shop.shop.id
        # docs/money.md: paid + subsidy - fee - commission - refunds, commission net of refunds
        assert row.paid_fen == order.paid_fen and row.refunded_fen == order.refunded_fen
        assert row.subsidy_fen == order.platform_discount_fen + order.campaign_subsidy_fen
        assert row.platform_fee_fen == order.platform_fee_fen
        assert row.commission_fen == _ledger_sum(db, order.id)  # what creators are owed
        assert row.settlement_fen == (
            row.paid_fen + row.subsidy_fen - row.platform_fee_fen - row.commission_fen - row.refunded_fen
        )
        if not order.refunded_fen:
            assert row.settlement_fen == order.shop_settlement_fen
    assert rows[refunded.order.id].commission_fen < refunded.order.commission_fen

    # A refund while pending lowers the settlement at the next run.
    order_service.refund_order_item(db, plain.item, amount_fen=45, reason="goodwill")
    db.commit()
    finance_service.run_settlements(db, now + timedelta(days=6, hours=23))
    row = _settlements(db)[plain.order.id]
    assert row.status is SettlementStatus.pending and row.refunded_fen == 45
    assert row.settlement_fen == plain.order.shop_settlement_fen - 45

    # Seven days (the default) after completion: settled, once.
    later = now + timedelta(days=7, minutes=1)
    assert finance_service.run_settlements(db, later)["settlements_settled"] == 3
    settled = _settlements(db)
    assert {s.status for s in settled.values()} == {SettlementStatus.settled}
    snapshot = {k: (s.settled_at, s.settlement_fen) for k, s in settled.items()}
    again = finance_service.run_settlements(db, later + timedelta(days=1))
    assert again == {"settlements_recorded": 0, "settlements_refreshed": 0, "settlements_settled": 0}
    assert {k: (s.settled_at, s.settlement_fen) for k, s in _settlements(db).items()} == snapshot


def test_settlement_days_is_a_bounded_setting(db, monkeypatch):
    monkeypatch.setenv("ZHONGCAO_SETTLEMENT_DAYS", "2")
    assert Settings().settlement_days == 2
    for bad in ("-1", "366", "x"):
        monkeypatch.setenv("ZHONGCAO_SETTLEMENT_DAYS", bad)
        with pytest.raises(ValidationError):
            Settings()
    completed = completed_order(db)
    db.commit()
    counts = finance_service.run_settlements(
        db, clock.now() + timedelta(days=2), settings=Settings(settlement_days=2)
    )
    assert counts["settlements_settled"] == 1
    assert _settlements(db)[completed.order.id].status is SettlementStatus.settled


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_statement_totals_are_the_sum_of_settlements_and_the_csv_matches(client, db):
    shop, plain, sold, refunded = _world(db)
    now = clock.now()
    finance_service.run_settlements(db, now)
    # The creator order settles; the others stay pending.
    db.execute(
        Settlement.__table__.update()
        .where(Settlement.order_id == sold.order.id)
        .values(completed_at=now - timedelta(days=8))
    )
    db.commit()
    finance_service.run_settlements(db, now)
    headers = auth(db, shop.owner)
    today = now.astimezone(clock.BUSINESS_TZ).date()  # statements count business days (UTC+8)
    period = {"from": (today - timedelta(days=10)).isoformat(), "to": today.isoformat()}

    statement = client.get("/api/merchant/finance/statement", params=period, headers=headers)
    assert statement.status_code == 200, statement.text
    body = statement.json()
    rows = _settlements(db)
    amounts = finance_service.AMOUNTS
    for name in amounts:
        assert body["total"][name] == sum(getattr(r, name) for r in rows.values())
        assert body["total"][name] == body["pending"][name] + body["settled"][name]
        assert body["settled"][name] == getattr(rows[sold.order.id], name)
    assert (body["total"]["orders"], body["pending"]["orders"], body["settled"]["orders"]) == (3, 2, 1)
    assert body["settlement_days"] == 7

    listed = client.get(
        "/api/merchant/finance/settlements",
        params={**period, "status": "pending", "limit": 1},
        headers=headers,
    )
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    second = client.get(
        "/api/merchant/finance/settlements",
        params={**period, "status": "pending", "cursor": page["next_cursor"]},
        headers=headers,
    ).json()
    assert {i["order_id"] for i in page["items"] + second["items"]} == {plain.order.id, refunded.order.id}

    exported = client.get("/api/merchant/finance/statement.csv", params=period, headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="statement-{shop.shop.id}-{period["from"]}-{period["to"]}.csv"'
    )
    lines = _csv_rows(exported.text)
    total, orders = lines[-1], lines[:-1]
    assert total["order_id"] == "total"
    assert {int(r["order_id"]) for r in orders} == set(rows)
    for name in amounts:
        assert int(total[name]) == body["total"][name] == sum(int(r[name]) for r in orders)
    assert {int(r["order_id"]): r["status"] for r in orders}[sold.order.id] == "settled"

    # Another shop sees nothing of it; a service agent may not read the shop's money.
    other = make_shop(db)
    empty = client.get("/api/merchant/finance/statement", params=period, headers=auth(db, other.owner)).json()
    assert empty["total"]["orders"] == 0 and empty["total"]["settlement_fen"] == 0
    agent = add_staff(db, shop.shop, StaffRole.service_agent)
    assert client.get("/api/merchant/finance/statement", headers=auth(db, agent)).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
    ],
)
def test_a_bad_period_is_a_422(client, db, params):
    shop = make_shop(db)
    headers = auth(db, shop.owner)
    for path in ("statement", "statement.csv", "settlements"):
        response = client.get(f"/api/merchant/finance/{path}", params=params, headers=headers)
        assert response.status_code == 422, (path, response.text)


def test_creators_see_commission_pending_settled_and_reversed(client, db):
    shop = make_shop(db)
    first = completed_order(db, shop=shop, creator=True, commission_bps=1000, price_fen=10_000)
    creator = first.creator
    second = completed_order(db, shop=shop, creator=creator, commission_bps=1000, price_fen=10_000)
    order_service.refund_order_item(db, second.item, amount_fen=5_000, reason="goodwill")
    db.commit()
    finance_service.run_settlements(db)
    db.execute(
        Settlement.__table__.update()
        .where(Settlement.order_id == first.order.id)
        .values(completed_at=clock.now() - timedelta(days=30))
    )
    db.commit()
    finance_service.run_settlements(db)
    user = db.get(type(shop.owner), creator.user_id)
    body = client.get("/api/creator/commissions", headers=auth(db, user)).json()
    assert body["settled_fen"] == _ledger_sum(db, first.order.id) == 1_000
    assert body["pending_fen"] == _ledger_sum(db, second.order.id) == 500
    assert body["reversed_fen"] == 500
    assert body["pending_fen"] + body["settled_fen"] == body["balance_fen"]


def test_statement_periods_are_business_days_in_china_time() -> None:
    """A statement's day is UTC+8's day, the day the pages show: 17:00 UTC on 1 December is already
    2 December in Beijing, so it falls in a statement for 2 December, not 1 December."""
    from datetime import UTC, date, datetime

    from zhongcao import clock

    since, until = clock.business_days(date(2026, 12, 2), date(2026, 12, 2))
    assert since == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert until == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    late_evening_utc = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert since <= late_evening_utc < until
    with clock.frozen(late_evening_utc):
        assert clock.business_today() == date(2026, 12, 2)
        assert finance_service.period_bounds(None, None) == (date(2026, 12, 1), date(2026, 12, 2))
