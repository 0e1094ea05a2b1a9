"""The product index on tantivy: BM25 over our analysed tokens, filters, sorts, facets, highlights.

Documents carry the tokens of :mod:`zhongcao.search.analysis` (Chinese words in jieba's search mode,
character bigrams and single characters, pinyin full and initials, traditional folded to simplified,
English stems) as one whitespace-separated text field, so tantivy's BM25 (k1 1.2, b 0.75) scores our
tokens, not its own; a query is a disjunction of term queries boosted by weight (typed terms 1, typo
corrections 0.7, synonyms 0.8). Matching is "any term", so ranking, not the match set, rewards covering
the whole query. A single Chinese character is a query term and every document carries its characters,
so 射 or 裙 retrieves by character.

Filters, sorts and facets run on tantivy's fast fields: category, brand and shop are raw-tokenised text
(term filters) and, when they are decimal ids, integer columns too (the facets' terms aggregations,
:mod:`zhongcao.search.facets`), price an integer (range filter), a 0/1 in-stock column (filter and
facet), sales and creation time the browse sorts (a page sorted by them tries the products past a
threshold first, :mod:`zhongcao.search.browse`), campaign ids a multi-valued integer.
Each facet field is counted with every filter except its own, so choosing a category still shows the
other categories' counts. The whole product is stored (JSON) beside its tokens: a hit needs no database.

An index is either in memory (``path=None``: shops, content, tests) or a folder on disk. One process
writes (:meth:`ProductIndex.upsert`, :meth:`ProductIndex.remove`, then :meth:`ProductIndex.commit`;
reads in the writing process commit pending changes first). Readers open the folder with
:meth:`ProductIndex.open` and :meth:`ProductIndex.refresh` it: one ``stat`` of tantivy's ``meta.json``;
a new commit is picked up by a reload, no background thread (tantivy's own reload watcher is off).

Bad input never raises anything but :class:`SearchQueryError` (an ``InvalidInput``, so the API answers
422): an unknown sort, a negative price, a page past the limit. A strange query is not an error: control
characters are dropped, anything past 256 characters is cut, SQL or regex syntax is just text, and a
query with no searchable characters (empty, emoji only) browses the filtered catalogue instead.
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from zhongcao.errors import InvalidInput
from zhongcao.search import browse, page_store
from zhongcao.search import facets as facet_engine
from zhongcao.search.analysis import (
    MAX_QUERY_CHARS,
    QueryTerm,
    SynonymDictionary,
    TypoCorrector,
    expand_query,
    normalize,
)
from zhongcao.search.documents import ProductDocument as ProductDocument
from zhongcao.search.documents import SearchHit as SearchHit
from zhongcao.search.documents import SearchResult as SearchResult
from zhongcao.search.documents import product_bytes, product_schema, tantivy_document
from zhongcao.search.highlight import Highlighter
from zhongcao.search.result_cache import Answer, FacetCounts, ResultCache

SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")
FACET_FIELDS = facet_engine.FACET_FIELDS
MAX_K = 200
MAX_MATCH_IDS = 10_000
MAX_OFFSET = 10_000
# A reader rebuilds its typo corrector's vocabulary from the index at most this often.
CORRECTOR_SECONDS = 5.0
WRITER_HEAP_BYTES = 64_000_000


class SearchQueryError(InvalidInput):
    code = "invalid_search"


def _count_of(found: tantivy.SearchResult) -> int:
    # The binding's type stubs leave out ``count`` (set when searched with count=True).
    return int(getattr(found, "count", 0) or 0)


def _all_of(parts: Sequence[tantivy.Query]) -> tantivy.Query:
    return facet_engine.all_of(list(parts))


class ProductIndex:
    """Products in a tantivy index: in memory (``path=None``) or in a folder, built from ``documents``."""

    def __init__(
        self,
        documents: Iterable[ProductDocument] = (),
        *,
        synonyms: SynonymDictionary | None = None,
        path: Path | str | None = None,
        threads: int = 1,
        heap_bytes: int = WRITER_HEAP_BYTES,
    ) -> None:
        self.synonyms = synonyms
        self.path = Path(path) if path is not None else None
        self._schema = product_schema()
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self._schema, path=str(self.path), reuse=False)
        else:
            self._index = tantivy.Index(self._schema)
        self._setup(writable=True, threads=threads, heap_bytes=heap_bytes)
        writer = self._open_writer()
        for doc in documents:
            writer.add_document(tantivy_document(doc))
        self._dirty = True
        self.commit()

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        synonyms: SynonymDictionary | None = None,
        writable: bool = False,
        result_cache: int = 0,
    ) -> ProductIndex:
        """An index a folder holds: read-only (an API worker; :meth:`refresh` picks up commits), or
        ``writable`` by this process alone (the job that follows the catalogue). ``result_cache``: how
        many searches' answers (facet counts and matches) to remember until the next reload (0: none)."""
        index = cls.__new__(cls)
        index.synonyms = synonyms
        index.path = Path(path)
        index._index = tantivy.Index.open(str(index.path))
        index._schema = index._index.schema
        index._setup(writable=writable, threads=1, heap_bytes=WRITER_HEAP_BYTES, result_cache=result_cache)
        return index

    @staticmethod
    def exists(path: Path | str) -> bool:
        return (Path(path) / "meta.json").exists()

    def _setup(self, *, writable: bool, threads: int, heap_bytes: int, result_cache: int = 0) -> None:
        # Manual reloads: readers call refresh(), the writer reloads on commit.
        self._index.config_reader("manual", 0)
        # False for an index written before the 0/1 in-stock column existed: a stock range instead.
        self._in_stock_column = facet_engine.has_field(self._schema, facet_engine.IN_STOCK)
        self.browse_rank, self.browse_min_products = browse.RANK, browse.MIN_PRODUCTS
        self.result_cache = ResultCache(result_cache)
        self._writable = writable
        self._threads = threads
        self._heap_bytes = heap_bytes
        self._writer: Any = None
        self._dirty = False
        self._pending: dict[int, bool] = {}  # product id -> present after the uncommitted changes
        self._generation = 0
        self._meta_stamp = self._stamp()
        self._corrector: TypoCorrector | None = None
        self._corrector_generation = -1
        self._corrector_at = 0.0
        self._stores: dict[str, page_store.SegmentStore] = {}  # mapped page stores, by segment id
        self._reload()

    # -- writing ------------------------------------------------------------------------------------

    def _open_writer(self) -> Any:
        if not self._writable:
            raise RuntimeError("this search index was opened read-only")
        if self._writer is None:
            self._writer = self._index.writer(self._heap_bytes, self._threads)
        return self._writer

    def _id_query(self, product_id: int) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, "id", int(product_id))

    def upsert(self, document: ProductDocument) -> None:
        """Add or replace a product; visible after :meth:`commit` (in this process: the next read)."""
        writer = self._open_writer()
        writer.delete_documents_by_query(self._id_query(document.product_id))
        writer.add_document(tantivy_document(document))
        self._pending[document.product_id] = True
        self._dirty = True

    def remove(self, product_id: int) -> bool:
        """Take a product out; whether it was there."""
        present = self._pending.get(product_id)
        if present is None:
            present = self._count(self._id_query(product_id)) > 0
        if present:
            self._open_writer().delete_documents_by_query(self._id_query(product_id))
            self._pending[product_id] = False
            self._dirty = True
        return present

    def commit(self) -> bool:
        """Make the changes durable and searchable; whether there were any."""
        if not self._dirty:
            return False
        self._writer.commit()
        self._dirty = False
        self._pending.clear()
        self._reload()
        self._meta_stamp = self._stamp()
        return True

    def close_writer(self) -> None:
        """Let go of the writer (its lock and threads); uncommitted changes are dropped."""
        if self._writer is not None:
            if self._dirty:
                self._writer.rollback()
                self._dirty = False
                self._pending.clear()
            self._writer.wait_merging_threads()
            self._writer = None

    # -- reading ------------------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            info = os.stat(self.path / "meta.json")
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def _meta(self) -> bytes | None:
        if self.path is None:
            return None
        try:
            return (self.path / "meta.json").read_bytes()
        except FileNotFoundError:
            return None

    def _reload(self) -> None:
        # The commit this reader is at, when meta.json names the same one before and after the reload:
        # the published facet table is used only for its commit, the page stores only for its segments.
        before = self._meta()
        self._index.reload()
        searcher = self._index.searcher()
        stable = before is not None and before == self._meta()
        commit = facet_engine.opstamp_of(before) if stable else None
        segments = page_store.segments_of(before) if stable else None
        self._table = facet_engine.TableReader(self.path, commit)
        self._segments = segments
        self._pages = page_store.PageReader.open(searcher, self.path, segments, self._stores)
        self._numeric = facet_engine.numeric_columns(searcher, self._schema)
        self._thresholds = browse.Thresholds(
            searcher, self._schema, rank=self.browse_rank, min_products=self.browse_min_products
        )
        self._searcher = searcher
        self._generation += 1
        self.result_cache.clear()

    def publish_facet_table(self) -> bool:
        """Count every facet value of the committed index and publish the counts beside it, for
        readers to answer browse queries' facets from (the job worker, after each build and follow).
        Whether a table was published (see :func:`zhongcao.search.facets.publish_table`)."""
        if self.path is None:
            return False
        searcher = self._current()
        commit = facet_engine.opstamp(self.path)
        if commit is None:
            return False
        return facet_engine.publish_table(searcher, self._schema, self.path, commit)

    def publish_page_stores(self) -> int:
        """Write the page stores of the committed index's segments that have none (and delete those of
        segments gone): the job worker, after each build and follow. How many it wrote."""
        if self.path is None:
            return 0
        self._current()
        if not self.refresh() and self._segments is None:  # meta.json changed during the reload
            self._reload()
        if self._segments is None:
            return 0
        written = page_store.publish(self._searcher, self._segments, self.path)
        if written:
            self._pages = page_store.PageReader.open(self._searcher, self.path, self._segments, self._stores)
        return written

    def facet_table_current(self) -> bool:
        """Whether the published facet table is of this reader's commit (and so used)."""
        return self._table.get() is not None

    @property
    def outdated(self) -> bool:
        """Whether the folder's index was written with another schema (an older release's): the
        writer then rebuilds rather than adding documents of the new shape to it."""
        return bool(self._schema != product_schema())

    def refresh(self) -> bool:
        """Reload when another process committed since (one ``stat``); whether it did."""
        stamp = self._stamp()
        if stamp == self._meta_stamp:
            return False
        self._meta_stamp = stamp
        self._reload()
        return True

    def _current(self) -> tantivy.Searcher:
        if self._dirty:
            self.commit()
        return self._searcher

    def _count(self, query: tantivy.Query) -> int:
        return _count_of(self._current().search(query, 1, count=True))

    def __len__(self) -> int:
        return int(self._current().num_docs)

    def __contains__(self, product_id: int) -> bool:
        return self._count(self._id_query(product_id)) > 0

    def get(self, product_id: int) -> ProductDocument | None:
        searcher = self._current()
        hits = searcher.search(self._id_query(product_id), 1).hits
        if not hits:
            return None
        return ProductDocument.from_json(product_bytes(searcher.doc(hits[0][1])))

    def products(self) -> Iterable[ProductDocument]:
        """The live documents (for small indexes: autocomplete vocabularies and the like)."""
        searcher = self._current()
        hits = searcher.search(tantivy.Query.all_query(), max(1, searcher.num_docs)).hits
        return [ProductDocument.from_json(product_bytes(searcher.doc(address))) for _, address in hits]

    def vocabulary(self) -> Mapping[str, int]:
        """Latin words of the products with document frequencies (for suggestions and typo fixes)."""
        return dict(self._current().terms_with_prefix("words", "", limit=None))

    def corrector(self) -> TypoCorrector:
        """The typo corrector over the index's words; rebuilt after a commit (a big index at most
        every ``CORRECTOR_SECONDS``)."""
        searcher = self._current()
        stale = self._corrector_generation != self._generation
        if self._corrector is None or (
            stale
            and (searcher.num_docs < 50_000 or time.monotonic() - self._corrector_at >= CORRECTOR_SECONDS)
        ):
            self._corrector = TypoCorrector(self.vocabulary())
            self._corrector_generation = self._generation
            self._corrector_at = time.monotonic()
        return self._corrector

    # -- search -------------------------------------------------------------------------------------

    def _text_query(self, terms: Sequence[QueryTerm]) -> tantivy.Query:
        parts = []
        for term in terms:
            query = tantivy.Query.term_query(self._schema, "tokens", term.token, index_option="freq")
            if term.weight != 1.0:
                query = tantivy.Query.boost_query(query, term.weight)
            parts.append(query)
        if len(parts) == 1:
            return parts[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, part) for part in parts])

    def _field_filter(self, name: str, value: str | Sequence[str] | None) -> tantivy.Query | None:
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
        if not wanted:
            return tantivy.Query.empty_query()
        return tantivy.Query.term_set_query(self._schema, name, wanted)

    def _other_filters(
        self,
        price_min_fen: int | None,
        price_max_fen: int | None,
        in_stock: bool | None,
        campaign: int | None,
    ) -> list[tantivy.Query]:
        out = []
        if price_min_fen is not None or price_max_fen is not None:
            out.append(
                tantivy.Query.range_query(
                    self._schema, "price", tantivy.FieldType.Integer, price_min_fen, price_max_fen
                )
            )
        if in_stock is not None:
            out.append(facet_engine.in_stock_filter(self._schema, in_stock, numeric=self._in_stock_column))
        if campaign is not None:
            out.append(tantivy.Query.term_query(self._schema, "campaign", int(campaign)))
        return out

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

        ``facet_limit``: per field, only the values with the ``facet_limit`` highest counts instead of
        every value; a page shows a few, and a shop facet over a million products has tens of
        thousands of values."""
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
        field_filters = {
            name: q
            for name, value in (("category", category), ("brand", brand), ("shop", shop))
            if (q := self._field_filter(name, value)) is not None
        }
        other = self._other_filters(price_min_fen, price_max_fen, in_stock, campaign)

        truncated = len(query) > MAX_QUERY_CHARS
        query_text = query[:MAX_QUERY_CHARS]
        terms, corrections = expand_query(query_text, corrector=self.corrector(), synonyms=self.synonyms)
        key = (
            tuple((t.token, t.weight) for t in terms),
            *(_filter_key(v) for v in (category, brand, shop)),
            price_min_fen,
            price_max_fen,
            in_stock,
            campaign,
            sort,
            k,
            offset,
            facets,
            facet_limit,
        )
        # The answer follows from these inputs on one reader (the fallback too); a reload empties the cache.
        answer = self.result_cache.get(key)
        if answer is None:
            self._current()
            pages = self._pages  # its searcher and page stores, one reader's (a reload replaces it whole)
            # Browsing with no filter but field filters and in-stock: facets from the published table.
            table = None
            if facets and not terms and price_min_fen is None and price_max_fen is None and campaign is None:
                table = self._table.get()
            answer = self._answer(
                pages, terms, other, field_filters, sort, k, offset, facets, facet_limit, (table, in_stock)
            )
            self.result_cache.put(key, answer)
        pages, total, ids, scores, addresses, fallback, cached_facets = answer
        facet_counts = {name: dict(counts) for name, counts in cached_facets.items()}  # the caller's own
        highlighter = Highlighter(terms)
        typed = frozenset(t.token for t in terms if t.source == "query") if fallback is None else frozenset()
        hits = [
            SearchHit(product_id, score, pages, address, highlighter, typed)
            for product_id, score, address in zip(ids, scores, addresses, strict=True)
        ]
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

    def _answer(
        self,
        pages: page_store.PageReader,
        terms: list[QueryTerm],
        other: list[tantivy.Query],
        field_filters: dict[str, tantivy.Query],
        sort: str,
        k: int,
        offset: int,
        facets: bool,
        facet_limit: int | None,
        table: tuple[facet_engine.Table | None, bool | None] = (None, None),
    ) -> Answer:
        """The matches' count, the page (product id, score, address), the fallback and the facets."""
        searcher = pages.searcher
        base = [self._text_query(terms), *other] if terms else other
        matched = _all_of([*base, *field_filters.values()])
        fallback = None
        if sort == "relevance" and not terms:
            sort = "sales"
        # With facets the total is counted by their aggregation over the same matches, so the page's
        # search need not count them: tantivy then skips blocks that cannot reach the top k (block-max
        # WAND) instead of scoring every match.
        count = not facets
        found = browse.page_of(pages, matched, sort, k, offset, count, self._thresholds)
        if terms and found[0] == 0:
            # Nothing matched: the filters' best sellers, else the catalogue's.
            sort = "sales" if sort == "relevance" else sort
            fallback, base, matched = "popular_in_filters", other, _all_of([*other, *field_filters.values()])
            found = browse.page_of(pages, matched, sort, k, offset, count, self._thresholds)
            if found[0] == 0:
                fallback, base, field_filters, matched = "popular", [], {}, tantivy.Query.all_query()
                found = browse.page_of(pages, matched, sort, k, offset, count, self._thresholds)
        total, chosen = found
        facet_counts: FacetCounts = {}
        if facets:
            facet_counts = facet_engine.count(
                searcher,
                base,
                field_filters,
                matched,
                facet_limit,
                every=fallback is not None,
                numeric=self._numeric,
                table=table[0] if fallback is None else None,
                table_in_stock=table[1],
            )
        if total is None:  # the in-stock ranges cover every product once
            total = facet_counts["in_stock"]["true"] + facet_counts["in_stock"]["false"]
        # Kept compact: the cache holds thousands of answers of 100 matches each.
        return Answer(
            pages,
            total,
            array("q", [c[0] for c in chosen]),
            array("d", [c[1] for c in chosen]),
            [c[2] for c in chosen],
            fallback,
            facet_counts,
        )

    def match_ids(self, query: str, k: int) -> list[int]:
        """Ids of the (at most ``k``) products whose text matches ``query`` under the same analysis as
        :meth:`search` (words, sub-words, pinyin, typos, synonyms), best BM25 match first; no
        fallback: nothing matching is an empty list. For other listings that keep only some of them."""
        _check_int(k, "k", 1, MAX_MATCH_IDS)
        terms, _corrections = expand_query(
            query[:MAX_QUERY_CHARS], corrector=self.corrector(), synonyms=self.synonyms
        )
        if not terms:
            return []
        searcher = self._current()
        addresses = [address for _, address in searcher.search(self._text_query(terms), k).hits]
        return [int(pid) for pid in searcher.fast_field_values("id", addresses)]  # type: ignore[arg-type]

    def score_products(self, query: str, product_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score and coverage (share of typed query tokens present) of given products for
        ``query``; 0 for a product that does not match or is not indexed. For learning to rank."""
        terms, _corrections = expand_query(
            query[:MAX_QUERY_CHARS], corrector=self.corrector(), synonyms=self.synonyms
        )
        scores = np.zeros(len(product_ids))
        coverage = np.zeros(len(product_ids))
        if not terms or not len(product_ids):
            return scores, coverage
        searcher = self._current()
        wanted = tantivy.Query.term_set_query(self._schema, "id", [int(p) for p in product_ids])
        found = searcher.search(_all_of([self._text_query(terms), wanted]), len(product_ids)).hits
        typed = {t.token for t in terms if t.source == "query"}
        position = {int(pid): i for i, pid in enumerate(product_ids)}
        for score, address in found:
            stored = searcher.doc(address)
            i = position[ProductDocument.from_json(product_bytes(stored)).product_id]
            scores[i] = score
            if typed:
                tokens = str(stored.get_first("tokens") or "").split()
                coverage[i] = len(typed.intersection(tokens)) / len(typed)
        return scores, coverage


def _filter_key(value: str | Sequence[str] | None) -> object:
    return value if value is None or isinstance(value, str) else tuple(sorted(value))


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= int(value) <= high:
        raise SearchQueryError(f"{name} must be an integer from {low} to {high}", field=name)
