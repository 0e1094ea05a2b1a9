"""The active flag set as a published artifact, for processes that must not query the database for it.

API workers are stateless and the event store's readers (the feed, search, Compass, the like counts)
run in many processes: the ``integrity_scan`` job writes the set of flagged ids as a versioned artifact
(``<models_dir>/integrity_flags/<version>/flags.npz``, :mod:`zhongcao.artifacts`) after every run and
after every operator decision, and readers load the newest, re-checking every few seconds. A reader
before any publication sees the empty set: nothing is discounted that was never flagged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zhongcao import artifacts
from zhongcao.integrity.models import FlagKind

ARTIFACT = "integrity_flags"
FILE_NAME = "flags.npz"
POLL_SECONDS = 2.0


def _empty() -> dict[FlagKind, np.ndarray]:
    return {kind: np.zeros(0, dtype=np.int64) for kind in FlagKind}


@dataclass(frozen=True)
class FlagSet:
    """Flagged ids per kind, each a sorted int64 array without repeats."""

    ids: Mapping[FlagKind, np.ndarray] = field(default_factory=_empty)
    version: str | None = None

    @classmethod
    def of(cls, ids: Mapping[FlagKind, object], version: str | None = None) -> FlagSet:
        made = _empty()
        for kind, values in ids.items():
            made[FlagKind(kind)] = np.unique(np.asarray(list(values), dtype=np.int64))  # type: ignore[call-overload]
        return cls(made, version)

    def of_kind(self, kind: FlagKind) -> np.ndarray:
        return self.ids.get(kind, np.zeros(0, dtype=np.int64))

    def flagged(self, kind: FlagKind, values: np.ndarray | list[int]) -> np.ndarray:
        """A boolean mask: which of ``values`` are flagged."""
        return np.isin(np.asarray(values, dtype=np.int64), self.of_kind(kind))

    def has(self, kind: FlagKind, value: int) -> bool:
        ids = self.of_kind(kind)
        i = int(np.searchsorted(ids, value))
        return i < len(ids) and int(ids[i]) == value

    def __len__(self) -> int:
        return sum(len(v) for v in self.ids.values())


EMPTY = FlagSet()


def publish(flags: FlagSet, root: Path | None = None) -> Path:
    """Write ``flags`` as the newest version (readers switch on their next check); keeps three."""
    with artifacts.new_version(
        ARTIFACT, {"counts": {k.value: len(v) for k, v in flags.ids.items()}}, root
    ) as tmp:
        arrays: dict[str, Any] = {k.value: v for k, v in flags.ids.items()}
        np.savez(tmp / FILE_NAME, **arrays)
    artifacts.prune(ARTIFACT, keep=3, root=root)
    path = artifacts.newest(ARTIFACT, root)
    assert path is not None
    return path


def load(path: Path) -> FlagSet:
    with np.load(path / FILE_NAME) as data:
        ids = {kind: np.asarray(data[kind.value], dtype=np.int64) for kind in FlagKind if kind.value in data}
    return FlagSet({**_empty(), **ids}, path.name)


_readers: dict[str, artifacts.Newest[FlagSet]] = {}
_readers_lock = threading.Lock()


def current(root: Path | None = None) -> FlagSet:
    """The newest published flag set under ``root`` (the configured models folder when None)."""
    key = str(Path(root).resolve()) if root is not None else ""
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = artifacts.Newest(ARTIFACT, load, root=root, poll_seconds=POLL_SECONDS)
    return reader.get() or EMPTY


def forget() -> None:
    """Drop every cached reader (tests, after publishing, to read the new set at once)."""
    with _readers_lock:
        _readers.clear()
