"""The search service's serving: full rebuilds and compactions run on a background thread and are swapped
in atomically (a search during a rebuild answers from the old index, never waits for it); new shops and
content follow the change feed; suspended shops and removed content leave the page before the rebuild."""

from __future__ import annotations

import threading

from tests.commerce_helpers import make_content
from tests.factories import make_category, make_creator, make_product, make_shop
from zhongcao.content import service as content_service
from zhongcao.search import service
from zhongcao.search.index import ProductDocument, ProductIndex
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import ShopStatus

BLOCK_LIMIT_SECONDS = 30.0  # a safety net only: the test releases the blocked build itself


def _ids(page: service.ProductSearchPage) -> list[int]:
    return [hit.document.product_id for hit in page.hits]


def test_a_search_during_a_rebuild_answers_from_the_old_index(database, db) -> None:
    shop, category = make_shop(db), make_category(db)
    old = make_product(db, shop.shop, category=category)
    state = service.SearchState(database)
    assert _ids(service.search_products(db, state, "商品", service.ProductFilters())) == [old.id]
    first_index = state.products

    release, started = threading.Event(), threading.Event()
    build = state._build

    def slow_build(session):  # type: ignore[no-untyped-def]
        started.set()
        assert release.wait(BLOCK_LIMIT_SECONDS)
        return build(session)

    state._build = slow_build  # type: ignore[method-assign]
    state.full_refresh_seconds = 0.0  # every search finds the index due for a rebuild
    try:
        page = service.search_products(db, state, "商品", service.ProductFilters())
        assert started.wait(BLOCK_LIMIT_SECONDS)
        # The rebuild is blocked, yet searches answer, from the old index, and start no second build.
        page = service.search_products(db, state, "商品", service.ProductFilters())
        assert _ids(page) == [old.id] and state.rebuilding() and state.products is first_index
        worker = state._worker
        # A product written during the build reaches the old index through the change feed...
        new = make_product(db, shop.shop, category=category)
        state._polled_at = 0.0
        page = service.search_products(db, state, "商品", service.ProductFilters())
        assert set(_ids(page)) == {old.id, new.id} and state._worker is worker
    finally:
        release.set()
        state.wait_for_background(BLOCK_LIMIT_SECONDS)
    # ... and the new index, swapped in whole, is caught up with it too.
    assert not state.rebuilding() and state.products is not first_index
    state.full_refresh_seconds = service.FULL_REFRESH_SECONDS
    assert set(_ids(service.search_products(db, state, "商品", service.ProductFilters()))) == {old.id, new.id}


def test_compaction_runs_in_the_background_and_keeps_every_change(database, db) -> None:
    shop, category = make_shop(db), make_category(db)
    products = [make_product(db, shop.shop, category=category)]
    state = service.SearchState(database)
    service.search_products(db, state, "商品", service.ProductFilters())
    assert state.products is not None and not state.products.auto_compact
    state.products.compact_after = 1
    products += [make_product(db, shop.shop, category=category) for _ in range(3)]
    state._polled_at = 0.0
    service.search_products(db, state, "商品", service.ProductFilters())  # polls, then starts compacting
    state.wait_for_background(BLOCK_LIMIT_SECONDS)
    assert not state.products.needs_compaction()
    state._polled_at = 0.0
    page = service.search_products(db, state, "商品", service.ProductFilters())
    assert sorted(_ids(page)) == sorted(p.id for p in products)


def test_new_shops_and_content_follow_the_change_feed(database, db) -> None:
    make_product(db, make_shop(db).shop)
    state = service.SearchState(database)
    service.search_products(db, state, "商品", service.ProductFilters())
    built_at = state._built_at

    shop = make_shop(db, "山野茶舍")
    _user, creator = make_creator(db)
    video = make_content(db, creator, [])
    state._polled_at = 0.0
    hits, total, _fallback, _cursor = service.search_simple(db, state, "shop", "茶舍")
    assert [h.id for h in hits] == [shop.shop.id] and total == 1
    hits, _total, _fallback, _cursor = service.search_simple(db, state, "content", "种草视频")
    assert [h.id for h in hits] == [video.id]
    assert state._built_at == built_at  # through the change feed, no rebuild

    # Suspensions and removals have no change time to poll; the page leaves them out at once.
    shops_service.set_shop_status(db, shop.shop.id, ShopStatus.suspended)
    content_service.remove_content(db, video.id)
    assert service.search_simple(db, state, "shop", "茶舍")[0] == []
    assert service.search_simple(db, state, "content", "种草视频")[0] == []


def test_a_compacted_copy_answers_like_the_original() -> None:
    docs = [
        ProductDocument(
            i, f"红色连衣裙 {i}", f"Red dress {i}", "花语", "女装", f"s{i % 3}", 1000 + i, i % 4, i
        )
        for i in range(1, 40)
    ]
    index = ProductIndex(docs, auto_compact=False, compact_after=5)
    for doc in docs[:10]:
        index.upsert(
            ProductDocument(doc.product_id, "蓝色长裙", "Blue dress", "花语", "女装", "s9", 5, 1, 99)
        )
    index.remove(20)
    assert index.needs_compaction()
    copy = ProductIndex.from_snapshot(index.snapshot())
    assert not copy.needs_compaction() and len(copy) == len(index) == 38
    for query, sort in (
        ("连衣裙", "relevance"),
        ("blue", "relevance"),
        ("", "price_asc"),
        ("dress", "sales"),
    ):
        a, b = index.search(query, 50, sort=sort), copy.search(query, 50, sort=sort)
        assert (a.ids, a.total, a.facets) == (b.ids, b.total, b.facets)
