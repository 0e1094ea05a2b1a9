"""Leave-one-out splits, the sampled and full protocols, and the metrics, on tiny hand-made data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zhongcao.feed.evaluation import (
    evaluate_full,
    evaluate_sampled,
    leave_one_out,
    metrics_from_ranks,
    ranks_with_random_ties,
    sample_unseen,
    top_k_excluding,
)
from zhongcao.feed.interactions import encode, from_lists, load, to_sequences
from zhongcao.imports import BadFile


def test_load_pairs_codes_in_order_of_first_appearance(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("7 30\n7 10\n5 10\n7 20\n5 30\n")
    log = load(path, "pairs")
    assert log.user_labels.tolist() == ["7", "5"]
    assert log.item_labels.tolist() == ["30", "10", "20"]
    sequences = to_sequences(log)
    assert sequences.of(0).tolist() == [0, 1, 2]  # user 7: 30, 10, 20 in file order
    assert sequences.of(1).tolist() == [1, 0]


def test_load_sequences_format_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("1 4 5 6\n2 5\n")
    sequences = to_sequences(load(path, "sequences"))
    assert sequences.lengths.tolist() == [3, 1]
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n1 x\n")
    with pytest.raises(BadFile, match="line 2"):
        load(bad, "pairs")


def test_sequence_helpers() -> None:
    sequences = from_lists([[0, 1, 2, 3], [4], [5, 6]], n_items=7)
    assert sequences.tails(2).of(0).tolist() == [2, 3]
    assert sequences.tails(2).of(1).tolist() == [4]
    assert sequences.truncate(1).of(0).tolist() == [0, 1, 2]
    assert sequences.truncate(5).lengths.tolist() == [0, 0, 0]
    picked = sequences.select(np.array([2, 0]))
    assert picked.of(0).tolist() == [5, 6] and picked.of(1).tolist() == [0, 1, 2, 3]
    assert encode(["b", "a", "b"], ["x", "y", "x"]).users.tolist() == [0, 1, 0]


def test_leave_one_out_holds_out_last_two() -> None:
    sequences = from_lists([[0, 1, 2, 3], [4, 5], [6, 7, 8]], n_items=9)
    split = leave_one_out(sequences)
    assert split.test.users.tolist() == [0, 2]  # user 1 is too short to evaluate
    assert split.test.targets.tolist() == [3, 8]
    assert split.validation.targets.tolist() == [2, 7]
    assert split.test.history.of(0).tolist() == [0, 1, 2]
    assert split.validation.history.of(0).tolist() == [0, 1]
    assert split.validation.history.of(1).tolist() == [4, 5]  # short users keep everything as history


def test_sample_unseen_never_returns_touched_items_and_is_seeded() -> None:
    sequences = from_lists([[0, 1, 2], [3, 4]], n_items=200)
    users = np.array([0, 1])
    first = sample_unseen(sequences, users, 100, np.random.default_rng(3))
    again = sample_unseen(sequences, users, 100, np.random.default_rng(3))
    assert np.array_equal(first, again)
    assert not np.isin(first[0], [0, 1, 2]).any() and not np.isin(first[1], [3, 4]).any()
    assert all(len(set(row.tolist())) == 100 for row in first)
    with pytest.raises(ValueError):
        sample_unseen(from_lists([[0, 1]], n_items=3), np.array([0]), 2, np.random.default_rng(0))


def test_metrics_from_ranks() -> None:
    metrics = metrics_from_ranks(np.array([0, 1, 9, 10, 10**9]), ks=(10,))
    assert metrics["HR@10"] == pytest.approx(3 / 5)
    expected = (1.0 + 1 / np.log2(3) + 1 / np.log2(11)) / 5
    assert metrics["NDCG@10"] == pytest.approx(expected)


def test_random_tie_breaking_gives_chance_level_for_constant_scores() -> None:
    scores = np.zeros((20_000, 101))
    ranks = ranks_with_random_ties(scores, np.random.default_rng(0))
    assert metrics_from_ranks(ranks, (10,))["HR@10"] == pytest.approx(10 / 101, abs=0.01)


def _oracle_and_antioracle(sequences, split):
    def oracle(history, users, items):
        targets = dict(zip(split.users.tolist(), split.targets.tolist(), strict=True))
        return (items == np.array([targets[int(u)] for u in users])[:, None]).astype(float)

    def anti(history, users, items):
        return -oracle(history, users, items)

    return oracle, anti


def test_sampled_protocol_oracle_scores_one_and_antioracle_zero() -> None:
    rng = np.random.default_rng(0)
    sequences = from_lists([rng.choice(300, 6, replace=False) for _ in range(50)], n_items=300)
    split = leave_one_out(sequences)
    oracle, anti = _oracle_and_antioracle(sequences, split.test)
    assert evaluate_sampled(oracle, split.test, sequences)["HR@10"] == 1.0
    assert evaluate_sampled(oracle, split.test, sequences)["NDCG@10"] == 1.0
    assert evaluate_sampled(anti, split.test, sequences)["HR@10"] == 0.0


def test_full_protocol_and_top_k_excluding_history() -> None:
    sequences = from_lists([[0, 1, 2, 3], [2, 3, 4, 5]], n_items=8)
    split = leave_one_out(sequences)

    def recommend(history, users, k):
        scores = np.tile(np.arange(8, dtype=float)[::-1], (len(users), 1))  # item 0 best, 7 worst
        return top_k_excluding(scores, history, users, k)

    top = recommend(split.test.history, split.test.users, 3)
    assert top[0].tolist() == [3, 4, 5]  # 0, 1, 2 are history
    assert top[1].tolist() == [0, 1, 5]
    metrics = evaluate_full(recommend, split.test, ks=(1, 3))
    assert metrics["HR@1"] == pytest.approx(0.5)  # user 0's target 3 is first
    assert metrics["HR@3"] == pytest.approx(1.0)
    assert metrics["NDCG@3"] == pytest.approx((1.0 + 1 / np.log2(4)) / 2)
