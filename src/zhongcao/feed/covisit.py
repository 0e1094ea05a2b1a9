"""Item-to-item candidates: next-item transitions and co-visitation, updated incrementally.

Two count matrices over items, both directional ``a -> b`` (b came after a in one user's history):

* ``transitions[a, b]``: b was the very next item after a;
* ``forward[a, b]``: b came within ``window`` items after a, weighted ``1 / lag``. Co-visitation in
  either direction is ``forward + forward.T``.

``update(users, items)`` adds new interactions (in time order) without refitting: it pairs each new
item with the user's last ``window`` items (kept per user) and adds only those pairs' counts. ``fit`` is
``update`` from an empty state, so offline and online counts are the same by construction.

A user's scores are a recency-weighted sum over their last few items ``h`` (the latest weighs 1, the
one before ``decay``, …) of the row-normalised relation: ``sum_j decay**age_j * P(c | h_j)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import scipy.sparse as sp

from zhongcao.feed.interactions import Sequences


class Relation(StrEnum):
    next = "next"  # P(c is the next item | h)
    previous = "previous"  # P(c was the item just before | h)
    covisit = "covisit"  # P(c within the window, either side | h)


@dataclass(frozen=True)
class SparseScores:
    """Per-user scores over items as CSR (rows = users of the batch); gather or take the top ``k``."""

    matrix: sp.csr_matrix

    def gather(self, candidates: np.ndarray) -> np.ndarray:
        return sparse_gather(self.matrix, candidates)

    def top(self, k: int, exclude: Sequences | None = None) -> tuple[np.ndarray, np.ndarray]:
        return sparse_top_k(self.matrix, k, exclude)


@dataclass(frozen=True)
class RowScores:
    """One user's scores as sorted ``columns`` and their ``values``: the serving path's answer.

    The same numbers as a one-row :class:`SparseScores` (the sum runs over the same relation rows), made
    with a few array slices instead of a sparse product, which costs more in scipy's overhead than in
    arithmetic when the batch is one user and a handful of recent items."""

    columns: np.ndarray  # int64, sorted, unique
    values: np.ndarray  # float32

    def gather(self, candidates: np.ndarray) -> np.ndarray:
        candidates = np.atleast_2d(candidates)
        if not len(self.columns):
            return np.zeros(candidates.shape, dtype=np.float32)
        pos = np.minimum(np.searchsorted(self.columns, candidates), len(self.columns) - 1)
        return np.where(self.columns[pos] == candidates, self.values[pos], 0.0).astype(np.float32)

    def top(self, k: int, exclude: Sequences | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`SparseScores.top` for this one user (``exclude``: one row): ``[1, k]`` ids and scores.

        A batch of one user gets a RowScores from :meth:`ItemToItem.scores`, so the offline pipeline's
        candidates need this too. Ties go to the lower column, as on a CSR row with sorted indices."""
        keep = self.values > 0
        if exclude is not None and len(exclude.items):
            keep &= ~np.isin(self.columns, exclude.items)
        columns, values = self.columns[keep], self.values[keep]
        order = np.argsort(-values, kind="stable")[:k]
        ids = np.full((1, k), -1, dtype=np.int32)
        scores = np.full((1, k), -np.inf, dtype=np.float32)
        ids[0, : len(order)] = columns[order]
        scores[0, : len(order)] = values[order]
        return ids, scores

    def plus(self, other: RowScores) -> RowScores:
        columns = np.concatenate([self.columns, other.columns])
        values = np.concatenate([self.values, other.values])
        unique, inverse = np.unique(columns, return_inverse=True)
        sums = np.zeros(len(unique), dtype=np.float32)
        np.add.at(sums, inverse, values)
        return RowScores(unique, sums)


def sparse_gather(matrix: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
    """``matrix[i, candidates[i, j]]`` for every i, j (0 where absent); one binary search for all."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    n, m = candidates.shape
    n_cols = np.int64(matrix.shape[1])
    entry_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    entry_keys = entry_rows * n_cols + matrix.indices
    query = np.repeat(np.arange(n, dtype=np.int64), m) * n_cols + candidates.reshape(-1).astype(np.int64)
    pos = np.searchsorted(entry_keys, query)
    pos_clipped = np.minimum(pos, max(len(entry_keys) - 1, 0))
    found = (pos < len(entry_keys)) & (entry_keys[pos_clipped] == query) if len(entry_keys) else pos < 0
    out = np.zeros(n * m, dtype=np.float32)
    out[found] = matrix.data[pos_clipped[found]]
    return out.reshape(n, m)


def sparse_top_k(
    matrix: sp.csr_matrix, k: int, exclude: Sequences | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` columns per row (ids -1 / scores -inf pad); ``exclude`` rows line up with matrix rows."""
    matrix = matrix.tocsr()
    n = matrix.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(matrix.indptr))
    cols = matrix.indices.astype(np.int64)
    values = matrix.data.astype(np.float32)
    keep = values > 0
    if exclude is not None and len(exclude.items):
        n_cols = np.int64(matrix.shape[1])
        seen = np.sort(exclude.user_of_each().astype(np.int64) * n_cols + exclude.items)
        keys = rows * n_cols + cols
        pos = np.minimum(np.searchsorted(seen, keys), len(seen) - 1)
        keep &= seen[pos] != keys
    rows, cols, values = rows[keep], cols[keep], values[keep]
    order = np.lexsort((-values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    starts = np.searchsorted(rows, np.arange(n))
    rank = np.arange(len(rows)) - starts[rows]
    take = rank < k
    ids = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    ids[rows[take], rank[take]] = cols[take]
    scores[rows[take], rank[take]] = values[take]
    return ids, scores


def _row_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    inverse = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return sp.csr_matrix(sp.diags(inverse.astype(np.float32)) @ matrix)


class ItemToItem:
    def __init__(self, window: int = 3, n_users: int = 0, n_items: int = 0) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self._reset(n_users, n_items)

    def _reset(self, n_users: int, n_items: int) -> None:
        self.n_items = n_items
        self.transitions = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        self.forward = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        # Each user's last ``window`` items, right-aligned, -1 where the history is shorter.
        self.tails = np.full((n_users, self.window), -1, dtype=np.int32)
        self._normalised: dict[Relation, sp.csr_matrix] = {}

    def copy(self) -> ItemToItem:
        """An independent copy (counts and tails); its normalised relations are recomputed on use."""
        other = ItemToItem(window=self.window)
        other.n_items = self.n_items
        other.transitions = self.transitions.copy()
        other.forward = self.forward.copy()
        other.tails = self.tails.copy()
        return other

    def fit(self, history: Sequences) -> ItemToItem:
        self._reset(history.n_users, history.n_items)
        return self.update(history.user_of_each(), history.items)

    def _grow(self, n_users: int, n_items: int) -> None:
        if n_users > len(self.tails):
            extra = np.full((n_users - len(self.tails), self.window), -1, dtype=np.int32)
            self.tails = np.concatenate([self.tails, extra])
        if n_items > self.n_items:
            self.transitions.resize((n_items, n_items))
            self.forward.resize((n_items, n_items))
            self.n_items = n_items

    def update(self, users: np.ndarray, items: np.ndarray) -> ItemToItem:
        """Add interactions ``(users[i], items[i])``, given in time order, to the counts."""
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int32)
        if len(users) == 0:
            return self
        self._grow(int(users.max()) + 1, int(items.max()) + 1)
        order = np.argsort(users, kind="stable")
        users, items = users[order], items[order]
        affected, first, counts = np.unique(users, return_index=True, return_counts=True)
        # One block per affected user: their stored tail, then their new items.
        block_len = self.window + counts
        block_start = np.zeros(len(affected) + 1, dtype=np.int64)
        np.cumsum(block_len, out=block_start[1:])
        combined = np.empty(block_start[-1], dtype=np.int32)
        tail_pos = block_start[:-1, None] + np.arange(self.window)
        combined[tail_pos.ravel()] = self.tails[affected].ravel()
        block_of_new = np.repeat(np.arange(len(affected)), counts)
        new_pos = block_start[block_of_new] + self.window + (np.arange(len(items)) - first[block_of_new])
        combined[new_pos] = items
        sources, targets, weights = [], [], []
        for lag in range(1, self.window + 1):
            before = combined[new_pos - lag]
            ok = before >= 0
            sources.append(before[ok])
            targets.append(items[ok])
            weights.append(np.full(int(ok.sum()), 1.0 / lag, dtype=np.float32))
        shape = (self.n_items, self.n_items)
        next_pairs = sp.csr_matrix((np.ones(len(sources[0]), np.float32), (sources[0], targets[0])), shape)
        window_pairs = sp.csr_matrix(
            (np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))), shape
        )
        self.transitions = (self.transitions + next_pairs).tocsr()
        self.forward = (self.forward + window_pairs).tocsr()
        last = block_start[1:, None] - self.window + np.arange(self.window)
        self.tails[affected] = combined[last]
        self._normalised = {}
        return self

    def set_normalised(self, relations: dict[Relation, sp.csr_matrix]) -> None:
        """Relations normalised elsewhere (a published catch-up state), used as they are."""
        self._normalised = dict(relations)

    def relation(self, kind: Relation) -> sp.csr_matrix:
        """Row-normalised relation matrix (cached until the next update)."""
        if kind not in self._normalised:
            if kind is Relation.next:
                raw = self.transitions
            elif kind is Relation.previous:
                raw = self.transitions.T.tocsr()
            else:
                raw = (self.forward + self.forward.T).tocsr()
            self._normalised[kind] = _row_normalise(raw)
        return self._normalised[kind]

    def scores(
        self, recent: Sequences, kind: Relation, decay: float = 0.6, last: int = 5
    ) -> SparseScores | RowScores:
        """Recency-weighted relation scores per user of ``recent`` (each row's items, oldest first)."""
        if recent.n_users == 1:
            return self.row_scores(recent.items, kind, decay, last)
        tails = recent.tails(last)
        lengths = tails.lengths
        age = np.repeat(lengths, lengths) - 1 - tails.position_of_each()
        weights = np.power(decay, age).astype(np.float32)
        in_range = tails.items < self.n_items  # an item newer than the counts has no relations yet
        profile = sp.csr_matrix(
            (weights[in_range], (tails.user_of_each()[in_range], tails.items[in_range])),
            shape=(recent.n_users, self.n_items),
        )
        return SparseScores((profile @ self.relation(kind)).tocsr())

    def row_scores(self, items: np.ndarray, kind: Relation, decay: float = 0.6, last: int = 5) -> RowScores:
        """:meth:`scores` for one user whose items (oldest first) are ``items``."""
        tail = np.asarray(items, dtype=np.int64)[-last:] if last > 0 else np.zeros(0, dtype=np.int64)
        weights = np.power(decay, np.arange(len(tail) - 1, -1, -1)).astype(np.float32)
        in_range = (tail >= 0) & (tail < self.n_items)
        tail, weights = tail[in_range], weights[in_range]
        if not len(tail):
            return RowScores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        relation = self.relation(kind)
        # Repeated items add their weights first, as the sparse profile does.
        tail, inverse = np.unique(tail, return_inverse=True)
        weights = np.bincount(inverse, weights=weights).astype(np.float32)
        starts, ends = relation.indptr[tail], relation.indptr[tail + 1]
        columns = np.concatenate(
            [relation.indices[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        )
        values = np.concatenate(
            [
                relation.data[a:b] * w
                for a, b, w in zip(starts.tolist(), ends.tolist(), weights.tolist(), strict=True)
            ]
        ).astype(np.float32)
        unique, where = np.unique(columns.astype(np.int64), return_inverse=True)
        sums = np.zeros(len(unique), dtype=np.float32)
        np.add.at(sums, where, values)
        return RowScores(unique, sums)
