"""What the integrity detectors read: engagement, orders and reviews as parallel arrays.

The platform fills these from its event store and tables (the integrity job), the simulated world from
its own log (``zhongcao bench integrity``); the detectors see only these arrays, never where they came
from, so the same detector code is measured on the simulated world and run on the platform.
Timestamps are Unix seconds (int64). Device, IP and payment-instrument keys are opaque int64 hashes;
-1 means unknown (a detector must work, with less evidence, when they are all unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

import numpy as np

from zhongcao.integrity.blocks import TargetKind

UNKNOWN = -1


class Action(IntEnum):
    """An engagement action; the int value is what ``Engagement.action`` stores."""

    view = 0
    like = 1
    comment = 2
    follow = 3


# What an action's target_id is the id of.
ACTION_TARGET: dict[Action, TargetKind] = {
    Action.view: TargetKind.content,
    Action.like: TargetKind.content,
    Action.comment: TargetKind.content,
    Action.follow: TargetKind.account,
}


def _i64(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


@dataclass(frozen=True)
class Engagement:
    """One row per action (all arrays the same length)."""

    action: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # Action values
    user_id: np.ndarray = field(default_factory=_i64)
    target_id: np.ndarray = field(default_factory=_i64)
    ts: np.ndarray = field(default_factory=_i64)
    device: np.ndarray = field(default_factory=_i64)  # UNKNOWN where not recorded
    ip: np.ndarray = field(default_factory=_i64)

    def __len__(self) -> int:
        return len(self.user_id)


@dataclass(frozen=True)
class Orders:
    """One row per paid order (all arrays the same length)."""

    order_id: np.ndarray = field(default_factory=_i64)
    buyer_id: np.ndarray = field(default_factory=_i64)
    shop_id: np.ndarray = field(default_factory=_i64)
    product_id: np.ndarray = field(default_factory=_i64)  # the order's first (or only) product
    ts: np.ndarray = field(default_factory=_i64)  # paid at
    paid_fen: np.ndarray = field(default_factory=_i64)
    address_key: np.ndarray = field(default_factory=_i64)  # hash of the normalised delivery address
    device: np.ndarray = field(default_factory=_i64)
    payment_key: np.ndarray = field(default_factory=_i64)  # hash of the payment instrument
    confirm_seconds: np.ndarray = field(default_factory=_i64)  # paid -> receipt confirmed; UNKNOWN if not
    refunded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.order_id)


@dataclass(frozen=True)
class Reviews:
    """One row per review (arrays and ``text`` the same length)."""

    review_id: np.ndarray = field(default_factory=_i64)
    user_id: np.ndarray = field(default_factory=_i64)
    shop_id: np.ndarray = field(default_factory=_i64)
    order_id: np.ndarray = field(default_factory=_i64)
    ts: np.ndarray = field(default_factory=_i64)
    rating: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # 1..5
    text: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.review_id)


@dataclass(frozen=True)
class IntegrityInputs:
    """Everything one detection run looks at, over the window ending at ``now``."""

    now: datetime
    engagement: Engagement = field(default_factory=Engagement)
    orders: Orders = field(default_factory=Orders)
    reviews: Reviews = field(default_factory=Reviews)
