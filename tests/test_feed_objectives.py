"""Multi-objective scoring: weights (parsing, environment), LightGBM models, the combined score."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.feed.features import FEATURE_NAMES
from zhongcao.feed.objectives import OBJECTIVES, MultiObjective, ObjectiveWeights, auc


def test_weights_parse_and_refuse_bad_input(monkeypatch):
    w = ObjectiveWeights.parse("purchase=100, complete=0.5")
    assert w.purchase == 100 and w.complete == 0.5 and w.engage == ObjectiveWeights().engage
    for bad in ("nope=1", "purchase", "purchase=abc", "purchase=-1", "purchase=inf"):
        with pytest.raises(ValueError):
            ObjectiveWeights.parse(bad)
    monkeypatch.setenv("ZHONGCAO_FEED_WEIGHTS", "engage=9")
    assert ObjectiveWeights.from_env().engage == 9
    assert list(ObjectiveWeights().vector()) == [ObjectiveWeights().as_dict()[n] for n in OBJECTIVES]


def _data(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    y = np.zeros((n, len(OBJECTIVES)), dtype=np.float32)
    y[:, 0] = rng.random(n) < 1 / (1 + np.exp(-2 * x[:, 0]))  # completion follows feature 0
    y[:, 1] = rng.random(n) < 0.1 / (1 + np.exp(-2 * x[:, 1]))
    y[:, 2] = rng.random(n) < 0.1 / (1 + np.exp(-2 * x[:, 2]))
    return x, y  # no purchases at all


def test_each_objective_learns_its_own_signal_and_a_missing_one_is_its_base_rate():
    x, y = _data()
    model = MultiObjective(rounds=30, threads=1).fit(x, y)
    p = model.predict(x)
    assert auc(p[:, 0], y[:, 0]) > 0.75
    assert auc(p[:, 0], y[:, 0]) > auc(p[:, 1], y[:, 0]) + 0.1  # completion's model is not engage's
    assert model.boosters["purchase"] is None and (p[:, 3] == 0).all()
    restored = MultiObjective.from_strings(model.to_strings(), model.base_rates, threads=1)
    assert np.allclose(restored.predict(x[:50]), p[:50])


def test_the_combined_score_follows_the_weights():
    x, y = _data()
    model = MultiObjective(rounds=30, threads=1).fit(x, y)
    only_complete, _ = model.score(x, ObjectiveWeights(1, 0, 0, 0))
    only_click, _ = model.score(x, ObjectiveWeights(0, 0, 1, 0))
    assert auc(only_complete, y[:, 0]) > auc(only_click, y[:, 0])
    assert auc(only_click, y[:, 2]) > auc(only_complete, y[:, 2])
