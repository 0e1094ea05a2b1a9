"""Dense blocks in an account × target matrix, resistant to camouflage: FRAUDAR's greedy peeling.

Hooi, Song, Beutel, Shah, Shin, Faloutsos, "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage",
KDD 2016. The suspiciousness of a set S of accounts and targets is g(S) = f(S) / |S|, where f sums the
weights of the edges inside S and an edge into target j weighs 1 / log(d_j + c) (d_j: j's degree), so
edges to popular targets, where fraudsters hide their camouflage, count little. Greedy peeling removes,
one node at a time, the node whose removal costs f least, and keeps the best g seen; the result is
within a factor 2 of the optimum whatever camouflage the fraudsters add (the paper's Theorem 2).

No maintained library provides it: the authors' reference code is an unpackaged script, and the
packaged toolkits that include a port (e.g. spartan2, last released in 2021) are unmaintained and
heavy, so it is written here on ``scipy.sparse`` with a binary heap (O(E log V)).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class DenseBlock:
    rows: np.ndarray  # row indexes (accounts) of the block
    cols: np.ndarray  # column indexes (targets)
    score: float  # g(S): weighted edges per node
    edges: int  # nonzero cells inside the block


def column_weights(matrix: sp.csr_matrix, c: float = 5.0) -> np.ndarray:
    """FRAUDAR's camouflage-resistant column weighting: 1 / log(degree + c)."""
    degree = np.diff(matrix.tocsc().indptr).astype(np.float64)
    return 1.0 / np.log(degree + c)


def fraudar(matrix: sp.csr_matrix, *, weighted_columns: bool = True, c: float = 5.0) -> DenseBlock:
    """The densest block greedy peeling finds in a binary account × target matrix."""
    m = sp.csr_matrix(matrix, dtype=np.float64)
    m.data[:] = 1.0
    m.eliminate_zeros()
    n_rows, n_cols = m.shape
    if m.nnz == 0:
        return DenseBlock(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0.0, 0)
    weights = column_weights(m, c) if weighted_columns else np.ones(n_cols)
    w = sp.csr_matrix(m.multiply(weights[None, :]))
    wc = w.tocsc()
    # Nodes 0..n_rows-1 are rows, n_rows.. are columns; a node's priority is its weighted degree among
    # the nodes still in the graph (what removing it takes from f).
    priority = np.concatenate([np.asarray(w.sum(axis=1)).ravel(), np.asarray(w.sum(axis=0)).ravel()])
    alive = np.ones(n_rows + n_cols, dtype=bool)
    total = float(priority[:n_rows].sum())
    size = n_rows + n_cols
    heap = [(float(p), int(i)) for i, p in enumerate(priority)]
    heapq.heapify(heap)
    best, best_at, removed = total / size, 0, []
    while heap and size > 1:
        p, node = heapq.heappop(heap)
        if not alive[node] or p != priority[node]:
            continue
        alive[node] = False
        removed.append(node)
        total -= p
        size -= 1
        if node < n_rows:
            lo, hi = w.indptr[node], w.indptr[node + 1]
            others, vals = w.indices[lo:hi] + n_rows, w.data[lo:hi]
        else:
            j = node - n_rows
            lo, hi = wc.indptr[j], wc.indptr[j + 1]
            others, vals = wc.indices[lo:hi], wc.data[lo:hi]
        for other, v in zip(others.tolist(), vals.tolist(), strict=True):
            if alive[other]:
                priority[other] -= v
                heapq.heappush(heap, (float(priority[other]), other))
        if total / size > best:
            best, best_at = total / size, len(removed)
    keep = np.ones(n_rows + n_cols, dtype=bool)
    keep[np.asarray(removed[:best_at], dtype=np.int64)] = False
    rows = np.flatnonzero(keep[:n_rows])
    cols = np.flatnonzero(keep[n_rows:])
    edges = int(m[rows][:, cols].nnz) if len(rows) and len(cols) else 0
    return DenseBlock(rows.astype(np.int64), cols.astype(np.int64), float(best), edges)


def dense_blocks(
    matrix: sp.csr_matrix, *, max_blocks: int = 3, min_rows: int = 3, weighted_columns: bool = True
) -> list[DenseBlock]:
    """Up to ``max_blocks`` blocks: peel the densest, take its edges out, peel again (as FRAUDAR does
    for several fraud groups). Stops at a block with fewer than ``min_rows`` rows."""
    m = sp.csr_matrix(matrix, dtype=np.float64)
    out = []
    for _ in range(max_blocks):
        block = fraudar(m, weighted_columns=weighted_columns)
        if len(block.rows) < min_rows or not len(block.cols):
            break
        out.append(block)
        mask = sp.csr_matrix(
            (np.ones(len(block.rows)), (block.rows, np.zeros(len(block.rows), dtype=np.int64))),
            shape=(m.shape[0], 1),
        ) @ sp.csr_matrix(
            (np.ones(len(block.cols)), (np.zeros(len(block.cols), dtype=np.int64), block.cols)),
            shape=(1, m.shape[1]),
        )
        m = sp.csr_matrix(m - m.multiply(mask))
        m.eliminate_zeros()
    return out
