"""The feed's product briefs follow the catalogue's change feed (``feed/briefs.py``)."""

from __future__ import annotations

from sqlalchemy import select

from tests.feed_helpers import tiny_world
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import Product, Sku
from zhongcao.feed.briefs import ProductBriefs


def test_briefs_load_once_then_follow_price_changes(database, tmp_path):
    tiny_world(database, tmp_path, days=1)
    with database.session() as db:
        product = db.scalars(select(Product).order_by(Product.id).limit(1)).one()
        skus = db.scalars(select(Sku).where(Sku.product_id == product.id, Sku.is_active.is_(True))).all()
        product_id, shop_id = product.id, product.shop_id
        ids = db.scalars(select(Product.id).order_by(Product.id).limit(50)).all()
    briefs = ProductBriefs()
    with database.session(read_only=True) as db:
        assert briefs.refresh(db, ids) == len(ids)
        before = briefs.get(db, [product_id])[product_id]
        assert before.price_fen == min(s.price_fen for s in skus)
        assert briefs.refresh(db, ids) == 0  # nothing changed: nothing re-read
    cheaper = before.price_fen - 1
    with database.session() as db:
        catalog_service.update_sku(db, shop_id, skus[0].id, price_fen=cheaper)
        db.commit()
    with database.session(read_only=True) as db:
        assert briefs.refresh(db, ids) >= 1
        assert briefs.get(db, [product_id])[product_id].price_fen == cheaper
        # A product the store was never asked for is read from the database; unknown ids are absent.
        other = ids[-1] + 1
        got = briefs.get(db, [other, 10**9])
        assert 10**9 not in got
