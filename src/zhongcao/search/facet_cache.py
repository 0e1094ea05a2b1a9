"""Facet counts of recent searches, per index reader (like Elasticsearch's shard request cache).

Counting the facets of a broad query (a terms aggregation per field over every match) is most of a
search's work on a large index, and shoppers repeat the head queries. The counts follow from the
search's inputs on one reader, so they stay right until the reader reloads (a commit or a new
generation), which empties the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

FacetCounts = dict[str, dict[str, int]]


class FacetCache:
    """An LRU of ``size`` entries (0: off); ``hits`` and ``misses`` are for benchmarks. The lock keeps
    the LRU's order consistent when a sync page (a pool thread) and the event loop search together."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._entries: OrderedDict[tuple[Any, ...], FacetCounts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> FacetCounts | None:
        """The counts (the cache's own: copy before changing them), or None."""
        if not self.size:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], counts: FacetCounts) -> None:
        if not self.size:
            return
        with self._lock:
            self._entries[key] = counts
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
