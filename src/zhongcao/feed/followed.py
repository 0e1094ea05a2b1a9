"""Followed accounts' fresh content: what the accounts a user follows published, newest first."""

from __future__ import annotations

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.feed.sources import Candidates, Source

FRESH_DAYS = 7.0


def followed_candidates(
    catalog: Catalog, followed_accounts: np.ndarray, now_s: int, k: int, fresh_days: float = FRESH_DAYS
) -> Candidates:
    """Available items of followed accounts; the score halves every ``fresh_days / 2`` of age, so fresh
    items lead and older ones still fill the source when an account has published nothing new."""
    if not len(followed_accounts):
        return Candidates.empty(Source.followed)
    codes = catalog.items_of_accounts(followed_accounts)
    codes = codes[catalog.available[codes]]
    if not len(codes):
        return Candidates.empty(Source.followed)
    age_days = np.maximum(now_s - catalog.created_s[codes], 0) / 86_400.0
    scores = np.exp2(-age_days / (fresh_days / 2)).astype(np.float32)
    order = np.argsort(-scores, kind="stable")[:k]
    return Candidates(codes[order], scores[order], Source.followed, because=catalog.account_ids[codes[order]])
