"""Interaction files as integer-coded arrays: the input every feed engine is fitted on.

A log is one row per interaction in time order (file order: the supported files carry no timestamps,
each user's lines are chronological). Users and items get dense codes ``0..n-1`` in order of first
appearance, so engines index numpy arrays and sparse matrices with them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zhongcao.imports import Format, parse


@dataclass(frozen=True)
class InteractionLog:
    """Interactions in time order, coded; ``user_labels[code]`` is the id the file used."""

    users: np.ndarray  # int32 user code per interaction
    items: np.ndarray  # int32 item code per interaction
    user_labels: np.ndarray  # str, one per user code
    item_labels: np.ndarray  # str, one per item code

    @property
    def n_users(self) -> int:
        return len(self.user_labels)

    @property
    def n_items(self) -> int:
        return len(self.item_labels)

    def __len__(self) -> int:
        return len(self.users)


@dataclass(frozen=True)
class Sequences:
    """Each user's items in time order, CSR-style: user ``u`` has ``items[indptr[u]:indptr[u + 1]]``."""

    indptr: np.ndarray  # int64, n_users + 1
    items: np.ndarray  # int32
    n_items: int

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def of(self, user: int) -> np.ndarray:
        return self.items[self.indptr[user] : self.indptr[user + 1]]

    def user_of_each(self) -> np.ndarray:
        """The user code of every entry of ``items``."""
        return np.repeat(np.arange(self.n_users, dtype=np.int32), self.lengths)

    def position_of_each(self) -> np.ndarray:
        """0-based position of every entry within its user's sequence."""
        return np.arange(len(self.items), dtype=np.int64) - np.repeat(self.indptr[:-1], self.lengths)

    def select(self, users: np.ndarray) -> Sequences:
        """The sequences of ``users``, in that order (row ``i`` is ``users[i]``)."""
        users = np.asarray(users, dtype=np.int64)
        starts, ends = self.indptr[users], self.indptr[users + 1]
        lengths = ends - starts
        indptr = np.zeros(len(users) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        offsets = np.arange(indptr[-1], dtype=np.int64) - np.repeat(indptr[:-1], lengths)
        return Sequences(indptr, self.items[np.repeat(starts, lengths) + offsets], self.n_items)

    def truncate(self, drop_last: np.ndarray | int) -> Sequences:
        """Drop the last ``drop_last`` items of each user (per user or one number for all)."""
        lengths = self.lengths
        keep = np.maximum(lengths - np.broadcast_to(np.asarray(drop_last), lengths.shape), 0)
        indptr = np.zeros_like(self.indptr)
        np.cumsum(keep, out=indptr[1:])
        position = self.position_of_each()
        kept = position < np.repeat(keep, lengths)
        return Sequences(indptr, self.items[kept], self.n_items)

    def tails(self, length: int) -> Sequences:
        """Only the last ``length`` items of each user (the recent history the online state keeps)."""
        lengths = self.lengths
        keep = np.minimum(lengths, length)
        from_end = np.repeat(lengths, lengths) - self.position_of_each()  # 1 for the last item
        kept = from_end <= np.repeat(keep, lengths)
        indptr = np.zeros_like(self.indptr)
        np.cumsum(keep, out=indptr[1:])
        return Sequences(indptr, self.items[kept], self.n_items)


def encode(users: list[str] | np.ndarray, items: list[str] | np.ndarray) -> InteractionLog:
    """Dense codes in order of first appearance (stable across runs for the same file)."""
    user_labels, user_first, user_codes = np.unique(np.asarray(users), return_index=True, return_inverse=True)
    item_labels, item_first, item_codes = np.unique(np.asarray(items), return_index=True, return_inverse=True)
    user_order = np.argsort(user_first, kind="stable")
    item_order = np.argsort(item_first, kind="stable")
    user_rank = np.empty_like(user_order)
    user_rank[user_order] = np.arange(len(user_order))
    item_rank = np.empty_like(item_order)
    item_rank[item_order] = np.arange(len(item_order))
    return InteractionLog(
        users=user_rank[user_codes].astype(np.int32),
        items=item_rank[item_codes].astype(np.int32),
        user_labels=user_labels[user_order].astype(str),
        item_labels=item_labels[item_order].astype(str),
    )


def load(path: Path, fmt: Format | str = Format.pairs) -> InteractionLog:
    """Read a pairs or sequences file (``zhongcao.imports.parse`` checks every line first)."""
    data = parse(path, Format(fmt))
    return encode(data.users, data.items)


def to_sequences(log: InteractionLog) -> Sequences:
    """Group by user, keeping time order within each user (a stable sort)."""
    order = np.argsort(log.users, kind="stable")
    counts = np.bincount(log.users, minlength=log.n_users)
    indptr = np.zeros(log.n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Sequences(indptr, log.items[order].astype(np.int32), log.n_items)


def from_lists(histories: list[list[int]] | list[np.ndarray], n_items: int | None = None) -> Sequences:
    """Sequences from per-user item lists (tests and online states build them this way)."""
    lengths = np.array([len(h) for h in histories], dtype=np.int64)
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    items = (
        np.concatenate([np.asarray(h, dtype=np.int32) for h in histories])
        if len(histories) and lengths.sum()
        else np.zeros(0, dtype=np.int32)
    )
    if n_items is None:
        n_items = int(items.max()) + 1 if len(items) else 0
    return Sequences(indptr, items, n_items)
