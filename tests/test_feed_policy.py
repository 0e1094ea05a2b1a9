"""The feed policy interface and its baseline, popular + followed, on small arrays."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.feed.policy import FeedCorpus, FeedPolicy, FeedSignals, PopularFollowedFeed
from zhongcao.feed.policy_registry import get_policy


def _corpus(n: int = 60, accounts: int = 6) -> FeedCorpus:
    ids = np.arange(100, 100 + n, dtype=np.int64)
    return FeedCorpus(
        content_ids=ids,
        account_ids=(ids % accounts).astype(np.int64),
        topic_index=np.zeros(n, dtype=np.int64),
        available=np.ones(n, dtype=bool),
    )


def _signals(pairs: list[tuple[int, int]], engaged: dict[int, float] | None = None) -> FeedSignals:
    engaged = engaged or {}
    return FeedSignals(
        follow_user_ids=np.asarray([u for u, _ in pairs], dtype=np.int64),
        follow_account_ids=np.asarray([a for _, a in pairs], dtype=np.int64),
        engaged_content_ids=np.asarray(sorted(engaged), dtype=np.int64),
        engaged_weight=np.asarray([engaged[c] for c in sorted(engaged)], dtype=np.float64),
    )


def test_registered_by_name_and_implements_the_interface() -> None:
    policy = get_policy("popular_followed")
    assert isinstance(policy, FeedPolicy)
    with pytest.raises(ValueError, match="unknown feed policy"):
        get_policy("nope")


def test_half_the_page_comes_from_followed_accounts() -> None:
    corpus = _corpus()
    policy = PopularFollowedFeed(followed_share=0.5)
    policy.fit(corpus, _signals([(1, 3), (2, 4), (2, 5)]))
    page = policy.recommend(np.asarray([1, 2, 9]), 10, np.random.default_rng(0))
    assert page.shape == (3, 10)
    account_of = dict(zip(corpus.content_ids.tolist(), corpus.account_ids.tolist(), strict=True))
    first_half = [account_of[c] for c in page[0, :5] if c >= 0]
    assert first_half and set(first_half) == {3}
    assert {account_of[c] for c in page[1, :5] if c >= 0} <= {4, 5}
    # A user who follows nobody gets popular items only, and never the same item twice on a page.
    for row in page:
        shown = row[row >= 0]
        assert len(shown) == len(set(shown.tolist()))


def test_popular_items_come_first_and_unavailable_items_never_show() -> None:
    corpus = _corpus()
    hidden = corpus.available.copy()
    hidden[:10] = False  # ids 100..109 are not available (e.g. a live room that is not on air)
    corpus = FeedCorpus(corpus.content_ids, corpus.account_ids, corpus.topic_index, hidden)
    engaged = {150: 500.0, 151: 500.0, 100: 10_000.0}  # 100 is hugely engaged but unavailable
    policy = PopularFollowedFeed(followed_share=0.0, pool=20)
    policy.fit(corpus, _signals([], engaged))
    page = policy.recommend(np.arange(200), 5, np.random.default_rng(1))
    shown = page[page >= 0]
    assert not np.isin(shown, np.arange(100, 110)).any()
    counts = np.bincount(shown - 100, minlength=60)
    assert counts[50] > 3 * np.median(counts[counts > 0]) and counts[51] > 3 * np.median(counts[counts > 0])


def test_corpus_must_be_sorted() -> None:
    corpus = _corpus()
    shuffled = FeedCorpus(
        corpus.content_ids[::-1].copy(), corpus.account_ids, corpus.topic_index, corpus.available
    )
    with pytest.raises(ValueError, match="sorted"):
        PopularFollowedFeed().fit(shuffled, _signals([]))


def test_experience_policy_gates_poor_shops_and_gmv_policy_follows_sales() -> None:
    from zhongcao.feed.policy import ExperienceAwareFeed, GmvFeed

    base = _corpus(n=60, accounts=6)
    shops = (base.content_ids % 3).astype(np.int64)  # shops 0, 1, 2 anchor 20 items each
    corpus = FeedCorpus(base.content_ids, base.account_ids, base.topic_index, base.available, shop_ids=shops)
    signals = FeedSignals(
        follow_user_ids=np.zeros(0, dtype=np.int64),
        follow_account_ids=np.zeros(0, dtype=np.int64),
        engaged_content_ids=np.zeros(0, dtype=np.int64),
        engaged_weight=np.zeros(0),
        shop_score_centi={0: 480, 1: 330, 2: None},  # excellent, below the gate, not scored yet
        shop_gmv_fen={0: 0, 1: 5_000_000, 2: 0},  # the poor shop sells the most
    )

    def exposure(policy: PopularFollowedFeed) -> np.ndarray:
        policy.fit(corpus, signals)
        page = policy.recommend(np.arange(2_000), 5, np.random.default_rng(2))
        shown = page[page >= 0]
        return np.bincount(shown % 3, minlength=3) / len(shown)

    fair = exposure(PopularFollowedFeed(followed_share=0.0))
    north_star = exposure(ExperienceAwareFeed(followed_share=0.0))
    bought = exposure(GmvFeed(followed_share=0.0))
    assert abs(fair[0] - fair[1]) < 0.05  # plain popularity: shops alike
    assert north_star[1] < 0.5 * fair[1]  # below the gate: capped exposure
    assert north_star[0] > fair[0]  # a great score is a boost
    assert north_star[2] > 0.1  # a shop not scored yet is still seen
    assert bought[1] > 2 * fair[1]  # GMV buys exposure, whatever the experience
