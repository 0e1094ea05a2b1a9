"""Candidate sources on small generated data: popularity, ALS + the ANN index, item-to-item."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.feed.als import ALS
from zhongcao.feed.ann import InnerProductIndex
from zhongcao.feed.covisit import ItemToItem, Relation, sparse_gather, sparse_top_k
from zhongcao.feed.evaluation import planted_chain_sequences
from zhongcao.feed.interactions import Sequences, from_lists
from zhongcao.feed.popularity import Popularity, ages_from_end


def test_popularity_counts_and_recency() -> None:
    sequences = from_lists([[0, 1, 2], [0, 2], [1]], n_items=4)
    assert ages_from_end(sequences).tolist() == [2, 1, 0, 1, 0, 0]
    plain = Popularity(half_life=None).fit(sequences)
    assert plain.counts.tolist() == [2, 2, 2, 0]
    trending = Popularity(half_life=1.0).fit(sequences)
    # Item 2 was the latest for two users, item 0 never: recency breaks the tie in counts.
    assert trending.trending[2] > trending.trending[1] > trending.trending[0]
    top = trending.recommend(sequences, np.array([2]), 2)
    assert top[0].tolist() == [2, 0]  # user 2 already has item 1


def test_inner_product_index_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    items = rng.normal(size=(500, 16)).astype(np.float32)
    queries = rng.normal(size=(20, 16)).astype(np.float32)
    index = InnerProductIndex(items)
    ids, scores = index.search(queries, 10)
    exact = np.argsort(-(queries @ items.T), axis=1)[:, :10]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), exact.tolist(), strict=True)])
    assert recall >= 0.95
    assert np.allclose(scores[:, 0], (queries * items[ids[:, 0]]).sum(axis=1), atol=1e-4)
    with pytest.raises(ValueError):
        InnerProductIndex(np.zeros((0, 4), dtype=np.float32))


def test_inner_product_index_answers_a_single_query_like_a_batch() -> None:
    # usearch returns a different result type for one query (1-d, no per-query counts).
    rng = np.random.default_rng(2)
    items = rng.normal(size=(300, 8)).astype(np.float32)
    queries = rng.normal(size=(5, 8)).astype(np.float32)
    index = InnerProductIndex(items)
    batch_ids, batch_scores = index.search(queries, 7)
    for row, query in enumerate(queries):
        for one in (query, query[None, :]):  # a vector, and a one-row matrix
            ids, scores = index.search(one, 7)
            assert ids.shape == scores.shape == (1, 7)
            assert ids[0].tolist() == batch_ids[row].tolist()
            assert np.allclose(scores[0], batch_scores[row])
    ids, scores = index.search(queries[0], 400, exact=True)  # k above the catalogue: every item, once
    assert ids.shape == (1, 300) and sorted(ids[0].tolist()) == list(range(300))
    assert ids[0].tolist() == np.argsort(-(items @ queries[0]), kind="stable").tolist()
    assert np.allclose(scores[0], np.sort(items @ queries[0])[::-1], atol=1e-4)


def test_als_candidates_for_a_single_user() -> None:
    sequences = from_lists([[0, 1, 2], [2, 3], [1, 3, 4]], n_items=6)
    als = ALS(factors=2, iterations=3, threads=1).fit(sequences)
    ids, scores = als.candidates(sequences, np.array([1]), 3)
    assert ids.shape == (1, 3) and len(set(ids[0].tolist())) == 3
    assert set(ids[0].tolist()) <= {0, 1, 4, 5}  # unseen by user 1, who took items 2 and 3
    assert np.isfinite(scores[0]).all()


def test_als_finds_the_taste_groups() -> None:
    # Two groups of users, each taking items from its own half of the catalogue.
    rng = np.random.default_rng(1)
    histories = [rng.choice(np.arange(0, 20) + 20 * (u % 2), 6, replace=False) for u in range(200)]
    sequences = from_lists(histories, n_items=40)
    als = ALS(factors=2, iterations=10, alpha=10.0).fit(sequences)
    users = np.arange(10)
    top = als.recommend(sequences, users, 5)
    for user, row in zip(users, top, strict=True):
        own = set(range(20 * (user % 2), 20 * (user % 2) + 20))
        assert set(row.tolist()) <= own
        assert not set(row.tolist()) & set(sequences.of(int(user)).tolist())
    scores = als.score(sequences, users, np.tile(np.array([0, 20]), (10, 1)))
    assert (scores[::2, 0] > scores[::2, 1]).all() and (scores[1::2, 1] > scores[1::2, 0]).all()


def test_item_to_item_finds_the_planted_next_item() -> None:
    sequences, successor = planted_chain_sequences(n_users=300, n_items=60, length=8, seed=0)
    i2i = ItemToItem(window=2).fit(sequences)
    # For each item, the most likely next item is its planted successor.
    ids, _ = sparse_top_k(i2i.relation(Relation.next), 1)
    seen = np.unique(sequences.items)
    assert np.mean(ids[seen, 0] == successor[seen]) > 0.9
    recent = from_lists([[5], [7, 11]], n_items=60)
    ids, scores = i2i.scores(recent, Relation.next).top(3)
    assert ids[0, 0] == successor[5] and ids[1, 0] == successor[11]
    assert scores[0, 0] > scores[0, 1]


def test_item_to_item_top_of_one_user_matches_a_batch() -> None:
    # One user's scores come back as RowScores (the serving path); their top must be the batch's row.
    sequences, _ = planted_chain_sequences(n_users=100, n_items=40, length=6, seed=3)
    i2i = ItemToItem(window=3).fit(sequences)
    recent = from_lists([[5, 9, 5, 12], [1, 2, 3]], n_items=40)
    for relation in (Relation.next, Relation.covisit):
        batch_ids, batch_scores = i2i.scores(recent, relation, last=3).top(6, exclude=recent)
        for row in range(2):
            alone = from_lists([recent.of(row).tolist()], n_items=40)
            ids, scores = i2i.scores(alone, relation, last=3).top(6, exclude=alone)
            assert ids.shape == scores.shape == (1, 6)
            assert set(ids[0].tolist()) == set(batch_ids[row].tolist())
            assert np.allclose(np.sort(scores[0]), np.sort(batch_scores[row]))
    empty = from_lists([[45]], n_items=50)  # an item newer than the counts: nothing to propose
    ids, scores = i2i.scores(empty, Relation.next).top(2)
    assert ids.tolist() == [[-1, -1]] and np.isneginf(scores).all()


def test_item_to_item_update_equals_refit() -> None:
    sequences, _ = planted_chain_sequences(n_users=50, n_items=30, length=6, seed=2)
    whole = ItemToItem(window=3).fit(sequences)
    users, items = sequences.user_of_each(), sequences.items
    # The first half of every user's items, then the rest as new interactions (interleaved users).
    first = sequences.position_of_each() < 3
    part = ItemToItem(window=3).fit(Sequences(*_first_half(sequences), n_items=30))
    part.update(users[~first], items[~first])
    assert abs(part.transitions - whole.transitions).sum() == pytest.approx(0.0)
    assert abs(part.forward - whole.forward).sum() == pytest.approx(0.0, abs=1e-5)
    assert np.array_equal(part.tails, whole.tails)
    # New users and new items grow the matrices.
    part.update(np.array([60, 60]), np.array([31, 32]))
    assert part.transitions[31, 32] == 1.0 and part.tails.shape[0] == 61


def _first_half(sequences: Sequences) -> tuple[np.ndarray, np.ndarray]:
    kept = sequences.truncate(np.maximum(sequences.lengths - 3, 0))
    return kept.indptr, kept.items


def test_sparse_gather_and_top_k_exclude() -> None:
    import scipy.sparse as sp

    matrix = sp.csr_matrix(np.array([[0, 3, 0, 1], [2, 0, 5, 0]], dtype=np.float32))
    assert sparse_gather(matrix, np.array([[1, 3, 0], [2, 1, 0]])).tolist() == [[3, 1, 0], [5, 0, 2]]
    ids, _ = sparse_top_k(matrix, 2, exclude=from_lists([[1], []], n_items=4))
    assert ids.tolist() == [[3, -1], [2, 0]]


def test_als_long_histories_take_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    sequences = from_lists([rng.choice(60, 8, replace=False) for _ in range(100)], n_items=60)
    als = ALS(factors=4, iterations=5).fit(sequences)
    users = np.arange(20)
    through_index = als.candidates(sequences, users, 5)
    monkeypatch.setattr("zhongcao.feed.als.SEARCH_SLACK", 0)  # everybody counts as "long"
    exact = als.candidates(sequences, users, 5)
    assert np.array_equal(through_index[0], exact[0])
    assert np.allclose(through_index[1], exact[1], atol=1e-4)


def test_models_still_load_after_the_ann_library_is_imported():
    """usearch loaded before LightGBM breaks ``Booster(model_str=...)``; ``feed.ann`` orders the two."""
    import subprocess
    import sys

    code = (
        "from zhongcao.feed import ann\n"
        "import lightgbm as lgb, numpy as np\n"
        "rng = np.random.default_rng(0)\n"
        "data = lgb.Dataset(rng.random((200, 3)), label=rng.integers(0, 2, 200))\n"
        "b = lgb.train({'verbose': -1, 'min_sum_hessian_in_leaf': 0.001}, data, 3)\n"
        "lgb.Booster(model_str=b.model_to_string())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
