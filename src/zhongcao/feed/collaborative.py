"""Collaborative candidates: implicit ALS over user-content and user-product interactions, served
from usearch ANN indexes (one over content factors, one over product factors for product cards).

The ALS model is fitted on one joint item space, content codes first then products
(``event_log.joint_interactions``), so a purchase or a product view shapes the user's vector as much as a
play does. A user the model has no row for (new since training) gets the mean factor of what they
did since (fold-in by averaging), so a new user's second page is already personal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zhongcao.feed.ann import InnerProductIndex
from zhongcao.feed.sources import Candidates, Source


class Collaborative:
    def __init__(
        self,
        item_factors: np.ndarray,
        n_content: int,
        threads: int = 1,
        *,
        indexes: tuple[InnerProductIndex | None, InnerProductIndex | None] | None = None,
    ) -> None:
        """``indexes``: (content, products) already built (an artifact's saved graphs)."""
        self.n_content = n_content
        self.item_factors = item_factors
        products = item_factors[n_content:]
        if indexes is not None:
            self.content_index, self.product_index = indexes
        else:
            self.content_index = (
                InnerProductIndex(item_factors[:n_content], threads=threads) if n_content else None
            )
            self.product_index = InnerProductIndex(products, threads=threads) if len(products) else None
        # Built on ``threads``; one query per request is answered on one thread (spawning more costs more).
        for index in (self.content_index, self.product_index):
            if index is not None:
                index.threads = 1

    def content(self, vector: np.ndarray, k: int, exclude: set[int] | None = None) -> Candidates:
        if self.content_index is None or not np.any(vector):
            return Candidates.empty(Source.collaborative)
        exclude = exclude or set()
        ids, scores = self.content_index.search(vector, k + min(len(exclude), 4 * k))
        keep = [
            (i, s)
            for i, s in zip(ids[0].tolist(), scores[0].tolist(), strict=True)
            if i >= 0 and i not in exclude
        ]
        keep = keep[:k]
        return Candidates(
            np.asarray([i for i, _ in keep], dtype=np.int64),
            np.asarray([s for _, s in keep], dtype=np.float32),
            Source.collaborative,
        )

    def products(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Product indexes (into the model's product list) and scores, best first."""
        if self.product_index is None or not np.any(vector):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids, scores = self.product_index.search(vector, k)
        ok = ids[0] >= 0
        return ids[0][ok].astype(np.int64), scores[0][ok]


def fold_in(item_factors: np.ndarray, recent_joint_codes: np.ndarray) -> np.ndarray:
    """A vector for a user without an ALS row: the mean factor of their recent items (zeros if none)."""
    codes = recent_joint_codes[(recent_joint_codes >= 0) & (recent_joint_codes < len(item_factors))]
    if not len(codes):
        return np.zeros(item_factors.shape[1], dtype=np.float32)
    return item_factors[codes].mean(axis=0).astype(np.float32)


CONTENT_FILE = "ann_content.usearch"
PRODUCTS_FILE = "ann_products.usearch"


def save_indexes(collaborative: Collaborative, folder: Path) -> None:
    if collaborative.content_index is not None:
        collaborative.content_index.save(folder / CONTENT_FILE)
    if collaborative.product_index is not None:
        collaborative.product_index.save(folder / PRODUCTS_FILE)


def load(folder: Path, item_factors: np.ndarray, n_content: int) -> Collaborative | None:
    """The saved graphs of an artifact (None when it has none: older artifacts build them on load)."""
    content, products = folder / CONTENT_FILE, folder / PRODUCTS_FILE
    if (n_content and not content.exists()) or (len(item_factors) > n_content and not products.exists()):
        return None
    return Collaborative(
        item_factors,
        n_content,
        indexes=(
            InnerProductIndex.restore(content) if content.exists() else None,
            InnerProductIndex.restore(products) if products.exists() else None,
        ),
    )
