"""Re-ranking with the north star: experience gate and boost, diversity, frequency caps, integrity.

* **Experience gate and boost.** The shop experience score (0-5, ``experience.scores.current_scores``;
  ``None`` = not scored yet) multiplies an item's score: below ``gate`` no boost and at most
  ``gated_per_page`` such items per page (capped exposure); at or above it ``1 + boost x (score -
  gate)``. An unscored shop is neutral: multiplier 1 and no cap, so new shops are not punished for
  having no history (exploration brings them their first orders).
* **Diversity.** Greedy selection in score order with at most ``per_account`` items of one creator or
  shop account, ``per_shop`` of one shop and ``per_category`` of one top category per page; when the
  caps leave the page short, the rest is filled in score order (caps relaxed, gate cap kept).
* **Frequency caps.** An account already shown ``account_cap`` times among the user's recently served
  items is skipped.
* **Integrity hook.** :class:`IntegrityHook` returns a multiplier per item (1 keeps it, 0 drops it) for
  items and accounts flagged for bought engagement; the default :class:`NoIntegrity` flags nothing. A
  later issue registers a real one with :func:`set_integrity_hook`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from zhongcao.feed.catalog import Catalog


@dataclass(frozen=True)
class RerankConfig:
    gate: float = 4.0  # experience score below which a shop gets no boost and capped exposure
    boost: float = 0.3  # multiplier gain per point above the gate
    gated_per_page: int = 1
    per_account: int = 2
    per_shop: int = 2
    per_category: float = 0.5  # share of a page
    account_cap: int = 6  # times an account may appear among the recently served items
    recent_window: int = 60  # served items the frequency cap looks at


class IntegrityHook(Protocol):
    def multipliers(self, catalog: Catalog, codes: np.ndarray) -> np.ndarray:
        """float per code in [0, 1]: 1 = not flagged, 0 = never show."""
        ...


class NoIntegrity:
    def multipliers(self, catalog: Catalog, codes: np.ndarray) -> np.ndarray:
        return np.ones(len(codes), dtype=np.float64)


_integrity: IntegrityHook = NoIntegrity()


def set_integrity_hook(hook: IntegrityHook | None) -> None:
    """Install the bought-engagement detector (``None`` restores the no-op default)."""
    global _integrity
    _integrity = hook or NoIntegrity()


def integrity_hook() -> IntegrityHook:
    return _integrity


def experience(scores: np.ndarray, config: RerankConfig) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier, gated) per item from experience scores (NaN = not scored: neutral)."""
    scored = ~np.isnan(scores)
    gated = scored & (scores < config.gate)
    multiplier = np.ones(len(scores), dtype=np.float64)
    above = scored & ~gated
    multiplier[above] = 1.0 + config.boost * (scores[above] - config.gate)
    return multiplier, gated


def rerank(
    catalog: Catalog,
    codes: np.ndarray,
    scores: np.ndarray,
    limit: int,
    config: RerankConfig,
    recent_served: Sequence[int] | np.ndarray = (),
    integrity: IntegrityHook | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The page: ``limit`` codes chosen from ``codes`` (and their adjusted scores), best first."""
    codes = np.asarray(codes, dtype=np.int64)
    if not len(codes):
        return codes, np.zeros(0)
    multiplier, gated = experience(catalog.shop_score[codes], config)
    adjusted = np.asarray(scores, dtype=np.float64) * multiplier
    adjusted = adjusted * (integrity or _integrity).multipliers(catalog, codes)
    order = np.argsort(-adjusted, kind="stable")
    order = order[adjusted[order] > 0]
    recent_accounts = Counter(
        catalog.account_ids[np.asarray(recent_served[-config.recent_window :], dtype=np.int64)].tolist()
        if len(recent_served)
        else []
    )
    per_category = max(1, math.ceil(config.per_category * limit))
    chosen: list[int] = []
    accounts: Counter[int] = Counter()
    shops: Counter[int] = Counter()
    categories: Counter[int] = Counter()
    n_gated = 0
    skipped: list[int] = []
    for i in order.tolist():
        if len(chosen) == limit:
            break
        account = int(catalog.account_ids[codes[i]])
        if recent_accounts[account] + accounts[account] >= config.account_cap:
            continue
        if gated[i] and n_gated >= config.gated_per_page:
            continue
        shop = int(catalog.shop_ids[codes[i]])
        category = int(catalog.category[codes[i]])
        if (
            accounts[account] >= config.per_account
            or (shop >= 0 and shops[shop] >= config.per_shop)
            or (category >= 0 and categories[category] >= per_category)
        ):
            skipped.append(i)
            continue
        chosen.append(i)
        accounts[account] += 1
        shops[shop] += 1
        categories[category] += 1
        n_gated += int(gated[i])
    for i in skipped:  # caps left the page short: fill in score order, the gate cap still holds
        if len(chosen) == limit:
            break
        if gated[i] and n_gated >= config.gated_per_page:
            continue
        chosen.append(i)
        n_gated += int(gated[i])
    picked = np.asarray(chosen, dtype=np.int64)
    return codes[picked], adjusted[picked]
