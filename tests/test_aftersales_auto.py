"""Time-driven after-sales rules, the transition table, and concurrent requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.aftersales_helpers import money
from tests.commerce_helpers import delivered_order
from zhongcao import flows
from zhongcao.aftersales import service
from zhongcao.aftersales.models import AfterSale, AfterSaleKind, AfterSaleReason, AfterSaleStatus
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import Refund
from zhongcao.errors import Conflict, DomainError


def _open(db, bundle, kind=AfterSaleKind.refund_only, **kwargs) -> AfterSale:
    return service.open_case(
        db,
        bundle.buyer.id,
        bundle.order.id,
        order_item_id=bundle.item.id,
        kind=kind,
        reason=AfterSaleReason.quality,
        **kwargs,
    )


def _status(db, case_id: int) -> AfterSaleStatus:
    db.expire_all()
    case = db.get(AfterSale, case_id)
    assert case is not None
    return case.status


def test_unanswered_requests_are_approved_after_48_hours(db):
    refund_only = delivered_order(db, quantity=1)
    ret = delivered_order(db, quantity=1)
    t0 = refund_only.order.delivered_at + timedelta(hours=1)
    a = _open(db, refund_only, now=t0)
    b = _open(db, ret, kind=AfterSaleKind.return_and_refund, now=t0)

    early = service.auto_process_due(db, now=t0 + timedelta(hours=47, minutes=59))
    assert (early.approved, early.closed, early.failed) == (0, 0, 0)
    assert _status(db, a.id) is AfterSaleStatus.requested

    due = t0 + timedelta(hours=48)
    result = service.auto_process_due(db, now=due)
    assert (result.approved, result.closed, result.failed) == (2, 0, 0)
    db.expire_all()
    a_row, b_row = db.get(AfterSale, a.id), db.get(AfterSale, b.id)
    assert a_row.status is AfterSaleStatus.refunded and a_row.decided_at == due and a_row.refunded_at == due
    assert b_row.status is AfterSaleStatus.awaiting_return and b_row.decided_at == due
    assert money(db, refund_only)["refunds"] == refund_only.item.paid_fen
    assert money(db, ret)["refunds"] == 0
    # Running again finds nothing more to do.
    again = service.auto_process_due(db, now=due + timedelta(hours=1))
    assert (again.approved, again.closed, again.failed) == (0, 0, 0)


def test_returns_not_shipped_within_7_days_close(db):
    bundle = delivered_order(db, quantity=1)
    shipped = delivered_order(db, quantity=1)
    t0 = bundle.order.delivered_at + timedelta(hours=1)
    waiting = _open(db, bundle, kind=AfterSaleKind.return_and_refund, now=t0)
    on_its_way = _open(db, shipped, kind=AfterSaleKind.return_and_refund, now=t0)
    for case in (waiting, on_its_way):
        service.approve(db, case.shop_id, case.id, now=t0 + timedelta(hours=2))
    service.mark_return_shipped(
        db, shipped.buyer.id, on_its_way.id, tracking_number="SF1", now=t0 + timedelta(days=1)
    )
    approved_at = t0 + timedelta(hours=2)

    assert service.auto_process_due(db, now=approved_at + timedelta(days=7, seconds=-1)).closed == 0
    result = service.auto_process_due(db, now=approved_at + timedelta(days=7))
    assert (result.approved, result.closed, result.failed) == (0, 1, 0)
    db.expire_all()
    closed = db.get(AfterSale, waiting.id)
    assert closed.status is AfterSaleStatus.closed and closed.closed_at == approved_at + timedelta(days=7)
    assert _status(db, on_its_way.id) is AfterSaleStatus.return_shipped
    assert money(db, bundle)["refunds"] == 0


def test_a_return_ordered_by_arbitration_waits_from_the_ruling(db):
    bundle = delivered_order(db, quantity=1)
    t0 = bundle.order.delivered_at + timedelta(hours=1)
    case = _open(db, bundle, kind=AfterSaleKind.return_and_refund, now=t0)
    service.reject(db, case.shop_id, case.id, note="no", now=t0 + timedelta(hours=1))
    service.escalate(db, bundle.buyer.id, case.id, now=t0 + timedelta(days=1))
    ruled_at = t0 + timedelta(days=10)
    service.arbitrate(db, case.id, merchant_at_fault=True, note="退货", now=ruled_at)
    # Far more than 7 days after the merchant's decision, but not after the ruling.
    assert service.auto_process_due(db, now=ruled_at + timedelta(days=6)).closed == 0
    assert _status(db, case.id) is AfterSaleStatus.awaiting_return
    assert service.auto_process_due(db, now=ruled_at + timedelta(days=7)).closed == 1
    assert _status(db, case.id) is AfterSaleStatus.closed


def test_a_failing_case_does_not_hold_back_the_others(db):
    broken = delivered_order(db, quantity=1)
    fine = delivered_order(db, quantity=1)
    t0 = broken.order.delivered_at + timedelta(hours=1)
    stuck = _open(db, broken, now=t0)
    ok = _open(db, fine, now=t0)
    # Money left the line some other way since the case was opened: its refund no longer fits.
    order_service.refund_order_item(db, broken.item, amount_fen=1, reason="goodwill")
    db.commit()

    result = service.auto_process_due(db, now=t0 + timedelta(days=3))
    assert (result.approved, result.closed, result.failed) == (1, 0, 1)
    assert _status(db, stuck.id) is AfterSaleStatus.requested
    assert _status(db, ok.id) is AfterSaleStatus.refunded
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Refund).where(Refund.after_sale_id == stuck.id)) == 0


def test_the_table_refuses_every_move_it_does_not_list(db):
    bundle = delivered_order(db, quantity=1)
    case = _open(db, bundle)
    service.reject(db, case.shop_id, case.id, note="no")
    for move in (
        lambda: service.approve(db, case.shop_id, case.id),
        lambda: service.reject(db, case.shop_id, case.id, note="again"),
        lambda: service.receive_return(db, case.shop_id, case.id),
        lambda: service.cancel(db, bundle.buyer.id, case.id),
        lambda: service.mark_return_shipped(db, bundle.buyer.id, case.id, tracking_number="SF1"),
        lambda: service.arbitrate(db, case.id, merchant_at_fault=False, note="early"),
    ):
        with pytest.raises(Conflict) as refused:
            move()
        # A refused move touches nothing, even in the caller's session before it rolls back.
        pending = db.get(AfterSale, case.id)
        assert pending.merchant_note == "no" and pending.arbitration_note is None
        assert pending.return_tracking_number is None and pending.merchant_at_fault is None
        db.rollback()
        assert refused.value.code == "illegal_transition"
        assert refused.value.details["from"] == "rejected"
    db.expire_all()
    row = db.get(AfterSale, case.id)
    assert row.status is AfterSaleStatus.rejected and row.merchant_note == "no"
    assert row.arbitration_note is None and row.merchant_at_fault is None


def test_refund_only_cases_never_wait_for_a_parcel():
    for action, transition in service.TRANSITIONS.items():
        target = transition.targets.get(AfterSaleKind.refund_only)
        assert target not in (AfterSaleStatus.awaiting_return, AfterSaleStatus.return_shipped), action
    # Every status that a case can reach is either final or has a way out.
    reachable = {t for tr in service.TRANSITIONS.values() for t in tr.targets.values()}
    final = {AfterSaleStatus.refunded, AfterSaleStatus.closed, AfterSaleStatus.cancelled}
    sources = {s for tr in service.TRANSITIONS.values() for s in tr.sources}
    assert reachable - final <= sources
    assert not final & sources
    assert frozenset(AfterSaleStatus) - final == service.OPEN_STATUSES


def _race(database, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each call in its own thread and session, all released at once; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[Any], Any]) -> None:
        session = database.session()
        try:
            barrier.wait()
            results[i] = call(session).id
        except DomainError as exc:
            session.rollback()
            results[i] = exc
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.pg_only
def test_concurrent_requests_open_one_case(database, db):
    bundle = delivered_order(db, quantity=2)

    def call(session):
        return service.open_case(
            session,
            bundle.buyer.id,
            bundle.order.id,
            order_item_id=bundle.item.id,
            kind=AfterSaleKind.refund_only,
            reason=AfterSaleReason.quality,
        )

    results = _race(database, [call] * 4)
    opened = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(opened) == 1 and len(refused) == 3
    assert {e.code for e in refused} == {"case_already_open"}
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AfterSale)) == 1


@pytest.mark.pg_only
def test_concurrent_approvals_refund_once(database, db):
    bundle = delivered_order(db, quantity=1)
    case = _open(db, bundle)
    db.commit()

    def call(session):
        return service.approve(session, case.shop_id, case.id)

    results = _race(database, [call] * 3)
    assert sum(isinstance(r, int) for r in results) == 1
    assert {e.code for e in results if isinstance(e, DomainError)} == {"illegal_transition"}
    assert money(db, bundle)["refunds"] == bundle.item.paid_fen


def test_reads_for_scores_and_orders(db):
    first = delivered_order(db, quantity=1)
    second = delivered_order(db, quantity=1, shop=first.shop)
    t0 = first.order.delivered_at + timedelta(hours=1)
    old = _open(db, first, now=t0)
    new = _open(db, second, now=t0 + timedelta(days=2))
    shop_id = first.shop.shop.id
    assert [c.id for c in service.cases_for_shop(db, shop_id, t0)] == [old.id, new.id]
    assert [c.id for c in service.cases_for_shop(db, shop_id, t0 + timedelta(days=1))] == [new.id]
    assert service.has_open_case(db, first.order.id) is True
    service.cancel(db, first.buyer.id, old.id)
    assert service.has_open_case(db, first.order.id) is False
    assert [c.id for c in service.cases_for_order(db, first.order.id)] == [old.id]


def test_rejections_not_escalated_close_and_release_the_order(db):
    bundle = delivered_order(db, quantity=1)
    t0 = bundle.order.delivered_at + timedelta(hours=1)
    case = _open(db, bundle, now=t0)
    rejected_at = t0 + timedelta(hours=2)
    service.reject(db, case.shop_id, case.id, note="not a defect", now=rejected_at)
    # While the case can still be escalated the order does not complete.
    assert flows.complete_due_orders(db, now=rejected_at + timedelta(days=30)) == 0
    assert service.auto_process_due(db, now=rejected_at + timedelta(days=7, seconds=-1)).closed == 0
    assert service.auto_process_due(db, now=rejected_at + timedelta(days=7)).closed == 1
    assert _status(db, case.id) is AfterSaleStatus.closed
    assert flows.complete_due_orders(db, now=rejected_at + timedelta(days=30)) == 1
