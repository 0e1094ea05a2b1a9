"""Batch-ranked candidates as saved in a model's artifact (``ranked.npz``) and read per user when a
page is served. :mod:`zhongcao.feed.precompute` makes them (with the serving code, so it sits above
:mod:`zhongcao.feed.service`); the model and the server only read them, from here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "ranked.npz"


def follow_hash(follows: np.ndarray) -> int:
    """A stable 63-bit hash of a set of followed account ids (order does not matter)."""
    data = np.unique(np.asarray(follows, dtype=np.int64)).tobytes()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") >> 1


@dataclass(frozen=True)
class RankedRow:
    codes: np.ndarray  # int64 catalog codes, best first
    scores: np.ndarray  # float32, the model's combined score
    sources: np.ndarray  # int8, Source values
    because: np.ndarray  # int64, the source's "because" (account, category; -1 none)
    banded: np.ndarray  # bool, a trending item in the user's price band
    product_ids: np.ndarray  # int64, product cards, best first
    product_scores: np.ndarray  # float32


@dataclass(frozen=True)
class RankedLists:
    user_ids: np.ndarray  # int64, sorted
    follow_hash: np.ndarray  # int64 per user: the follows the list was made with
    ptr: np.ndarray  # int64 CSR over the candidate arrays
    codes: np.ndarray  # int32
    scores: np.ndarray  # float32
    sources: np.ndarray  # int8
    because: np.ndarray  # int64
    banded: np.ndarray  # bool
    product_ptr: np.ndarray  # int64 CSR over the product arrays
    product_ids: np.ndarray  # int64
    product_scores: np.ndarray  # float32
    as_of_s: int

    def row(self, user_id: int) -> int:
        pos = int(np.searchsorted(self.user_ids, user_id))
        return pos if pos < len(self.user_ids) and self.user_ids[pos] == user_id else -1

    def ranked(self, row: int) -> RankedRow:
        a, b = self.ptr[row], self.ptr[row + 1]
        pa, pb = self.product_ptr[row], self.product_ptr[row + 1]
        return RankedRow(
            self.codes[a:b].astype(np.int64),
            self.scores[a:b],
            self.sources[a:b],
            self.because[a:b],
            self.banded[a:b],
            self.product_ids[pa:pb],
            self.product_scores[pa:pb],
        )

    def save(self, folder: Path) -> None:
        # No pickles: the load refuses them too (and naming allow_pickle keeps **arrays off it for mypy).
        np.savez(folder / FILE, allow_pickle=False, **{k: np.asarray(v) for k, v in self.__dict__.items()})

    @classmethod
    def load(cls, folder: Path) -> RankedLists | None:
        path = folder / FILE
        if not path.exists():
            return None
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["as_of_s"] = int(arrays["as_of_s"])
        return cls(**arrays)
