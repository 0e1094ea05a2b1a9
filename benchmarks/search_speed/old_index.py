"""An in-memory product index: BM25 over analysed tokens, filters, sorts, facets, highlights.

Retrieval scores every matching document with BM25 (Lucene variant, as ``bm25s`` computes it, k1 1.5,
b 0.75; postings by token built with numpy, scored at query time from term frequencies) over the
tokens of :mod:`zhongcao.search.analysis` (Chinese words, n-grams and pinyin; English stems), summing
query terms by weight: typed terms 1, typo corrections 0.7, synonyms 0.8. Matching is "any term", so
ranking, not the match set, rewards covering the whole query.

Updates without a rebuild (issue #5 item 5, "searchable within 1 s"): the index is a *main segment*
(postings built at the last :meth:`ProductIndex.compact`) plus a *delta segment* of documents added or
changed since, with postings in a dict. :meth:`ProductIndex.upsert` appends the new version to the
delta and tombstones the old one; :meth:`ProductIndex.remove` only tombstones. Both segments are scored
with the same formula and the current corpus statistics, so a change is visible to the very next search.
Filter, sort and facet columns are numpy arrays (text fields as integer codes) updated in place. When
the delta outgrows ``compact_after`` documents (or a quarter of the main segment) the index compacts:
the main segment's postings are rebuilt from the stored token ids (no text analysis); with
``auto_compact=False`` the owner does it instead, off the request path (:meth:`ProductIndex.snapshot`
under its lock, :meth:`ProductIndex.from_snapshot` without it, then a swap).

Speed at a million products (``benchmarks/search_speed``): a text query works on its matching slots
(postings carry term frequency and document length as bytes, and are merged by a stable argsort of
their sorted runs); a browse, or the fallback when nothing matched, never gathers every live slot: it
uses full-width boolean masks, facet totals kept up to date by upsert and remove (a browse filtered
only by price, stock or campaign counts the few products it leaves out and subtracts), and the main
segment presorted by each browse sort (the page is the first matching slots of that order, merged
with the delta's). Results are the same as a plain scan's, to the ordering of ties.

Bad input never raises anything but :class:`SearchQueryError` (an ``InvalidInput``, so the API answers
422): an unknown sort, a negative price, a page past the limit. A strange query is not an error: control
characters are dropped, anything past 256 characters is cut, SQL or regex syntax is just text, and a
query with no searchable characters (empty, emoji only) browses the filtered catalogue instead.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np

from zhongcao.errors import InvalidInput
from zhongcao.search.analysis import (
    MAX_QUERY_CHARS,
    PINYIN_PREFIX,
    QueryTerm,
    SynonymDictionary,
    TypoCorrector,
    analyze_document,
    cut_for_search,
    expand_query,
    is_cjk,
    latin_words,
    normalize,
    pinyin_forms,
    stem,
    to_simplified,
)

SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")
FACET_FIELDS = ("category", "brand", "shop")
MAX_K = 200
MAX_OFFSET = 10_000
BM25_K1 = 1.5
BM25_B = 0.75


class SearchQueryError(InvalidInput):
    code = "invalid_search"


@dataclass(frozen=True)
class ProductDocument:
    """What the index knows of a product; text fields may be empty, money is integer fen."""

    product_id: int
    title_zh: str = ""
    title_en: str = ""
    brand: str = ""
    category: str = ""
    shop: str = ""
    price_fen: int = 0
    stock: int = 0
    sales: int = 0
    created_at: datetime | float = 0.0
    campaign_ids: tuple[int, ...] = ()
    # Searchable words besides the titles. None: the brand and category fields are themselves the
    # words (names); a caller that keeps ids in those fields (for filters) passes the names here.
    keywords: str | None = None

    @property
    def title(self) -> str:
        return self.title_zh or self.title_en

    def text(self) -> str:
        extra = (self.brand, self.category) if self.keywords is None else (self.keywords,)
        return " ".join(p for p in (self.title_zh, self.title_en, *extra) if p)


@dataclass(frozen=True)
class SearchHit:
    product_id: int
    score: float
    # The title (Chinese, else English), HTML-escaped, with query matches wrapped in <em>...</em>.
    highlight: str
    # The English title likewise when the product has both titles, else "".
    highlight_en: str = ""
    # Share of the typed query tokens the product's text contains (a text-match feature for ranking).
    coverage: float = 0.0


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]]
    query: str
    suggestion: str | None = None
    # None, or why the hits are not plain matches: "popular_in_filters" / "popular" when nothing matched.
    fallback: str | None = None
    truncated: bool = False
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [hit.product_id for hit in self.hits]


def _timestamp(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class _Field:
    """A text column stored as integer codes (code 0 is the empty value), for filters and facets."""

    def __init__(self) -> None:
        self.values: list[str] = [""]
        self.code_of: dict[str, int] = {"": 0}
        self._array: np.ndarray | None = None

    def code(self, value: str) -> int:
        code = self.code_of.get(value)
        if code is None:
            code = self.code_of[value] = len(self.values)
            self.values.append(value)
            self._array = None
        return code

    def array(self) -> np.ndarray:
        """The values as a numpy object array, to turn many codes into names at once."""
        if self._array is None:
            self._array = np.asarray(self.values, dtype=object)
        return self._array


@dataclass(frozen=True)
class IndexSnapshot:
    """The live documents of a :class:`ProductIndex` and their analysed tokens, at one moment."""

    live: np.ndarray
    main_size: int
    docs: list[ProductDocument]
    doc_tokens: np.ndarray
    doc_ptr: np.ndarray
    delta_tokens: dict[int, np.ndarray]
    vocab: dict[str, int]
    synonyms: SynonymDictionary | None
    compact_after: int
    auto_compact: bool


class ProductIndex:
    def __init__(
        self,
        documents: Iterable[ProductDocument] = (),
        *,
        synonyms: SynonymDictionary | None = None,
        compact_after: int = 2_000,
        auto_compact: bool = True,
    ) -> None:
        self.synonyms = synonyms
        self.compact_after = compact_after
        # False: upsert never compacts; the owner watches needs_compaction() and swaps in a
        # compacted copy built elsewhere (the search service does it on a background thread).
        self.auto_compact = auto_compact
        self._build(list(documents))

    # -- building and updating ------------------------------------------------------------------------

    def _build(self, documents: list[ProductDocument], analysed: dict[int, np.ndarray] | None = None) -> None:
        latest: dict[int, ProductDocument] = {d.product_id: d for d in documents}
        docs = list(latest.values())
        n = len(docs)
        self._vocab: dict[str, int] = getattr(self, "_vocab", {})
        self._raw_words: Counter[str] = Counter()
        self._docs: list[ProductDocument] = []
        self._slot_of: dict[int, int] = {}
        self._capacity = 0
        self._size = 0
        self._fields = {name: _Field() for name in FACET_FIELDS}
        self._campaigns: dict[int, np.ndarray] = {}
        self._ensure_capacity(max(16, n))
        token_ids: list[np.ndarray] = []
        for doc in docs:
            ids = analysed.get(doc.product_id) if analysed is not None else None
            if ids is None:
                ids = self._analyse(doc)
            else:
                self._raw_words.update(set(latin_words(normalize(doc.text()))))
            token_ids.append(ids)
            self._place(doc)
        # Main segment: postings by token (CSC), built with numpy from the documents' token ids.
        lengths = np.fromiter((len(t) for t in token_ids), dtype=np.int64, count=n)
        self._length[:n] = lengths
        self._doc_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=self._doc_ptr[1:])
        flat = np.concatenate(token_ids).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        self._doc_tokens = flat.astype(np.int32)
        doc_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
        vocabulary = max(1, len(self._vocab))
        pairs, tf = np.unique(flat * n + doc_of if n else flat, return_counts=True)
        post_token = pairs // max(n, 1)
        self._post_doc = (pairs % max(n, 1)).astype(np.int32)
        # Term frequencies and document lengths are small integers: as bytes (when they fit), the
        # postings take 6 bytes instead of 8, and each posting carries its document's length, so
        # scoring reads contiguous slices instead of gathering lengths from a million-slot array.
        small = tf.max(initial=0) <= 255 and lengths.max(initial=0) <= 255
        self._post_tf = tf.astype(np.uint8 if small else np.float32)
        self._post_len = lengths[self._post_doc].astype(np.uint8) if small else None
        self._post_ptr = np.zeros(vocabulary + 1, dtype=np.int64)
        np.cumsum(np.bincount(post_token, minlength=vocabulary), out=self._post_ptr[1 : vocabulary + 1])
        self._df = np.bincount(post_token, minlength=vocabulary).astype(np.int64)
        self._main_size = n
        self._delta_tokens: dict[int, np.ndarray] = {}  # slot -> token ids, for slots past the main segment
        self._delta_postings: dict[int, list[int]] = {}  # token id -> delta slots (repeated per occurrence)
        self._total_length = int(lengths.sum())
        self._live = n
        self._corrector = TypoCorrector(self._raw_words)
        # Live documents per facet value, kept up to date by upsert and remove: the facet counts of a
        # browse without filters, and of a field whose own filter is the only one.
        self._facet_totals = {
            name: np.bincount(self._codes[name][:n], minlength=len(self._fields[name].values)).astype(
                np.int64
            )
            for name in FACET_FIELDS
        }
        # The main segment's slots presorted by each browse sort: a browse walks the order and keeps
        # the first matching slots instead of selecting among every live product. Main-segment slots
        # never change (an update is a new slot in the delta), so the orders only need tombstones
        # skipped, which the alive mask does.
        self._orders = {sort: self._sorted_slots(sort, n) for sort in SORTS if sort != "relevance"}

    def _analyse(self, doc: ProductDocument) -> np.ndarray:
        tokens = analyze_document(doc.text())
        vocab = self._vocab
        ids = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int64, count=len(tokens)
        )
        self._raw_words.update(set(latin_words(normalize(doc.text()))))
        return ids

    def _ensure_capacity(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, 2 * self._capacity)

        def grow(old: np.ndarray | None, dtype: type) -> np.ndarray:
            new = np.zeros(capacity, dtype=dtype)
            if old is not None:
                new[: len(old)] = old
            return new

        had = self._capacity > 0
        self._alive = grow(self._alive if had else None, bool)
        self._ids = grow(self._ids if had else None, np.int64)
        self._price = grow(self._price if had else None, np.int64)
        self._stock = grow(self._stock if had else None, np.int64)
        self._sales = grow(self._sales if had else None, np.int64)
        self._created = grow(self._created if had else None, np.float64)
        self._length = grow(self._length if had else None, np.int64)
        # int32 codes: half the memory traffic of int64 in every filter and facet count.
        self._codes = {name: grow(self._codes[name] if had else None, np.int32) for name in FACET_FIELDS}
        self._campaigns = {c: grow(mask, bool) for c, mask in self._campaigns.items()}
        self._capacity = capacity

    def _place(self, doc: ProductDocument) -> int:
        slot = self._size
        self._ensure_capacity(slot + 1)
        self._size += 1
        self._docs.append(doc)
        self._slot_of[doc.product_id] = slot
        self._alive[slot] = True
        self._ids[slot] = doc.product_id
        self._price[slot] = doc.price_fen
        self._stock[slot] = doc.stock
        self._sales[slot] = doc.sales
        self._created[slot] = _timestamp(doc.created_at)
        for name in FACET_FIELDS:
            self._codes[name][slot] = self._fields[name].code(getattr(doc, name) or "")
        for campaign in doc.campaign_ids:
            mask = self._campaigns.get(campaign)
            if mask is None:
                mask = self._campaigns[campaign] = np.zeros(self._capacity, dtype=bool)
            mask[slot] = True
        return slot

    def __len__(self) -> int:
        return self._live

    def __contains__(self, product_id: int) -> bool:
        return product_id in self._slot_of

    def get(self, product_id: int) -> ProductDocument | None:
        slot = self._slot_of.get(product_id)
        return None if slot is None else self._docs[slot]

    def upsert(self, document: ProductDocument) -> None:
        """Add or replace a product; searchable at once (delta segment), compacted later."""
        self._tombstone(document.product_id)
        ids = self._analyse(document)
        self._corrector.add(Counter(set(latin_words(normalize(document.text())))))
        slot = self._place(document)
        self._count_facets(slot, 1)
        self._length[slot] = len(ids)
        self._delta_tokens[slot] = ids
        if len(self._vocab) > len(self._df):
            self._df = np.concatenate([self._df, np.zeros(len(self._vocab) - len(self._df), dtype=np.int64)])
        unique, counts = np.unique(ids, return_counts=True)
        self._df[unique] += 1
        for token, count in zip(unique.tolist(), counts.tolist(), strict=True):
            self._delta_postings.setdefault(token, []).extend([slot] * count)
        self._total_length += len(ids)
        self._live += 1
        if self.auto_compact and self.needs_compaction():
            self.compact()

    def needs_compaction(self) -> bool:
        """Whether the delta segment outgrew ``compact_after`` documents or a quarter of the main one."""
        return self._size - self._main_size > max(self.compact_after, self._main_size // 4)

    def remove(self, product_id: int) -> bool:
        """Drop a product; returns whether it was indexed."""
        return self._tombstone(product_id)

    def _tokens_of(self, slot: int) -> np.ndarray:
        if slot < self._main_size:
            return self._doc_tokens[self._doc_ptr[slot] : self._doc_ptr[slot + 1]]
        return self._delta_tokens[slot]

    def _tombstone(self, product_id: int) -> bool:
        slot = self._slot_of.pop(product_id, None)
        if slot is None:
            return False
        self._alive[slot] = False
        self._count_facets(slot, -1)
        tokens = self._tokens_of(slot)
        self._df[np.unique(tokens)] -= 1
        self._total_length -= len(tokens)
        self._live -= 1
        return True

    def _count_facets(self, slot: int, change: int) -> None:
        for name in FACET_FIELDS:
            totals = self._facet_totals[name]
            code = int(self._codes[name][slot])
            if code >= len(totals):
                totals = self._facet_totals[name] = np.concatenate(
                    [totals, np.zeros(len(self._fields[name].values) - len(totals), dtype=np.int64)]
                )
            totals[code] += change

    def _sorted_slots(self, sort: str, n: int) -> np.ndarray:
        """Slots 0..n-1 in ``sort`` order (the order :meth:`_top` gives), as int32."""
        slots = np.arange(n, dtype=np.int64)
        return slots[_top_n(*self._sort_keys(slots, None, sort), n)].astype(np.int32) if n else slots

    def compact(self) -> None:
        """Rebuild the main segment from live documents (drops tombstones, merges the delta); the
        documents' analysed tokens are reused, so this is numpy work, not text analysis."""
        live = np.flatnonzero(self._alive[: self._size]).tolist()
        analysed = {self._docs[s].product_id: self._tokens_of(s).astype(np.int64) for s in live}
        self._build([self._docs[s] for s in live], analysed)

    def snapshot(self) -> IndexSnapshot:
        """What a compacted copy needs, taken in milliseconds (call it under the lock that guards
        updates); :meth:`from_snapshot` then does the heavy part without the lock."""
        return IndexSnapshot(
            live=np.flatnonzero(self._alive[: self._size]),
            main_size=self._main_size,
            docs=self._docs,  # append-only until the next compaction: live slots stay valid
            doc_tokens=self._doc_tokens,
            doc_ptr=self._doc_ptr,
            delta_tokens=dict(self._delta_tokens),
            vocab=dict(self._vocab),
            synonyms=self.synonyms,
            compact_after=self.compact_after,
            auto_compact=self.auto_compact,
        )

    @classmethod
    def from_snapshot(cls, snapshot: IndexSnapshot) -> ProductIndex:
        """A compacted index of the snapshot's live documents (the same answers as the original then)."""
        index = cls.__new__(cls)
        index.synonyms = snapshot.synonyms
        index.compact_after = snapshot.compact_after
        index.auto_compact = snapshot.auto_compact
        index._vocab = snapshot.vocab
        docs, analysed = [], {}
        for slot in snapshot.live.tolist():
            doc = snapshot.docs[slot]
            if slot < snapshot.main_size:
                tokens = snapshot.doc_tokens[snapshot.doc_ptr[slot] : snapshot.doc_ptr[slot + 1]]
            else:
                tokens = snapshot.delta_tokens[slot]
            docs.append(doc)
            analysed[doc.product_id] = tokens.astype(np.int64)
        index._build(docs, analysed)
        return index

    # -- scoring ----------------------------------------------------------------------------------

    def _candidates(self, terms: Sequence[QueryTerm]) -> tuple[np.ndarray, np.ndarray]:
        """Live slots matching any term and their BM25 scores (Lucene idf and tf normalisation, with
        the current corpus statistics for main and delta segment alike)."""
        live = max(1, self._live)
        avg_length = max(1e-9, self._total_length / live)
        docs_parts: list[np.ndarray] = []
        score_parts: list[np.ndarray] = []
        for term in terms:
            token = self._vocab.get(term.token)
            if token is None:
                continue
            df = max(1, int(self._df[token]))
            idf = math.log(1 + (live - df + 0.5) / (df + 0.5))
            parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # slots, tf, document lengths
            if token < len(self._post_ptr) - 1:
                lo, hi = self._post_ptr[token], self._post_ptr[token + 1]
                if hi > lo:
                    docs = self._post_doc[lo:hi]
                    lengths = self._post_len[lo:hi] if self._post_len is not None else self._length[docs]
                    parts.append((docs, self._post_tf[lo:hi], lengths))
            delta = self._delta_postings.get(token)
            if delta:
                slots, tf = np.unique(np.asarray(delta, dtype=np.int64), return_counts=True)
                parts.append((slots, tf, self._length[slots]))
            for docs, tf, lengths in parts:
                # (Integer tf and lengths: the float64 arithmetic gives the same scores as before.)
                norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg_length)
                docs_parts.append(docs)
                score_parts.append(term.weight * idf * tf / (tf + norm))
        if not docs_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        docs = np.concatenate(docs_parts)
        contributions = np.concatenate(score_parts)
        # Summing per slot: every term's postings are sorted by slot, so a stable argsort (timsort:
        # it merges those sorted runs) and a sum per run of equal slots beat both np.unique's sort and a
        # bincount over a million slots (measured for 40k postings: 0.4 ms, 1.8 ms, 0.9 ms). Stable,
        # so each slot's contributions add up in the same order as before, to the same scores.
        order = np.argsort(docs, kind="stable")
        sorted_docs = docs[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_docs[1:] != sorted_docs[:-1])))
        slots = sorted_docs[starts].astype(np.int64)
        scores = np.add.reduceat(contributions[order], starts)
        keep = self._alive[slots] & (scores > 0)
        return slots[keep], scores[keep]

    # -- search -----------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 20,
        *,
        offset: int = 0,
        sort: str = "relevance",
        category: str | Sequence[str] | None = None,
        brand: str | Sequence[str] | None = None,
        shop: str | Sequence[str] | None = None,
        price_min_fen: int | None = None,
        price_max_fen: int | None = None,
        in_stock: bool | None = None,
        campaign: int | None = None,
        facets: bool = True,
        facet_limit: int | None = None,
    ) -> SearchResult:
        """Products for ``query``, best first (``result.ids``), with facets, highlights and a suggestion.

        ``facet_limit``: per field, only the values with the ``facet_limit`` highest counts (and any
        tied with the last of them) instead of every value; a page shows a few, and a shop facet
        over a million products has tens of thousands of values."""
        if not isinstance(query, str):
            raise SearchQueryError("query must be text", field="q")
        _check_int(k, "k", 1, MAX_K)
        _check_int(offset, "offset", 0, MAX_OFFSET)
        if sort not in SORTS:
            raise SearchQueryError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}", field="sort")
        for name, value in (("price_min_fen", price_min_fen), ("price_max_fen", price_max_fen)):
            if value is not None:
                _check_int(value, name, 0, 10**15)
        if price_min_fen is not None and price_max_fen is not None and price_min_fen > price_max_fen:
            raise SearchQueryError("price_min_fen is above price_max_fen", field="price_min_fen")
        if campaign is not None:
            _check_int(campaign, "campaign", 0, 2**63 - 1)
        if facet_limit is not None:
            _check_int(facet_limit, "facet_limit", 1, 10**9)
        wanted_codes = {
            name: self._wanted_codes(name, value)
            for name, value in (("category", category), ("brand", brand), ("shop", shop))
        }

        truncated = len(query) > MAX_QUERY_CHARS
        query_text = query[:MAX_QUERY_CHARS]
        terms, corrections = expand_query(query_text, corrector=self._corrector, synonyms=self.synonyms)
        browse = not terms
        filters = _Filters(wanted_codes, price_min_fen, price_max_fen, in_stock, campaign)
        fallback = None
        # Two paths with the same answers: a text query works on its matching slots (usually a small
        # share of the catalogue); a browse, or a fallback when nothing matched, works on full-width
        # boolean masks, the precomputed facet totals and the presorted orders, so it never gathers
        # every live slot.
        if not browse:
            slots, scores = self._candidates(terms)
            masks, other = self._filter_masks(filters, slots)
            every = _all_of(len(slots), other, *masks.values())
            if not every.any():
                fallback = "popular_in_filters"
        if browse or fallback is not None:
            masks, other = self._filter_masks(filters, None)
            every = _all_of(self._size, other, *masks.values())
            if fallback is not None and not every.any():
                every = other = self._alive[: self._size]
                masks = {}
                fallback = "popular"
            if sort == "relevance":
                sort = "sales"
            total = int(every.sum())
            facet_counts = (
                self._facets(
                    None,
                    masks,
                    other,
                    every,
                    fallback=fallback == "popular_in_filters",
                    other_is_alive=fallback == "popular" or not filters.other,
                    limit=facet_limit,
                )
                if facets
                else {}
            )
            chosen = self._browse_top(every, sort, offset + k)[offset:]
            chosen_scores = np.zeros(len(chosen))
        else:
            facet_counts = (
                self._facets(
                    slots, masks, other, every, fallback=False, other_is_alive=False, limit=facet_limit
                )
                if facets
                else {}
            )
            matched, matched_scores = slots[every], scores[every]
            total = len(matched)
            page = self._top(matched, matched_scores, sort, offset + k)[offset:]
            chosen, chosen_scores = matched[page], matched_scores[page]
        highlighter = _Highlighter(terms)
        query_tokens = {self._vocab[t.token] for t in terms if t.source == "query" and t.token in self._vocab}
        typed = max(1, len({t.token for t in terms if t.source == "query"}))
        hits = []
        for slot, score in zip(chosen.tolist(), chosen_scores.tolist(), strict=True):
            doc = self._docs[slot]
            covered = len(query_tokens.intersection(self._tokens_of(slot).tolist())) / typed if terms else 0.0
            hits.append(
                SearchHit(
                    doc.product_id,
                    score,
                    highlighter.highlight(doc.title),
                    highlighter.highlight(doc.title_en) if doc.title_zh else "",
                    coverage=covered,
                )
            )
        suggestion = None
        if corrections:
            words = normalize(query_text).split()
            suggestion = " ".join(corrections.get(w, w) for w in words)
        return SearchResult(
            hits=hits,
            total=total,
            facets=facet_counts,
            query=normalize(query_text),
            suggestion=suggestion,
            fallback=fallback,
            truncated=truncated,
            corrections=corrections,
        )

    def _filter_masks(
        self, filters: _Filters, slots: np.ndarray | None
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Per-field masks (category, brand, shop filters) and one mask of the other filters, over
        ``slots`` (live matches), or over every slot when ``slots`` is None (then the other mask also
        holds the live ones). A None mask is "all"."""
        size = self._size

        def column(values: np.ndarray) -> np.ndarray:
            return values[:size] if slots is None else values[slots]

        masks = {
            name: _isin(column(self._codes[name]), codes)
            for name, codes in filters.codes.items()
            if codes is not None
        }
        other: np.ndarray | None = self._alive[:size].copy() if slots is None else None
        if filters.price_min_fen is not None:
            other = _and(other, column(self._price) >= filters.price_min_fen)
        if filters.price_max_fen is not None:
            other = _and(other, column(self._price) <= filters.price_max_fen)
        if filters.in_stock is not None:
            stock = column(self._stock)
            other = _and(other, (stock > 0) if filters.in_stock else (stock <= 0))
        if filters.campaign is not None:
            mask = self._campaigns.get(int(filters.campaign))
            n = size if slots is None else len(slots)
            other = _and(other, column(mask) if mask is not None else np.zeros(n, dtype=bool))
        return masks, other

    def _facets(
        self,
        slots: np.ndarray | None,
        masks: dict[str, np.ndarray],
        other: np.ndarray | None,
        every: np.ndarray,
        *,
        fallback: bool,
        other_is_alive: bool,
        limit: int | None,
    ) -> dict[str, dict[str, int]]:
        """Facet counts: each field counted with every filter except its own, so choosing a category
        still shows the other categories' counts (after a fallback: the fallback's products, ``every``).
        Over ``slots``, or over every slot when None; ``other_is_alive``: the non-field filters select
        every live product, so a field with no other field filter has the kept totals as counts."""
        size = self._size
        selections: dict[tuple[str, ...], tuple[np.ndarray, bool]] = {}
        out: dict[str, dict[str, int]] = {}
        for name in FACET_FIELDS:
            field = self._fields[name]
            key = ("*",) if fallback else tuple(n for n in masks if n != name)
            totals = self._facet_totals[name]
            if slots is None and other_is_alive and not key:
                counts = totals
            else:
                selection = selections.get(key)
                if selection is None:
                    n = size if slots is None else len(slots)
                    mask = every if fallback else _all_of(n, other, *(masks[m] for m in key))
                    selection = selections[key] = self._selection(slots, mask)
                chosen, complement = selection
                counts = np.bincount(self._codes[name][chosen], minlength=len(totals))
                if complement:
                    counts = totals - counts
            nonzero = np.flatnonzero(counts[1:]) + 1  # code 0 is the empty value, never a facet
            if limit is not None and len(nonzero) > limit:
                lowest = np.partition(counts[nonzero], len(nonzero) - limit)[len(nonzero) - limit]
                nonzero = nonzero[counts[nonzero] >= lowest]
            out[name] = dict(zip(field.array()[nonzero].tolist(), counts[nonzero].tolist(), strict=True))
        if slots is None:
            total = int(np.count_nonzero(every))
            in_stock = int(np.count_nonzero(every & (self._stock[:size] > 0)))
        else:
            chosen_stock = self._stock[slots[every]]
            total, in_stock = len(chosen_stock), int(np.count_nonzero(chosen_stock > 0))
        out["in_stock"] = {"true": in_stock, "false": total - in_stock}
        return out

    def _selection(self, slots: np.ndarray | None, mask: np.ndarray) -> tuple[np.ndarray, bool]:
        """The slots ``mask`` marks (over ``slots``, or over every slot when None), or, when it marks
        most live products, the live slots it does not mark (``True``: count those and subtract from
        the totals; a browse filtered by "in stock" then counts the 5% sold out, not the 95%)."""
        if slots is not None:
            return slots[mask], False
        if 2 * int(np.count_nonzero(mask)) > self._live:
            return np.flatnonzero(self._alive[: self._size] & ~mask), True
        return np.flatnonzero(mask), False

    def _browse_top(self, every: np.ndarray, sort: str, n: int) -> np.ndarray:
        """The best ``n`` slots under a browse ``sort`` among those ``every`` (full width) marks: the
        first marked slots of the main segment's presorted order, merged with the delta's marked ones."""
        order = self._orders[sort]
        found: list[np.ndarray] = []
        count, start, chunk = 0, 0, max(4 * n, 4096)
        while count < n and start < len(order):
            part = order[start : start + chunk]
            marked = part[every[part]]
            found.append(marked)
            count += len(marked)
            start += chunk
            chunk *= 4
        delta = np.flatnonzero(every[self._main_size : self._size]) + self._main_size
        main = np.concatenate(found)[:n].astype(np.int64) if found else np.zeros(0, dtype=np.int64)
        candidates = np.concatenate([main, delta])
        if len(delta) == 0:
            return candidates[:n]
        return candidates[self._top(candidates, np.zeros(len(candidates)), sort, n)]

    def _wanted_codes(self, name: str, value: str | Sequence[str] | None) -> np.ndarray | None:
        if value is None:
            return None
        wanted = (
            [value]
            if isinstance(value, str)
            else list(value)
            if isinstance(value, list | tuple | set)
            else [None]
        )
        if not all(isinstance(v, str) for v in wanted):
            raise SearchQueryError(f"{name} must be text", field=name)
        codes = self._fields[name].code_of
        return np.asarray([codes.get(v, -1) for v in wanted], dtype=np.int64)

    def _top(self, slots: np.ndarray, scores: np.ndarray, sort: str, n: int) -> np.ndarray:
        """Positions (into ``slots``) of the best ``n`` under ``sort``, in order; ties: more sales, then id."""
        primary, rest = self._sort_keys(slots, scores, sort)
        return _top_n(primary, rest, n)

    def _sort_keys(
        self, slots: np.ndarray, scores: np.ndarray | None, sort: str
    ) -> tuple[np.ndarray, Callable[[np.ndarray], list[np.ndarray]]]:
        """The most significant sort key of ``slots`` and a function giving the other keys at some
        positions: the tie-breakers are only looked up for the few rows that reach them."""

        def tail(*columns: np.ndarray) -> Callable[[np.ndarray], list[np.ndarray]]:
            def rest(positions: np.ndarray) -> list[np.ndarray]:
                chosen = slots[positions]
                return [-self._sales[chosen] if c is self._sales else c[chosen] for c in columns]

            return rest

        if sort == "relevance":
            assert scores is not None
            return -np.round(scores, 9), tail(self._sales, self._ids)
        if sort == "sales":
            return -self._sales[slots], tail(self._ids)
        if sort == "price_asc":
            return self._price[slots], tail(self._sales, self._ids)
        if sort == "price_desc":
            return -self._price[slots], tail(self._sales, self._ids)
        return -self._created[slots], tail(self._ids)

    def score_products(self, query: str, product_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score and coverage (share of typed query tokens present) of given products for
        ``query``; 0 for a product that does not match or is not indexed. For learning to rank."""
        terms, _corrections = expand_query(
            query[:MAX_QUERY_CHARS], corrector=self._corrector, synonyms=self.synonyms
        )
        scores = np.zeros(len(product_ids))
        coverage = np.zeros(len(product_ids))
        if not terms:
            return scores, coverage
        slots, slot_scores = self._candidates(terms)
        score_of = dict(zip(slots.tolist(), slot_scores.tolist(), strict=True))
        typed = {self._vocab[t.token] for t in terms if t.source == "query" and t.token in self._vocab}
        n_typed = max(1, len({t.token for t in terms if t.source == "query"}))
        for i, pid in enumerate(product_ids):
            slot = self._slot_of.get(int(pid))
            if slot is not None:
                scores[i] = score_of.get(slot, 0.0)
                coverage[i] = len(typed.intersection(self._tokens_of(slot).tolist())) / n_typed
        return scores, coverage

    def vocabulary(self) -> Mapping[str, int]:
        """Latin words of live and recently removed documents with document frequencies (for suggestions)."""
        return dict(self._raw_words)

    def products(self) -> Iterable[ProductDocument]:
        """The live documents (for autocomplete vocabularies and the like)."""
        return (self._docs[s] for s in np.flatnonzero(self._alive[: self._size]).tolist())


def _top_n(primary: np.ndarray, rest: Callable[[np.ndarray], list[np.ndarray]], n: int) -> np.ndarray:
    """Indices of the ``n`` smallest rows by ``primary`` then the keys ``rest(rows)`` gives (most
    significant first), in order. Selection by partition on the primary key, so only a few rows are
    fully sorted and the tie-breaking keys are only fetched for the rows that need them."""
    size = len(primary)
    if size <= max(n, 4096):
        rows = np.arange(size)
        return np.lexsort(tuple(reversed([primary, *rest(rows)])))[:n]
    if size > 64 * n and size > 8192:
        # The n-th smallest of every 16th row bounds the n-th smallest of all from above: the rows at
        # or under it (at least n, few more) hold the answer, and only they are partitioned.
        # (Unless ties make them most rows: then partition them all as below.)
        bound = np.partition(primary[::16], n - 1)[n - 1]
        rows = np.flatnonzero(primary <= bound)
        if 2 * len(rows) < size:
            return rows[_top_n(primary[rows], lambda sub: rest(rows[sub]), n)]
    kth = np.partition(primary, n - 1)[n - 1]
    better = np.flatnonzero(primary < kth)
    tied = np.flatnonzero(primary == kth)
    need = n - len(better)
    if len(tied) > need:
        tied_keys = rest(tied)
        if tied_keys:
            tied = tied[_top_n(tied_keys[0], lambda rows: [key[rows] for key in tied_keys[1:]], need)]
    candidates = np.concatenate([better, tied[:need]])
    order = np.lexsort(tuple(reversed([primary[candidates], *rest(candidates)])))
    return candidates[order][:n]


@dataclass(frozen=True)
class _Filters:
    codes: dict[str, np.ndarray | None]  # facet field -> wanted codes (-1: unknown value), None: any
    price_min_fen: int | None
    price_max_fen: int | None
    in_stock: bool | None
    campaign: int | None

    @property
    def other(self) -> bool:
        """Whether any filter besides the facet fields is set."""
        return any(
            v is not None for v in (self.price_min_fen, self.price_max_fen, self.in_stock, self.campaign)
        )


def _and(mask: np.ndarray | None, more: np.ndarray) -> np.ndarray:
    if mask is None:
        return more
    mask &= more
    return mask


def _all_of(size: int, *masks: np.ndarray | None) -> np.ndarray:
    """The rows every mask marks (None marks all), as a new array."""
    present = [m for m in masks if m is not None]
    if not present:
        return np.ones(size, dtype=bool)
    out = present[0].copy()
    for mask in present[1:]:
        out &= mask
    return out


def _isin(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    # A filter names a few values: comparing with each is faster than np.isin's sort or table.
    if len(wanted) > 16:
        return np.isin(values, wanted)
    out = values == wanted[0]
    for code in wanted[1:].tolist():
        out |= values == code
    return out


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= int(value) <= high:
        raise SearchQueryError(f"{name} must be an integer from {low} to {high}", field=name)


_HIGHLIGHT_WORD_RE = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")


@lru_cache(maxsize=20_000)
def _fold(char: str) -> str:
    """One title character as the analyser sees it (NFKC, simplified, lower case); cached, titles
    share their characters."""
    folded = unicodedata.normalize("NFKC", char)
    return to_simplified(folded).lower() if folded else folded


@lru_cache(maxsize=50_000)
def _pinyin_words(run: str) -> tuple[tuple[str, str, str], ...]:
    """The jieba words of a run of ideographs with their full pinyin and initials; cached per run."""
    return tuple((word, *pinyin_forms(word)) for word in cut_for_search(run))


class _Highlighter:
    """Wraps the parts of a title that a query term matched in ``<em>``, on the original characters."""

    def __init__(self, terms: Sequence[QueryTerm]) -> None:
        self.stems = {t.token for t in terms if not t.token.startswith(PINYIN_PREFIX) and t.token.isascii()}
        self.cjk = sorted({t.token for t in terms if t.token and is_cjk(t.token[0])}, key=len, reverse=True)
        self.pinyin = {t.token[len(PINYIN_PREFIX) :] for t in terms if t.token.startswith(PINYIN_PREFIX)}

    def highlight(self, title: str) -> str:
        # Normalise character by character, remembering where each normalised character came from.
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(title):
            for piece in _fold(char):
                chars.append(piece)
                origin.append(index)
        text = "".join(chars)
        marked = [False] * len(title)

        def mark(start: int, end: int) -> None:
            for position in range(start, end):
                marked[origin[position]] = True

        for match in _HIGHLIGHT_WORD_RE.finditer(text):
            word = match.group()
            if (stem(word) if word.isalpha() else word) in self.stems:
                mark(match.start(), match.end())
        for token in self.cjk:
            start = text.find(token)
            while start >= 0:
                mark(start, start + len(token))
                start = text.find(token, start + 1)
        if self.pinyin:
            for run in _CJK_RUN_RE.finditer(text):
                position = run.start()
                for word, full, initials in _pinyin_words(run.group()):
                    if full in self.pinyin or (len(initials) >= 2 and initials in self.pinyin):
                        start = text.find(word, position)
                        if start >= 0:
                            mark(start, start + len(word))
        if not any(marked):
            return html.escape(title)
        out: list[str] = []
        start = 0
        for end in range(1, len(title) + 1):  # escape runs of equally marked characters
            if end == len(title) or marked[end] != marked[start]:
                piece = html.escape(title[start:end])
                out.append(f"<em>{piece}</em>" if marked[start] else piece)
                start = end
        return "".join(out)
