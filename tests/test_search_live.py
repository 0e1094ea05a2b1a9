"""Live updates through the catalog service: a product created, repriced or sold out is searchable and
correct through the API within 1 second of the job worker's commit (``indexing.follow``, run every 0.5 s
by the job runner; here called as it would), without a rebuild."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from tests.factories import make_category, make_product, make_shop
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus, Sku
from zhongcao.search import indexing

DEADLINE_SECONDS = 1.0


def _within_a_second_of_the_commit(client, db, params: dict, check: Callable[[dict], bool]) -> float:  # type: ignore[no-untyped-def]
    """Commit the test's change, run the job worker's follow (its commit starts the clock), then search
    until ``check(body)`` holds; returns the seconds it took (fails past the deadline)."""
    db.commit()
    settings = client.app.state.settings
    assert indexing.follow(client.app.state.database, settings)["products"] >= 1
    began = time.monotonic()
    while True:
        body = client.get("/api/search", params=params).json()
        if check(body):
            return time.monotonic() - began
        assert time.monotonic() - began < DEADLINE_SECONDS, body
        time.sleep(0.05)


def test_created_repriced_and_sold_out_products_are_searchable_within_a_second(client, db) -> None:
    shop, category = make_shop(db), make_category(db)
    make_product(db, shop.shop, category=category)  # the index exists before the changes
    built = client.get("/api/search", params={"q": "商品"}).json()
    assert built["total"] == 1
    state = client.app.state.search
    generation = state.generation

    product = catalog_service.create_product(
        db,
        shop.shop.id,
        category_id=category.id,
        title_zh="羊绒围巾",
        title_en="Cashmere scarf",
        skus=[catalog_service.NewSku(code="S1", price_fen=29_900, stock=3)],
        status=ProductStatus.active,
    )
    ids = lambda b: [i["id"] for i in b["items"]]  # noqa: E731
    _within_a_second_of_the_commit(client, db, {"q": "yangrong"}, lambda b: ids(b) == [product.id])

    sku = db.scalar(select(Sku).where(Sku.product_id == product.id))
    catalog_service.update_sku(db, shop.shop.id, sku.id, price_fen=19_900)
    _within_a_second_of_the_commit(
        client, db, {"q": "围巾"}, lambda b: b["items"] and b["items"][0]["price_fen"] == 19_900
    )
    assert client.get("/api/search", params={"q": "围巾", "price_max_fen": 20_000}).json()["total"] == 1

    catalog_service.adjust_stock(db, shop.shop.id, sku.id, set_to=0)
    _within_a_second_of_the_commit(
        client, db, {"q": "scarf"}, lambda b: b["items"] and b["items"][0]["in_stock"] is False
    )
    assert client.get("/api/search", params={"q": "scarf", "in_stock": "true"}).json()["fallback"] is not None

    catalog_service.update_product(db, shop.shop.id, product.id, status=ProductStatus.delisted)
    _within_a_second_of_the_commit(client, db, {"q": "羊绒围巾"}, lambda b: product.id not in ids(b))
    assert state.generation == generation  # all of it through the change feed, no rebuild


def test_checkout_stock_moves_reach_the_index(client, db) -> None:
    from tests.commerce_helpers import created_order

    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=2)
    assert client.get("/api/search", params={"q": "商品"}).json()["items"][0]["in_stock"] is True
    created_order(db, shop=shop, product=product, quantity=2)  # checkout reserves the last two units
    _within_a_second_of_the_commit(client, db, {"q": "商品"}, lambda b: b["items"][0]["in_stock"] is False)
