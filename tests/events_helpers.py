"""Helpers for the events tests: small columnar batches."""

from __future__ import annotations

from typing import Any

import numpy as np

T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds


def plays(n: int, *, start: int = 0, day: int = 0) -> dict[str, Any]:
    ids = np.arange(start, start + n)
    return {
        "event_id": np.array([f"p{i}" for i in ids], dtype=object),
        "ts": T0_US + day * 86_400_000_000 + ids.astype(np.int64) * 1000,
        "type": np.array(["play"] * n, dtype=object),
        "user_id": ids + 1,
        "content_id": ids % 7 + 1,
        "watch_ms": np.full(n, 1500),
    }
