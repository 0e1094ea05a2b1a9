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


def campaign_candidates(
    catalog: Catalog,
    category_interest: np.ndarray,
    trending: np.ndarray,
    eligible: np.ndarray,
    k: int,
    exclude: set[int] | None = None,
) -> Candidates:
    """``eligible``: bool per code (passes the experience gate and the integrity hook)."""
    codes = catalog.campaign_pool(eligible)
    if exclude:
        codes = codes[~np.isin(codes, np.fromiter(exclude, dtype=np.int64))]
    if not len(codes) or k <= 0:
        return Candidates.empty(Source.campaign)
    category = catalog.category[codes]
    interest = np.where(category >= 0, category_interest[np.maximum(category, 0)], 0.0)
    scores = ((0.05 + interest) * (1.0 + np.log1p(trending[codes]))).astype(np.float32)
    codes, scores = top_k(codes, scores, k)
    return Candidates(codes, scores, Source.campaign, because=catalog.category[codes])
