"""Facet counts of the product index: category, brand and shop values and in stock, each counted with
every filter except its own, by tantivy's aggregations over the matches.

Two ways to count, the same answer:

* **integer columns** (the catalogue's case: category, brand and shop are decimal ids): each facet value
  is also kept as an unsigned fast field (``category_n``...) and stock as a 0/1 field (``in_stock``); a
  terms aggregation over integer columns costs about half what it costs over text columns, whose
  values tantivy counts by term ordinal and then turns back into text (the shop facet, with tens of
  thousands of values over a million products, most of all);
* **text columns**, for an index holding any other facet value (names, in tests and small indexes) or
  written before the integer columns existed: the raw-tokenised text fields and a range count over
  ``stock``.

A document with a value that is not a decimal id carries ``text_keys``; its index counts the text
columns (deleted documents included, so an index that ever held one stays on text until it is rebuilt:
slower, never wrong).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from zhongcao.search.result_cache import FacetCounts

FACET_FIELDS = ("category", "brand", "shop")
NUMERIC_SUFFIX = "_n"
TEXT_KEYS = "text_keys"
IN_STOCK = "in_stock"
# Terms aggregation buckets when a caller wants every facet value (tantivy's default bucket limit).
ALL_FACET_VALUES = 65_000
_MAX_U64_KEY = 2**63 - 1


def numeric_key(value: str) -> int | None:
    """The integer a facet value stands for when it is a plain decimal id ("42", not "042" or "+4")."""
    if not value.isascii() or not value.isdigit() or (len(value) > 1 and value[0] == "0"):
        return None
    number = int(value)
    return number if number <= _MAX_U64_KEY else None


def rank(item: tuple[str, int]) -> tuple[int, int, int | str]:
    """The order of a facet's values: the highest count first, ties by id (numerically), then by text;
    as tantivy's terms aggregation cuts an integer column's values at a limit."""
    key, count = item
    number = numeric_key(key)
    return (-count, 0, number) if number is not None else (-count, 1, key)


def has_field(schema: tantivy.Schema, name: str) -> bool:
    """Whether an index's schema has a field (an index written by an older release may lack one)."""
    try:
        tantivy.Query.term_query(schema, name, 1)
    except ValueError:
        return False
    return True


def numeric_columns(searcher: tantivy.Searcher, schema: tantivy.Schema) -> bool:
    """Whether this reader may count the integer columns: the schema has them and no document (live or
    deleted) carries a facet value that is not a decimal id."""
    return has_field(schema, IN_STOCK) and searcher.doc_freq(TEXT_KEYS, 1) == 0


def in_stock_filter(schema: tantivy.Schema, in_stock: bool, *, numeric: bool) -> tantivy.Query:
    if numeric:
        return tantivy.Query.term_query(schema, IN_STOCK, 1 if in_stock else 0)
    low, high = (1, None) if in_stock else (None, 0)
    return tantivy.Query.range_query(schema, "stock", tantivy.FieldType.Integer, low, high)


def all_of(parts: list[tantivy.Query]) -> tantivy.Query:
    if not parts:
        return tantivy.Query.all_query()
    if len(parts) == 1:
        return parts[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, part) for part in parts])


def count(
    searcher: tantivy.Searcher,
    base: list[tantivy.Query],
    field_filters: dict[str, tantivy.Query],
    matched: tantivy.Query,
    limit: int | None,
    *,
    every: bool,
    numeric: bool,
    table: Table | None = None,
    table_in_stock: bool | None = None,
) -> FacetCounts:
    """Facet counts: each field counted with every filter except its own (``every``: after a
    fallback, every field over the fallback's products). One terms aggregation per distinct set of
    filters, so a search without field filters is one aggregation call. Keys are text ("42", "true").

    ``table``: the published counts of the reader's commit, given when the search has no text and no
    filter but ``table_in_stock`` besides the field filters: the fields counted without any field
    filter are read from it instead of counted (browsing everything, or everything in stock, counts
    nothing; browsing a category counts only the category's products)."""
    size = min(limit or ALL_FACET_VALUES, ALL_FACET_VALUES)
    everything = tuple(field_filters)
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in FACET_FIELDS:
        key = everything if every else tuple(n for n in field_filters if n != name)
        groups.setdefault(key, []).append(name)
    groups.setdefault(everything, [])
    out: dict[str, dict[str, int]] = {}
    suffix = NUMERIC_SUFFIX if numeric else ""
    for key, names in groups.items():
        if table is not None and not key:
            for name in names:
                out[name] = table.counts(name, table_in_stock, limit)
            if key == everything:
                out[IN_STOCK] = table.in_stock(table_in_stock)
            continue
        query = matched if key == everything else all_of([*base, *(field_filters[n] for n in key)])
        aggregations: dict[str, Any] = {
            name: {"terms": {"field": name + suffix, "size": size}} for name in names
        }
        if key == everything:
            # The 0/1 column's count and sum are the matches and those in stock: a stats aggregation
            # costs less than a terms one (no buckets to keep).
            aggregations[IN_STOCK] = (
                {"stats": {"field": IN_STOCK}}
                if numeric
                else {"range": {"field": "stock", "ranges": [{"to": 1}, {"from": 1}]}}
            )
        counted = searcher.aggregate(query, aggregations)
        for name in names:
            out[name] = {
                str(b["key"]): int(b["doc_count"]) for b in counted[name]["buckets"] if b["doc_count"]
            }
        if key == everything:
            out[IN_STOCK] = _in_stock(counted[IN_STOCK], numeric=numeric)
    return {name: out[name] for name in (*FACET_FIELDS, IN_STOCK)}


def _in_stock(counted: dict[str, Any], *, numeric: bool) -> dict[str, int]:
    if numeric:  # stats of the 0/1 column: every match counted, the sum those in stock
        matches, stocked = int(counted.get("count") or 0), int(counted.get("sum") or 0)
        return {"true": stocked, "false": matches - stocked}
    # [stock < 1, stock >= 1]; none on an empty index
    buckets = counted["buckets"]
    sold_out, stocked = (int(b["doc_count"]) for b in buckets) if buckets else (0, 0)
    return {"true": stocked, "false": sold_out}


# -- the browse table ---------------------------------------------------------------------------------

TABLE_FILE = "browse-facets.npz"
# The job worker republishes a stale table at most this often (a million products: 0.2 s of its CPU);
# meanwhile browse queries count their facets with aggregations, as before.
TABLE_SECONDS = 5.0


def table_age(index_path: Path) -> float:
    """Seconds since the table was last published (infinite when there is none)."""
    try:
        return time.time() - os.stat(index_path / TABLE_FILE).st_mtime
    except FileNotFoundError:
        return float("inf")


def opstamp(index_path: Path) -> int | None:
    """The commit a folder's index is at (tantivy's ``meta.json``), or None."""
    try:
        return opstamp_of((index_path / "meta.json").read_bytes())
    except FileNotFoundError:
        return None


def opstamp_of(meta: bytes | None) -> int | None:
    """The commit a ``meta.json``'s content names, or None."""
    if meta is None:
        return None
    try:
        return int(json.loads(meta)["opstamp"])
    except (KeyError, TypeError, ValueError):
        return None


def publish_table(searcher: tantivy.Searcher, schema: tantivy.Schema, index_path: Path, commit: int) -> bool:
    """Count every facet value of the whole index, split by in stock, and publish the counts beside
    the index for the commit ``commit`` (the job worker, after each build and follow). Whether it
    did: an index with text facet values, or a field with more values than one aggregation returns,
    gets no table (browse queries then count with aggregations, as text queries do)."""
    target = index_path / TABLE_FILE
    if not numeric_columns(searcher, schema):
        target.unlink(missing_ok=True)
        return False
    sub = {
        name: {"terms": {"field": name + NUMERIC_SUFFIX, "size": ALL_FACET_VALUES}} for name in FACET_FIELDS
    }
    counted = searcher.aggregate(
        tantivy.Query.all_query(), {IN_STOCK: {"terms": {"field": IN_STOCK, "size": 2}, "aggs": sub}}
    )
    arrays: dict[str, np.ndarray] = {"opstamp": np.asarray([commit], dtype=np.int64)}
    by_stock = {int(b["key"]): b for b in counted[IN_STOCK]["buckets"]}
    for stock in (0, 1):
        bucket = by_stock.get(stock)
        arrays[f"total{stock}"] = np.asarray([int(bucket["doc_count"]) if bucket else 0], dtype=np.int64)
    for name in FACET_FIELDS:
        parts = []
        for stock in (0, 1):
            values = by_stock[stock][name]["buckets"] if stock in by_stock else []
            if len(values) >= ALL_FACET_VALUES:  # cut by the aggregation: not every value
                target.unlink(missing_ok=True)
                return False
            keys = np.fromiter((int(v["key"]) for v in values), dtype=np.uint64, count=len(values))
            counts = np.fromiter((int(v["doc_count"]) for v in values), dtype=np.int64, count=len(values))
            parts.append((keys, counts))
        unique, inverse = np.unique(np.concatenate([parts[0][0], parts[1][0]]), return_inverse=True)
        both = np.bincount(inverse, weights=np.concatenate([parts[0][1], parts[1][1]]), minlength=len(unique))
        parts.append((unique, both.astype(np.int64)))
        # Ranked as the readers cut them: the highest count first, ties by the lower id.
        for label, (keys, counts) in zip(("0", "1", "any"), parts, strict=True):
            order = np.lexsort((keys, -counts))
            arrays[f"{name}_{label}_keys"] = keys[order]
            arrays[f"{name}_{label}_counts"] = counts[order]
    temporary = index_path / f".{TABLE_FILE}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    os.replace(temporary, target)
    return True


class Table:
    """The published counts of one commit: each field's values ranked (highest count first, ties by
    id) among the products in stock, sold out, and all of them."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.opstamp = int(arrays["opstamp"][0])
        self.totals = {True: int(arrays["total1"][0]), False: int(arrays["total0"][0])}
        self._ranked = {
            (stock, name): (arrays[f"{name}_{label}_keys"], arrays[f"{name}_{label}_counts"])
            for stock, label in ((False, "0"), (True, "1"), (None, "any"))
            for name in FACET_FIELDS
        }

    @classmethod
    def load(cls, index_path: Path) -> Table | None:
        try:
            with np.load(index_path / TABLE_FILE) as arrays:
                return cls({name: arrays[name] for name in arrays.files})
        except (FileNotFoundError, KeyError, ValueError, OSError):
            return None

    def counts(self, name: str, in_stock: bool | None, limit: int | None) -> dict[str, int]:
        keys, counts = self._ranked[(in_stock, name)]
        size = min(limit or ALL_FACET_VALUES, ALL_FACET_VALUES)
        return dict(zip(map(str, keys[:size].tolist()), counts[:size].tolist(), strict=True))

    def in_stock(self, in_stock: bool | None) -> dict[str, int]:
        """The in-stock facet over the products the in-stock filter keeps (it is counted with it)."""
        stocked = self.totals[True] if in_stock is not False else 0
        sold_out = self.totals[False] if in_stock is not True else 0
        return {"true": stocked, "false": sold_out}


class TableReader:
    """A reader's view of the published table: used only when it is of the reader's own commit."""

    def __init__(self, index_path: Path | None, commit: int | None) -> None:
        self._path = index_path
        self._commit = commit
        self._stamp: tuple[int, int] | None = None
        self._table: Table | None = None
        self._lock = threading.Lock()

    def get(self) -> Table | None:
        """The table of this reader's commit, or None (not published yet, or not at all). One ``stat``
        while it is missing; the job worker publishes it right after its commit."""
        if self._table is not None or self._path is None or self._commit is None:
            return self._table
        try:
            info = os.stat(self._path / TABLE_FILE)
        except FileNotFoundError:
            return None
        stamp = (info.st_ino, info.st_mtime_ns)
        with self._lock:
            if self._table is None and stamp != self._stamp:
                self._stamp = stamp
                table = Table.load(self._path)
                if table is not None and table.opstamp == self._commit:
                    self._table = table
        return self._table
