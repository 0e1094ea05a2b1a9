"""Live-now rooms, weighted by the user's interest in the room's category (and whom they follow)."""

from __future__ import annotations

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.feed.sources import Candidates, Source, top_k


def live_candidates(
    catalog: Catalog, category_interest: np.ndarray, followed_accounts: np.ndarray, k: int
) -> Candidates:
    """Rooms on air now. Score: (0.1 + interest in the category) x audience size, x3 when followed."""
    codes = catalog.live_codes
    if not len(codes):
        return Candidates.empty(Source.live)
    category = catalog.category[codes]
    interest = np.where(category >= 0, category_interest[np.maximum(category, 0)], 0.0)
    scores = (0.1 + interest) * (1.0 + catalog.follower_log[codes])
    if len(followed_accounts):
        scores = scores * np.where(np.isin(catalog.account_ids[codes], followed_accounts), 3.0, 1.0)
    codes, scores = top_k(codes, scores.astype(np.float32), k)
    return Candidates(codes, scores, Source.live, because=catalog.category[codes])
