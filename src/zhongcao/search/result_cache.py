"""Answers of recent searches, per index reader: like Solr's query result cache (a query's matches in
order) and Elasticsearch's request cache (its aggregations) together.

Counting the facets of a broad query (a terms aggregation per field over every match) and finding its
top matches are most of a search's work on a large index, and shoppers repeat the head queries. An
answer follows from the search's inputs on one reader, so it stays right until the reader reloads (a
commit or a new generation), which empties the cache; an answer carries its reader, so a hit read just
as another thread reloads still reads its products from the reader that found them.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from typing import Any, NamedTuple

FacetCounts = dict[str, dict[str, int]]


class Answer(NamedTuple):
    pages: Any  # the reader (page_store.PageReader: its searcher and page stores) the addresses belong to
    total: int
    # The matches in order, best first: product ids, scores and tantivy addresses.
    ids: array[int]
    scores: array[float]
    addresses: list[Any]
    fallback: str | None
    facets: FacetCounts  # the cache's own: copy before changing


class ResultCache:
    """An LRU of ``size`` answers (0: off); ``hits`` and ``misses`` are for benchmarks. The lock keeps
    the LRU's order consistent when a sync page (a pool thread) and the event loop search together."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._entries: OrderedDict[tuple[Any, ...], Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Answer | None:
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

    def put(self, key: tuple[Any, ...], answer: Answer) -> None:
        if not self.size:
            return
        with self._lock:
            self._entries[key] = answer
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
