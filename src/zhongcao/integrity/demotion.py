"""Demotion in the feed of what bought engagement promoted: the feed's integrity hooks.

Both satisfy ``zhongcao.feed.rerank.IntegrityHook`` structurally (``multipliers(catalog, codes)``, a
float in [0, 1] per item) and read only the catalog's id columns (:class:`CatalogIds`), so this domain
imports nothing of the feed's.

* :class:`PublishedFlagDemotion` is the platform's, installed with
  :func:`zhongcao.feed.rerank.set_integrity_hook` at app start. API workers are stateless: they never
  query the flags, they load what ``integrity_scan`` (and every operator decision) publishes
  (:mod:`zhongcao.integrity.published`), re-checking every few seconds. An item is demoted when it,
  its publishing account or its shop is flagged; a dismissed case's flags are gone from the next
  publication, and the item ranks as before.
* :class:`FlaggedIntegrityHook` is the simulation's (:mod:`zhongcao.world.integrity_sim`), built from
  the detectors' :class:`~zhongcao.integrity.discount.Flags` directly. Content published by a flagged
  account (a bot's own posts) is never shown; content that bought engagement, and the accounts it was
  bought for, are demoted but not hidden, since a competitor can buy engagement for someone else to
  get them punished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from zhongcao.integrity import published
from zhongcao.integrity.discount import Flags
from zhongcao.integrity.models import FlagKind

# Multiplier of a flagged item's score: far down the page, not removed (a case may be dismissed).
DEMOTION = 0.05


class CatalogIds(Protocol):
    """What the hooks read of the feed's catalog (``zhongcao.feed.catalog.Catalog`` has them all)."""

    @property
    def content_ids(self) -> np.ndarray: ...

    @property
    def account_ids(self) -> np.ndarray: ...


class CatalogShopIds(CatalogIds, Protocol):
    @property
    def shop_ids(self) -> np.ndarray: ...


class PublishedFlagDemotion:
    def __init__(self, models_dir: Path | None = None, demotion: float = DEMOTION) -> None:
        self.models_dir = models_dir
        self.demotion = demotion

    def multipliers(self, catalog: CatalogShopIds, codes: np.ndarray) -> np.ndarray:
        flags = published.current(self.models_dir)
        out = np.ones(len(codes), dtype=np.float64)
        if not len(flags) or not len(codes):
            return out
        flagged = flags.flagged(FlagKind.content, catalog.content_ids[codes])
        flagged |= flags.flagged(FlagKind.account, catalog.account_ids[codes])
        flagged |= flags.flagged(FlagKind.shop, catalog.shop_ids[codes])
        out[flagged] = self.demotion
        return out


class FlaggedIntegrityHook:
    def __init__(
        self, flags: Flags, *, target_multiplier: float = 0.5, account_multiplier: float = 0.0
    ) -> None:
        if not (0.0 <= target_multiplier <= 1.0 and 0.0 <= account_multiplier <= 1.0):
            raise ValueError("multipliers must be within [0, 1]")
        self.flags = flags
        self.target_multiplier = target_multiplier
        self.account_multiplier = account_multiplier

    def multipliers_for(self, content_ids: np.ndarray, account_ids: np.ndarray) -> np.ndarray:
        """float per item in [0, 1] from its content id and publishing account."""
        out = np.ones(len(content_ids), dtype=np.float64)
        pushed = np.isin(content_ids, self.flags.content) | np.isin(account_ids, self.flags.target_accounts)
        out[pushed] = self.target_multiplier
        out[np.isin(account_ids, self.flags.accounts)] = self.account_multiplier
        return out

    def multipliers(self, catalog: CatalogIds, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.int64)
        return self.multipliers_for(catalog.content_ids[codes], catalog.account_ids[codes])
