"""The feed's integrity hook built from flags: flagged content and accounts are demoted.

:class:`FlaggedIntegrityHook` satisfies ``zhongcao.feed.rerank.IntegrityHook`` (structurally: a domain
does not import another's modules): ``multipliers(catalog, codes)`` reads only the catalog's
``content_ids`` and ``account_ids``. Content published by a flagged account (a bot's own posts) is
never shown; content that bought engagement, and the accounts it was bought for, are demoted but not
hidden, since a competitor can buy engagement for someone else to get them punished.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from zhongcao.integrity.discount import Flags


class CatalogIds(Protocol):
    """What the hook reads of the feed's catalog (``zhongcao.feed.catalog.Catalog`` has both)."""

    @property
    def content_ids(self) -> np.ndarray: ...

    @property
    def account_ids(self) -> np.ndarray: ...


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
