"""Collaborative filtering: implicit-feedback ALS (the ``implicit`` package) served from an ANN index.

Fit on the user x item matrix of interactions (each interaction one unit of confidence, scaled by
``alpha``); a user's score for an item is the dot product of their factors. Candidates come from
``InnerProductIndex`` over the item factors. Threads: ALS runs on ``threads`` (2 by default) with BLAS
held to one thread, as ``implicit`` asks, so the process never takes more cores than it is given.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from zhongcao.feed.ann import InnerProductIndex
from zhongcao.feed.interactions import Sequences

SEARCH_SLACK = 64  # users with longer histories than this get exact (brute-force) candidates


def user_item_matrix(history: Sequences) -> sp.csr_matrix:
    """Binary user x item matrix (repeats count once: a second purchase is no stronger a signal here)."""
    rows = history.user_of_each()
    matrix = sp.csr_matrix(
        (np.ones(len(history.items), dtype=np.float32), (rows, history.items)),
        shape=(history.n_users, history.n_items),
    )
    matrix.data[:] = 1.0
    return matrix


class ALS:
    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.threads = threads
        self.user_factors = np.zeros((0, factors), dtype=np.float32)
        self.item_factors = np.zeros((0, factors), dtype=np.float32)
        self._index: InnerProductIndex | None = None

    def fit(self, history: Sequences) -> ALS:
        self.user_factors, self.item_factors = self.fit_matrix(user_item_matrix(history))
        self._index = None
        return self

    def fit_matrix(self, matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Row and column factors of any confidence matrix (rows: users, or items for transitions)."""
        with threadpool_limits(1, "blas"):  # implicit checks (and warns about) BLAS threads on creation
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=self.threads,
            )
            model.fit(sp.csr_matrix(matrix, dtype=np.float32), show_progress=False)
        return (
            np.ascontiguousarray(model.user_factors, dtype=np.float32),
            np.ascontiguousarray(model.item_factors, dtype=np.float32),
        )

    @property
    def index(self) -> InnerProductIndex:
        if self._index is None:
            self._index = InnerProductIndex(self.item_factors, threads=self.threads)
        return self._index

    def score(self, history: Sequences, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Dot products for ``items[n, m]`` of ``users[n]``."""
        return np.einsum("nf,nmf->nm", self.user_factors[users], self.item_factors[items])

    def candidates(self, history: Sequences, users: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` unseen items per user from the ANN index, with their scores (-1 / -inf pad)."""
        users = np.asarray(users)
        out_ids = np.full((len(users), k), -1, dtype=np.int32)
        out_scores = np.full((len(users), k), -np.inf, dtype=np.float32)
        if len(users) == 0:
            return out_ids, out_scores
        # Ask the index for k + (history length) so that k unseen items remain. A few users have very
        # long histories; they are scored exactly instead of widening every query of the batch.
        lengths = history.lengths[users]
        short = lengths <= SEARCH_SLACK
        if short.any():
            width = k + int(lengths[short].max())
            ids, scores = self.index.search(self.user_factors[users[short]], width)
            for row, found, found_scores in zip(np.flatnonzero(short), ids, scores, strict=True):
                keep = (found >= 0) & ~np.isin(found, history.of(int(users[row])))
                kept = found[keep][:k]
                out_ids[row, : len(kept)] = kept
                out_scores[row, : len(kept)] = found_scores[keep][:k]
        for row in np.flatnonzero(~short):
            exact = self.item_factors @ self.user_factors[users[row]]
            exact[history.of(int(users[row]))] = -np.inf
            best = np.argsort(-exact, kind="stable")[:k]
            best = best[np.isfinite(exact[best])]
            out_ids[row, : len(best)] = best
            out_scores[row, : len(best)] = exact[best]
        return out_ids, out_scores

    def recommend(self, history: Sequences, users: np.ndarray, k: int) -> np.ndarray:
        return self.candidates(history, users, k)[0]


class TransitionFactors:
    """A small sequential model: ALS over the item -> later-item matrix (factorized transitions).

    Rows are "the item just taken", columns "an item taken within the next few" (``ItemToItem.forward``
    counts). Factorizing it generalises sparse transitions to items that were never seen in sequence
    but behave alike, as FPMC's Markov-chain part does; ``P[prev] . Q[next]`` scores a next item.
    """

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        self.model = ALS(factors, regularization, alpha, iterations, seed, threads)
        self.previous = np.zeros((0, factors), dtype=np.float32)
        self.next = np.zeros((0, factors), dtype=np.float32)

    def fit(self, forward: sp.csr_matrix) -> TransitionFactors:
        self.previous, self.next = self.model.fit_matrix(forward)
        return self
