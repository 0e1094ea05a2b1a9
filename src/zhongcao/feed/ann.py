"""Approximate nearest-neighbour search by inner product over item vectors (usearch HNSW).

Collaborative candidates are the items whose factor has the largest dot product with the user's
factor: maximum inner-product search. usearch's ``ip`` metric is ``1 - dot``, so its distances are
turned back into scores here. ``exact=True`` brute-forces the same query, for checks and tiny catalogues.
"""

from __future__ import annotations

from pathlib import Path

# LightGBM must be loaded before usearch: with usearch's library loaded first, LightGBM's own JSON of a
# saved model's parameters comes back malformed and ``Booster(model_str=...)`` fails to load the feed's
# models (seen with lightgbm 4.7 and usearch 2.x: the two bundle clashing symbols, and the first wins).
import lightgbm  # noqa: F401, I001
import numpy as np
from usearch.index import BatchMatches, Index

DEFAULT_THREADS = 2


class InnerProductIndex:
    def __init__(
        self,
        vectors: np.ndarray,
        *,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 256,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError("need a non-empty 2-d array of item vectors")
        self.threads = threads
        self.size, self.dim = vectors.shape
        self.index = Index(
            ndim=self.dim,
            metric="ip",
            dtype="f32",
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )
        self.index.add(np.arange(self.size, dtype=np.uint64), vectors, threads=threads)

    def save(self, path: Path) -> None:
        """Write the built graph (the serving side maps it back in instead of building it again)."""
        self.index.save(str(path))

    @classmethod
    def restore(cls, path: Path, threads: int = 1) -> InnerProductIndex:
        """An index saved with :meth:`save`, memory-mapped read-only: ready in milliseconds, and the
        same graph in every worker (a graph built on several threads differs from build to build)."""
        index = Index.restore(str(path), view=True)
        if index is None:
            raise ValueError(f"{path} is not a usearch index")
        out = cls.__new__(cls)
        out.index, out.threads = index, threads
        out.size, out.dim = len(index), index.ndim
        return out

    def search(self, queries: np.ndarray, k: int, *, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` item ids and their inner products per query row; -1 / -inf pad short results."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.size)
        matches = self.index.search(queries, k, threads=self.threads, exact=exact)
        if isinstance(matches, BatchMatches):  # [n, k] arrays, padded past each row's count
            keys = np.asarray(matches.keys)[:, :k]
            distances = np.asarray(matches.distances, dtype=np.float32)[:, :k]
            counts = np.asarray(matches.counts).reshape(-1)
        else:
            # usearch answers a single query with ``Matches``: 1-d, only the matches found, no counts.
            found = min(len(matches.keys), k)
            keys = np.zeros((1, k), dtype=np.uint64)
            distances = np.zeros((1, k), dtype=np.float32)
            keys[0, :found] = matches.keys[:found]
            distances[0, :found] = matches.distances[:found]
            counts = np.array([found])
        valid = np.arange(keys.shape[1])[None, :] < counts[:, None]
        ids = np.where(valid, keys.astype(np.int64), -1).astype(np.int32)
        scores = np.where(valid, 1.0 - distances, -np.inf).astype(np.float32)
        return ids, scores
