"""The ranker's features and the pipeline end to end, on data with a planted next-item pattern."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.feed.evaluation import evaluate_full, evaluate_sampled, leave_one_out, planted_chain_sequences
from zhongcao.feed.interactions import from_lists
from zhongcao.feed.pipeline import Pipeline, PipelineConfig
from zhongcao.feed.popularity import Popularity
from zhongcao.feed.ranker import FEATURE_NAMES, UserState, features

# One worker runs the module, so the module-scoped pipeline is fitted once, not per worker.
pytestmark = pytest.mark.xdist_group("feed_ranker")


def _small_config(**overrides: object) -> PipelineConfig:
    settings: dict = {
        "als_factors": 8,
        "transition_factors": 8,
        "als_iterations": 8,
        "from_als": 20,
        "from_next": 10,
        "from_covisit": 10,
        "from_popular": 10,
        "random_negatives": 30,
        "ranker": {"n_estimators": 60, "min_child_samples": 10},
    }
    settings.update(overrides)
    return PipelineConfig(**settings)


@pytest.fixture(scope="module")
def planted():
    sequences, successor = planted_chain_sequences(n_users=600, n_items=150, length=8, seed=1)
    return sequences, successor, leave_one_out(sequences)


@pytest.fixture(scope="module")
def fitted(planted):
    _, _, split = planted
    return Pipeline(_small_config()).fit(split.test.history)


def test_features_batch_equals_one_user_at_a_time(planted, fitted) -> None:
    """Parity: features of a batch are the features of each user computed alone (online serving)."""
    sources = fitted.sources
    _, _, split = planted
    users = np.array([3, 17, 42])
    candidates = np.array([[1, 2, 3, -1], [5, 6, 7, 8], [9, 10, 11, 12]])
    batch = features(sources, UserState.offline(sources, split.test.history, users), candidates)
    assert batch.shape == (12, len(FEATURE_NAMES))
    for row in range(len(users)):
        alone = features(
            sources, UserState.offline(sources, split.test.history, users[row : row + 1]), candidates[row]
        )
        assert np.allclose(alone, batch[4 * row : 4 * row + 4], atol=1e-6)
    assert not batch[3].any()  # padding gets all-zero features


def test_features_for_a_new_user_state_and_unknown_items(fitted) -> None:
    sources = fitted.sources
    state = UserState(history=from_lists([[4, 5]], n_items=150), vectors=np.zeros((1, 8), np.float32))
    x = features(sources, state, np.array([[6, 10_000]]))
    assert np.isfinite(x).all() and not x[1].any()  # an item the sources never saw: all zero
    assert x[0, FEATURE_NAMES.index("history_length")] == 2


def test_pipeline_beats_popularity_on_a_sequential_pattern(planted, fitted) -> None:
    sequences, _, split = planted
    popularity = Popularity(half_life=None).fit(split.test.history)
    pipeline = evaluate_sampled(fitted.score, split.test, sequences, seed=0)
    baseline = evaluate_sampled(popularity.score, split.test, sequences, seed=0)
    assert pipeline["HR@10"] > baseline["HR@10"] + 0.2
    assert pipeline["NDCG@10"] > 0.6


def test_pipeline_recommend_finds_the_successor_and_skips_history(planted) -> None:
    sequences, successor, split = planted
    pipeline = Pipeline(_small_config(training_negatives="candidates")).fit(split.test.history)
    users = split.test.users[:50]
    top = pipeline.recommend(split.test.history, users, 5)
    for user, row in zip(users, top, strict=True):
        assert not set(row.tolist()) & set(split.test.history.of(int(user)).tolist())
    last = np.array([split.test.history.of(int(u))[-1] for u in split.test.users])
    follows = successor[last] == split.test.targets
    unseen = np.array(
        [
            successor[x] not in set(split.test.history.of(int(u)).tolist())
            for u, x in zip(split.test.users, last, strict=True)
        ]
    )
    chosen = split.test.users[follows & unseen]
    first = pipeline.recommend(split.test.history, chosen, 1)[:, 0]
    assert np.mean(first == successor[[split.test.history.of(int(u))[-1] for u in chosen]]) > 0.8
    full = evaluate_full(pipeline.recommend, split.test)
    popular = evaluate_full(Popularity(None).fit(split.test.history).recommend, split.test)
    assert full["HR@10"] > popular["HR@10"] + 0.3


def test_pipeline_refuses_to_score_before_fit() -> None:
    with pytest.raises(RuntimeError):
        Pipeline().score(from_lists([[1]]), np.array([0]), np.array([[1]]))
