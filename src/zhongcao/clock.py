"""The platform's notion of "now".

Every rule that depends on time (payment timeouts, campaign windows, score windows) reads
``clock.now()`` so that the simulated world can run days in seconds by moving one clock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone

# The platform's business day is China Standard Time's (UTC+8, no daylight saving): statements,
# periods and "today" are its days, as the pages show times in it.
BUSINESS_TZ = timezone(timedelta(hours=8))

_local = threading.local()
_global_override: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now, or the frozen time set by :func:`frozen`/:func:`set_now`."""
    override = getattr(_local, "override", None) or _global_override
    return override if override is not None else datetime.now(UTC)


def set_now(value: datetime | None) -> None:
    """Set (or with ``None`` clear) a process-wide frozen time, for simulations and tests."""
    global _global_override
    _global_override = _aware(value) if value is not None else None


@contextlib.contextmanager
def frozen(value: datetime) -> Iterator[None]:
    """Freeze ``now()`` for the current thread inside the block."""
    previous = getattr(_local, "override", None)
    _local.override = _aware(value)
    try:
        yield
    finally:
        _local.override = previous


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@contextlib.contextmanager
def travel(value: datetime) -> Iterator[None]:
    """Move the whole process to ``value`` inside the block (visible to server threads too)."""
    previous = _global_override
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)


def business_today() -> date:
    """Today's date in the business time zone (UTC+8)."""
    return now().astimezone(BUSINESS_TZ).date()


def business_days(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants bounding the business days ``start`` to ``end`` (both inclusive): from
    ``start``'s midnight in UTC+8 up to, not including, the midnight after ``end``."""
    since = datetime.combine(start, time(), BUSINESS_TZ).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time(), BUSINESS_TZ).astimezone(UTC)
    return since, until
