"""How commerce commands end their transaction, and the errors that decide it.

A top-level command either commits everything it did or nothing. Two kinds of error are special:

* :class:`KeepsChanges` errors report a refusal whose side effects must stay: a declined card
  leaves a failed ``Payment`` row; paying an expired checkout cancels it (releasing stock, coupons
  and budget) and then says so. The work is committed, then the error is raised.
* :class:`ServiceUnavailable` (503) says a dependency was unreachable and nothing changed; the
  idempotency layer forgets the key so that a retry may run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session

from zhongcao.errors import Conflict, DomainError, PaymentFailed

T = TypeVar("T")


class KeepsChanges:
    """Mixed into a DomainError whose side effects are committed before it is reported."""

    keep_changes = True


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"


class PaymentDeclined(KeepsChanges, PaymentFailed):
    """The provider declined; the failed Payment row is kept and the checkout stays payable."""


class CheckoutExpired(KeepsChanges, Conflict):
    """The checkout ran out of time; it has been cancelled and everything it held released."""


def keeps_changes(exc: BaseException) -> bool:
    return bool(getattr(exc, "keep_changes", False))


def run(db: Session, commit: bool, work: Callable[[], T]) -> T:
    """Run ``work``; with ``commit`` end the transaction: commit on success, roll back on error
    (commit first for :class:`KeepsChanges` errors). Without ``commit`` the caller decides."""
    if not commit:
        return work()
    try:
        result = work()
    except DomainError as exc:
        if keeps_changes(exc):
            db.commit()
        else:
            db.rollback()
        raise
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return result


def each_in_own_transaction(db: Session, ids: Sequence[int], step: Callable[[int], bool]) -> int:
    """For jobs: run ``step`` on each id in a transaction of its own. A step returns True when it
    acted (committed) and False when, re-checked under its locks, there was nothing to do (rolled
    back). An error rolls back and stops the job. Returns how many steps were committed."""
    db.rollback()
    done = 0
    for id_ in ids:
        try:
            if step(id_):
                db.commit()
                done += 1
            else:
                db.rollback()
        except BaseException:
            db.rollback()
            raise
    return done
