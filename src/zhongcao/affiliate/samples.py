"""Sample requests (寄样): a creator asks a shop for a sample of a product before promoting it.

The life of a request::

    requested --approve--> approved --ship--> shipped --received--> received
        |                     |
        +--reject--> rejected  (the merchant's reason, which the creator reads)
        +--cancel--> cancelled (the creator, while nothing has shipped: requested or approved)

Rules:

* Only a creator account may ask, and only for a product on sale that it can see in the plaza: the
  product has an active open or targeted plan, or an exclusive plan listing this creator. Anything
  else is "not in the Alliance" (an exclusive plan of someone else is not revealed).
* At most one open request (requested, approved or shipped) per creator and product: checked under
  the product's row lock, and held by a partial unique index as well.
* The parcel's address is validated: a recipient (1-40 characters, one line), a phone number (digits,
  spaces and dashes, an optional leading +, 5 to 20 characters) and an address (1-200, one line).
* A rejection needs a reason; shipping needs the carrier and a tracking number (letters, digits and
  dashes, 4 to 64).

Every change runs as a conditional UPDATE on the status it expects, so two people deciding at once
cannot both win (the loser gets 409 ``illegal_transition``). Each change emits the ``sample_changed``
signal inside its transaction (zhongcao.flows tells the other side).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.affiliate import service as plans_service
from zhongcao.affiliate.models import OPEN_SAMPLE_STATUSES, PlanKind, SampleRequest, SampleStatus
from zhongcao.catalog import service as catalog_service
from zhongcao.content import service as content_service
from zhongcao.content.models import AccountKind
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id

PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,64}$")
MAX_RECIPIENT = 40
MAX_ADDRESS = 200
MAX_MESSAGE = 1000
MAX_NOTE = 500
MAX_CARRIER = 40

# Who may cancel: the creator, until the parcel leaves.
CANCELLABLE = (SampleStatus.requested, SampleStatus.approved)


def _line(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", code="required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is at most {max_length} characters", code="too_long", field=field)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput(f"{field} is one line of text", code="invalid_text", field=field)
    return value


def _text(value: str, field: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", code="required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is at most {max_length} characters", code="too_long", field=field)
    if any((ord(ch) < 32 and ch not in "\n\t\r") or ord(ch) == 127 for ch in value):
        raise InvalidInput(f"{field} has control characters", code="invalid_text", field=field)
    return value


def check_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if not phone:
        raise InvalidInput("phone is required", code="required", field="phone")
    if not PHONE.fullmatch(phone):
        raise InvalidInput(
            "a phone number is digits, spaces and dashes, 5 to 20 characters",
            code="invalid_contact_phone",
            field="phone",
        )
    return phone


def _requestable(db: Session, account_id: int, product_id: int) -> tuple[int, bool]:
    """``(shop id, on sale)`` of a product the creator may ask a sample of; else "not in the Alliance"."""
    product = catalog_service.product_briefs(db, [product_id], lock=True).get(product_id)
    not_listed = InvalidInput(
        "this product offers no affiliate plan to this creator",
        code="product_not_in_alliance",
        field="product_id",
    )
    if product is None:
        raise not_listed
    plans = plans_service.active_plans_for_product(db, product_id)
    listed = plans_service.plan_creator_ids_by_plan(db, [p.id for p in plans if p.kind != PlanKind.open])
    visible = [
        p for p in plans if p.kind in (PlanKind.open, PlanKind.targeted) or account_id in listed.get(p.id, [])
    ]
    if not visible:
        raise not_listed
    if not product.on_sale:
        raise InvalidInput("the product is not on sale", code="product_not_on_sale", field="product_id")
    return product.shop_id, product.on_sale


def request_sample(
    db: Session,
    account_id: int,
    product_id: int,
    *,
    recipient: str,
    phone: str,
    address: str,
    message: str = "",
) -> SampleRequest:
    account = content_service.get_account(db, account_id)
    if account.kind != AccountKind.creator:
        raise Forbidden("only creator accounts ask for samples", code="not_a_creator_account")
    recipient = _line(recipient, "recipient", MAX_RECIPIENT)
    phone = check_phone(phone)
    address = _line(address, "address", MAX_ADDRESS)
    message = _text(message, "message", MAX_MESSAGE)
    shop_id, _ = _requestable(db, account_id, product_id)
    pending = open_samples_by_product(db, account_id, [product_id]).get(product_id)
    if pending is not None:
        raise Conflict(
            "a sample request for this product is already under way",
            code="sample_pending",
            details={"sample_id": pending.id, "status": pending.status.value},
        )
    sample = SampleRequest(
        shop_id=shop_id,
        product_id=product_id,
        account_id=account_id,
        status=SampleStatus.requested,
        message=message,
        recipient=recipient,
        phone=phone,
        address=address,
        decision_note="",
    )
    db.add(sample)
    try:
        db.flush()
    except IntegrityError:  # a concurrent request won the unique index
        db.rollback()
        raise Conflict(
            "a sample request for this product is already under way", code="sample_pending"
        ) from None
    _emit(db, sample)
    db.commit()
    return sample


# --- reading -------------------------------------------------------------------------------------


def sample_for_shop(db: Session, shop_id: int, sample_id: int) -> SampleRequest:
    """The shop's own request; another shop's is not found."""
    sample = db.scalar(
        select(SampleRequest).where(SampleRequest.id == sample_id, SampleRequest.shop_id == shop_id)
    )
    if sample is None:
        raise NotFound("sample request not found", code="sample_not_found")
    return sample


def sample_for_account(db: Session, account_id: int, sample_id: int) -> SampleRequest:
    """The creator's own request; another creator's is not found."""
    sample = db.scalar(
        select(SampleRequest).where(SampleRequest.id == sample_id, SampleRequest.account_id == account_id)
    )
    if sample is None:
        raise NotFound("sample request not found", code="sample_not_found")
    return sample


def creator_samples_page(
    db: Session, account_id: int, params: PageParams, *, status: SampleStatus | None = None
) -> tuple[Sequence[SampleRequest], str | None]:
    stmt = select(SampleRequest).where(SampleRequest.account_id == account_id)
    if status is not None:
        stmt = stmt.where(SampleRequest.status == status)
    return paginate_by_id(db, stmt, SampleRequest.id, params)


def shop_samples_page(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    status: SampleStatus | None = None,
    product_id: int | None = None,
) -> tuple[Sequence[SampleRequest], str | None]:
    stmt = select(SampleRequest).where(SampleRequest.shop_id == shop_id)
    if status is not None:
        stmt = stmt.where(SampleRequest.status == status)
    if product_id is not None:
        stmt = stmt.where(SampleRequest.product_id == product_id)
    return paginate_by_id(db, stmt, SampleRequest.id, params)


def shop_sample_counts(db: Session, shop_id: int) -> dict[SampleStatus, int]:
    """How many of the shop's requests are in each status (every status present, zeros included)."""
    rows = db.execute(
        select(SampleRequest.status, func.count())
        .where(SampleRequest.shop_id == shop_id)
        .group_by(SampleRequest.status)
    )
    counts = dict.fromkeys(SampleStatus, 0)
    for status, n in rows:
        counts[SampleStatus(status)] = int(n)
    return counts


def open_samples_by_product(
    db: Session, account_id: int, product_ids: Sequence[int]
) -> dict[int, SampleRequest]:
    """The creator's request under way for each of ``product_ids`` that has one (the plaza's badge)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = db.scalars(
        select(SampleRequest).where(
            SampleRequest.account_id == account_id,
            SampleRequest.product_id.in_(ids),
            SampleRequest.status.in_(OPEN_SAMPLE_STATUSES),
        )
    )
    return {s.product_id: s for s in rows}


# --- changes -------------------------------------------------------------------------------------


def _emit(db: Session, sample: SampleRequest) -> None:
    signals.emit(
        db,
        "sample_changed",
        sample_id=sample.id,
        shop_id=sample.shop_id,
        account_id=sample.account_id,
        product_id=sample.product_id,
        status=sample.status.value,
        note=sample.decision_note,
    )


def _illegal(sample: SampleRequest, to_status: SampleStatus) -> Conflict:
    return Conflict(
        f"the sample request is {sample.status.value}; it cannot become {to_status.value}",
        code="illegal_transition",
        details={"status": sample.status.value, "to": to_status.value},
    )


def _move(
    db: Session,
    sample: SampleRequest,
    allowed: Sequence[SampleStatus],
    to_status: SampleStatus,
    values: dict[str, Any],
) -> SampleRequest:
    if sample.status not in allowed:
        raise _illegal(sample, to_status)
    changed = rows_changed(
        db.execute(
            update(SampleRequest)
            .where(SampleRequest.id == sample.id, SampleRequest.status.in_(list(allowed)))
            .values(status=to_status, **values)
        )
    )
    if changed != 1:  # changed concurrently
        db.rollback()
        db.refresh(sample)
        raise _illegal(sample, to_status)
    db.refresh(sample)
    _emit(db, sample)
    db.commit()
    db.refresh(sample)
    return sample


def approve_sample(
    db: Session, shop_id: int, sample_id: int, decided_by_user_id: int, note: str = ""
) -> SampleRequest:
    sample = sample_for_shop(db, shop_id, sample_id)
    note = _text(note, "note", MAX_NOTE)
    now: datetime = clock.now()
    return _move(
        db,
        sample,
        [SampleStatus.requested],
        SampleStatus.approved,
        {"decision_note": note, "decided_at": now, "decided_by_user_id": decided_by_user_id},
    )


def reject_sample(
    db: Session, shop_id: int, sample_id: int, decided_by_user_id: int, reason: str
) -> SampleRequest:
    """requested (or approved, before it ships) -> rejected, with the reason the creator reads."""
    sample = sample_for_shop(db, shop_id, sample_id)
    reason = _text(reason, "reason", MAX_NOTE, required=True)
    return _move(
        db,
        sample,
        [SampleStatus.requested, SampleStatus.approved],
        SampleStatus.rejected,
        {"decision_note": reason, "decided_at": clock.now(), "decided_by_user_id": decided_by_user_id},
    )


def ship_sample(
    db: Session, shop_id: int, sample_id: int, carrier_name: str, tracking_number: str
) -> SampleRequest:
    sample = sample_for_shop(db, shop_id, sample_id)
    carrier_name = _line(carrier_name, "carrier_name", MAX_CARRIER)
    tracking_number = (tracking_number or "").strip()
    if not TRACKING_NUMBER.fullmatch(tracking_number):
        raise InvalidInput(
            "a tracking number is 4 to 64 letters, digits or dashes",
            code="invalid_tracking_number",
            field="tracking_number",
        )
    return _move(
        db,
        sample,
        [SampleStatus.approved],
        SampleStatus.shipped,
        {"carrier_name": carrier_name, "tracking_number": tracking_number, "shipped_at": clock.now()},
    )


def cancel_sample(db: Session, account_id: int, sample_id: int) -> SampleRequest:
    sample = sample_for_account(db, account_id, sample_id)
    return _move(db, sample, CANCELLABLE, SampleStatus.cancelled, {"cancelled_at": clock.now()})


def confirm_received(db: Session, account_id: int, sample_id: int) -> SampleRequest:
    sample = sample_for_account(db, account_id, sample_id)
    return _move(db, sample, [SampleStatus.shipped], SampleStatus.received, {"received_at": clock.now()})
