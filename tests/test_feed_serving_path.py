"""What a feed request and the feed's refreshing do cheaply, checked against the plain way:
exclusion by lookup table, "everything anchored was bought" in one pass, the exploration pool's shop
lookup, and the heap settled once per model so the collector never walks it under traffic."""

from __future__ import annotations

import gc
import time
from types import SimpleNamespace

import numpy as np
import pytest

from tests.feed_helpers import NOW_S, synthetic_catalog
from zhongcao.feed import refreshing as feed_refreshing
from zhongcao.feed.exploration import ExplorationConfig, cold_pool
from zhongcao.feed.seen import InMemoryMemory
from zhongcao.feed.service import FeedConfig, FeedService, _all_anchors_in, _member


def test_membership_by_lookup_table_matches_isin():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 300))
        codes = rng.integers(0, n, size=int(rng.integers(0, 80)))
        members = set(rng.integers(0, n, size=int(rng.integers(1, 40))).tolist())
        expected = np.isin(codes, list(members))
        assert np.array_equal(_member(codes, members, n), expected)


def test_all_anchors_bought_matches_a_plain_loop():
    rng = np.random.default_rng(1)
    anchors = [rng.integers(100, 120, size=int(rng.integers(0, 4))).tolist() for _ in range(60)]
    catalog = synthetic_catalog(accounts=[1] * 60, shops=[10] * 60, categories=[0] * 60, anchors=anchors)
    for _ in range(30):
        codes = rng.integers(0, 60, size=int(rng.integers(0, 40)))
        bought = rng.integers(100, 120, size=int(rng.integers(1, 15)))
        expected = [bool(anchors[c]) and bool(np.isin(anchors[c], bought).all()) for c in codes.tolist()]
        assert _all_anchors_in(catalog, codes, bought).tolist() == expected


def test_exploration_pool_shop_lookup_matches_a_dict_lookup():
    rng = np.random.default_rng(2)
    n = 400
    shops = rng.integers(-1, 30, size=n).tolist()
    catalog = synthetic_catalog(
        accounts=list(range(n)),
        shops=shops,
        categories=[0] * n,
        ages_days=rng.uniform(0, 60, size=n).tolist(),
    )
    impressions = rng.integers(0, 2000, size=n)
    shown = {s: int(rng.integers(0, 3000)) for s in range(0, 30, 2)}
    config = ExplorationConfig()
    new = (NOW_S - catalog.created_s) <= config.new_days * 86_400
    rare = impressions < config.cold_impressions
    new_shop = np.asarray([s >= 0 and shown.get(s, 0) < config.cold_shop_impressions for s in shops])
    expected = np.flatnonzero(catalog.available & (new | rare | new_shop))
    assert cold_pool(catalog, impressions, shown, NOW_S, config).tolist() == expected.tolist()


def test_the_heap_is_settled_once_per_model_and_the_check_is_rate_limited(
    monkeypatch: pytest.MonkeyPatch, database
):
    """A full collection walks every tracked object (150 ms with a medium world's model loaded): the
    refreshing moves what is alive out of the collector's reach after a model loads, not on every
    catalogue refresh; and between two checks a request only reads the bundle it has."""
    settled: list[object] = []
    monkeypatch.setattr(feed_refreshing, "_settle_heap", lambda: settled.append(current[0]))
    current = [object()]
    refreshes: list[object] = []

    class Stub(FeedService):
        def _refresh_locked(self, db, model):  # type: ignore[no-untyped-def]
            self._bundle = SimpleNamespace(model=model, refreshed_at=time.monotonic())  # type: ignore[assignment]
            refreshes.append(model)

    config = FeedConfig(catalog_refresh_seconds=0.05, catch_up_seconds=0)
    service = Stub(lambda: current[0], InMemoryMemory(), config)  # type: ignore[arg-type, return-value]
    with database.session(read_only=True) as db:
        for _ in range(3):
            service.bundle(db)
            service.bundle(db)  # within the interval: no check
            time.sleep(0.06)
        assert settled == [current[0]] and len(refreshes) == 3
        current[0] = object()  # a new model version
        for _ in range(3):
            service.bundle(db)
            time.sleep(0.06)
    assert settled[-1] is current[0] and len(settled) == 2


def test_settling_the_heap_freezes_what_is_alive():
    before = gc.get_freeze_count()
    try:
        feed_refreshing._settle_heap()
        assert gc.get_freeze_count() >= before and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the test process keeps collecting as before


def test_codes_of_content_ids_by_binary_search_match_the_dict():
    catalog = synthetic_catalog(accounts=[1] * 50, shops=[10] * 50, categories=[0] * 50)
    catalog = type(catalog)(**{**catalog.__dict__, "content_ids": np.arange(3, 153, 3), "_derived": {}})
    asked = np.asarray([3, 4, 150, 151, 0, -7, 999, 30, 3])
    expected = [catalog.code_of.get(int(c), -1) for c in asked]
    assert catalog.ascending and catalog.codes(asked).tolist() == expected
    shuffled = type(catalog)(
        **{**catalog.__dict__, "content_ids": catalog.content_ids[::-1].copy(), "_derived": {}}
    )
    assert not shuffled.ascending
    assert shuffled.codes(asked).tolist() == [shuffled.code_of.get(int(c), -1) for c in asked]


def test_when_only_time_moved_a_refresh_recomputes_just_the_exploration_pool(
    monkeypatch: pytest.MonkeyPatch, db
):
    """An unchanged catalogue keeps every derived array, except the exploration pool, whose "new" window
    moves with time: it is recomputed alone every ``REDERIVE_SECONDS``."""
    from datetime import UTC, datetime, timedelta

    from zhongcao import clock
    from zhongcao.feed.catalog import Catalog
    from zhongcao.feed.service import _Bundle

    catalog = synthetic_catalog(
        accounts=[1, 2, 3], shops=[10, 10, 11], categories=[0, 0, 1], ages_days=[1, 30, 30]
    )
    monkeypatch.setattr(Catalog, "refreshed", lambda self, db, now=None: self)  # nothing changed
    model = SimpleNamespace(
        catalog=catalog, item_impressions=np.full(3, 10_000), shop_impressions={10: 10_000, 11: 10_000}
    )
    service = FeedService(lambda: model, InMemoryMemory())  # type: ignore[arg-type, return-value]
    kept = np.arange(3)
    service._bundle = _Bundle(
        model=model, version=None, catalog=catalog, collaborative=None, trending=None,  # type: ignore[arg-type]
        trending_scores=np.zeros(3), cold=np.zeros(0, dtype=np.int64), eligible=np.ones(3, dtype=bool),
        anonymous_order=kept, anonymous_rank=kept,
    )  # fmt: skip
    with clock.travel(datetime.fromtimestamp(NOW_S, tz=UTC)):
        service.refresh(db)
        assert service._bundle.cold.size == 0  # not due yet: kept as it was
        monkeypatch.setattr(feed_refreshing, "REDERIVE_SECONDS", 0.0)
        service.refresh(db)
        assert service._bundle.cold.tolist() == [0]  # published a day ago: new
        assert service._bundle.catalog is catalog and service._bundle.anonymous_order is kept
    with clock.travel(datetime.fromtimestamp(NOW_S, tz=UTC) + timedelta(days=30)):
        service.refresh(db)
        assert service._bundle.cold.size == 0  # no longer new


def test_a_catch_up_waits_for_events_older_than_its_lag_and_never_reads_a_range_twice(
    monkeypatch: pytest.MonkeyPatch,
):
    """Events are read up to ``catch_up_lag_seconds`` ago; while nothing is that old the next window
    still starts where the last one ended, so no event is counted twice or skipped."""
    from datetime import UTC, datetime, timedelta

    from zhongcao import clock

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    model = SimpleNamespace(metadata={"window": {"until": t0.isoformat()}})
    reads: list[tuple[datetime, datetime]] = []

    def fake_copy(model, store, since=None, until=None):  # type: ignore[no-untyped-def]
        reads.append((since, until))
        return None, 0

    service = FeedService(lambda: model, InMemoryMemory(), FeedConfig(catch_up_lag_seconds=30))
    monkeypatch.setattr(feed_refreshing, "catch_up_copy", fake_copy)
    with clock.frozen(t0 + timedelta(seconds=10)):  # nothing 30 s old since the window yet
        assert service.catch_up(object()) == 0  # type: ignore[arg-type]
    with clock.frozen(t0 + timedelta(seconds=100)):
        service.catch_up(object())  # type: ignore[arg-type]
    with clock.frozen(t0 + timedelta(seconds=110)):
        service.catch_up(object())  # type: ignore[arg-type]
    assert reads == [
        (t0, t0 + timedelta(seconds=70)),
        (t0 + timedelta(seconds=70), t0 + timedelta(seconds=80)),
    ]


def test_a_failing_first_load_is_a_503_with_its_reason_for_readiness():
    from zhongcao.feed.service import ModelNotReady

    def broken() -> None:
        raise OSError("model folder unreadable")

    service = FeedService(broken, InMemoryMemory(), exists=lambda: True)  # type: ignore[arg-type]
    with pytest.raises(ModelNotReady):
        service.anonymous_page(None)
    assert not service.ready and service.last_error == "OSError: model folder unreadable"
