"""Each candidate source of the feed on small hand-made data."""

from __future__ import annotations

import numpy as np

from tests.feed_helpers import NOW_S, synthetic_catalog
from zhongcao.feed.campaign_slots import campaign_candidates
from zhongcao.feed.collaborative import Collaborative, fold_in
from zhongcao.feed.covisit import ItemToItem
from zhongcao.feed.exploration import ExplorationConfig, cold_pool, explore, slots
from zhongcao.feed.followed import followed_candidates
from zhongcao.feed.interactions import from_lists
from zhongcao.feed.live import live_candidates
from zhongcao.feed.next_items import next_item_candidates
from zhongcao.feed.sources import Source
from zhongcao.feed.trending import Trending


def test_collaborative_serves_the_best_dot_products_from_the_ann_index():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(60, 8)).astype(np.float32)  # 50 content items, then 10 products
    user = factors[7] * 3
    collaborative = Collaborative(factors, n_content=50)
    found = collaborative.content(user, 5)
    exact = np.argsort(-(factors[:50] @ user))[:5]
    assert found.source is Source.collaborative
    assert found.codes[0] == exact[0]
    assert set(found.codes.tolist()) >= set(exact[:3].tolist())
    assert exact[0] not in collaborative.content(user, 5, exclude={int(exact[0])}).codes
    products, _ = collaborative.products(user, 3)
    assert set(products.tolist()) <= set(range(10))
    assert np.allclose(fold_in(factors, np.asarray([1, 2])), factors[[1, 2]].mean(axis=0))


def test_next_items_follow_transitions_and_update_incrementally():
    i2i = ItemToItem(window=2).fit(from_lists([[0, 1, 2], [0, 1, 3], [4, 5]], n_items=8))
    found = next_item_candidates(i2i, from_lists([[0]], n_items=8), n_content=6, k=3)
    assert found.codes[0] == 1  # 1 always came after 0
    assert 0 not in found.codes
    # New events: 0 -> 5 twice; the counts move without a refit.
    i2i.update(np.asarray([0, 0, 1, 1]), np.asarray([0, 5, 0, 5]))
    again = next_item_candidates(i2i, from_lists([[0]], n_items=8), n_content=6, k=3)
    assert 5 in again.codes
    # Product codes (>= n_content) are never offered as content.
    assert (next_item_candidates(i2i, from_lists([[4]], n_items=8), n_content=5, k=5).codes < 5).all()


def test_followed_accounts_fresh_content_comes_first():
    catalog = synthetic_catalog(
        accounts=[1, 1, 2, 3, 1],
        shops=[-1] * 5,
        categories=[0, 0, 1, 2, 0],
        ages_days=[10, 0.5, 0.1, 0.1, 2],
        status=[0, 0, 0, 0, 3],  # the last one was removed
    )
    found = followed_candidates(catalog, np.asarray([1]), NOW_S, k=10)
    assert found.codes.tolist() == [1, 0]  # newest first, removed item gone, other accounts absent
    assert (found.because == 1).all()
    assert len(followed_candidates(catalog, np.asarray([], dtype=np.int64), NOW_S, 10)) == 0


def test_live_rooms_on_air_only_weighted_by_interest():
    catalog = synthetic_catalog(
        accounts=[1, 2, 3, 4],
        shops=[-1] * 4,
        categories=[0, 1, 2, 1],
        live=[True, True, True, False],
        status=[1, 1, 0, 0],  # two rooms on air, one scheduled, one video
    )
    found = live_candidates(catalog, np.asarray([0.0, 1.0, 0.0], dtype=np.float32), np.asarray([]), 10)
    assert found.codes.tolist() == [1, 0]  # the room in the user's category first; scheduled room absent
    followed = live_candidates(catalog, np.asarray([0.0, 0.1, 0.0], dtype=np.float32), np.asarray([1]), 10)
    assert followed.codes[0] == 0


def test_trending_in_the_users_categories_near_their_price():
    catalog = synthetic_catalog(
        accounts=list(range(1, 7)),
        shops=[-1] * 6,
        categories=[0, 0, 0, 1, 1, 2],
        prices=[10_000, 1_000_000, 12_000, 10_000, 10_000, 10_000],
    )
    trending = Trending(catalog, np.asarray([5.0, 9.0, 1.0, 3.0, 2.0, 8.0]))
    interest = np.asarray([0.8, 0.2, 0.0], dtype=np.float32)
    found, banded = trending.candidates(interest, float(np.log1p(100.0)), k=3)
    assert found.source is Source.trending
    assert found.codes[0] == 0  # the hottest beauty item near ¥100, before the hotter ¥10,000 one
    assert banded[0]
    assert found.because[0] == 0
    assert 5 not in found.codes[:2]  # a category the user never touched does not lead


def test_exploration_share_is_bounded_and_exact_in_expectation():
    rng = np.random.default_rng(0)
    counts = [slots(0.15, 10, rng) for _ in range(4000)]
    assert set(counts) <= {1, 2}  # floor(1.5) or ceil(1.5), never more
    assert abs(np.mean(counts) / 10 - 0.15) < 0.01
    assert {slots(0.0, 10, rng) for _ in range(100)} == {0}


def test_exploration_pool_is_new_content_and_new_shops():
    catalog = synthetic_catalog(
        accounts=[1, 2, 3, 4],
        shops=[10, 10, 11, -1],
        categories=[0, 0, 1, 2],
        ages_days=[30, 1, 30, 30],
    )
    impressions = np.asarray([500, 500, 500, 5])
    pool = cold_pool(catalog, impressions, {10: 5000, 11: 50}, NOW_S, ExplorationConfig())
    # 1 is new, 2 belongs to a shop with little exposure, 3 was rarely shown; 0 is proven.
    assert pool.tolist() == [1, 2, 3]
    picked = explore(
        catalog, pool, np.asarray([1.0, 0, 0], dtype=np.float32), 2, np.random.default_rng(0), {1}
    )
    assert 1 not in picked.codes and len(picked) == 2


def test_campaign_slots_take_campaign_items_of_eligible_shops():
    catalog = synthetic_catalog(
        accounts=[1, 2, 3],
        shops=[10, 11, 12],
        categories=[0, 1, 0],
        anchors=[[100], [101], [102]],
        campaign_products=frozenset({100, 101}),
    )
    eligible = np.asarray([True, False, True])
    found = campaign_candidates(
        catalog, np.asarray([0.5, 0.5, 0.0], dtype=np.float32), np.ones(3), eligible, 2
    )
    assert found.codes.tolist() == [0]  # 1 is in the campaign but its shop fails the gate; 2 is not in it
    assert found.source is Source.campaign
