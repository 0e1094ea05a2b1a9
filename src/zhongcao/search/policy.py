"""What a product-search policy is, and the simplest honest one: substring match, best sellers first.

The market simulation and the search service call search only through :class:`ProductSearch`, so a
real engine (BM25 with Chinese analysis, learning to rank) is a one-line change: register it in
:data:`POLICIES` and name it (``simulate(..., search_policy="bm25")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class ProductCorpus:
    """The products search may return, one row per product (arrays and lists aligned)."""

    product_ids: np.ndarray  # int64
    titles_zh: list[str]
    titles_en: list[str]
    sales: np.ndarray  # int64, units sold so far (what "popular" means to a plain policy)


@runtime_checkable
class ProductSearch(Protocol):
    """Finds products for a query. ``fit`` is called when the corpus changes (the simulation: daily)."""

    name: str

    def fit(self, corpus: ProductCorpus) -> None: ...

    def search(self, query: str, k: int) -> np.ndarray:
        """Up to ``k`` product ids, best first (an empty array when nothing matches)."""
        ...


Indexed = tuple[np.ndarray, list[str], list[str]]


def _same_text(indexed: Indexed | None, ids: np.ndarray, corpus: ProductCorpus) -> bool:
    """The corpus has the same products and titles as what was indexed (only sales changed), so a
    policy can keep its index and re-rank."""
    return (
        indexed is not None
        and np.array_equal(indexed[0], ids)
        and indexed[1] == corpus.titles_zh
        and indexed[2] == corpus.titles_en
    )


class SubstringSearch:
    """A product matches when every whitespace-separated term of the query is a substring of its
    Chinese or English title (case-insensitive); matches are ordered by sales, then newest first.

    No segmentation, no synonyms, no typo tolerance: the baseline a real engine must beat. A
    character-bigram index only narrows the candidates (every substring of two or more characters
    contains its own bigrams); each candidate is then checked with a real substring test, so the
    results are exactly those of a full scan. Results are cached per query until the next ``fit``,
    because a day of simulated shoppers repeats queries.
    """

    name = "substring"

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int64)
        self._text: list[str] = []
        self._order = np.zeros(0, dtype=np.int64)  # rank of each document (0 = best seller)
        self._postings: dict[str, np.ndarray] = {}
        self._cache: dict[tuple[str, int], np.ndarray] = {}
        self._indexed: tuple[np.ndarray, list[str], list[str]] | None = None

    def fit(self, corpus: ProductCorpus) -> None:
        ids = np.asarray(corpus.product_ids, dtype=np.int64)
        same_text = _same_text(self._indexed, ids, corpus)
        if not same_text:
            self._ids = ids
            self._text = [
                f"{zh}\n{en}".casefold() for zh, en in zip(corpus.titles_zh, corpus.titles_en, strict=True)
            ]
            grams: dict[str, list[int]] = {}
            for doc, text in enumerate(self._text):
                for gram in {text[i : i + 2] for i in range(len(text) - 1)}:
                    grams.setdefault(gram, []).append(doc)
            self._postings = {gram: np.asarray(docs, dtype=np.int64) for gram, docs in grams.items()}
            self._indexed = (ids, list(corpus.titles_zh), list(corpus.titles_en))
        # Rank: more sales first, then the newer product (the larger id).
        ranked = np.lexsort((-self._ids, -np.asarray(corpus.sales, dtype=np.int64)))
        self._order = np.empty(len(ranked), dtype=np.int64)
        self._order[ranked] = np.arange(len(ranked))
        self._cache = {}

    def _candidates(self, terms: tuple[str, ...]) -> np.ndarray:
        found: np.ndarray | None = None
        empty = np.zeros(0, dtype=np.int64)
        for term in terms:
            for i in range(len(term) - 1):
                posting = self._postings.get(term[i : i + 2], empty)
                found = posting if found is None else np.intersect1d(found, posting, assume_unique=True)
                if not len(found):
                    return empty
        return np.arange(len(self._text)) if found is None else found  # single-character terms only

    def search(self, query: str, k: int) -> np.ndarray:
        terms = tuple(t for t in query.casefold().split() if t)
        if not terms or k <= 0:
            return np.zeros(0, dtype=np.int64)
        key = (" ".join(terms), k)
        hit = self._cache.get(key)
        if hit is None:
            text = self._text
            candidates = self._candidates(terms)
            matched = np.asarray(
                [d for d in candidates.tolist() if all(t in text[d] for t in terms)], dtype=np.int64
            )
            best = matched[np.argsort(self._order[matched], kind="stable")[:k]] if len(matched) else matched
            hit = self._ids[best]
            self._cache[key] = hit
        return hit


class Bm25Search:
    """The product index (:mod:`zhongcao.search.index`): Chinese and English analysis, BM25, typo
    tolerance, a zero-result fallback. Relevance only; the learned ranking comes with issue #5."""

    name = "bm25"

    def __init__(self) -> None:
        self._index: object | None = None
        self._indexed: tuple[np.ndarray, list[str], list[str]] | None = None
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    def fit(self, corpus: ProductCorpus) -> None:
        from zhongcao.search.index import ProductDocument, ProductIndex  # heavy: analysers, tantivy

        ids = np.asarray(corpus.product_ids, dtype=np.int64)
        same_text = _same_text(self._indexed, ids, corpus)
        if not same_text:
            self._index = ProductIndex(
                ProductDocument(product_id=int(pid), title_zh=zh, title_en=en, sales=int(sold))
                for pid, zh, en, sold in zip(
                    ids, corpus.titles_zh, corpus.titles_en, corpus.sales, strict=True
                )
            )
            self._indexed = (ids, list(corpus.titles_zh), list(corpus.titles_en))
        self._cache = {}

    def search(self, query: str, k: int) -> np.ndarray:
        key = (query, k)
        hit = self._cache.get(key)
        if hit is None:
            if self._index is None or not query.strip() or k <= 0:
                return np.zeros(0, dtype=np.int64)
            result = self._index.search(query, k)  # type: ignore[attr-defined]
            hit = np.asarray(result.ids[:k], dtype=np.int64)
            self._cache[key] = hit
        return hit


POLICIES: dict[str, type] = {SubstringSearch.name: SubstringSearch, Bm25Search.name: Bm25Search}


def get_policy(name: str) -> ProductSearch:
    """A new search policy by its registered name."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown search policy {name!r}; known: {', '.join(sorted(POLICIES))}") from None
