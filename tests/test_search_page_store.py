"""Page stores (search/page_store.py): a hit's product read from its segment's store is the one tantivy
stores, and a store is used only for the segment it was written for (a renamed or stale store is not;
a store of a segment gone from the index is deleted)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from zhongcao.search import page_store
from zhongcao.search.highlight import _folded
from zhongcao.search.index import ProductDocument, ProductIndex

TITLES = ["連衣裙 夏季", "ＬＹＱ 红色连衣裙", "蓝色长款連衣裙", "手机壳", "Ⅻ号 dress", "phone case"]


def _documents(first: int, n: int) -> list[ProductDocument]:
    return [
        ProductDocument(
            product_id=i,
            title_zh=TITLES[i % len(TITLES)] if i % 7 else "",
            title_en=f"Dress {i} red" if i % 3 else "",
            brand=str(i % 4 + 1),
            category=str(10 + i % 3),
            shop=str(i % 9 + 1),
            price_fen=100 * i,
            stock=i % 5,
            sales=i % 11,
            created_at=1_700_000_000.0 + i,
            keywords="连衣裙 dress",
        )
        for i in range(first, first + n)
    ]


def _page(index: ProductIndex, query: str, **filters: object) -> list[tuple[object, ...]]:
    result = index.search(query, 20, **filters)  # type: ignore[arg-type]
    return [(h.product_id, h.score, h.document, h.highlight, h.highlight_en) for h in result.hits] + [
        (result.total, result.facets)
    ]


def _without_stores(path: Path, copy_to: Path) -> ProductIndex:
    shutil.copytree(path, copy_to)
    shutil.rmtree(copy_to / page_store.STORE_DIR, ignore_errors=True)
    return ProductIndex.open(copy_to)


@pytest.fixture
def two_segments(tmp_path: Path) -> Path:
    """An index of two committed segments of 40 products each, with their page stores."""
    path = tmp_path / "products"
    writer = ProductIndex(_documents(1, 40), path=path)
    for document in _documents(41, 40):
        writer.upsert(document)
    writer.commit()
    writer.close_writer()
    assert writer.publish_page_stores() == 2
    return path


QUERIES = [
    ("连衣裙", {}),
    ("dress", {"in_stock": True}),
    ("lyq", {}),
    ("", {"category": "11"}),
    ("xyzzy", {}),
]


def test_hits_read_from_the_stores_equal_those_read_from_tantivy(two_segments: Path, tmp_path: Path) -> None:
    reader = ProductIndex.open(two_segments)
    assert reader._pages.complete and len(reader._pages.stores) == 2
    plain = _without_stores(two_segments, tmp_path / "plain")
    assert not plain._pages.complete
    for query, filters in QUERIES:
        assert _page(reader, query, **filters) == _page(plain, query, **filters), query


def test_a_store_is_used_only_for_its_own_segment(two_segments: Path) -> None:
    folder = two_segments / page_store.STORE_DIR
    (first, _), (second, _) = page_store.segments_of((two_segments / "meta.json").read_bytes()) or []
    # The two stores swapped: same document counts, other products.
    for suffix in (".columns.npy", ".records"):
        (folder / f"{first}{suffix}").rename(folder / f"swap{suffix}")
        (folder / f"{second}{suffix}").rename(folder / f"{first}{suffix}")
        (folder / f"swap{suffix}").rename(folder / f"{second}{suffix}")
    reader = ProductIndex.open(two_segments)
    assert reader._pages.stores == [None, None]
    assert [h.product_id for h in reader.search("dress", 80).hits] == [
        h.document.product_id for h in reader.search("dress", 80).hits
    ]
    # A store with another document count (a segment's store truncated) is not used either.
    (folder / f"{first}.records").write_bytes(b"")
    assert ProductIndex.open(two_segments)._pages.stores == [None, None]


def test_a_commit_gets_stores_for_its_new_segment_and_drops_the_old_ones(two_segments: Path) -> None:
    reader = ProductIndex.open(two_segments)
    writer = ProductIndex.open(two_segments, writable=True)
    changed = replace(_documents(5, 1)[0], price_fen=1, title_zh="全新 連衣裙")
    writer.upsert(changed)
    writer.commit()
    # Before the job worker writes the new segment's store, a reader serves it from tantivy ...
    assert reader.refresh()
    assert reader.search("全新", 5).hits[0].document == changed
    writer.close_writer()
    assert writer.publish_page_stores() == 1
    (folder := two_segments / page_store.STORE_DIR).joinpath("0" * 32 + ".columns.npy").write_bytes(b"x")
    writer.publish_page_stores()  # a store of a segment not in the index is deleted
    assert not (folder / ("0" * 32 + ".columns.npy")).exists()
    # ... and a reader that reloaded before the store existed picks it up at the segment's next hit.
    hit = reader.search("全新", 5).hits[0]
    assert hit.document == changed and reader._pages.complete
    fresh = ProductIndex.open(two_segments)
    assert fresh._pages.complete and len(fresh._pages.stores) == 3
    assert [h.document for h in fresh.search("連衣裙", 100).hits if h.product_id == 5] == [changed]


def test_stored_title_folding_is_the_highlighters() -> None:
    titles = [*TITLES, "ABC", "ｶﾀｶﾅ", "ﬁne", "㈱ 株式", "two\nlines 連"]
    for title, stored in zip(titles, page_store.fold_titles(titles), strict=True):
        if stored == page_store.FOLD_ELSEWHERE:
            assert _folded(title)[1] is not None or "\n" in title
        else:
            assert _folded(title) == ((stored.decode() if stored else title.lower()), None), title


def test_an_index_in_memory_has_no_stores() -> None:
    index = ProductIndex(_documents(1, 10))
    assert index.publish_page_stores() == 0
    assert index.search("dress", 3).hits[0].document.product_id > 0
