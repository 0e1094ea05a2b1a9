"""The cheap path for a page sorted by a fast field (browsing: best sellers, price, newest).

Sorting every match of a broad filter by a fast field (``in_stock`` alone matches nearly the whole
catalogue) means reading that column for every match: about 9 ms over a million products. Most of
those products cannot reach the page. So each reader remembers, per sort, the value ``v`` of the
``RANK``-th product of the whole index in that order, and a page is first asked of the matches whose
value is at least as good as ``v`` (``sales >= v`` for best sellers, ``price <= v`` for cheapest first):
a range over the column that tantivy intersects with the filters, a few thousand products instead of a
million.

The answer is exact whenever that restricted search fills the page: every product it left out has a
strictly worse value than every product it kept, and products with equal values are all inside it
(so ties are broken as the full search breaks them). When it does not fill the page (a narrow filter,
a deep page) the full search runs, as before. The threshold's value only decides how often the first
try suffices, never what the page holds, so a reader whose threshold trails a commit is still exact.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import tantivy

from zhongcao.search.page_store import PageReader

# The threshold is the value of the RANK-th product in the sort's order over the whole index.
RANK = 4096
# Below this many products a full sort is already cheap: no threshold.
MIN_PRODUCTS = 50_000
SORT_FIELDS: dict[str, tuple[str, tantivy.Order, tantivy.FieldType]] = {
    "sales": ("sales", tantivy.Order.Desc, tantivy.FieldType.Integer),
    "price_asc": ("price", tantivy.Order.Asc, tantivy.FieldType.Integer),
    "price_desc": ("price", tantivy.Order.Desc, tantivy.FieldType.Integer),
    "newest": ("created", tantivy.Order.Desc, tantivy.FieldType.Float),
}


class Thresholds:
    """One reader's thresholds, found on first use (one sorted search of the index per sort)."""

    def __init__(
        self,
        searcher: tantivy.Searcher,
        schema: tantivy.Schema,
        *,
        rank: int = RANK,
        min_products: int = MIN_PRODUCTS,
    ) -> None:
        self._searcher = searcher
        self._schema = schema
        self._rank = rank
        self._enabled = searcher.num_docs >= max(min_products, rank)
        self._ranges: dict[str, tantivy.Query | None] = {}
        self._lock = threading.Lock()

    def restriction(self, sort: str) -> tantivy.Query | None:
        """The range of products at least as good as the RANK-th in ``sort``'s order, or None."""
        if not self._enabled:
            return None
        if sort not in self._ranges:
            with self._lock:
                if sort not in self._ranges:
                    self._ranges[sort] = self._find(sort)
        return self._ranges[sort]

    def _find(self, sort: str) -> tantivy.Query | None:
        field_name, order, field_type = SORT_FIELDS[sort]
        found = self._searcher.search(
            tantivy.Query.all_query(),
            1,
            count=False,
            order_by_field=field_name,
            offset=self._rank - 1,
            order=order,
        ).hits
        if not found:
            return None
        value = self._searcher.fast_field_values(field_name, [found[0][1]])[0]
        if value is None:
            return None
        low, high = (value, None) if order == tantivy.Order.Desc else (None, value)
        return tantivy.Query.range_query(self._schema, field_name, field_type, low, high)


def page(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    sort: str,
    k: int,
    offset: int,
    restriction: tantivy.Query | None,
) -> list[tuple[object, tantivy.DocAddress]]:
    """The page's hits (value, address) without counting the matches: first among the products past
    the threshold, then, when that does not fill the page, among all matches."""
    field_name, order, _type = SORT_FIELDS[sort]
    if restriction is not None:
        narrowed = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Must, restriction)]
        )
        hits = searcher.search(
            narrowed, k, count=False, order_by_field=field_name, offset=offset, order=order
        ).hits
        if len(hits) == k:
            return hits
    return searcher.search(query, k, count=False, order_by_field=field_name, offset=offset, order=order).hits


def _count_of(found: tantivy.SearchResult) -> int:
    # The binding's type stubs leave out ``count`` (set when searched with count=True).
    return int(getattr(found, "count", 0) or 0)


def page_of(
    pages: PageReader,
    query: tantivy.Query,
    sort: str,
    k: int,
    offset: int,
    count: bool,
    thresholds: Thresholds,
) -> tuple[int | None, list[tuple[int, float, Any]]]:
    """How many products match and the page: (product id, score, address), best first. Without
    ``count`` (the facets count the matches) the count is None when something matched, else 0 (a
    sorted page past the end is empty although products match: they are counted then). Product
    ids and sales come from the reader's page stores (:mod:`zhongcao.search.page_store`)."""
    searcher = pages.searcher
    if sort == "relevance":
        found = searcher.search(query, offset + k, count=count)
        hits = found.hits  # (a property that builds a new list on every read)
        total = _count_of(found) if count or not hits else None
        addresses = [address for _, address in hits]
        ids, sales = pages.ids_and_sales(addresses)
        # Ties (tantivy's scores are 32-bit floats): more sales, then the lower id.
        scores = np.fromiter((score for score, _ in hits), dtype=np.float64, count=len(hits))
        ranks = np.lexsort(
            (np.asarray(ids, dtype=np.int64), -np.asarray(sales, dtype=np.int64), -np.round(scores, 5))
        )[offset:].tolist()
        return total, [(int(ids[i]), float(scores[i]), addresses[i]) for i in ranks]
    if count:
        field_name, direction, _type = SORT_FIELDS[sort]
        found = searcher.search(
            query, k, count=True, order_by_field=field_name, offset=offset, order=direction
        )
        total = _count_of(found)
        sorted_hits = found.hits
    else:  # the page alone, past the sort's threshold first
        sorted_hits = page(searcher, query, sort, k, offset, thresholds.restriction(sort))
        total = None if sorted_hits else 0 if offset == 0 else _count_of(searcher.search(query, 1))
    addresses = [address for _, address in sorted_hits]
    ids = pages.ids(addresses)
    return total, [(pid, 0.0, address) for pid, address in zip(ids, addresses, strict=True)]
