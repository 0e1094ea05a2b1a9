"""Trending in the user's categories, near the user's price range.

Trending is recency-weighted engagement per item (``popularity.Popularity`` with a half-life in
hours, from training). Each top category keeps its items in trending order; a user's k candidates are
split across their three favourite categories by interest, taking items whose price is within a
factor ``PRICE_FACTOR`` of the user's typical price first (reason: "popular in 美妆 near your price
range"), then any price.
"""

from __future__ import annotations

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.feed.sources import Candidates, Source

PRICE_FACTOR = 2.5
TOP_CATEGORIES = 3


class Trending:
    def __init__(self, catalog: Catalog, trending: np.ndarray) -> None:
        """``trending`` per training-time catalog code; items published since count as 0."""
        score = np.zeros(len(catalog), dtype=np.float32)
        n = min(len(trending), len(catalog))
        score[:n] = trending[:n]
        self.score = score
        ok = catalog.available & (score > 0)
        self.by_category: list[np.ndarray] = []
        for c in range(catalog.n_categories):
            codes = np.flatnonzero(ok & (catalog.category == c))
            self.by_category.append(codes[np.argsort(-score[codes], kind="stable")][:2000])
        codes = np.flatnonzero(ok)
        self.overall = codes[np.argsort(-score[codes], kind="stable")][:2000]
        self.catalog = catalog

    def candidates(
        self, category_interest: np.ndarray, price_ref: float, k: int, exclude: set[int] | None = None
    ) -> tuple[Candidates, np.ndarray]:
        """(candidates with ``because`` = category index, and a bool per candidate: in the price band)."""
        exclude = exclude or set()
        favourite = [c for c in np.argsort(-category_interest)[:TOP_CATEGORIES] if category_interest[c] > 0]
        codes: list[int] = []
        banded: list[bool] = []
        because: list[int] = []
        if favourite:
            weights = category_interest[favourite] / category_interest[favourite].sum()
            quota = np.maximum(1, np.round(weights * k)).astype(int)
            log_price = np.log1p(self.catalog.price_fen / 100.0)
            for c, q in zip(favourite, quota, strict=True):
                pool = [int(x) for x in self.by_category[c][: 8 * q] if int(x) not in exclude]
                if np.isfinite(price_ref):
                    near = [x for x in pool if abs(log_price[x] - price_ref) <= np.log(PRICE_FACTOR)]
                    rest = [x for x in pool if abs(log_price[x] - price_ref) > np.log(PRICE_FACTOR)]
                else:
                    near, rest = [], pool
                for x in (near + rest)[:q]:
                    codes.append(x)
                    banded.append(x in near)
                    because.append(int(c))
        taken = set(codes)
        for x in self.overall[: 4 * k].tolist():
            if len(codes) >= k:
                break
            if x not in taken and x not in exclude:
                codes.append(x)
                banded.append(False)
                because.append(-1)
        arr = np.asarray(codes[:k], dtype=np.int64)
        return (
            Candidates(
                arr, self.score[arr], Source.trending, because=np.asarray(because[:k], dtype=np.int64)
            ),
            np.asarray(banded[:k], dtype=bool),
        )
