"""A suspicious block: the one result type of every integrity detector.

A block is a set of accounts acting on a set of targets within one time window, denser or faster than
organic behaviour explains (CopyCatch, Beutel et al., WWW 2013; FRAUDAR, Hooi et al., KDD 2016), or a
ring of orders sharing buyers, addresses, devices or payment instruments (brushing, 刷单). Detectors are
pure functions from event arrays to blocks; the integrity service turns blocks into cases and flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np


class BlockKind(StrEnum):
    """What the block is evidence of."""

    engagement = "engagement"  # lockstep / dense likes, follows, views, comments on paid targets
    velocity = "velocity"  # one account acting faster than a person can (streaming rules)
    brushing = "brushing"  # a ring of fake orders (buyers × shops, shared address/device/payment)
    review_text = "review_text"  # near-duplicate review text across accounts


class TargetKind(StrEnum):
    """What the block's ``targets`` are ids of."""

    content = "content"  # videos and live rooms (likes, views, comments)
    account = "account"  # creator / shop accounts (follows)
    product = "product"
    shop = "shop"


@dataclass(frozen=True)
class Block:
    """One detected block.

    ``accounts`` are user ids, ``targets`` ids of ``target_kind``, both sorted int64 arrays without
    repeats. ``events`` is the number of actions inside the block and ``density`` their share of
    ``len(accounts) * len(targets)`` cells; ``score`` in [0, 1] orders blocks by suspicion.
    ``order_ids`` lists the orders of a brushing block (empty otherwise). ``evidence`` holds what the
    explanation cites, JSON-serialisable (for example ``{"shared_addresses": 3, "action": "like"}``).
    """

    kind: BlockKind
    target_kind: TargetKind
    accounts: np.ndarray
    targets: np.ndarray
    start: datetime
    end: datetime
    events: int
    density: float
    score: float
    order_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"block score must be in [0, 1], got {self.score}")
        if self.end < self.start:
            raise ValueError("block ends before it starts")
