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
the main segment's postings are rebuilt from the stored token ids (no text analysis).

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

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

    def code(self, value: str) -> int:
        code = self.code_of.get(value)
        if code is None:
            code = self.code_of[value] = len(self.values)
            self.values.append(value)
        return code


class ProductIndex:
    def __init__(
        self,
        documents: Iterable[ProductDocument] = (),
        *,
        synonyms: SynonymDictionary | None = None,
        compact_after: int = 2_000,
    ) -> None:
        self.synonyms = synonyms
        self.compact_after = compact_after
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
        self._post_tf = tf.astype(np.float32)
        self._post_ptr = np.zeros(vocabulary + 1, dtype=np.int64)
        np.cumsum(np.bincount(post_token, minlength=vocabulary), out=self._post_ptr[1 : vocabulary + 1])
        self._df = np.bincount(post_token, minlength=vocabulary).astype(np.int64)
        self._main_size = n
        self._delta_tokens: dict[int, np.ndarray] = {}  # slot -> token ids, for slots past the main segment
        self._delta_postings: dict[int, list[int]] = {}  # token id -> delta slots (repeated per occurrence)
        self._total_length = int(lengths.sum())
        self._live = n
        self._corrector = TypoCorrector(self._raw_words)

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
        self._codes = {name: grow(self._codes[name] if had else None, np.int64) for name in FACET_FIELDS}
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
        if self._size - self._main_size > max(self.compact_after, self._main_size // 4):
            self.compact()

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
        tokens = self._tokens_of(slot)
        self._df[np.unique(tokens)] -= 1
        self._total_length -= len(tokens)
        self._live -= 1
        return True

    def compact(self) -> None:
        """Rebuild the main segment from live documents (drops tombstones, merges the delta); the
        documents' analysed tokens are reused, so this is numpy work, not text analysis."""
        live = np.flatnonzero(self._alive[: self._size]).tolist()
        analysed = {self._docs[s].product_id: self._tokens_of(s).astype(np.int64) for s in live}
        self._build([self._docs[s] for s in live], analysed)

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
            parts: list[tuple[np.ndarray, np.ndarray]] = []
            if token < len(self._post_ptr) - 1:
                lo, hi = self._post_ptr[token], self._post_ptr[token + 1]
                if hi > lo:
                    parts.append(
                        (self._post_doc[lo:hi].astype(np.int64), self._post_tf[lo:hi].astype(np.float64))
                    )
            delta = self._delta_postings.get(token)
            if delta:
                slots, tf = np.unique(np.asarray(delta, dtype=np.int64), return_counts=True)
                parts.append((slots, tf.astype(np.float64)))
            for docs, tf in parts:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self._length[docs] / avg_length)
                docs_parts.append(docs)
                score_parts.append(term.weight * idf * tf / (tf + norm))
        if not docs_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        docs = np.concatenate(docs_parts)
        contributions = np.concatenate(score_parts)
        if len(docs) * 16 > self._size:
            dense = np.bincount(docs, weights=contributions, minlength=self._size)
            slots = np.flatnonzero(dense > 0)
            scores = dense[slots]
        else:
            slots, inverse = np.unique(docs, return_inverse=True)
            scores = np.bincount(inverse, weights=contributions, minlength=len(slots))
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
    ) -> SearchResult:
        """Products for ``query``, best first (``result.ids``), with facets, highlights and a suggestion."""
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
        wanted_codes = {
            name: self._wanted_codes(name, value)
            for name, value in (("category", category), ("brand", brand), ("shop", shop))
        }

        truncated = len(query) > MAX_QUERY_CHARS
        query_text = query[:MAX_QUERY_CHARS]
        terms, corrections = expand_query(query_text, corrector=self._corrector, synonyms=self.synonyms)
        browse = not terms
        all_live = np.flatnonzero(self._alive[: self._size])
        if browse:
            slots, scores = all_live, np.zeros(len(all_live))
        else:
            slots, scores = self._candidates(terms)

        def filter_masks(slots: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
            masks = {
                name: np.isin(self._codes[name][slots], codes)
                for name, codes in wanted_codes.items()
                if codes is not None
            }
            other = np.ones(len(slots), dtype=bool)
            if price_min_fen is not None:
                other &= self._price[slots] >= price_min_fen
            if price_max_fen is not None:
                other &= self._price[slots] <= price_max_fen
            if in_stock is not None:
                other &= (self._stock[slots] > 0) if in_stock else (self._stock[slots] <= 0)
            if campaign is not None:
                mask = self._campaigns.get(int(campaign))
                other &= mask[slots] if mask is not None else False
            return masks, other

        masks, other = filter_masks(slots)
        every = other.copy()
        for mask in masks.values():
            every &= mask
        fallback = None
        if not every.any() and not browse:
            # Nothing matched: show what sells best under the same filters, else in the whole catalogue.
            slots, scores = all_live, np.zeros(len(all_live))
            masks, other = filter_masks(slots)
            every = other.copy()
            for mask in masks.values():
                every &= mask
            fallback = "popular_in_filters"
            if not every.any():
                every = np.ones(len(slots), dtype=bool)
                fallback = "popular"

        facet_counts: dict[str, dict[str, int]] = {}
        if facets:
            # Facets: each field counted with every filter except its own, so choosing a category still
            # shows the other categories' counts (after a fallback: the fallback's products).
            for name in FACET_FIELDS:
                if fallback is not None:
                    mask = every
                else:
                    mask = other.copy()
                    for other_name, other_mask in masks.items():
                        if other_name != name:
                            mask &= other_mask
                field = self._fields[name]
                counts = np.bincount(self._codes[name][slots[mask]], minlength=len(field.values))
                facet_counts[name] = {
                    field.values[c]: int(counts[c]) for c in np.flatnonzero(counts).tolist() if c
                }
            chosen_stock = self._stock[slots[every]]
            facet_counts["in_stock"] = {
                "true": int((chosen_stock > 0).sum()),
                "false": int((chosen_stock <= 0).sum()),
            }

        chosen, chosen_scores = slots[every], scores[every]
        if (browse or fallback) and sort == "relevance":
            sort = "sales"
            chosen_scores = np.zeros(len(chosen))
        order = self._top(chosen, chosen_scores, sort, offset + k)
        page = order[offset : offset + k]
        highlighter = _Highlighter(terms)
        query_tokens = {self._vocab[t.token] for t in terms if t.source == "query" and t.token in self._vocab}
        typed = max(1, len({t.token for t in terms if t.source == "query"}))
        hits = []
        for i in page.tolist():
            slot = int(chosen[i])
            doc = self._docs[slot]
            covered = len(query_tokens.intersection(self._tokens_of(slot).tolist())) / typed if terms else 0.0
            hits.append(
                SearchHit(
                    doc.product_id,
                    float(chosen_scores[i]),
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
            total=int(len(chosen)),
            facets=facet_counts,
            query=normalize(query_text),
            suggestion=suggestion,
            fallback=fallback,
            truncated=truncated,
            corrections=corrections,
        )

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
        ids, sales = self._ids[slots], self._sales[slots]
        if sort == "relevance":
            keys = [-np.round(scores, 9), -sales, ids]
        elif sort == "sales":
            keys = [-sales, ids]
        elif sort == "price_asc":
            keys = [self._price[slots], -sales, ids]
        elif sort == "price_desc":
            keys = [-self._price[slots], -sales, ids]
        else:
            keys = [-self._created[slots], ids]
        return _top_n(keys, n)

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


def _top_n(keys: list[np.ndarray], n: int) -> np.ndarray:
    """Indices of the ``n`` smallest rows by the lexicographic ``keys`` (most significant first), in
    order. Selection by partition on each key in turn, so only a few rows are fully sorted."""
    size = len(keys[0])
    if size <= max(n, 4096):
        return np.lexsort(tuple(reversed(keys)))[:n]
    primary = keys[0]
    kth = np.partition(primary, n - 1)[n - 1]
    better = np.flatnonzero(primary < kth)
    tied = np.flatnonzero(primary == kth)
    need = n - len(better)
    if len(tied) > need and len(keys) > 1:
        tied = tied[_top_n([key[tied] for key in keys[1:]], need)]
    candidates = np.concatenate([better, tied[:need]])
    order = np.lexsort(tuple(reversed([key[candidates] for key in keys])))
    return candidates[order][:n]


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= int(value) <= high:
        raise SearchQueryError(f"{name} must be an integer from {low} to {high}", field=name)


_HIGHLIGHT_WORD_RE = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")


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
            folded = unicodedata.normalize("NFKC", char)
            folded = to_simplified(folded).lower() if folded else folded
            for piece in folded:
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
                for word in cut_for_search(run.group()):
                    full, initials = pinyin_forms(word)
                    if full in self.pinyin or (len(initials) >= 2 and initials in self.pinyin):
                        start = text.find(word, position)
                        if start >= 0:
                            mark(start, start + len(word))
        out: list[str] = []
        open_tag = False
        for char, flag in zip(title, marked, strict=True):
            if flag and not open_tag:
                out.append("<em>")
                open_tag = True
            elif not flag and open_tag:
                out.append("</em>")
                open_tag = False
            out.append(html.escape(char))
        if open_tag:
            out.append("</em>")
        return "".join(out)
