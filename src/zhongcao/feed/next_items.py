"""Item-to-item candidates: co-visitation and next-item transitions from the user's latest items.

The counts are ``covisit.ItemToItem`` over the joint content + product space, fitted at training
time and kept current from the event stream by ``ItemToItem.update`` (``event_log.catch_up`` feeds it
the events logged since the model's data window). A user's candidates are the content items with the
highest recency-weighted P(next | recent) + P(co-visited | recent).
"""

from __future__ import annotations

import numpy as np

from zhongcao.feed.covisit import ItemToItem, Relation
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.sources import Candidates, Source, top_k

DECAY = 0.6
RECENT = 5


def next_item_candidates(
    i2i: ItemToItem, recent: Sequences, n_content: int, k: int, exclude: set[int] | None = None
) -> Candidates:
    """``recent`` is one user's row (joint codes, oldest first)."""
    if not len(recent.items) or i2i.n_items == 0:
        return Candidates.empty(Source.next_items)
    items = recent.items[recent.indptr[0] : recent.indptr[1]]
    scores = i2i.row_scores(items, Relation.next, DECAY, RECENT).plus(
        i2i.row_scores(items, Relation.covisit, DECAY, RECENT)
    )
    codes, values = scores.columns, scores.values
    keep = codes < n_content
    if exclude:
        keep &= ~np.isin(codes, np.fromiter(exclude, dtype=np.int64))
    keep &= ~np.isin(codes, recent.items)
    codes, values = top_k(codes[keep], values[keep], k)
    return Candidates(codes, values, Source.next_items)
