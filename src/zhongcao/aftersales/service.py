"""After-sales cases: the buyer asks, the merchant decides, an operator arbitrates disputes.

Every status change goes through :data:`TRANSITIONS`, one table of actions: the states an action
may start from, the state it leads to for each kind of case, and the timestamp it stamps. Whatever
is not in the table is refused with 409 ``illegal_transition``.

::

    requested --approve--> refunded (refund_only) | awaiting_return (return_and_refund)
    requested --reject--> rejected --escalate--> arbitrating
    arbitrating --rule_for_buyer--> refunded (refund_only) | awaiting_return (return_and_refund)
    arbitrating --rule_for_merchant--> closed
    awaiting_return --ship_return--> return_shipped --receive_return--> refunded (+ restock)
    awaiting_return --expire_return--> closed          (no parcel within RETURN_SHIP_WINDOW)
    rejected --expire_rejection--> closed              (not escalated within ESCALATION_WINDOW)
    requested | awaiting_return --cancel--> cancelled  (the buyer withdraws)

Refunds move money through commerce's ``refund_order_item`` (provider, payment, order and item
totals, commission reversal) inside the same transaction as the status change, so a case is never
``refunded`` without the money having moved, nor the other way round.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.aftersales.models import (
    AfterSale,
    AfterSaleEvidence,
    AfterSaleKind,
    AfterSaleReason,
    AfterSaleStatus,
    EvidenceSide,
)
from zhongcao.audit import service as audit_service
from zhongcao.catalog import stock
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import OrderItem, OrderStatus
from zhongcao.commerce.payments import ProviderRejected, ProviderUnavailable
from zhongcao.errors import Conflict, DomainError, InvalidInput, NotFound
from zhongcao.media import service as media_service
from zhongcao.media.service import Uploader
from zhongcao.money import proportional
from zhongcao.pagination import PageParams, paginate_by_id

log = logging.getLogger("zhongcao.aftersales")

# A case the merchant leaves unanswered this long is approved on the buyer's behalf.
AUTO_APPROVE_AFTER = timedelta(hours=48)
# After a return is approved the buyer has this long to ship it; then the case closes unrefunded.
RETURN_SHIP_WINDOW = timedelta(days=7)
# A rejected case the buyer does not escalate within this long closes, releasing the order to complete.
ESCALATION_WINDOW = timedelta(days=7)
# "Changed my mind" (7 天无理由) is accepted only this long after delivery.
CHANGED_MIND_WINDOW = timedelta(days=7)

S = AfterSaleStatus
OPEN_STATUSES = frozenset({S.requested, S.awaiting_return, S.return_shipped, S.rejected, S.arbitrating})
AFTER_SALE_ORDER_STATUSES = frozenset({OrderStatus.delivered, OrderStatus.completed})


class Action(enum.StrEnum):
    approve = "approve"
    reject = "reject"
    ship_return = "ship_return"
    receive_return = "receive_return"
    escalate = "escalate"
    cancel = "cancel"
    rule_for_buyer = "rule_for_buyer"
    rule_for_merchant = "rule_for_merchant"
    expire_return = "expire_return"
    expire_rejection = "expire_rejection"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[AfterSaleStatus]
    targets: dict[AfterSaleKind, AfterSaleStatus]
    stamp: str  # the timestamp column this action sets


def _both(status: AfterSaleStatus) -> dict[AfterSaleKind, AfterSaleStatus]:
    return {AfterSaleKind.refund_only: status, AfterSaleKind.return_and_refund: status}


_DECIDED = {AfterSaleKind.refund_only: S.refunded, AfterSaleKind.return_and_refund: S.awaiting_return}

TRANSITIONS: dict[Action, Transition] = {
    Action.approve: Transition(frozenset({S.requested}), _DECIDED, "decided_at"),
    Action.reject: Transition(frozenset({S.requested}), _both(S.rejected), "decided_at"),
    Action.ship_return: Transition(
        frozenset({S.awaiting_return}),
        {AfterSaleKind.return_and_refund: S.return_shipped},
        "return_shipped_at",
    ),
    Action.receive_return: Transition(
        frozenset({S.return_shipped}), {AfterSaleKind.return_and_refund: S.refunded}, "returned_at"
    ),
    Action.escalate: Transition(frozenset({S.rejected}), _both(S.arbitrating), "escalated_at"),
    Action.cancel: Transition(frozenset({S.requested, S.awaiting_return}), _both(S.cancelled), "closed_at"),
    Action.rule_for_buyer: Transition(frozenset({S.arbitrating}), _DECIDED, "arbitrated_at"),
    Action.rule_for_merchant: Transition(frozenset({S.arbitrating}), _both(S.closed), "arbitrated_at"),
    Action.expire_return: Transition(frozenset({S.awaiting_return}), _both(S.closed), "closed_at"),
    Action.expire_rejection: Transition(frozenset({S.rejected}), _both(S.closed), "closed_at"),
}


def _target(case: AfterSale, action: Action) -> AfterSaleStatus:
    transition = TRANSITIONS[action]
    target = transition.targets.get(case.kind)
    if case.status not in transition.sources or target is None:
        raise Conflict(
            f"an after-sales case that is {case.status.value} cannot {action.value.replace('_', ' ')}",
            code="illegal_transition",
            details={
                "from": case.status.value,
                "to": target.value if target is not None else None,
                "action": action.value,
            },
        )
    return target


def _apply(db: Session, case: AfterSale, action: Action, now: datetime, **changes: object) -> None:
    """Move ``case`` by ``action``: check the table, then set ``changes``, stamp, and do the move's
    side effects. A refused move leaves the case untouched."""
    target = _target(case, action)
    for column, value in changes.items():
        setattr(case, column, value)
    setattr(case, TRANSITIONS[action].stamp, now)
    case.status = target
    if action is Action.receive_return:
        # The parcel is back in the merchant's hands: the units can be sold again.
        stock.release(db, _item_of(db, case).sku_id, case.quantity)
    if target is S.refunded:
        commerce_service.refund_order_item(
            db,
            _item_of(db, case),
            amount_fen=case.amount_fen,
            quantity=case.quantity,
            after_sale_id=case.id,
            reason="after_sale",
        )
        case.refunded_at = now
    elif target in (S.closed, S.cancelled):
        case.closed_at = now
    db.flush()


def _item_of(db: Session, case: AfterSale) -> OrderItem:
    return commerce_service.get_order_item(db, case.order_id, case.order_item_id)


# ---------------------------------------------------------------------------------------------
# Opening a case
# ---------------------------------------------------------------------------------------------


def _open_cases_for_item(db: Session, order_item_id: int) -> list[AfterSale]:
    return list(
        db.scalars(
            select(AfterSale).where(
                AfterSale.order_item_id == order_item_id, AfterSale.status.in_(OPEN_STATUSES)
            )
        )
    )


def units_value_fen(item: OrderItem, first_unit: int, quantity: int) -> int:
    """What units ``first_unit+1 .. first_unit+quantity`` of a line paid for.

    Each unit boundary is rounded half up on the line's paid amount, so the values of all units
    add up exactly to ``paid_fen``: returning a line unit by unit refunds it to the fen.
    """
    return proportional(item.paid_fen, first_unit + quantity, item.quantity) - proportional(
        item.paid_fen, first_unit, item.quantity
    )


def refundable_fen(db: Session, item: OrderItem) -> int:
    """Paid for the item, less what was refunded and what open cases already ask for."""
    asked = sum(c.amount_fen for c in _open_cases_for_item(db, item.id))
    return max(item.paid_fen - item.refunded_fen - asked, 0)


def open_case(
    db: Session,
    user_id: int,
    order_id: int,
    *,
    order_item_id: int,
    kind: AfterSaleKind,
    reason: AfterSaleReason,
    description: str = "",
    quantity: int = 1,
    amount_fen: int | None = None,
    now: datetime | None = None,
    parcel_lost: bool = False,
) -> AfterSale:
    """The buyer asks for a refund (with or without returning the goods) on one order line.

    ``parcel_lost``: the carrier lost the parcel (or sent it back), so a shipped order that will
    never be delivered may ask for its refund (the logistics domain opens these for the buyer)."""
    now = now or clock.now()
    order = commerce_service.get_order_for_buyer(db, user_id, order_id)
    item = commerce_service.get_order_item(db, order.id, order_item_id)
    # Lock the line so that two requests for it cannot both pass the one-open-case check.
    db.refresh(item, with_for_update=True)
    allowed = AFTER_SALE_ORDER_STATUSES | ({OrderStatus.shipped} if parcel_lost else set())
    if order.status not in allowed:
        raise Conflict(
            f"after-sales can be requested once the order is delivered; it is {order.status.value}",
            code="illegal_transition",
            details={"from": order.status.value, "to": S.requested.value, "order_status": order.status.value},
        )
    if reason is AfterSaleReason.changed_mind:
        delivered_at = order.delivered_at or order.completed_at
        if delivered_at is None or now > delivered_at + CHANGED_MIND_WINDOW:
            raise Conflict(
                "returns for a change of mind are accepted within 7 days of delivery",
                code="window_closed",
                details={
                    "window_days": CHANGED_MIND_WINDOW.days,
                    "delivered_at": delivered_at.isoformat() if delivered_at else None,
                },
            )
    existing = _open_cases_for_item(db, item.id)
    if existing:
        raise Conflict(
            "this item already has an open after-sales case",
            code="case_already_open",
            details={"after_sale_id": existing[0].id},
        )
    units_left = item.quantity - item.refunded_quantity
    if quantity > units_left:
        raise InvalidInput(
            f"at most {units_left} unit(s) of this item can still be refunded",
            code="quantity_exceeds_refundable",
            field="quantity",
            details={"max_quantity": units_left},
        )
    refundable = refundable_fen(db, item)
    if amount_fen is None:
        amount_fen = min(units_value_fen(item, item.refunded_quantity, quantity), refundable)
        if amount_fen <= 0:
            raise Conflict("nothing is left to refund on this item", code="nothing_to_refund")
    elif amount_fen > refundable:
        raise InvalidInput(
            f"at most {refundable} fen of this item can still be refunded",
            code="amount_exceeds_refundable",
            field="amount_fen",
            details={"refundable_fen": refundable},
        )
    case = AfterSale(
        order_id=order.id,
        order_item_id=item.id,
        user_id=user_id,
        shop_id=order.shop_id,
        kind=kind,
        reason=reason,
        description=description,
        status=S.requested,
        quantity=quantity,
        amount_fen=amount_fen,
        requested_at=now,
    )
    db.add(case)
    db.flush()
    signals.emit(
        db,
        "after_sale_opened",
        case_id=case.id,
        shop_id=case.shop_id,
        order_id=case.order_id,
        amount_fen=case.amount_fen,
    )
    db.commit()
    return case


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _lock(db: Session, case_id: int, *, user_id: int | None = None, shop_id: int | None = None) -> AfterSale:
    """Load a case for a status change, row-locked so concurrent decisions queue behind each other."""
    stmt = select(AfterSale).where(AfterSale.id == case_id)
    if user_id is not None:
        stmt = stmt.where(AfterSale.user_id == user_id)
    if shop_id is not None:
        stmt = stmt.where(AfterSale.shop_id == shop_id)
    case = db.scalar(stmt.with_for_update().execution_options(populate_existing=True))
    if case is None:
        raise NotFound("after-sales case not found", code="after_sale_not_found")
    return case


def _get(db: Session, stmt: Select[AfterSale], field: str | None = None) -> AfterSale:
    case = db.scalar(stmt)
    if case is None:
        raise NotFound("after-sales case not found", code="after_sale_not_found", field=field)
    return case


def get_for_buyer(db: Session, user_id: int, case_id: int, *, field: str | None = None) -> AfterSale:
    """The buyer's own case; another buyer's is not found (naming ``field`` when one is given)."""
    return _get(db, select(AfterSale).where(AfterSale.id == case_id, AfterSale.user_id == user_id), field)


def get_for_shop(db: Session, shop_id: int, case_id: int) -> AfterSale:
    return _get(db, select(AfterSale).where(AfterSale.id == case_id, AfterSale.shop_id == shop_id))


def get_case(db: Session, case_id: int) -> AfterSale:
    return _get(db, select(AfterSale).where(AfterSale.id == case_id))


def _list(
    db: Session, params: PageParams, status: AfterSaleStatus | None, *conditions: ColumnElement[bool]
) -> tuple[Sequence[AfterSale], str | None]:
    stmt = select(AfterSale).where(*conditions)
    if status is not None:
        stmt = stmt.where(AfterSale.status == status)
    return paginate_by_id(db, stmt, AfterSale.id, params)


def list_for_buyer(
    db: Session, user_id: int, params: PageParams, *, status: AfterSaleStatus | None = None
) -> tuple[Sequence[AfterSale], str | None]:
    return _list(db, params, status, AfterSale.user_id == user_id)


def list_for_shop(
    db: Session, shop_id: int, params: PageParams, *, status: AfterSaleStatus | None = None
) -> tuple[Sequence[AfterSale], str | None]:
    return _list(db, params, status, AfterSale.shop_id == shop_id)


def list_all(
    db: Session, params: PageParams, *, status: AfterSaleStatus | None = None
) -> tuple[Sequence[AfterSale], str | None]:
    return _list(db, params, status)


def cases_for_shop(db: Session, shop_id: int, since: datetime) -> list[AfterSale]:
    """The shop's cases requested since ``since`` (for service-quality scores)."""
    return list(
        db.scalars(
            select(AfterSale)
            .where(AfterSale.shop_id == shop_id, AfterSale.requested_at >= since)
            .order_by(AfterSale.id)
        )
    )


def cases_for_order(db: Session, order_id: int) -> list[AfterSale]:
    return list(db.scalars(select(AfterSale).where(AfterSale.order_id == order_id).order_by(AfterSale.id)))


def is_open(case: AfterSale) -> bool:
    """Whether the case is still in progress (a rejection may still be escalated)."""
    return case.status in OPEN_STATUSES


def can(case: AfterSale, action: Action) -> bool:
    """Whether ``action`` is a legal move for the case now (what the pages offer)."""
    transition = TRANSITIONS[action]
    return case.status in transition.sources and case.kind in transition.targets


def has_open_case(db: Session, order_id: int) -> bool:
    """Whether any line of the order has a case still in progress."""
    count = db.scalar(
        select(func.count())
        .select_from(AfterSale)
        .where(AfterSale.order_id == order_id, AfterSale.status.in_(OPEN_STATUSES))
    )
    return bool(count)


# ---------------------------------------------------------------------------------------------
# The buyer's moves
# ---------------------------------------------------------------------------------------------


def mark_return_shipped(
    db: Session,
    user_id: int,
    case_id: int,
    *,
    tracking_number: str,
    carrier_name: str | None = None,
    now: datetime | None = None,
) -> AfterSale:
    """The buyer handed the returned parcel to a carrier: its tracking number (and carrier)."""
    case = _lock(db, case_id, user_id=user_id)
    _apply(
        db,
        case,
        Action.ship_return,
        now or clock.now(),
        return_tracking_number=tracking_number,
        return_carrier_name=carrier_name or None,
    )
    db.commit()
    return case


def escalate(db: Session, user_id: int, case_id: int, *, now: datetime | None = None) -> AfterSale:
    case = _lock(db, case_id, user_id=user_id)
    _apply(db, case, Action.escalate, now or clock.now())
    signals.emit(
        db,
        "after_sale_escalated",
        case_id=case.id,
        shop_id=case.shop_id,
        order_id=case.order_id,
        amount_fen=case.amount_fen,
    )
    db.commit()
    return case


def cancel(db: Session, user_id: int, case_id: int, *, now: datetime | None = None) -> AfterSale:
    case = _lock(db, case_id, user_id=user_id)
    _apply(db, case, Action.cancel, now or clock.now())
    db.commit()
    return case


# ---------------------------------------------------------------------------------------------
# The merchant's moves
# ---------------------------------------------------------------------------------------------


def approve(db: Session, shop_id: int, case_id: int, *, now: datetime | None = None) -> AfterSale:
    """Refund-only cases are refunded now; returns wait for the buyer's parcel."""
    case = _lock(db, case_id, shop_id=shop_id)
    _apply(db, case, Action.approve, now or clock.now())
    db.commit()
    return case


def reject(db: Session, shop_id: int, case_id: int, *, note: str, now: datetime | None = None) -> AfterSale:
    note = note.strip()
    if not note:
        raise InvalidInput("say why the request is rejected", code="note_required", field="note")
    case = _lock(db, case_id, shop_id=shop_id)
    _apply(db, case, Action.reject, now or clock.now(), merchant_note=note)
    db.commit()
    return case


def receive_return(
    db: Session, shop_id: int, case_id: int, *, now: datetime | None = None, commit: bool = True
) -> AfterSale:
    """The returned parcel arrived: the units go back on sale and the buyer is refunded.
    ``commit=False`` leaves the transaction open for the caller (a return to the platform warehouse
    shelves its units in the same transaction: zhongcao.fulfilment_flows)."""
    case = _lock(db, case_id, shop_id=shop_id)
    _apply(db, case, Action.receive_return, now or clock.now())
    if commit:
        db.commit()
    return case


# ---------------------------------------------------------------------------------------------
# The platform's moves
# ---------------------------------------------------------------------------------------------


def arbitrate(
    db: Session,
    case_id: int,
    *,
    merchant_at_fault: bool,
    note: str | None,
    refund: bool | None = None,
    actor_user_id: int | None = None,
    now: datetime | None = None,
) -> AfterSale:
    """An operator settles a dispute. Only arbitration sets ``merchant_at_fault``.

    ``note`` is the reason, shown to both sides (``reason_required`` when blank). ``refund`` says
    whether the buyer is refunded (a return first, for a return-and-refund case); it defaults to
    ``merchant_at_fault``. A refund may be granted without blaming the merchant (a carrier lost the
    parcel), but the merchant is never blamed for a case closed without a refund
    (``fault_without_refund``). A ruling against the merchant counts in the shop's experience score
    (``merchant_at_fault_counts``) at its next computation. The audit entry is written in the same
    transaction."""
    reason = audit_service.require_reason(note)
    refund = merchant_at_fault if refund is None else refund
    if merchant_at_fault and not refund:
        raise InvalidInput(
            "a merchant at fault owes the buyer a refund: rule for the buyer or clear the fault",
            code="fault_without_refund",
            field="merchant_at_fault",
        )
    case = _lock(db, case_id)
    before = {"status": case.status, "merchant_at_fault": case.merchant_at_fault}
    action = Action.rule_for_buyer if refund else Action.rule_for_merchant
    _apply(db, case, action, now or clock.now(), merchant_at_fault=merchant_at_fault, arbitration_note=reason)
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action="after_sale.arbitrate",
        target_kind="after_sale",
        target_id=case.id,
        reason=reason,
        before=before,
        after={"status": case.status, "merchant_at_fault": merchant_at_fault, "refund": refund},
    )
    db.commit()
    return case


# --- the operators' queue of escalated cases -------------------------------------------------------


def escalated_queue(
    db: Session,
    params: PageParams,
    *,
    reason: AfterSaleReason | None = None,
    shop_id: int | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[Sequence[AfterSale], str | None]:
    """Cases waiting for arbitration, newest first, optionally of one reason, one shop, or escalated
    longer than ``older_than`` ago."""
    stmt = select(AfterSale).where(AfterSale.status == S.arbitrating)
    if reason is not None:
        stmt = stmt.where(AfterSale.reason == reason)
    if shop_id is not None:
        stmt = stmt.where(AfterSale.shop_id == shop_id)
    if older_than is not None:
        stmt = stmt.where(AfterSale.escalated_at <= (now or clock.now()) - older_than)
    return paginate_by_id(db, stmt, AfterSale.id, params)


def escalated_count(db: Session) -> int:
    """How many cases wait for an operator (the workbench's counter)."""
    return (
        db.scalar(select(func.count()).select_from(AfterSale).where(AfterSale.status == S.arbitrating)) or 0
    )


# --- evidence images -------------------------------------------------------------------------------

MAX_EVIDENCE_PER_SIDE = 9


def _add_evidence(
    db: Session, case: AfterSale, side: EvidenceSide, media_id: int, uploader: Uploader, now: datetime
) -> AfterSaleEvidence:
    if not is_open(case):
        raise Conflict(
            "evidence can be added while the case is open",
            code="case_closed",
            details={"status": case.status.value},
        )
    # The image must be the caller's own upload (or their shop's): anyone else's is not found.
    try:
        media = media_service.get_media(db, media_id, uploader)
    except NotFound:
        raise NotFound("media not found", code="media_not_found", field="media_id") from None
    if media.kind.value != "image":
        raise InvalidInput("evidence must be an image", code="wrong_media_kind", field="media_id")
    count = db.scalar(
        select(func.count())
        .select_from(AfterSaleEvidence)
        .where(AfterSaleEvidence.after_sale_id == case.id, AfterSaleEvidence.side == side)
    )
    if (count or 0) >= MAX_EVIDENCE_PER_SIDE:
        raise Conflict(
            f"at most {MAX_EVIDENCE_PER_SIDE} images per side",
            code="too_much_evidence",
            field="media_id",
            details={"max": MAX_EVIDENCE_PER_SIDE},
        )
    row = AfterSaleEvidence(
        after_sale_id=case.id, side=side, media_id=media.id, added_by=uploader.user_id, added_at=now
    )
    db.add(row)
    db.commit()
    return row


def add_buyer_evidence(
    db: Session, user_id: int, case_id: int, media_id: int, *, now: datetime | None = None
) -> AfterSaleEvidence:
    """The buyer attaches one of their uploaded images to their open case."""
    case = get_for_buyer(db, user_id, case_id)
    uploader = Uploader(user_id=user_id, shop_id=None, shop_role=None)
    return _add_evidence(db, case, EvidenceSide.buyer, media_id, uploader, now or clock.now())


def add_merchant_evidence(
    db: Session, uploader: Uploader, case_id: int, media_id: int, *, now: datetime | None = None
) -> AfterSaleEvidence:
    """The shop attaches one of its uploaded images to a case about it."""
    assert uploader.shop_id is not None
    case = get_for_shop(db, uploader.shop_id, case_id)
    return _add_evidence(db, case, EvidenceSide.merchant, media_id, uploader, now or clock.now())


def evidence_for(db: Session, case_id: int) -> list[AfterSaleEvidence]:
    """The case's evidence images, oldest first."""
    return list(
        db.scalars(
            select(AfterSaleEvidence)
            .where(AfterSaleEvidence.after_sale_id == case_id)
            .order_by(AfterSaleEvidence.id)
        )
    )


@dataclass
class AutoProcessResult:
    approved: int = 0
    closed: int = 0
    failed: int = 0


def auto_process_due(db: Session, now: datetime | None = None) -> AutoProcessResult:
    """Approve requests left unanswered for AUTO_APPROVE_AFTER; close returns not shipped in time
    and rejections not escalated within ESCALATION_WINDOW.

    Each case is its own transaction, so one failing refund does not hold back the others; a
    failed case stays as it was and is retried on the next run.
    """
    now = now or clock.now()
    result = AutoProcessResult()
    approve_cutoff = now - AUTO_APPROVE_AFTER
    due_approvals = list(
        db.scalars(
            select(AfterSale.id)
            .where(AfterSale.status == S.requested, AfterSale.requested_at <= approve_cutoff)
            .order_by(AfterSale.id)
        )
    )
    ship_cutoff = now - RETURN_SHIP_WINDOW
    # A return waits from the merchant's approval, or from the arbitration that ordered it.
    due_closures = list(
        db.scalars(
            select(AfterSale.id)
            .where(
                AfterSale.status == S.awaiting_return,
                or_(
                    and_(AfterSale.arbitrated_at.is_not(None), AfterSale.arbitrated_at <= ship_cutoff),
                    and_(AfterSale.arbitrated_at.is_(None), AfterSale.decided_at <= ship_cutoff),
                ),
            )
            .order_by(AfterSale.id)
        )
    )
    due_rejections = list(
        db.scalars(
            select(AfterSale.id)
            .where(AfterSale.status == S.rejected, AfterSale.decided_at <= now - ESCALATION_WINDOW)
            .order_by(AfterSale.id)
        )
    )
    db.rollback()
    for case_id, action in (
        [(i, Action.approve) for i in due_approvals]
        + [(i, Action.expire_return) for i in due_closures]
        + [(i, Action.expire_rejection) for i in due_rejections]
    ):
        try:
            case = _lock(db, case_id)
            if case.status not in TRANSITIONS[action].sources:
                db.rollback()  # someone acted on it since we looked
                continue
            _apply(db, case, action, now)
            db.commit()
        except (DomainError, ProviderRejected, ProviderUnavailable) as exc:
            db.rollback()
            result.failed += 1
            log.warning("after-sales case %s: automatic %s failed: %s", case_id, action.value, exc)
            continue
        if action is Action.approve:
            result.approved += 1
        else:
            result.closed += 1
    return result


# --- facts for the shop experience score (read by zhongcao.experience) -------------------------------


def quality_refund_counts(db: Session, since: datetime, until: datetime) -> dict[int, int]:
    """``shop id -> cases for a quality reason refunded in [since, until)``."""
    rows = db.execute(
        select(AfterSale.shop_id, func.count())
        .where(
            AfterSale.reason == AfterSaleReason.quality,
            AfterSale.refunded_at.is_not(None),
            AfterSale.refunded_at >= since,
            AfterSale.refunded_at < until,
        )
        .group_by(AfterSale.shop_id)
    )
    return {shop_id: n for shop_id, n in rows}


def merchant_at_fault_counts(db: Session, since: datetime, until: datetime) -> dict[int, int]:
    """``shop id -> disputes the platform ruled against the merchant in [since, until)``."""
    rows = db.execute(
        select(AfterSale.shop_id, func.count())
        .where(
            AfterSale.merchant_at_fault.is_(True),
            AfterSale.arbitrated_at.is_not(None),
            AfterSale.arbitrated_at >= since,
            AfterSale.arbitrated_at < until,
        )
        .group_by(AfterSale.shop_id)
    )
    return {shop_id: n for shop_id, n in rows}


def handling_rows(
    db: Session, since: datetime, until: datetime
) -> list[tuple[int, datetime, datetime | None]]:
    """Cases requested in [since, until): ``(shop id, requested at, decided at)`` (``None`` while
    undecided; a case the deadline job approved has its decision time)."""
    stmt = select(AfterSale.shop_id, AfterSale.requested_at, AfterSale.decided_at).where(
        AfterSale.requested_at >= since, AfterSale.requested_at < until
    )
    return [(shop_id, requested, decided) for shop_id, requested, decided in db.execute(stmt)]


def case_facts_by_order(
    db: Session, order_ids: Sequence[int]
) -> dict[int, list[tuple[str, str, bool | None]]]:
    """``order id -> [(reason, status, merchant at fault)]`` of its after-sales cases."""
    ids = sorted(set(order_ids))
    out: dict[int, list[tuple[str, str, bool | None]]] = {}
    for start in range(0, len(ids), 5000):
        rows = db.execute(
            select(
                AfterSale.order_id,
                AfterSale.reason,
                AfterSale.status,
                AfterSale.merchant_at_fault,
                AfterSale.decided_at,
                AfterSale.merchant_note,
            )
            .where(AfterSale.order_id.in_(ids[start : start + 5000]))
            .order_by(AfterSale.id)
        )
        for order_id, reason, status, at_fault, _decided, note in rows:
            # A merchant refusal leaves a note; the case may have moved on (escalated, arbitrated) since.
            refused = "refused" if note else status.value
            out.setdefault(order_id, []).append((reason.value, refused, at_fault))
    return out
