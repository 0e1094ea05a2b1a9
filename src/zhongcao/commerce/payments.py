"""The payment provider interface, and the built-in simulated provider.

The interface is the one real payment service providers expose: authorise an amount against a
payment method, capture (all or part of) it, void an uncaptured authorisation, refund captured
money. Every call carries an idempotency key; repeating a call with the same key returns the
first result and moves no money twice.

The simulated provider keeps its own ledger in ``sim_provider_charges``/``sim_provider_refunds``,
as an external provider would, and declines on purpose for test payment methods:

==========================  ============================================
payment method              result
==========================  ============================================
``pm_card_ok`` (or other)   approved
``pm_card_declined``        declined, code ``card_declined``
``pm_card_insufficient``    declined, code ``insufficient_funds``
``pm_card_expired``         declined, code ``expired_card``
``pm_provider_error``       provider unavailable (raises ProviderUnavailable)
==========================  ============================================
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from zhongcao.commerce.models import SimulatedCharge, SimulatedRefund
from zhongcao.db import rows_changed

DECLINES = {
    "pm_card_declined": "card_declined",
    "pm_card_insufficient": "insufficient_funds",
    "pm_card_expired": "expired_card",
}
UNAVAILABLE = "pm_provider_error"


class ProviderUnavailable(Exception):
    """The provider could not be reached; nothing was charged. Safe to retry with the same key."""


class ProviderRejected(Exception):
    """A request the provider refuses (capture more than authorised, refund more than captured)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Authorization:
    ref: str
    approved: bool
    amount_fen: int
    decline_code: str | None = None
    # True when this call made the authorisation (not a replay of its key): nothing of ours can
    # refer to it yet. A provider that cannot tell leaves it False.
    fresh: bool = False


@dataclass(frozen=True)
class RefundResult:
    ref: str
    amount_fen: int


class PaymentProvider(Protocol):
    name: str

    def authorize(
        self, db: Session, *, amount_fen: int, payment_method: str, idempotency_key: str
    ) -> Authorization: ...

    def capture(self, db: Session, *, ref: str, amount_fen: int) -> None: ...

    def void(self, db: Session, *, ref: str) -> None: ...

    def refund(self, db: Session, *, ref: str, amount_fen: int, idempotency_key: str) -> RefundResult: ...


class SimulatedProvider:
    """Deterministic provider for the embedded platform, the demo world and tests."""

    name = "simulated"

    def authorize(
        self, db: Session, *, amount_fen: int, payment_method: str, idempotency_key: str
    ) -> Authorization:
        if amount_fen < 0:
            raise ProviderRejected("invalid_amount", "amount must not be negative")
        if payment_method == UNAVAILABLE:
            existing = self._by_key(db, idempotency_key)
            if existing is not None:
                return _authorization(existing)
            raise ProviderUnavailable("the simulated provider is unavailable for this payment method")
        decline = DECLINES.get(payment_method)
        ref = "ch_" + secrets.token_hex(12)
        # One round trip: the insert either makes the charge or, for a key already used (a retry, or
        # a concurrent request with the same key: the first one wins), does nothing.
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        made = db.scalar(
            insert(SimulatedCharge)
            .values(
                ref=ref,
                idempotency_key=idempotency_key,
                payment_method=payment_method,
                amount_fen=amount_fen,
                status="declined" if decline else "authorized",
                decline_code=decline,
            )
            .on_conflict_do_nothing(index_elements=[SimulatedCharge.idempotency_key])
            .returning(SimulatedCharge.id)
        )
        if made is not None:
            return Authorization(
                ref=ref, approved=decline is None, amount_fen=amount_fen, decline_code=decline, fresh=True
            )
        existing = self._by_key(db, idempotency_key)
        assert existing is not None
        return _authorization(existing)

    @staticmethod
    def _by_key(db: Session, idempotency_key: str) -> SimulatedCharge | None:
        return db.scalar(select(SimulatedCharge).where(SimulatedCharge.idempotency_key == idempotency_key))

    def capture(self, db: Session, *, ref: str, amount_fen: int) -> None:
        result = db.execute(
            update(SimulatedCharge)
            .where(
                SimulatedCharge.ref == ref,
                SimulatedCharge.status.in_(("authorized", "captured")),
                SimulatedCharge.amount_fen >= amount_fen,
            )
            .values(captured_fen=amount_fen, status="captured")
            .execution_options(synchronize_session=False)
        )
        if rows_changed(result) != 1:
            raise ProviderRejected("capture_refused", "the charge is not capturable for that amount")

    def void(self, db: Session, *, ref: str) -> None:
        db.execute(
            update(SimulatedCharge)
            .where(SimulatedCharge.ref == ref, SimulatedCharge.status == "authorized")
            .values(status="voided")
            .execution_options(synchronize_session=False)
        )

    def refund(self, db: Session, *, ref: str, amount_fen: int, idempotency_key: str) -> RefundResult:
        if amount_fen <= 0:
            raise ProviderRejected("invalid_amount", "refund amount must be positive")
        existing = db.scalar(
            select(SimulatedRefund).where(SimulatedRefund.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return RefundResult(ref=existing.ref, amount_fen=existing.amount_fen)
        result = db.execute(
            update(SimulatedCharge)
            .where(
                SimulatedCharge.ref == ref,
                SimulatedCharge.status == "captured",
                SimulatedCharge.refunded_fen + amount_fen <= SimulatedCharge.captured_fen,
            )
            .values(refunded_fen=SimulatedCharge.refunded_fen + amount_fen)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(result) != 1:
            raise ProviderRejected("refund_refused", "refund exceeds what is left of the captured amount")
        row = SimulatedRefund(
            ref="re_" + secrets.token_hex(12),
            charge_ref=ref,
            idempotency_key=idempotency_key,
            amount_fen=amount_fen,
        )
        db.add(row)
        db.flush()
        return RefundResult(ref=row.ref, amount_fen=amount_fen)


def _authorization(charge: SimulatedCharge) -> Authorization:
    return Authorization(
        ref=charge.ref,
        approved=charge.status != "declined",
        amount_fen=charge.amount_fen,
        decline_code=charge.decline_code,
    )


_provider: PaymentProvider = SimulatedProvider()


def get_provider() -> PaymentProvider:
    return _provider


def set_provider(provider: PaymentProvider) -> None:
    """Swap the provider (a real PSP adapter, or a fake in tests)."""
    global _provider
    _provider = provider
