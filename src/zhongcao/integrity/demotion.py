"""Demotion in the feed of what bought engagement promoted: the feed's integrity hook
(:func:`zhongcao.feed.rerank.set_integrity_hook`) reading the published flag set.

API workers are stateless: they never query the flags, they load what ``integrity_scan`` (and every
operator decision) publishes (:mod:`zhongcao.integrity.published`), re-checking every few seconds. An
item is demoted when it, its publishing account or its shop is flagged; a dismissed case's flags are
gone from the next publication, and the item ranks as before. Part A's ``FlaggedIntegrityHook`` scores
by the flags' evidence; this is the platform's wiring of the published set, which the lead reconciles
with it at merge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.integrity import published
from zhongcao.integrity.models import FlagKind

# Multiplier of a flagged item's score: far down the page, not removed (a case may be dismissed).
DEMOTION = 0.05


class PublishedFlagDemotion:
    def __init__(self, models_dir: Path | None = None, demotion: float = DEMOTION) -> None:
        self.models_dir = models_dir
        self.demotion = demotion

    def multipliers(self, catalog: Catalog, codes: np.ndarray) -> np.ndarray:
        flags = published.current(self.models_dir)
        out = np.ones(len(codes), dtype=np.float64)
        if not len(flags) or not len(codes):
            return out
        flagged = flags.flagged(FlagKind.content, catalog.content_ids[codes])
        flagged |= flags.flagged(FlagKind.account, catalog.account_ids[codes])
        flagged |= flags.flagged(FlagKind.shop, catalog.shop_ids[codes])
        out[flagged] = self.demotion
        return out
