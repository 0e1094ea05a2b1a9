"""Autocomplete: popular queries and product vocabulary, by prefix and by pinyin prefix.

Entries are popular queries (weighted by how often people searched them) and the words and phrases of
product titles (weighted by how many products carry them, below any popular query). Each entry is
findable by the prefix of its normalised text (NFKC, simplified, lower case), of its full pinyin
(``lianyiqun`` for 连衣裙, spaces removed) and of its pinyin initials (``lyq``).

Lookups must stay within a few milliseconds at any vocabulary size: the best ``TOP`` entries of every
prefix up to ``SHORT_PREFIX`` characters are precomputed (short prefixes match most keys); a longer
prefix is a binary search into the sorted keys and a scan of its (short) range, capped at ``MAX_SCAN``.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from zhongcao.search.analysis import is_cjk, normalize, pinyin_forms

TOP = 10
SHORT_PREFIX = 4
MAX_SCAN = 5_000
MAX_PREFIX_CHARS = 64
# A product word must appear in this many titles to be suggested (model numbers and typos stay out).
MIN_PRODUCT_COUNT = 3
# Popular queries rank above product vocabulary: their weight is the search count times this.
QUERY_BOOST = 1_000
_WORD_RE = re.compile(r"[^\s]+")


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str  # "query" (popular searches) or "product" (product vocabulary)
    weight: float


def _keys(text: str) -> set[str]:
    keys = {text}
    if any(is_cjk(ch) for ch in text):
        full, initials = pinyin_forms(text)
        if full:
            keys.add(full)
        if len(initials) >= 2:
            keys.add(initials)
    compact = text.replace(" ", "")
    if compact != text:
        keys.add(compact)
    return keys


def product_phrases(titles: Iterable[str]) -> Counter[str]:
    """Words of titles and, for Latin titles, pairs of adjacent words, counted once per title."""
    counts: Counter[str] = Counter()
    for title in titles:
        words = _WORD_RE.findall(normalize(title))
        found = set(words)
        if words and words[0].isascii():
            found.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
        counts.update(w for w in found if len(w) >= 2 and not w.isdigit())
    return counts


class Autocomplete:
    def __init__(self, entries: dict[str, tuple[float, str]]) -> None:
        # entries: normalised text -> (weight, source)
        self._texts = list(entries)
        self._weights = [entries[t][0] for t in self._texts]
        self._sources = [entries[t][1] for t in self._texts]
        pairs: list[tuple[str, int]] = []
        short: dict[str, list[tuple[float, int]]] = {}
        for i, text in enumerate(self._texts):
            weight = self._weights[i]
            prefixes: set[str] = set()
            for key in _keys(text):
                pairs.append((key, i))
                prefixes.update(key[:n] for n in range(1, min(len(key), SHORT_PREFIX) + 1))
            for prefix in prefixes:
                bucket = short.setdefault(prefix, [])
                if len(bucket) < TOP:
                    heapq.heappush(bucket, (weight, -i))
                elif (weight, -i) > bucket[0]:
                    heapq.heapreplace(bucket, (weight, -i))
        pairs.sort()
        self._keys = [k for k, _ in pairs]
        self._entry_of_key = [i for _, i in pairs]
        self._short = {p: [-i for _w, i in sorted(bucket, reverse=True)] for p, bucket in short.items()}

    @classmethod
    def build(
        cls,
        popular_queries: Iterable[tuple[str, int]],
        *title_lists: Iterable[str],
        min_product_count: int = MIN_PRODUCT_COUNT,
    ) -> Autocomplete:
        """From ``(query, times searched)`` pairs and any number of title lists (Chinese, English)."""
        entries: dict[str, tuple[float, str]] = {}
        for titles in title_lists:
            for phrase, count in product_phrases(titles).items():
                if count >= min_product_count:
                    entries[phrase] = (float(count), "product")
        for query, count in popular_queries:
            text = normalize(query)[:MAX_PREFIX_CHARS]
            if text and count > 0:
                weight = float(count) * QUERY_BOOST
                previous = entries.get(text)
                if previous is None or previous[1] != "query" or previous[0] < weight:
                    entries[text] = (
                        weight + (previous[0] if previous and previous[1] == "query" else 0),
                        "query",
                    )
        return cls(entries)

    def __len__(self) -> int:
        return len(self._texts)

    def suggest(self, prefix: str, k: int = TOP) -> list[Suggestion]:
        """Up to ``k`` (at most ``TOP``) completions of ``prefix``, best first; none for an empty prefix."""
        text = normalize(prefix[: MAX_PREFIX_CHARS * 4])[:MAX_PREFIX_CHARS]
        if not text:
            return []
        found: dict[int, None] = {}
        for key in dict.fromkeys((text, text.replace(" ", ""))):
            for i in self._lookup(key):
                found[i] = None
        ranked = sorted(found, key=lambda i: (-self._weights[i], self._texts[i]))[: min(k, TOP)]
        return [Suggestion(self._texts[i], self._sources[i], self._weights[i]) for i in ranked]

    def _lookup(self, key: str) -> list[int]:
        if len(key) <= SHORT_PREFIX:
            return self._short.get(key, [])
        lo = bisect.bisect_left(self._keys, key)
        hi = bisect.bisect_left(self._keys, key + "\U0010ffff", lo, min(len(self._keys), lo + MAX_SCAN))
        entries = {self._entry_of_key[j] for j in range(lo, hi)}
        return heapq.nlargest(TOP, entries, key=lambda i: (self._weights[i], -i))
