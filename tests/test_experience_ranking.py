"""The score's ranking and advice are right where ties and directions make them tricky: a category
where most shops have no complaints at all, lower- and higher-is-better indicators, shops already at
the best, and indicators a shop has no data for."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.experience.scoring import (
    INDICATORS,
    ScoreConfig,
    ScoreRules,
    ShopInputs,
    score_shops,
    top_quarter_target,
)

BASE = {
    "bad_review_rate": 0.02,
    "quality_refund_rate": 0.01,
    "pickup_timeliness": 0.9,
    "delivery_hours": 50.0,
    "complaint_rate": 0.0,
    "dispute_rate": 0.0,
    "cs_3min_share": 0.8,
    "aftersales_hours": 20.0,
}


def _shop(shop_id: int, **values: float | None) -> ShopInputs:
    return ShopInputs(shop_id, 1, 100, {**BASE, **values})


def _by_key(result, key: str) -> dict:
    return next(i for i in result.details["indicators"] if i["key"] == key)


def _category_mostly_without_complaints() -> dict:
    # Ten shops alike but for complaints: eight have none, one 0.8%, one 1.2%.
    shops = [_shop(i) for i in range(1, 9)]
    shops += [_shop(9, complaint_rate=0.008), _shop(10, complaint_rate=0.012)]
    return {r.shop_id: r for r in score_shops(shops)}


def test_a_perfect_complaint_rate_ranks_at_the_top_when_most_shops_share_it() -> None:
    results = _category_mostly_without_complaints()
    for shop_id in range(1, 9):
        assert _by_key(results[shop_id], "complaint_rate")["percentile"] == 100.0
    assert _by_key(results[9], "complaint_rate")["percentile"] == pytest.approx(100 / 9, abs=0.1)
    assert _by_key(results[10], "complaint_rate")["percentile"] == 0.0
    # Everything else is tied: the shops without complaints are at the top on every indicator.
    assert results[1].score_centi == 500
    assert results[10].score_centi < results[9].score_centi < results[1].score_centi


def test_the_advice_lowers_a_lower_is_better_rate_to_a_value_peers_reached() -> None:
    results = _category_mostly_without_complaints()
    advice = results[10].details["improve_first"]
    assert advice["key"] == "complaint_rate" and advice["direction"] == "lower"
    assert advice["from_value"] == 0.012 and advice["to_value"] == 0.0
    assert advice["to_value"] < advice["from_value"]
    assert advice["to_percentile"] == 100.0
    # The gain is what the move is worth: service weighs 35%, shared by its four measured indicators.
    assert advice["score_gain_points"] == pytest.approx(0.35 / 4 * 1.0 * 2, abs=1e-3)
    # Shops with no complaints are told nothing: they are at the best already.
    assert "improve_first" not in results[1].details
    assert "top_quartile_value" not in _by_key(results[1], "complaint_rate")


def test_the_advice_raises_a_higher_is_better_share() -> None:
    shops = [_shop(i, cs_3min_share=0.5 + 0.05 * i) for i in range(1, 9)]  # 0.55 … 0.90
    results = {r.shop_id: r for r in score_shops(shops)}
    advice = results[1].details["improve_first"]
    assert advice["key"] == "cs_3min_share" and advice["direction"] == "raise"
    assert advice["to_value"] > advice["from_value"] == pytest.approx(0.55)
    # The first value that reaches the top quarter among eight: 0.80 beats 5 of the 7 others (71%),
    # 0.85 beats 6 (86%).
    assert advice["to_value"] == pytest.approx(0.85)
    assert advice["to_percentile"] == pytest.approx(6 / 7 * 100, abs=0.1)
    assert "improve_first" not in results[8].details  # the best reply share


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_the_target_is_reached_by_a_peer_and_ranks_in_the_top_quarter(lower_is_better: bool) -> None:
    rng = np.random.default_rng(3)
    for n in range(2, 40):
        values = rng.integers(0, 6, n).astype(float)  # many ties
        target = top_quarter_target(values, lower_is_better)
        assert target is not None and target.value in values
        goodness = -values if lower_is_better else values
        g = -target.value if lower_is_better else target.value
        # A shop moving there is at least as good as this share of the others.
        assert target.percentile == pytest.approx(((goodness <= g).sum() - 1) / (n - 1) * 100)
        assert target.percentile >= 75
    assert top_quarter_target(np.asarray([0.3]), True) is None


def test_no_advice_names_a_move_that_is_no_move() -> None:
    # Ties around the quartile: the old rule advised "from 0.00% to 0.00%".
    shops = [_shop(i, complaint_rate=0.0 if i <= 5 else 0.01) for i in range(1, 9)]
    for result in score_shops(shops):
        for entry in result.details["indicators"]:
            if "top_quartile_value" in entry:
                assert entry["top_quartile_value"] != entry["value"]
        advice = result.details.get("improve_first")
        if advice:
            assert advice["to_value"] != advice["from_value"]
            moved_down = advice["to_value"] < advice["from_value"]
            assert moved_down == (advice["direction"] == "lower")


def test_an_indicator_without_data_says_why_and_counts_for_nothing() -> None:
    rules = ScoreRules(default=ScoreConfig(min_peers=2))
    shops = [_shop(1, cs_3min_share=None, aftersales_hours=None), _shop(2), _shop(3, delivery_hours=60.0)]
    first = score_shops(shops, rules)[0]
    entries = {i["key"]: i for i in first.details["indicators"]}
    assert set(entries) == {i.key for i in INDICATORS}  # all eight, measured or not
    assert entries["cs_3min_share"]["no_data"] == "no_conversations"
    assert entries["aftersales_hours"]["no_data"] == "no_aftersales"
    assert entries["cs_3min_share"]["percentile"] is None
    assert entries["cs_3min_share"]["contribution_points"] == 0
    assert "no_data" not in entries["complaint_rate"]
