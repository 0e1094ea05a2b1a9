"""What survives discounting: pure helpers over flagged ids (the simulation and the platform both use them).

Detection never deletes anything: a flag set (:class:`Flags`) says which accounts, targets and orders
are discounted, and these helpers say which events, follows, orders and reviews still count. Dropping
a flag (a dismissed case) makes everything it discounted count again, since nothing was removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from zhongcao.integrity.blocks import Block, BlockKind, TargetKind

# Below this score a block is shown to the operator but discounts nothing.
MIN_SCORE = 0.5


def _ids(values: Iterable[int]) -> np.ndarray:
    return np.asarray(sorted(set(values)), dtype=np.int64)


@dataclass(frozen=True)
class Flags:
    """Sorted int64 id arrays: accounts whose engagement and orders do not count, content and
    accounts pushed by bought engagement (demoted), orders that were brushed."""

    accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    content: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    target_accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    orders: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def union(self, other: Flags) -> Flags:
        return Flags(
            _ids([*self.accounts.tolist(), *other.accounts.tolist()]),
            _ids([*self.content.tolist(), *other.content.tolist()]),
            _ids([*self.target_accounts.tolist(), *other.target_accounts.tolist()]),
            _ids([*self.orders.tolist(), *other.orders.tolist()]),
        )


def flags_from_blocks(blocks: Iterable[Block], min_score: float = MIN_SCORE) -> Flags:
    """The flags the blocks scoring at least ``min_score`` raise."""
    accounts: list[int] = []
    content: list[int] = []
    target_accounts: list[int] = []
    orders: list[int] = []
    for block in blocks:
        if block.score < min_score:
            continue
        accounts += block.accounts.tolist()
        orders += block.order_ids.tolist()
        if block.kind is BlockKind.engagement:  # velocity targets are one account's, not bought pushes
            if block.target_kind is TargetKind.content:
                content += block.targets.tolist()
            elif block.target_kind is TargetKind.account:
                target_accounts += block.targets.tolist()
    return Flags(_ids(accounts), _ids(content), _ids(target_accounts), _ids(orders))


def surviving_events(user_ids: np.ndarray, flags: Flags) -> np.ndarray:
    """Which engagement events (by their actors) still count: not by a flagged account."""
    return ~np.isin(np.asarray(user_ids, dtype=np.int64), flags.accounts)


def surviving_follows(follower_ids: np.ndarray, flags: Flags) -> np.ndarray:
    """Which follows still count (a flagged account's follows do not)."""
    return surviving_events(follower_ids, flags)


def surviving_orders(order_ids: np.ndarray, flags: Flags) -> np.ndarray:
    """Which orders still count toward sales, GMV, sales rank and the experience score."""
    return ~np.isin(np.asarray(order_ids, dtype=np.int64), flags.orders)


def surviving_reviews(order_ids: np.ndarray, user_ids: np.ndarray, flags: Flags) -> np.ndarray:
    """Which reviews still count toward ratings: not of a brushed order, not by a flagged account."""
    return surviving_orders(order_ids, flags) & surviving_events(user_ids, flags)
