"""The product index: Chinese and English recall, filters, sorts, facets, highlights, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from zhongcao.search.analysis import SynonymDictionary
from zhongcao.search.index import ProductDocument, ProductIndex, SearchQueryError


def _catalogue() -> list[ProductDocument]:
    def doc(
        pid: int,
        zh: str,
        en: str,
        brand: str,
        category: str,
        shop: str,
        price: int,
        stock: int,
        sales: int,
        day: int,
        campaigns: tuple[int, ...] = (),
    ) -> ProductDocument:
        return ProductDocument(
            pid,
            zh,
            en,
            brand,
            category,
            shop,
            price,
            stock,
            sales,
            datetime(2026, 11, day, tzinfo=UTC),
            campaigns,
        )

    return [
        doc(1, "夏季红色连衣裙", "Summer red dress", "花语", "女装", "shop-a", 19_900, 5, 120, 1, (7,)),
        doc(2, "蓝色长款连衣裙", "Blue long dress", "花语", "女装", "shop-c", 25_900, 0, 30, 5),
        doc(3, "男士休閒褲", "Men's casual trousers", "Jack", "男装", "shop-b", 29_900, 8, 60, 3),
        doc(4, "苹果手机壳", "Phone case for iPhone", "Apple", "数码", "shop-a", 4_900, 50, 900, 2, (7, 8)),
        doc(5, "无线蓝牙耳机", "Wireless bluetooth headphones", "Sony", "数码", "shop-b", 59_900, 3, 400, 4),
        doc(6, "", "Cordless drill with battery", "Makita", "工具", "shop-d", 89_900, 2, 80, 6),
    ]


@pytest.fixture(scope="module")
def index() -> ProductIndex:
    return ProductIndex(
        _catalogue(), synonyms=SynonymDictionary([("手机", "cellphone"), ("trousers", "pants")])
    )


@pytest.mark.parametrize(
    "query",
    ["连衣裙", "连衣", "衣裙", "lianyiqun", "lyq", "連衣裙", "LianYiQun", "ｌｙｑ"],
)
def test_chinese_recall_sub_word_pinyin_and_traditional(index: ProductIndex, query: str) -> None:
    assert set(index.search(query).ids[:2]) == {1, 2}


def test_traditional_title_found_by_simplified_query(index: ProductIndex) -> None:
    assert index.search("休闲裤").ids[0] == 3
    assert index.search("xiuxianku").ids[0] == 3


def test_english_stemming_typos_and_synonyms(index: ProductIndex) -> None:
    assert set(index.search("dresses").ids[:2]) == {1, 2}
    result = index.search("cordles dril")
    assert result.ids[0] == 6
    assert result.suggestion == "cordless drill"
    assert index.search("cellphone").ids[0] == 4
    assert index.search("pants").ids[0] == 3


def test_relevance_puts_the_fuller_match_first(index: ProductIndex) -> None:
    assert index.search("红色连衣裙").ids[0] == 1
    assert index.search("blue dress").ids[0] == 2


def test_filters(index: ProductIndex) -> None:
    assert index.search("连衣裙", in_stock=True).ids == [1]
    assert index.search("连衣裙", in_stock=False).ids == [2]
    assert index.search("连衣裙", price_min_fen=20_000).ids == [2]
    assert index.search("连衣裙", price_max_fen=20_000).ids == [1]
    assert index.search("连衣裙", shop="shop-c").ids == [2]
    assert set(index.search("", category="数码").ids) == {4, 5}
    assert set(index.search("", category=["数码", "工具"]).ids) == {4, 5, 6}
    assert index.search("", brand="Sony").ids == [5]
    assert set(index.search("", campaign=7).ids) == {1, 4}
    assert index.search("", campaign=8).ids == [4]


def test_sorts(index: ProductIndex) -> None:
    assert index.search("", sort="sales").ids == [4, 5, 1, 6, 3, 2]
    assert index.search("", sort="price_asc").ids == [4, 1, 2, 3, 5, 6]
    assert index.search("", sort="price_desc").ids == [6, 5, 3, 2, 1, 4]
    assert index.search("", sort="newest").ids == [6, 2, 5, 3, 4, 1]
    assert index.search("", k=2, offset=2, sort="sales").ids == [1, 6]


def test_facets_count_each_field_without_its_own_filter(index: ProductIndex) -> None:
    result = index.search("", category="数码")
    assert result.total == 2
    assert result.facets["category"] == {"女装": 2, "男装": 1, "数码": 2, "工具": 1}
    assert result.facets["brand"] == {"Apple": 1, "Sony": 1}
    assert result.facets["shop"] == {"shop-a": 1, "shop-b": 1}
    assert result.facets["in_stock"] == {"true": 2, "false": 0}
    dresses = index.search("连衣裙")
    assert dresses.facets["brand"] == {"花语": 2}
    assert dresses.facets["in_stock"] == {"true": 1, "false": 1}


def test_highlighting_marks_matches_and_escapes_html(index: ProductIndex) -> None:
    hit = index.search("连衣").hits[0]
    assert "<em>连衣</em>" in hit.highlight
    assert index.search("lyq").hits[0].highlight.endswith("<em>连衣裙</em>")
    assert index.search("休闲裤").hits[0].highlight == "男士<em>休閒褲</em>"
    assert "<em>dress</em>" in index.search("dresses").hits[0].highlight_en
    catalogue = ProductIndex([ProductDocument(1, title_en="<b>Bold</b> & drill")])
    assert catalogue.search("drill").hits[0].highlight == "&lt;b&gt;Bold&lt;/b&gt; &amp; <em>drill</em>"


def test_zero_results_fall_back_to_popular(index: ProductIndex) -> None:
    nothing = index.search("zzzzqqqq")
    assert nothing.fallback == "popular_in_filters"
    assert nothing.ids[0] == 4  # best seller
    in_category = index.search("zzzzqqqq", category="女装")
    assert in_category.fallback == "popular_in_filters" and in_category.ids == [1, 2]
    impossible = index.search("连衣裙", category="男装")
    assert impossible.fallback == "popular_in_filters" and impossible.ids == [3]
    none_left = index.search("连衣裙", category="no-such-category")
    assert none_left.fallback == "popular" and none_left.ids[0] == 4


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "😀🎉👗",
        "\x00\x01\x1b[31m\x7f",
        "'; DROP TABLE products; --",
        '" OR 1=1 /*',
        ".*[a-z]+(?=x)\\",
        "a" * 10_000,
        "连衣裙" * 3_500,
        "%_%' UNION SELECT *",
    ],
)
def test_bad_queries_return_clean_results(index: ProductIndex, query: str) -> None:
    result = index.search(query, 5)
    assert 0 < len(result.ids) <= 5
    assert all(isinstance(i, int) for i in result.ids)
    assert result.truncated == (len(query) > 256)
    for hit in result.hits:
        assert "<script" not in hit.highlight


def test_long_chinese_query_still_matches(index: ProductIndex) -> None:
    result = index.search("连衣裙" * 3_500)
    assert result.truncated and result.fallback is None and set(result.ids[:2]) == {1, 2}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sort": "random"},
        {"k": 0},
        {"k": 10_000},
        {"k": True},
        {"offset": -1},
        {"price_min_fen": -5},
        {"price_min_fen": 100, "price_max_fen": 50},
        {"price_max_fen": 1.5},
        {"category": 5},
        {"campaign": "seven"},
    ],
)
def test_bad_parameters_raise_a_clean_error(index: ProductIndex, kwargs: dict[str, object]) -> None:
    with pytest.raises(SearchQueryError) as caught:
        index.search("dress", **kwargs)  # type: ignore[arg-type]
    assert caught.value.status_code == 422 and caught.value.message


def test_non_text_query_is_a_clean_error(index: ProductIndex) -> None:
    with pytest.raises(SearchQueryError):
        index.search(None)  # type: ignore[arg-type]


def test_upsert_and_remove_are_visible_to_the_next_search() -> None:
    index = ProductIndex(_catalogue())
    index.upsert(ProductDocument(7, "白色连衣裙", "White dress", "花语", "女装", "shop-a", 9_900, 4, 1))
    assert index.search("白色连衣裙").ids[0] == 7
    assert 7 in set(index.search("lyq").ids)
    index.upsert(ProductDocument(1, "红色半身裙", "Red skirt", "花语", "女装", "shop-a", 19_900, 5, 120))
    assert 1 not in index.search("连衣裙").ids
    assert index.search("半身裙").ids == [1]
    assert index.remove(2) and not index.remove(2)
    assert set(index.search("连衣裙").ids) == {7}
    assert len(index) == 6 and index.get(1) is not None and index.get(1).title_zh == "红色半身裙"  # type: ignore[union-attr]
    assert index.get(2) is None and 2 not in index


@pytest.mark.parametrize(("query", "expected"), [("射", {8}), ("裙", {1, 2}), ("褲", {3})])
def test_single_chinese_character_retrieves_by_character(query: str, expected: set[int]) -> None:
    index = ProductIndex([*_catalogue(), ProductDocument(8, "射灯 LED", "LED spotlight", category="灯具")])
    result = index.search(query, k=10)
    assert result.fallback is None and set(result.ids) == expected


def test_a_reader_of_the_folder_sees_the_writers_commits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    writer = ProductIndex(_catalogue(), path=tmp_path / "products")
    reader = ProductIndex.open(tmp_path / "products")
    assert reader.search("连衣裙").total == 2 and not reader.refresh()
    writer.upsert(ProductDocument(7, "白色连衣裙", "White dress", "花语", "女装", "shop-a", 9_900, 4, 1))
    writer.remove(1)
    assert reader.search("连衣裙").total == 2  # not committed yet
    assert writer.commit()
    assert reader.refresh() and set(reader.search("连衣裙").ids) == {2, 7}
    with pytest.raises(RuntimeError):
        reader.upsert(ProductDocument(9, "台灯"))
    writer.close_writer()


def test_a_readers_result_cache_serves_repeats_until_the_next_commit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    writer = ProductIndex(_catalogue(), path=tmp_path / "products")
    reader = ProductIndex.open(tmp_path / "products", result_cache=2)
    uncached = ProductIndex.open(tmp_path / "products")
    cache = reader.result_cache
    first = reader.search("连衣裙", category=["女装", "数码"])
    assert (cache.hits, cache.misses) == (0, 1)
    first.facets["brand"]["花语"] = 99  # a caller's change stays its own
    again = reader.search("连衣裙", category=["数码", "女装"])  # the same search
    assert (cache.hits, cache.misses) == (1, 1)
    expected = uncached.search("连衣裙", category=["女装", "数码"])
    assert again.ids == expected.ids and again.facets == expected.facets and again.total == 2
    assert again.facets["brand"] == {"花语": 2} and again.hits[0].document.product_id == expected.ids[0]
    cheapest = reader.search("连衣裙", k=1, sort="price_asc", category=["女装", "数码"])  # another page
    assert cheapest.ids == [1] and (cache.hits, cache.misses) == (1, 2)
    reader.search("手机")  # pushes out the first of the two entries
    reader.search("连衣裙", category=["女装", "数码"])
    assert (cache.hits, cache.misses) == (1, 4)
    assert uncached.result_cache.hits == uncached.result_cache.misses == 0
    writer.upsert(ProductDocument(7, "白色连衣裙", "White dress", "Jack", "女装", "shop-a", 9_900, 4, 1))
    writer.commit()
    assert reader.refresh()
    fresh = reader.search("连衣裙", category=["女装", "数码"])
    assert fresh.facets["brand"] == {"花语": 2, "Jack": 1} and fresh.total == 3 and 7 in fresh.ids
    assert (cache.hits, cache.misses) == (1, 5)  # the commit emptied the cache
    writer.close_writer()


def test_many_updates_stay_correct() -> None:
    index = ProductIndex([ProductDocument(1, "台灯")])
    for pid in range(2, 8):
        index.upsert(ProductDocument(pid, f"台灯 {pid} 号"))
        index.commit()
    assert len(index) == 7
    assert set(index.search("台灯", k=10).ids) == set(range(1, 8))


def test_empty_index() -> None:
    index = ProductIndex()
    result = index.search("连衣裙")
    assert result.ids == [] and result.total == 0
    index.upsert(ProductDocument(1, "连衣裙"))
    assert index.search("连衣").ids == [1]
