"""An in-memory product index: BM25 over analysed tokens, filters, sorts, facets, highlights.

Retrieval scores every live document with BM25 (``bm25s``, Lucene variant, k1 1.5, b 0.75) over the
tokens of :mod:`zhongcao.search.analysis` (Chinese words, n-grams and pinyin; English stems), summing
query terms by weight: typed terms 1, typo corrections 0.7, synonyms 0.8. Matching is "any term", so
ranking, not the match set, rewards covering the whole query.

Updates without a rebuild (issue #5 item 5, "searchable within 1 s"): the index is a *main segment*
(a bm25s index built at the last :meth:`ProductIndex.compact`) plus a *delta segment* of documents added
or changed since. :meth:`ProductIndex.upsert` appends the new version to the delta and tombstones the old
one; :meth:`ProductIndex.remove` only tombstones. Search scores the delta in Python with the same BM25
formula and the main segment's corpus statistics (document frequencies updated with the delta), so a
change is visible to the very next search. When the delta outgrows ``compact_after`` documents (or a
quarter of the main segment) the index compacts: one rebuild of the main segment from live documents,
which is also when the slight statistics drift of the delta disappears.

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

    @property
    def title(self) -> str:
        return self.title_zh or self.title_en

    def text(self) -> str:
        return " ".join(p for p in (self.title_zh, self.title_en, self.brand, self.category) if p)


@dataclass(frozen=True)
class SearchHit:
    product_id: int
    score: float
    # The title (Chinese, else English), HTML-escaped, with query matches wrapped in <em>...</em>.
    highlight: str
    # The English title likewise when the product has both titles, else "".
    highlight_en: str = ""


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

    def _build(self, documents: list[ProductDocument]) -> None:
        import bm25s

        latest: dict[int, ProductDocument] = {d.product_id: d for d in documents}
        self._docs: list[ProductDocument] = list(latest.values())
        self._tokens: list[list[str]] = [analyze_document(d.text()) for d in self._docs]
        self._alive = np.ones(len(self._docs), dtype=bool)
        self._slot_of: dict[int, int] = {d.product_id: i for i, d in enumerate(self._docs)}
        self._main_size = len(self._docs)
        self._df: Counter[str] = Counter()
        self._raw_words: Counter[str] = Counter()
        for doc, tokens in zip(self._docs, self._tokens, strict=True):
            self._df.update(set(tokens))
            self._raw_words.update(set(latin_words(normalize(doc.text()))))
        self._total_length = sum(len(t) for t in self._tokens)
        self._retriever = None
        if self._docs:
            self._retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            # An empty token list would make bm25s fail; a placeholder that no query produces keeps slots.
            self._retriever.index([t or ["\x00"] for t in self._tokens], show_progress=False)
        self._corrector = TypoCorrector(self._raw_words)
        self._columns_dirty = True

    def __len__(self) -> int:
        return int(self._alive.sum())

    def __contains__(self, product_id: int) -> bool:
        return product_id in self._slot_of

    def upsert(self, document: ProductDocument) -> None:
        """Add or replace a product; searchable at once (delta segment), compacted later."""
        self._tombstone(document.product_id)
        tokens = analyze_document(document.text())
        self._docs.append(document)
        self._tokens.append(tokens)
        self._alive = np.append(self._alive, True)
        self._slot_of[document.product_id] = len(self._docs) - 1
        self._df.update(set(tokens))
        self._total_length += len(tokens)
        words = Counter(set(latin_words(normalize(document.text()))))
        self._raw_words.update(words)
        self._corrector.add(words)
        self._columns_dirty = True
        if len(self._docs) - self._main_size > max(self.compact_after, self._main_size // 4):
            self.compact()

    def remove(self, product_id: int) -> bool:
        """Drop a product; returns whether it was indexed."""
        found = self._tombstone(product_id)
        self._columns_dirty = self._columns_dirty or found
        return found

    def _tombstone(self, product_id: int) -> bool:
        slot = self._slot_of.pop(product_id, None)
        if slot is None:
            return False
        self._alive[slot] = False
        self._df.subtract(set(self._tokens[slot]))
        self._total_length -= len(self._tokens[slot])
        return True

    def compact(self) -> None:
        """Rebuild the main segment from live documents (drops tombstones, merges the delta)."""
        self._build([d for d, alive in zip(self._docs, self._alive, strict=True) if alive])

    # -- columns for filters, sorts and facets --------------------------------------------------------

    def _columns(self) -> None:
        if not self._columns_dirty:
            return
        docs = self._docs
        self._price = np.fromiter((d.price_fen for d in docs), dtype=np.int64, count=len(docs))
        self._stock = np.fromiter((d.stock for d in docs), dtype=np.int64, count=len(docs))
        self._sales = np.fromiter((d.sales for d in docs), dtype=np.int64, count=len(docs))
        self._created = np.fromiter(
            (_timestamp(d.created_at) for d in docs), dtype=np.float64, count=len(docs)
        )
        self._ids = np.fromiter((d.product_id for d in docs), dtype=np.int64, count=len(docs))
        self._text_columns = {
            name: np.array([getattr(d, name) for d in docs], dtype=object) for name in FACET_FIELDS
        }
        self._columns_dirty = False

    # -- scoring ----------------------------------------------------------------------------------

    def _scores(self, terms: Sequence[QueryTerm]) -> np.ndarray:
        scores = np.zeros(len(self._docs), dtype=np.float64)
        if self._retriever is not None and self._main_size:
            for term in terms:
                scores[: self._main_size] += term.weight * self._retriever.get_scores([term.token])
        if len(self._docs) > self._main_size:
            live = max(1, len(self))
            avg_length = max(1e-9, self._total_length / live)
            for slot in range(self._main_size, len(self._docs)):
                if not self._alive[slot]:
                    continue
                tf = Counter(self._tokens[slot])
                norm = BM25_K1 * (1 - BM25_B + BM25_B * len(self._tokens[slot]) / avg_length)
                total = 0.0
                for term in terms:
                    freq = tf.get(term.token, 0)
                    if freq:
                        df = max(1, self._df.get(term.token, 0))
                        idf = math.log(1 + (live - df + 0.5) / (df + 0.5))
                        total += term.weight * idf * freq / (freq + norm)
                scores[slot] = total
        scores[~self._alive] = 0.0
        return scores

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

        truncated = len(query) > MAX_QUERY_CHARS
        query_text = query[:MAX_QUERY_CHARS]
        terms, corrections = expand_query(query_text, corrector=self._corrector, synonyms=self.synonyms)
        self._columns()
        browse = not terms
        scores = np.zeros(len(self._docs)) if browse else self._scores(terms)
        matched = self._alive.copy() if browse else (scores > 0) & self._alive

        text_filters = {"category": category, "brand": brand, "shop": shop}
        masks = {name: self._text_mask(name, value) for name, value in text_filters.items()}
        other = np.ones(len(self._docs), dtype=bool)
        if price_min_fen is not None:
            other &= self._price >= price_min_fen
        if price_max_fen is not None:
            other &= self._price <= price_max_fen
        if in_stock is not None:
            other &= (self._stock > 0) if in_stock else (self._stock <= 0)
        if campaign is not None:
            other &= np.array([campaign in d.campaign_ids for d in self._docs], dtype=bool)
        every = other.copy()
        for mask in masks.values():
            every &= mask

        selected = matched & every
        fallback = None
        if not selected.any() and not browse:
            # Nothing matched: show what sells best under the same filters, else in the whole catalogue.
            selected = self._alive & every
            fallback = "popular_in_filters"
            if not selected.any():
                selected = self._alive.copy()
                fallback = "popular"
            scores = np.zeros(len(self._docs))

        # Facets: each field counted with every filter except its own, so choosing a category still
        # shows the other categories' counts.
        base = matched if fallback is None else selected
        facets: dict[str, dict[str, int]] = {}
        for name in FACET_FIELDS:
            mask = base & other
            for other_name, other_mask in masks.items():
                if other_name != name:
                    mask &= other_mask
            if fallback is not None:
                mask = selected
            values, counts = np.unique(self._text_columns[name][mask].astype(str), return_counts=True)
            facets[name] = {str(v): int(c) for v, c in zip(values, counts, strict=True) if v}
        facets["in_stock"] = {
            "true": int((selected & (self._stock > 0)).sum()),
            "false": int((selected & (self._stock <= 0)).sum()),
        }

        slots = np.flatnonzero(selected)
        order = self._order(slots, scores, "sales" if (browse or fallback) and sort == "relevance" else sort)
        page = slots[order][offset : offset + k]
        highlighter = _Highlighter(terms)
        hits = [
            SearchHit(
                int(self._ids[s]),
                float(scores[s]),
                highlighter.highlight(self._docs[s].title),
                highlighter.highlight(self._docs[s].title_en) if self._docs[s].title_zh else "",
            )
            for s in page
        ]
        suggestion = None
        if corrections:
            words = normalize(query_text).split()
            suggestion = " ".join(corrections.get(w, w) for w in words)
        return SearchResult(
            hits=hits,
            total=int(len(slots)),
            facets=facets,
            query=normalize(query_text),
            suggestion=suggestion,
            fallback=fallback,
            truncated=truncated,
            corrections=corrections,
        )

    def _text_mask(self, name: str, value: str | Sequence[str] | None) -> np.ndarray:
        if value is None:
            return np.ones(len(self._docs), dtype=bool)
        wanted = (
            [value]
            if isinstance(value, str)
            else list(value)
            if isinstance(value, list | tuple | set)
            else [None]
        )
        if not all(isinstance(v, str) for v in wanted):
            raise SearchQueryError(f"{name} must be text", field=name)
        return np.isin(self._text_columns[name], np.array(wanted, dtype=object))

    def _order(self, slots: np.ndarray, scores: np.ndarray, sort: str) -> np.ndarray:
        ids, sales = self._ids[slots], self._sales[slots]
        if sort == "relevance":
            return np.lexsort((ids, -sales, -np.round(scores[slots], 9)))
        if sort == "sales":
            return np.lexsort((ids, -sales))
        if sort == "price_asc":
            return np.lexsort((ids, -sales, self._price[slots]))
        if sort == "price_desc":
            return np.lexsort((ids, -sales, -self._price[slots]))
        return np.lexsort((ids, -self._created[slots]))

    def vocabulary(self) -> Mapping[str, int]:
        """Latin words of live and recently removed documents with document frequencies (for suggestions)."""
        return dict(self._raw_words)


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
