"""Stock adjustments are one conditional UPDATE: stock never goes negative, even under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.factories import make_product, make_shop
from zhongcao.catalog import service as catalog
from zhongcao.catalog import stock
from zhongcao.catalog.models import Sku
from zhongcao.errors import Conflict, InvalidInput, NotFound


def _stock_of(db, sku_id: int) -> int:
    db.expire_all()
    value = db.get(Sku, sku_id).stock
    db.rollback()
    return value


def test_adjust_stock_service(db):
    shop = make_shop(db).shop
    other = make_shop(db).shop
    sku_id = make_product(db, shop, stock=5).skus[0].id
    shop_id, other_id = shop.id, other.id
    assert catalog.adjust_stock(db, shop_id, sku_id, delta=-5).stock == 0
    with pytest.raises(Conflict) as exc:
        catalog.adjust_stock(db, shop_id, sku_id, delta=-1)
    assert exc.value.code == "stock_would_go_negative" and exc.value.details == {
        "field": "delta",
        "stock": 0,
        "delta": -1,
    }
    assert catalog.adjust_stock(db, shop_id, sku_id, set_to=catalog.MAX_STOCK).stock == catalog.MAX_STOCK
    with pytest.raises(InvalidInput) as exc:
        catalog.adjust_stock(db, shop_id, sku_id, delta=1)
    assert exc.value.code == "stock_too_large"
    with pytest.raises(NotFound):
        catalog.adjust_stock(db, other_id, sku_id, delta=1)
    for kwargs in ({}, {"delta": 1, "set_to": 1}, {"delta": 0}, {"set_to": -1}, {"delta": True}):
        with pytest.raises(InvalidInput):
            catalog.adjust_stock(db, shop_id, sku_id, **kwargs)
    assert _stock_of(db, sku_id) == catalog.MAX_STOCK


@pytest.mark.pg_only
def test_concurrent_decrements_never_oversell(database, db):
    shop = make_shop(db).shop
    sku_id = make_product(db, shop, stock=10).skus[0].id
    shop_id = shop.id
    db.commit()
    workers = 20
    barrier = Barrier(workers)

    def take_one(_: int) -> str:
        session = database.session()
        try:
            barrier.wait(timeout=10)
            catalog.adjust_stock(session, shop_id, sku_id, delta=-1)
            return "ok"
        except Conflict as exc:
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(take_one, range(workers)))
    assert outcomes.count("ok") == 10
    assert outcomes.count("stock_would_go_negative") == 10
    assert _stock_of(db, sku_id) == 0


@pytest.mark.pg_only
def test_merchant_decrements_race_checkout_reservations(database, db):
    """A merchant taking stock away while shoppers reserve it: the two together never oversell."""
    shop = make_shop(db).shop
    sku_id = make_product(db, shop, stock=10).skus[0].id
    shop_id = shop.id
    db.commit()
    workers = 16
    barrier = Barrier(workers)

    def act(i: int) -> int:
        session = database.session()
        try:
            barrier.wait(timeout=10)
            if i % 2:
                catalog.adjust_stock(session, shop_id, sku_id, delta=-1)
                return 1
            taken = stock.try_reserve(session, sku_id, 1)
            session.commit()
            return 1 if taken else 0
        except Conflict:
            return 0
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        taken = sum(pool.map(act, range(workers)))
    assert taken == 10
    assert _stock_of(db, sku_id) == 0
