"""The admission rules, the same cases on both implementations: the Redis Lua script and the
in-process equivalent (stock, per-buyer and per-address limits, duplicates, before the start,
giving back, missing counters)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.realtime_helpers import REDIS_URL, redis_prefix  # noqa: F401 (fixture)
from zhongcao.flashsales import admission as adm

NOW = 1_800_000_000_000


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[adm.Admission]:
    if request.param == "memory":
        yield adm.MemoryAdmission()
        return
    prefix = request.getfixturevalue("redis_prefix")
    made = adm.RedisAdmission(REDIS_URL, prefix)
    yield made
    made.close()


def _load(counters: adm.Admission, *, quantity: int = 2, limit: int = 1, starts: int = NOW - 1000) -> str:
    key = uuid.uuid4().hex[:8]
    counters.load(
        key,
        adm.Counters(quantity=quantity, sold=0, limit=limit, starts_at_ms=starts, ends_at_ms=0, open=True),
    )
    return key


def test_admits_until_sold_out(counters: adm.Admission) -> None:
    key = _load(counters, quantity=2)
    first = counters.admit(key, 1, "a1", "", NOW)
    second = counters.admit(key, 2, "a2", "", NOW)
    third = counters.admit(key, 3, "a3", "", NOW)
    assert (first.outcome, first.seq, first.remaining) == (adm.ADMITTED, 1, 1)
    assert (second.outcome, second.remaining) == (adm.ADMITTED, 0)
    assert third.outcome == adm.SOLD_OUT
    assert counters.snapshot(key).remaining == 0  # type: ignore[union-attr]


def test_per_buyer_and_per_address_limits(counters: adm.Admission) -> None:
    key = _load(counters, quantity=10, limit=2)
    assert counters.admit(key, 1, "a1", "", NOW).seq == 1
    assert counters.admit(key, 1, "a1", "", NOW).seq == 2
    refused = counters.admit(key, 1, "a1", "", NOW)
    assert (refused.outcome, refused.seq) == (adm.LIMIT, 2)
    # Another account shipping to the same place: the address has had its two.
    assert counters.admit(key, 2, "a1", "", NOW).outcome == adm.ADDRESS_LIMIT
    assert counters.snapshot(key).sold == 2  # type: ignore[union-attr]


def test_a_retried_request_gets_its_first_answer(counters: adm.Admission) -> None:
    key = _load(counters, quantity=5, limit=3)
    first = counters.admit(key, 1, "a1", "req-1", NOW)
    again = counters.admit(key, 1, "a1", "req-1", NOW)
    assert (again.outcome, again.seq) == (adm.DUPLICATE, first.seq)
    assert counters.snapshot(key).sold == 1  # type: ignore[union-attr]


def test_refused_before_the_start_and_when_closed(counters: adm.Admission) -> None:
    key = _load(counters, starts=NOW + 60_000)
    early = counters.admit(key, 1, "a1", "", NOW)
    assert (early.outcome, early.starts_at_ms) == (adm.NOT_STARTED, NOW + 60_000)
    assert counters.update(key, open=True, starts_at_ms=NOW, ends_at_ms=0)
    assert counters.admit(key, 1, "a1", "", NOW).outcome == adm.ADMITTED
    assert counters.update(key, open=False, starts_at_ms=NOW, ends_at_ms=0)
    assert counters.admit(key, 2, "a2", "", NOW).outcome == adm.CLOSED


def test_missing_counters_answer_rebuilding(counters: adm.Admission) -> None:
    key = _load(counters)
    counters.forget(key)
    assert counters.admit(key, 1, "a1", "", NOW).outcome == adm.REBUILDING
    assert counters.snapshot(key) is None
    assert not counters.give_back(key, "a1")
    generation = counters.load(
        key,
        adm.Counters(
            quantity=2, sold=1, limit=1, starts_at_ms=0, ends_at_ms=0, open=True, seq_by_user={7: 1}
        ),
    )
    assert counters.snapshot(key).generation == generation  # type: ignore[union-attr]
    assert counters.admit(key, 7, "a7", "", NOW).outcome == adm.LIMIT  # the rebuilt limit holds
    assert counters.admit(key, 8, "a8", "", NOW).outcome == adm.ADMITTED
    assert counters.admit(key, 9, "a9", "", NOW).outcome == adm.SOLD_OUT


def test_giving_back_is_once_per_token(counters: adm.Admission) -> None:
    key = _load(counters, quantity=1)
    admitted = counters.admit(key, 1, "a1", "", NOW)
    assert counters.admit(key, 2, "a2", "", NOW).outcome == adm.SOLD_OUT
    # A ticket never recorded in PostgreSQL is pending until given back (once).
    assert counters.stale_pending(key, NOW) == [(1, admitted.seq)]
    assert counters.give_back(key, f"1:{admitted.seq}")
    assert not counters.give_back(key, f"1:{admitted.seq}")
    assert counters.admit(key, 2, "a2", "", NOW).outcome == adm.ADMITTED
    counters.recorded(key, 2, 1)
    assert counters.stale_pending(key, NOW) == []
    assert counters.give_back(key, "a42") and not counters.give_back(key, "a42")
    assert counters.snapshot(key).remaining == 1  # type: ignore[union-attr]


def test_without_an_address_a_refusal_needs_none_and_a_unit_asks_for_it(counters: adm.Admission) -> None:
    key = _load(counters, quantity=1, limit=1)
    asked = counters.admit(key, 1, "", "", NOW)
    assert (asked.outcome, asked.remaining) == (adm.NEED_ADDRESS, 1)
    assert counters.snapshot(key).sold == 0  # type: ignore[union-attr]  # nothing was taken
    assert counters.admit(key, 1, "a1", "", NOW).outcome == adm.ADMITTED
    # Sold out and the buyer's own limit are answered without the address.
    assert counters.admit(key, 2, "", "", NOW).outcome == adm.SOLD_OUT
    assert counters.admit(key, 1, "", "", NOW).outcome == adm.LIMIT
