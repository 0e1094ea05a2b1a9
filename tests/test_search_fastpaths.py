"""The search engine's cheaper paths give the answers of the plain ones: facets counted over integer
columns equal those over text columns, a browse page tried past a sort threshold equals the full sort,
and an index written by an older release is rebuilt rather than written to."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import tantivy

from zhongcao.search import browse, facets
from zhongcao.search import index as index_module
from zhongcao.search.index import ProductDocument, ProductIndex

WORDS = ["连衣裙", "手机壳", "耳机", "dress", "drill", "蓝色", "red", "phone"]


def _documents(n: int, seed: int = 5) -> list[ProductDocument]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        out.append(
            ProductDocument(
                product_id=i,
                title_zh=" ".join(rng.sample(WORDS[:3] + WORDS[5:6], 2)),
                title_en=" ".join(rng.sample(WORDS[3:5] + WORDS[6:], 2)),
                brand=str(rng.randint(1, 6)) if rng.random() < 0.9 else "",
                category=str(rng.choice([10, 11, 12, 20, 21])),
                shop=str(rng.randint(1, 40)),
                price_fen=rng.choice([990, 1990, 4990, 9990, 19990]),  # many ties
                stock=0 if rng.random() < 0.2 else rng.randint(1, 30),
                sales=rng.choice([0, 0, 1, 5, 5, 20, 300]),  # many ties
                created_at=float(1_700_000_000 + rng.randint(0, 50) * 3600),
                campaign_ids=(7,) if rng.random() < 0.3 else (),
                keywords="",
            )
        )
    return out


FILTERS: list[dict[str, object]] = [
    {},
    {"in_stock": True},
    {"in_stock": False},
    {"category": ["10", "11"]},
    {"category": "20", "brand": "3"},
    {"shop": "7", "in_stock": True},
    {"price_min_fen": 1990, "price_max_fen": 9990},
    {"campaign": 7, "brand": ["1", "2"]},
    {"brand": "999"},  # matches nothing: the fallbacks
]


@pytest.fixture(scope="module")
def numeric_index(tmp_path_factory: pytest.TempPathFactory) -> ProductIndex:
    path = tmp_path_factory.mktemp("fast") / "products"
    ProductIndex(_documents(400), path=path).close_writer()
    return ProductIndex.open(path)


def test_an_index_of_ids_counts_integer_columns(numeric_index: ProductIndex) -> None:
    assert numeric_index._numeric
    assert facets.numeric_key("42") == 42
    for text in ("042", "+4", "4.0", "shop-a", "４２", "", str(2**64)):
        assert facets.numeric_key(text) is None


@pytest.mark.parametrize(
    ("query", "filters"), list(itertools.product(["", "连衣裙", "dress", "蓝"], FILTERS))
)
def test_integer_and_text_columns_count_the_same_facets(
    numeric_index: ProductIndex, query: str, filters: dict[str, object]
) -> None:
    numeric_index._numeric = False
    try:
        plain = numeric_index.search(query, 10, **filters)  # type: ignore[arg-type]
    finally:
        numeric_index._numeric = True
    fast = numeric_index.search(query, 10, **filters)  # type: ignore[arg-type]
    assert fast.facets == plain.facets
    assert fast.total == plain.total and fast.ids == plain.ids and fast.fallback == plain.fallback
    assert sum(fast.facets["in_stock"].values()) == fast.total
    # The top 3 values a field: the highest counts, exact (ties at the cut go to the lower id).
    top = numeric_index.search(query, 10, facet_limit=3, **filters)  # type: ignore[arg-type]
    for name, counts in top.facets.items():
        every = plain.facets[name]
        assert len(counts) == min(3, len(every)) and all(every[key] == n for key, n in counts.items())
        assert min(counts.values(), default=0) >= max(
            (n for k, n in every.items() if k not in counts), default=0
        )
        ranked = sorted(every.items(), key=facets.rank)[:3]
        assert sorted(counts.items(), key=facets.rank) == ranked


def test_a_named_facet_value_switches_the_index_to_text_columns(tmp_path: Path) -> None:
    docs = _documents(60)
    index = ProductIndex(docs, path=tmp_path / "p")
    assert index._numeric
    index.upsert(ProductDocument(999, "红色连衣裙", "red dress", "花语", "女装", "shop-a", 100, 1, 1))
    index.commit()
    assert not index._numeric  # counted on text columns from now on, and right
    result = index.search("连衣裙", 10)
    assert result.facets["brand"]["花语"] == 1 and result.facets["shop"]["shop-a"] == 1
    assert sum(result.facets["category"].values()) == result.total


@pytest.mark.parametrize("sort", list(browse.SORT_FIELDS))
def test_a_page_past_the_threshold_is_the_full_sorts_page(numeric_index: ProductIndex, sort: str) -> None:
    path = numeric_index.path
    assert path is not None
    narrowed = ProductIndex.open(path)
    narrowed.browse_rank, narrowed.browse_min_products = 40, 0
    narrowed._reload()
    assert narrowed._thresholds.restriction(sort) is not None
    tried = []
    original = browse.page

    def spy(searcher, query, sort_, k, offset, restriction):  # type: ignore[no-untyped-def]
        tried.append(restriction is not None)
        return original(searcher, query, sort_, k, offset, restriction)

    browse.page = spy  # type: ignore[assignment]
    try:
        for filters, (k, offset) in itertools.product(FILTERS, [(10, 0), (20, 10), (5, 37), (30, 390)]):
            for query in ("", "dress"):
                fast = narrowed.search(query, k, offset=offset, sort=sort, **filters)  # type: ignore[arg-type]
                # Counting the matches takes the plain path: the full sort, no threshold.
                full = numeric_index.search(query, k, offset=offset, sort=sort, facets=False, **filters)  # type: ignore[arg-type]
                assert fast.ids == full.ids, (filters, k, offset, query)
                assert fast.total == full.total and fast.fallback == full.fallback
    finally:
        browse.page = original  # type: ignore[assignment]
    assert all(tried) and tried


def test_a_small_index_sorts_without_a_threshold(numeric_index: ProductIndex) -> None:
    assert numeric_index._thresholds.restriction("sales") is None  # 400 products: below the minimum


def test_an_index_of_an_older_schema_is_outdated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def old_schema() -> tantivy.Schema:  # as written before the integer columns
        builder = tantivy.SchemaBuilder()
        builder.add_unsigned_field("id", indexed=True, fast=True)
        builder.add_text_field("tokens", stored=True, tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field("words", tokenizer_name="whitespace", index_option="basic")
        for name in facets.FACET_FIELDS:
            builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
        builder.add_integer_field("price", indexed=True, fast=True)
        builder.add_integer_field("stock", indexed=True, fast=True)
        builder.add_integer_field("sales", fast=True)
        builder.add_float_field("created", fast=True)
        builder.add_unsigned_field("campaign", indexed=True)
        builder.add_bytes_field("doc", stored=True)
        return builder.build()

    new_document = index_module.tantivy_document

    def old_document(doc: ProductDocument) -> tantivy.Document:
        new = ("category_n", "brand_n", "shop_n", "in_stock", "text_keys")
        fields = {k: v for k, v in new_document(doc).to_dict().items() if k not in new}
        return tantivy.Document.from_dict(fields, old_schema())

    monkeypatch.setattr(index_module, "product_schema", old_schema)
    monkeypatch.setattr(index_module, "tantivy_document", old_document)
    ProductIndex(_documents(50), path=tmp_path / "p").close_writer()
    monkeypatch.undo()
    reader = ProductIndex.open(tmp_path / "p")
    assert reader.outdated and not reader._numeric and not reader._in_stock_column
    fresh = ProductIndex.open(tmp_path / "p")
    result = fresh.search("", 5, sort="sales", in_stock=True)  # served from the old columns
    assert result.total == sum(1 for d in _documents(50) if d.stock > 0)


BROWSE_FILTERS: list[dict[str, object]] = [
    {},
    {"in_stock": True},
    {"in_stock": False},
    {"category": ["10", "11"]},
    {"category": "20", "in_stock": True},
    {"brand": "3", "in_stock": False},
    {"shop": "7"},
    {"brand": "999"},
    {"price_min_fen": 1990},  # not from the table: counted
    {"campaign": 7},
]


def _plain_facets(index: ProductIndex, filters: dict[str, object], limit: int | None) -> object:
    table = index._table
    index._table = facets.TableReader(None, None)
    try:
        result = index.search("", 10, sort="sales", facet_limit=limit, **filters)  # type: ignore[arg-type]
    finally:
        index._table = table
    return result.facets, result.total, result.ids


def test_browse_facets_from_the_published_table_equal_the_counted_ones(tmp_path: Path) -> None:
    path = tmp_path / "p"
    writer = ProductIndex(_documents(300), path=path)
    assert writer.publish_facet_table()
    reader = ProductIndex.open(path)
    assert reader.facet_table_current()
    counted: list[object] = []
    real = reader._current().aggregate
    spy = type("Spy", (), {"__getattr__": lambda _, n: getattr(real.__self__, n)})()
    spy.aggregate = lambda query, aggs: counted.append(aggs) or real(query, aggs)  # type: ignore[attr-defined]
    searcher, reader._pages.searcher = reader._pages.searcher, spy  # type: ignore[assignment]
    reader.search("", 10, sort="sales", in_stock=True)
    reader.search("", 10, sort="newest", category="10")
    reader._pages.searcher = searcher
    assert len(counted) == 1 and "category" not in str(counted[0])  # the category's brands and shops only
    for filters in BROWSE_FILTERS:
        for limit in (None, 2):
            result = reader.search("", 10, sort="sales", facet_limit=limit, **filters)  # type: ignore[arg-type]
            assert (result.facets, result.total, result.ids) == _plain_facets(reader, filters, limit), filters
    # A commit after the table: the reader's commit has no table, so it counts (and is right) ...
    writer.upsert(ProductDocument(5000, "红色连衣裙", "red dress", "3", "20", "7", 990, 4, 10_000))
    writer.remove(1)
    writer.commit()
    assert reader.refresh() and not reader.facet_table_current()
    fresh = reader.search("", 10, sort="sales", in_stock=True)
    assert fresh.ids[0] == 5000 and (fresh.facets, fresh.total, fresh.ids) == _plain_facets(
        reader, {"in_stock": True}, None
    )
    # ... until the job publishes the table of that commit.
    assert writer.publish_facet_table()
    assert reader.facet_table_current()
    for filters in BROWSE_FILTERS:
        result = reader.search("", 10, sort="sales", facet_limit=3, **filters)  # type: ignore[arg-type]
        assert (result.facets, result.total, result.ids) == _plain_facets(reader, filters, 3), filters


def test_an_index_with_named_facet_values_publishes_no_table(tmp_path: Path) -> None:
    docs = [ProductDocument(1, "红色连衣裙", "red dress", "花语", "女装", "shop-a", 100, 1, 1)]
    index = ProductIndex(docs, path=tmp_path / "p")
    assert not index.publish_facet_table() and not index.facet_table_current()
    assert index.search("", 5).facets["brand"] == {"花语": 1}
