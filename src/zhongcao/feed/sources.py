"""What every candidate source returns, and which source it was (the reasons are built from it).

The sources themselves live one per module: ``collaborative`` (ALS + ANN), ``next_items``
(co-visitation and transitions), ``followed``, ``live``, ``trending``, ``exploration`` and
``campaign_slots``. Each takes arrays and returns :class:`Candidates` over catalog codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class Source(enum.IntEnum):
    collaborative = 0
    next_items = 1
    followed = 2
    live = 3
    trending = 4
    exploration = 5
    campaign = 6


@dataclass(frozen=True)
class Candidates:
    codes: np.ndarray  # int64 catalog codes, best first
    scores: np.ndarray  # float32, the source's own score (comparable only within the source)
    source: Source
    # For reasons: the category / account / anchor item that explains each code (-1 where none).
    because: np.ndarray | None = None

    @classmethod
    def empty(cls, source: Source) -> Candidates:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), source)

    def __len__(self) -> int:
        return len(self.codes)


def top_k(codes: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if len(codes) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        codes, scores = codes[part], scores[part]
    order = np.argsort(-scores, kind="stable")
    return codes[order], scores[order]
