"""Campaign slots: fixed positions of a page for content anchoring products of a running campaign.

A campaign (618, 双11) buys reach, not rank: the slot is at a fixed position (``positions``, 0-based)
and is filled with the campaign item the user is most likely to care about (interest in its
category x trending). Shops below the experience gate never fill a slot (``rerank`` passes the gate
mask in), so campaign money cannot buy exposure around the north star.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.feed.sources import Candidates, Source, top_k


@dataclass(frozen=True)
class CampaignConfig:
    positions: tuple[int, ...] = (4,)


PER_CATEGORY = 64  # campaign items kept per category, most trending first


def campaign_candidates(
    catalog: Catalog,
    category_interest: np.ndarray,
    trending: np.ndarray,
    eligible: np.ndarray,
    k: int,
    exclude: set[int] | None = None,
) -> Candidates:
    """``eligible``: bool per code (passes the experience gate and the integrity hook).

    Score: (0.05 + interest in the item's category) x (1 + log(1 + trending)). Within a category the
    order is trending's, so each category's best items are found once per catalogue
    (:func:`_by_category`) and a request only walks the first few of each."""
    if k <= 0:
        return Candidates.empty(Source.campaign)
    exclude = exclude or set()
    pools = _by_category(catalog, eligible, trending)
    codes: list[int] = []
    scores: list[float] = []
    for category, (pool, boost) in pools.items():
        interest = float(category_interest[category]) if category >= 0 else 0.0
        taken = 0
        for code, b in zip(pool.tolist(), boost.tolist(), strict=True):
            if code in exclude:
                continue
            codes.append(code)
            scores.append((0.05 + interest) * b)
            taken += 1
            if taken == k:
                break
    if not codes:
        return Candidates.empty(Source.campaign)
    best, best_scores = top_k(np.asarray(codes, dtype=np.int64), np.asarray(scores, dtype=np.float32), k)
    return Candidates(best, best_scores, Source.campaign, because=catalog.category[best])


def _by_category(
    catalog: Catalog, eligible: np.ndarray, trending: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per category: the eligible available campaign items, most trending first, and their
    ``1 + log(1 + trending)`` (cached per catalogue and eligibility mask)."""
    key = ("campaign_by_category", id(eligible), id(trending))
    cached = catalog._derived.get(key)
    if cached is None:
        codes = catalog.campaign_pool(eligible)
        boost = (1.0 + np.log1p(trending[codes])).astype(np.float32)
        category = catalog.category[codes]
        cached = {}
        for c in np.unique(category).tolist():
            mine = np.flatnonzero(category == c)
            order = mine[np.argsort(-boost[mine], kind="stable")][:PER_CATEGORY]
            cached[int(c)] = (codes[order], boost[order])
        catalog._derived[key] = cached
    return cached
