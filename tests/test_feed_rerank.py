"""Re-ranking: the experience gate and boost, diversity, frequency caps, the integrity hook."""

from __future__ import annotations

import numpy as np
import pytest

from tests.feed_helpers import synthetic_catalog
from zhongcao.feed.rerank import RerankConfig, experience, integrity_hook, rerank, set_integrity_hook


@pytest.fixture(autouse=True)
def _no_installed_hook():
    """These tests rank with the no-op hook: an app another test created in this process installed
    its own (the published flag set of its models folder, which may hold flags)."""
    set_integrity_hook(None)
    yield
    set_integrity_hook(None)


def _catalog(scores: dict[int, int | None]):
    # Items 0-3 from shop 10, 4-7 from shop 11, 8-9 from shop 12; one account per item.
    return synthetic_catalog(
        accounts=list(range(1, 11)),
        shops=[10] * 4 + [11] * 4 + [12] * 2,
        categories=[0, 1, 2] * 3 + [0],
        shop_scores=scores,
    )


def test_gate_below_threshold_no_boost_and_capped_exposure():
    catalog = _catalog({10: 250, 11: 480, 12: None})
    config = RerankConfig(gate=4.0, boost=0.5, gated_per_page=1, per_shop=10, per_category=1.0)
    codes = np.arange(10)
    scores = np.where(np.arange(10) < 4, 10.0, 1.0)  # the gated shop's items score highest
    page, _ = rerank(catalog, codes, scores, 6, config)
    assert sum(1 for c in page if catalog.shop_ids[c] == 10) == 1
    multiplier, gated = experience(np.asarray([2.5, 4.8, np.nan]), config)
    assert gated.tolist() == [True, False, False]
    assert multiplier[0] == 1.0 and multiplier[2] == 1.0  # no boost below the gate; unscored is neutral
    assert np.isclose(multiplier[1], 1.4)


def test_boost_reorders_equal_scores_by_experience():
    catalog = _catalog({10: 420, 11: 490, 12: None})
    page, adjusted = rerank(catalog, np.asarray([0, 4, 8]), np.ones(3), 3, RerankConfig())
    assert page.tolist() == [4, 0, 8]
    assert adjusted[0] > adjusted[1] > adjusted[2]


def test_unscored_shops_are_neither_gated_nor_boosted():
    catalog = _catalog({})
    page, adjusted = rerank(catalog, np.arange(10), np.linspace(2, 1, 10), 10, RerankConfig(per_shop=10))
    assert len(page) == 10
    assert np.allclose(sorted(adjusted, reverse=True), np.linspace(2, 1, 10))


def test_diversity_caps_per_shop_and_category_then_fills():
    catalog = _catalog({})
    config = RerankConfig(per_shop=2, per_account=1, per_category=0.5)
    page, _ = rerank(catalog, np.arange(10), np.linspace(10, 1, 10), 4, config)
    shops = catalog.shop_ids[page].tolist()
    assert max(shops.count(s) for s in set(shops)) <= 2
    full, _ = rerank(catalog, np.arange(4), np.ones(4), 4, config)  # only one shop: caps relax to fill
    assert len(full) == 4


def test_frequency_cap_skips_accounts_seen_often_recently():
    catalog = _catalog({})
    config = RerankConfig(account_cap=2, per_shop=10, per_category=1.0)
    recent = [0, 0, 5]  # account of item 0 appeared twice in recently served items
    page, _ = rerank(catalog, np.arange(10), np.linspace(10, 1, 10), 5, config, recent_served=recent)
    assert 0 not in page
    assert 5 in page  # once is below the cap


def test_integrity_hook_demotes_and_drops_flagged_items():
    catalog = _catalog({})

    class Flagged:
        def multipliers(self, catalog, codes):  # type: ignore[no-untyped-def]
            return np.where(codes == 0, 0.0, np.where(codes == 1, 0.1, 1.0))

    config = RerankConfig(per_shop=10, per_category=1.0)
    set_integrity_hook(Flagged())
    try:
        page, _ = rerank(catalog, np.arange(10), np.linspace(10, 1, 10), 10, config)
    finally:
        set_integrity_hook(None)
    assert 0 not in page
    assert page.tolist().index(1) > 5
    assert (integrity_hook().multipliers(catalog, np.arange(3)) == 1).all()  # the no-op default is back
