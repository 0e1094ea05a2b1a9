"""The trained feed behind the FeedPolicy interface: the market simulation runs on the real model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.feed import policy_registry as feed_policy
from zhongcao.feed.policy import FeedCorpus, FeedPolicy, FeedSignals, PopularFollowedFeed
from zhongcao.feed.policy_registry import get_policy
from zhongcao.feed.trained_policy import TrainedFeed, _limit_for
from zhongcao.feed.training import TrainConfig
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.service import build_world

QUICK = TrainConfig(rounds=10, threads=1, als_iterations=4)


def _corpus(n: int = 40) -> FeedCorpus:
    ids = np.arange(1, n + 1, dtype=np.int64)
    return FeedCorpus(ids, ids % 5, np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


def _signals() -> FeedSignals:
    none = np.zeros(0, dtype=np.int64)
    return FeedSignals(none, none, none, np.zeros(0))


class Recording(TrainedFeed):
    """Remembers, per simulated day, whether a model served and whether anything unavailable did."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.days: list[tuple[int, bool]] = []
        self.unavailable_served: list[int] = []
        self.model_pages = 0

    def fit(self, corpus: FeedCorpus, signals: FeedSignals) -> None:
        super().fit(corpus, signals)
        self.corpus = corpus
        assert self._clock is not None
        self.days.append(((self._clock() - self.days_start).days, self.model is not None))

    def recommend(self, user_ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        page = super().recommend(user_ids, k, rng)
        shown = page[page >= 0]
        ok = self.corpus.content_ids[self.corpus.available]
        self.unavailable_served.extend(shown[~np.isin(shown, ok)].tolist())
        if self.model is not None:
            self.model_pages += len(user_ids)
        return page

    def attach(self, **kwargs: object) -> None:
        super().attach(**kwargs)  # type: ignore[arg-type]
        self.days_start = self._clock()  # type: ignore[misc]


def test_registered_by_name_and_implements_the_interface() -> None:
    policy = get_policy("trained")
    try:
        assert isinstance(policy, FeedPolicy) and isinstance(policy, TrainedFeed)
        assert policy.name == "trained" and "trained" in feed_policy.POLICIES
        # The documented schedule (docs/feed.md): a week of baseline, then weekly trainings.
        assert (policy.warmup_days, policy.retrain_days) == (7, 7)
    finally:
        policy.close()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="warmup_days"):
        TrainedFeed(warmup_days=0)


def test_without_a_platform_it_serves_the_baseline() -> None:
    trained, baseline = TrainedFeed(), PopularFollowedFeed()
    try:
        for _ in range(10):  # ten "days": no platform attached, so never a model
            trained.fit(_corpus(), _signals())
        baseline.fit(_corpus(), _signals())
        users = np.arange(30, dtype=np.int64)
        ours = trained.recommend(users, 8, np.random.default_rng(3))
        theirs = baseline.recommend(users, 8, np.random.default_rng(3))
        assert trained.model is None and trained.trainings == []
        np.testing.assert_array_equal(ours, theirs)
    finally:
        trained.close()


def test_a_failed_training_keeps_the_baseline_and_is_retried(database: Database, tmp_path: Path) -> None:
    store = SegmentEventStore(tmp_path / "events")  # no events: nothing to train on
    day = [datetime(2030, 1, 1, tzinfo=UTC)]
    policy = TrainedFeed(warmup_days=1, config=QUICK, models_root=tmp_path / "models")
    policy.attach(database=database, store=store, clock=lambda: day[0])
    for d in (1, 2, 3):
        day[0] = datetime(2030, 1, d, tzinfo=UTC)
        policy.fit(_corpus(), _signals())
    assert [t.day for t in policy.trainings] == [1, 2]  # due from day 1, retried the day after
    assert all(t.error and "empty" in t.error for t in policy.trainings)
    assert policy.model is None
    page = policy.recommend(np.arange(5, dtype=np.int64), 6, np.random.default_rng(0))
    assert page.shape == (5, 6) and (page >= 0).any()


def test_pages_are_asked_long_enough_for_k_content_items_beside_product_cards() -> None:
    assert _limit_for(20, 8) == 22  # product cards at positions 7 and 15
    assert _limit_for(7, 8) == 7
    assert _limit_for(20, 0) == 20
    assert _limit_for(60, 8) == 50  # capped at the API's limit


@pytest.mark.slow  # simulates days of a world, training on schedule
def test_a_simulation_on_the_trained_feed_trains_on_schedule_and_serves_only_available_content(
    database: Database, tmp_path: Path
) -> None:
    policy = Recording(warmup_days=2, retrain_days=2, config=QUICK, models_root=tmp_path / "models")
    store = SegmentEventStore(tmp_path / "events")
    summary = build_world(
        database,
        WorldSpec(scale=Scale.tiny, seed=4, days=5),
        fresh=True,
        progress=False,
        world_dir=tmp_path / "world",
        store=store,
        feed_policy=policy,
    )
    # The baseline on days 0 and 1, a model from day 2 (trained then), retrained on day 4.
    assert policy.days == [(0, False), (1, False), (2, True), (3, True), (4, True)]
    assert [(t.day, t.error) for t in policy.trainings] == [(2, None), (4, None)]
    assert all(t.rows > 0 and t.events > 0 for t in policy.trainings)
    assert policy.model_pages > 0 and policy.pages == policy.model_pages
    assert policy.unavailable_served == []
    assert policy.short_pages == 0
    counts = summary.simulation["counts"]
    assert counts["events_impression"] > 0 and counts["orders_paid"] > 0
    assert summary.simulation["phase_seconds"]["feed policy"] > 0

    # Availability is the simulation's: with all but a few items unavailable, only those come back.
    corpus = policy.corpus
    few = np.zeros(len(corpus.content_ids), dtype=bool)
    few[::25] = True
    narrow = FeedCorpus(corpus.content_ids, corpus.account_ids, corpus.topic_index, few, corpus.shop_ids)
    policy.fit(narrow, _signals())
    page = policy.recommend(np.arange(1, 200, dtype=np.int64), 10, np.random.default_rng(5))
    shown = page[page >= 0]
    assert len(shown) and np.isin(shown, corpus.content_ids[few]).all()
    assert policy.unavailable_served == []
    # Nothing served comes back while the user remembers it (the feed's no-repeat memory).
    again = policy.recommend(np.arange(1, 200, dtype=np.int64), 10, np.random.default_rng(6))
    for first, second in zip(page, again, strict=True):
        assert not set(first[first >= 0].tolist()) & set(second[second >= 0].tolist())


@pytest.mark.slow  # simulates days of a world, training on schedule
def test_the_comparison_runs_the_trained_feed_against_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zhongcao.world.compare import compare_policies

    # Two days of warm-up: the first simulated day has no 24 hours of events to label with.
    monkeypatch.setitem(
        feed_policy.POLICIES, "trained", lambda: TrainedFeed(warmup_days=2, retrain_days=7, config=QUICK)
    )
    baseline, trained = compare_policies(
        ["popular_followed", "trained"], scale=Scale.tiny, days=4, seed=9, workdir=tmp_path
    )
    assert trained.notes.startswith("trained on day 2 (") and "failed" not in trained.notes
    assert baseline.notes == "" and baseline.feed_seconds < trained.feed_seconds
    for outcome in (baseline, trained):
        assert outcome.orders > 0 and outcome.gmv_fen == sum(outcome.gmv_by_week_fen) > 0
