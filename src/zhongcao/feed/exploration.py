"""Exploration: a bounded, configurable share of each page for new content and new shops.

Cold start is solved by design: items the model has little evidence about (published in the last
``new_days``, or shown fewer than ``cold_impressions`` times) and items of new shops (shown fewer
than ``cold_shop_impressions`` times in all) get reserved slots instead of competing with proven
items on predicted scores they cannot have yet. The share is exact in expectation and bounded per
page: a page of ``limit`` items has ``floor(share * limit)`` exploration slots plus one more with
probability equal to the fractional part, never more than ``ceil(share * limit)``. Which cold items
fill them is drawn at random, favouring ``0.2 + interest in the item's category``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.feed.sources import Candidates, Source


@dataclass(frozen=True)
class ExplorationConfig:
    share: float = 0.1
    new_days: float = 3.0
    cold_impressions: int = 20
    cold_shop_impressions: int = 200

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 0.5:
            raise ValueError("exploration share must be within [0, 0.5]")


def slots(share: float, limit: int, rng: np.random.Generator) -> int:
    base = math.floor(share * limit)
    return min(base + int(rng.random() < share * limit - base), math.ceil(share * limit))


def cold_pool(
    catalog: Catalog,
    item_impressions: np.ndarray,
    shop_impressions: dict[int, int],
    now_s: int,
    config: ExplorationConfig,
) -> np.ndarray:
    """Codes of available items that are new, rarely shown, or from a rarely shown shop."""
    impressions = np.zeros(len(catalog), dtype=np.int64)
    n = min(len(item_impressions), len(catalog))
    impressions[:n] = item_impressions[:n]
    new = (now_s - catalog.created_s) <= config.new_days * 86_400
    rare = impressions < config.cold_impressions
    shop_shown = np.zeros(len(catalog), dtype=np.int64)
    if shop_impressions and len(catalog):
        shops = np.fromiter(shop_impressions.keys(), dtype=np.int64, count=len(shop_impressions))
        shown = np.fromiter(shop_impressions.values(), dtype=np.int64, count=len(shop_impressions))
        order = np.argsort(shops)
        shops, shown = shops[order], shown[order]
        pos = np.minimum(np.searchsorted(shops, catalog.shop_ids), len(shops) - 1)
        hit = shops[pos] == catalog.shop_ids
        shop_shown[hit] = shown[pos[hit]]
    new_shop = (catalog.shop_ids >= 0) & (shop_shown < config.cold_shop_impressions)
    return np.flatnonzero(catalog.available & (new | rare | new_shop))


def explore(
    catalog: Catalog,
    pool: np.ndarray,
    category_interest: np.ndarray,
    n: int,
    rng: np.random.Generator,
    exclude: set[int] | None = None,
) -> Candidates:
    if n <= 0 or not len(pool):
        return Candidates.empty(Source.exploration)
    exclude = exclude or set()
    # Draw a few times more than needed (with replacement, by weight) and keep the first n distinct,
    # unexcluded, available ones: O(draws) per page instead of a pass over the whole pool.
    draws = rng.integers(0, len(pool), size=8 * n + 16)
    category = catalog.category[pool[draws]]
    weight = 0.2 + np.where(category >= 0, category_interest[np.maximum(category, 0)], 0.0)
    order = np.argsort(-weight * rng.random(len(draws)) ** 0.5, kind="stable")
    picked: list[int] = []
    weights: list[float] = []
    for i in order.tolist():
        code = int(pool[draws[i]])
        if code in exclude or code in picked or not catalog.available[code]:
            continue
        picked.append(code)
        weights.append(float(weight[i]))
        if len(picked) == n:
            break
    codes = np.asarray(picked, dtype=np.int64)
    return Candidates(
        codes, np.asarray(weights, dtype=np.float32), Source.exploration, because=catalog.category[codes]
    )
