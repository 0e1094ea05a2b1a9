"""The search service's serving: the job worker builds and follows the published index (search/indexing);
an API worker opens it read-only, holds no thread, picks up commits and new generations on the request
path; the first search of a fresh install builds the index under the writer's lock; new shops and
content follow the change feed; suspended shops and removed content leave the page before the rebuild."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.commerce_helpers import make_content
from tests.factories import make_category, make_creator, make_product, make_shop
from zhongcao.content import service as content_service
from zhongcao.search import indexing, service
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import ShopStatus


def _ids(page: service.ProductSearchPage) -> list[int]:
    return [hit.document.product_id for hit in page.hits]


def _search(db, state: service.SearchState, q: str = "商品") -> list[int]:  # type: ignore[no-untyped-def]
    state._checked_at = 0.0  # look for a commit now, not after CHECK_SECONDS
    return _ids(service.search_products(db, state, q, service.ProductFilters()))


def test_a_worker_holds_no_thread_and_follows_commits_and_new_generations(database, settings, db) -> None:
    shop, category = make_shop(db), make_category(db)
    old = make_product(db, shop.shop, category=category)
    db.commit()
    threads = set(threading.enumerate())
    state = service.SearchState(database, settings)
    assert _search(db, state) == [old.id]  # the first search built the index (no job has run yet)
    assert set(threading.enumerate()) == threads
    generation = state.generation
    assert generation is not None and indexing.current_generation(indexing.index_root(settings)) == generation

    new = make_product(db, shop.shop, category=category)
    db.commit()
    assert _search(db, state) == [old.id]  # the worker itself never reads the catalogue
    assert indexing.follow(database, settings)["products"] == 1
    assert sorted(_search(db, state)) == sorted([old.id, new.id]) and state.generation == generation
    assert indexing.follow(database, settings) == {"products": 0, "shops": 0, "content": 0}

    assert indexing.build(database, settings)["products"] == 2
    assert sorted(_search(db, state)) == sorted([old.id, new.id]) and state.generation != generation
    assert set(threading.enumerate()) == threads


def test_first_searches_of_many_workers_build_once(database, settings, db) -> None:
    product = make_product(db, make_shop(db).shop)
    db.commit()
    states = [service.SearchState(database, settings) for _ in range(3)]

    def first(state: service.SearchState) -> list[int]:
        session = database.session(read_only=True)
        try:
            return _search(session, state)
        finally:
            session.close()

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(first, states)) == [[product.id]] * 3
    root = indexing.index_root(settings)
    assert len([p for p in root.iterdir() if p.is_dir()]) == 1


def test_new_shops_and_content_follow_the_change_feed(database, settings, db) -> None:
    make_product(db, make_shop(db).shop)
    db.commit()
    state = service.SearchState(database, settings)
    _search(db, state)
    generation = state.generation

    shop = make_shop(db, "山野茶舍")
    _user, creator = make_creator(db)
    video = make_content(db, creator, [])
    db.commit()
    assert indexing.follow(database, settings) == {"products": 0, "shops": 1, "content": 1}
    state._checked_at = 0.0
    hits, total, _fallback, _cursor = service.search_simple(db, state, "shop", "茶舍")
    assert [h.id for h in hits] == [shop.shop.id] and total == 1
    hits, _total, _fallback, _cursor = service.search_simple(db, state, "content", "种草视频")
    assert [h.id for h in hits] == [video.id]
    assert state.generation == generation  # through the change feed, no rebuild

    # Suspensions and removals have no change time to follow; the page leaves them out at once.
    shops_service.set_shop_status(db, shop.shop.id, ShopStatus.suspended)
    content_service.remove_content(db, video.id)
    db.commit()
    assert service.search_simple(db, state, "shop", "茶舍")[0] == []
    assert service.search_simple(db, state, "content", "种草视频")[0] == []
