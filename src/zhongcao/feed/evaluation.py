"""Offline evaluation: leave-one-out splits, the sampled-100 and full-ranking protocols, HR and NDCG.

Leave-one-out (as in the SASRec paper): a user's last item is the test item, the one before it the
validation item, everything earlier is training history. Users with fewer than three items are only
history. Models are tuned on validation items; the test items are touched once, by ``evaluate_*``.

* ``sampled100``: the target is ranked among 100 items drawn uniformly from those the user never touched
  (HR@10, NDCG@10, as SASRec reports them). Ties are broken at random (seeded), so a model that gives
  every item the same score gets chance level, not a perfect score.
* ``full``: the target is ranked among all items the user has not already got in their history; a
  model returns its top ``max(ks)`` list, and a target outside it is a miss (HR@10/20, NDCG@10/20).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from zhongcao.feed.interactions import Sequences

SAMPLED_NEGATIVES = 100
MIN_LENGTH = 3  # history + validation + test


class Protocol(StrEnum):
    sampled100 = "sampled100"
    full = "full"


@dataclass(frozen=True)
class Split:
    """One evaluation stage: models see ``history``, and are asked for ``targets[i]`` of ``users[i]``."""

    history: Sequences  # every user, with the target and anything after it removed
    users: np.ndarray  # int32, the users that have a target
    targets: np.ndarray  # int32, one per entry of ``users``


@dataclass(frozen=True)
class LeaveOneOut:
    full: Sequences
    validation: Split  # history = all but the last two items
    test: Split  # history = all but the last item (the validation item is history here)


def leave_one_out(sequences: Sequences, min_length: int = MIN_LENGTH) -> LeaveOneOut:
    lengths = sequences.lengths
    evaluated = np.flatnonzero(lengths >= min_length).astype(np.int32)
    drop = np.where(lengths >= min_length, 1, 0)
    test_history = sequences.truncate(drop)
    valid_history = sequences.truncate(2 * drop)
    last = sequences.indptr[1:] - 1
    return LeaveOneOut(
        full=sequences,
        validation=Split(valid_history, evaluated, sequences.items[last[evaluated] - 1]),
        test=Split(test_history, evaluated, sequences.items[last[evaluated]]),
    )


def sample_unseen(
    sequences: Sequences, users: np.ndarray, n: int, rng: np.random.Generator, pool: int | None = None
) -> np.ndarray:
    """``n`` distinct items per user drawn uniformly from the items the user never touched.

    ``sequences`` must hold everything the user touched (test item included), so no negative is an item
    the user actually interacted with. Rejection sampling: histories are tiny next to the catalogue.
    """
    n_items = pool if pool is not None else sequences.n_items
    out = np.empty((len(users), n), dtype=np.int32)
    for row, user in enumerate(users):
        seen = set(sequences.of(int(user)).tolist())
        if n_items - len(seen) < n:
            raise ValueError(f"user {user} has touched too many items to sample {n} unseen ones")
        picked: list[int] = []
        chosen: set[int] = set()
        while len(picked) < n:
            for item in rng.integers(0, n_items, size=2 * (n - len(picked))).tolist():
                if item not in seen and item not in chosen:
                    chosen.add(item)
                    picked.append(item)
                    if len(picked) == n:
                        break
        out[row] = picked
    return out


def ranks_with_random_ties(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0-based rank of column 0 (the target) among each row, ties broken uniformly at random."""
    target = scores[:, :1]
    higher = (scores[:, 1:] > target).sum(axis=1)
    equal = (scores[:, 1:] == target).sum(axis=1)
    return higher + rng.integers(0, equal + 1)


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    """HR@k and NDCG@k from 0-based ranks (a miss is any rank >= k; pass a large number for misses)."""
    out: dict[str, float] = {}
    ranks = np.asarray(ranks, dtype=np.float64)
    for k in ks:
        hit = ranks < k
        out[f"HR@{k}"] = float(hit.mean()) if len(ranks) else 0.0
        gain = np.where(hit, 1.0 / np.log2(np.minimum(ranks, k) + 2.0), 0.0)
        out[f"NDCG@{k}"] = float(gain.mean()) if len(ranks) else 0.0
    return out


# score(history, users, items[n, m]) -> scores[n, m]: higher is better.
ScoreFn = Callable[[Sequences, np.ndarray, np.ndarray], np.ndarray]
# recommend(history, users, k) -> items[n, k], best first, excluding each user's history; -1 pads.
RecommendFn = Callable[[Sequences, np.ndarray, int], np.ndarray]


def evaluate_sampled(
    score: ScoreFn,
    split: Split,
    everything: Sequences,
    *,
    seed: int = 0,
    n_negatives: int = SAMPLED_NEGATIVES,
    ks: Sequence[int] = (10,),
    batch_size: int = 4096,
) -> dict[str, float]:
    """Rank each target among ``n_negatives`` sampled unseen items (sampled with ``seed``)."""
    rng = np.random.default_rng(seed)
    negatives = sample_unseen(everything, split.users, n_negatives, rng)
    candidates = np.concatenate([split.targets[:, None], negatives], axis=1)
    ranks = np.empty(len(split.users), dtype=np.int64)
    for start in range(0, len(split.users), batch_size):
        rows = slice(start, start + batch_size)
        scores = np.asarray(score(split.history, split.users[rows], candidates[rows]), dtype=np.float64)
        ranks[rows] = ranks_with_random_ties(scores, rng)
    return metrics_from_ranks(ranks, ks)


def evaluate_full(
    recommend: RecommendFn,
    split: Split,
    *,
    ks: Sequence[int] = (10, 20),
    batch_size: int = 4096,
) -> dict[str, float]:
    """Rank each target among all items outside the user's history (top ``max(ks)`` lists)."""
    depth = max(ks)
    ranks = np.full(len(split.users), np.iinfo(np.int64).max // 2, dtype=np.int64)
    for start in range(0, len(split.users), batch_size):
        rows = slice(start, start + batch_size)
        top = np.asarray(recommend(split.history, split.users[rows], depth))
        found = top == split.targets[rows, None]
        hit_rows = found.any(axis=1)
        block = ranks[rows]
        block[hit_rows] = found[hit_rows].argmax(axis=1)
        ranks[rows] = block
    return metrics_from_ranks(ranks, ks)


def top_k_excluding(scores: np.ndarray, history: Sequences, users: np.ndarray, k: int) -> np.ndarray:
    """Best ``k`` item codes per row of a dense ``scores[n, n_items]``, each user's history masked out."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    for row, user in enumerate(users):
        scores[row, history.of(int(user))] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int32)


def planted_chain_sequences(
    n_users: int, n_items: int, length: int, seed: int = 0, follow: float = 0.8
) -> tuple[Sequences, np.ndarray]:
    """Synthetic histories with a strong next-item pattern, for tests and smoke runs.

    Every item has a planted successor (a random permutation); each step follows it with probability
    ``follow``, otherwise jumps to a popularity-skewed (Zipf-like) random item. Returns the sequences
    and the successor of every item, so a test can check that a model found the pattern.
    """
    rng = np.random.default_rng(seed)
    successor = rng.permutation(n_items).astype(np.int32)
    weights = 1.0 / np.arange(1, n_items + 1) ** 0.8
    weights /= weights.sum()
    items = np.empty((n_users, length), dtype=np.int32)
    items[:, 0] = rng.choice(n_items, n_users, p=weights)
    for step in range(1, length):
        jump = rng.choice(n_items, n_users, p=weights)
        items[:, step] = np.where(rng.random(n_users) < follow, successor[items[:, step - 1]], jump)
    indptr = np.arange(0, n_users * length + 1, length, dtype=np.int64)
    return Sequences(indptr, items.reshape(-1), n_items), successor
