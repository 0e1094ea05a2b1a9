"""Popularity and trending: how often an item was taken, with recent interactions weighted up.

Recency is measured by ``ages`` (any unit: seconds before now online, or "how many of the user's own
interactions came after this one" for offline files that have no timestamps). A half-life turns age
into weight, so ``trending`` is popularity with exponential decay and ``counts`` is the plain count.
"""

from __future__ import annotations

import numpy as np

from zhongcao.feed.interactions import Sequences


def decay_weights(ages: np.ndarray, half_life: float | None) -> np.ndarray:
    if half_life is None:
        return np.ones(len(ages), dtype=np.float64)
    return np.exp2(-np.asarray(ages, dtype=np.float64) / half_life)


def ages_from_end(sequences: Sequences) -> np.ndarray:
    """Offline stand-in for time: 0 for a user's latest item, 1 for the one before, and so on."""
    return np.repeat(sequences.lengths, sequences.lengths) - 1 - sequences.position_of_each()


class Popularity:
    """Counts and recency-weighted counts per item; ``scores`` is what ranks candidates."""

    def __init__(self, half_life: float | None = 5.0) -> None:
        self.half_life = half_life
        # Plain np.ndarray: numpy's stubs type a weighted bincount (float64 at run time) as intp.
        self.counts: np.ndarray = np.zeros(0, dtype=np.float64)
        self.trending: np.ndarray = np.zeros(0, dtype=np.float64)

    def fit_items(self, items: np.ndarray, ages: np.ndarray, n_items: int) -> Popularity:
        self.counts = np.bincount(items, minlength=n_items).astype(np.float64)
        self.trending = np.bincount(items, weights=decay_weights(ages, self.half_life), minlength=n_items)
        return self

    def fit(self, sequences: Sequences) -> Popularity:
        return self.fit_items(sequences.items, ages_from_end(sequences), sequences.n_items)

    @property
    def scores(self) -> np.ndarray:
        """Trending first, plain count to break ties (tiny weight, so it never reorders trending)."""
        return self.trending + 1e-6 * self.counts / max(1.0, float(self.counts.max(initial=1.0)))

    def score(self, history: Sequences, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.scores[items]

    def top(self, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
        scores = self.scores.copy()
        if exclude is not None:
            scores[exclude] = -np.inf
        k = min(k, len(scores))
        part = np.argpartition(-scores, k - 1)[:k]
        return part[np.argsort(-scores[part], kind="stable")].astype(np.int32)

    def recommend(self, history: Sequences, users: np.ndarray, k: int) -> np.ndarray:
        # The global list once, then per user skip what they already have.
        longest = int(history.lengths[users].max(initial=0)) if len(users) else 0
        ranked = self.top(k + longest)
        out = np.full((len(users), k), -1, dtype=np.int32)
        for row, user in enumerate(users):
            seen = history.of(int(user))
            kept = ranked[~np.isin(ranked, seen)][:k]
            out[row, : len(kept)] = kept
        return out
