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

from typing import Any

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
) -> FacetCounts:
    """Facet counts: each field counted with every filter except its own (``every``: after a
    fallback, every field over the fallback's products). One terms aggregation per distinct set of
    filters, so a search without field filters is one aggregation call. Keys are text ("42", "true")."""
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
        query = matched if key == everything else all_of([*base, *(field_filters[n] for n in key)])
        aggregations: dict[str, Any] = {
            name: {"terms": {"field": name + suffix, "size": size}} for name in names
        }
        if key == everything:
            aggregations[IN_STOCK] = (
                {"terms": {"field": IN_STOCK, "size": 2}}
                if numeric
                else {"range": {"field": "stock", "ranges": [{"to": 1}, {"from": 1}]}}
            )
        counted = searcher.aggregate(query, aggregations)
        for name in names:
            out[name] = {
                str(b["key"]): int(b["doc_count"]) for b in counted[name]["buckets"] if b["doc_count"]
            }
        if key == everything:
            out[IN_STOCK] = _in_stock(counted[IN_STOCK]["buckets"], numeric=numeric)
    return {name: out[name] for name in (*FACET_FIELDS, IN_STOCK)}


def _in_stock(buckets: list[dict[str, Any]], *, numeric: bool) -> dict[str, int]:
    if numeric:  # terms of the 0/1 column; a value no product has has no bucket
        found = {int(b["key"]): int(b["doc_count"]) for b in buckets}
        return {"true": found.get(1, 0), "false": found.get(0, 0)}
    # [stock < 1, stock >= 1]; none on an empty index
    sold_out, stocked = (int(b["doc_count"]) for b in buckets) if buckets else (0, 0)
    return {"true": stocked, "false": sold_out}
