"""The feed's catalog read from the platform (through the content and catalog services), and refreshed."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session

from tests.content_helpers import make_plan
from tests.factories import make_category, make_creator, make_product, make_shop
from zhongcao import clock
from zhongcao.catalog.models import Category, Sku
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind
from zhongcao.feed.catalog import load_catalog


def _video(db: Session, account_id: int, anchors: list[int]) -> int:
    content = content_service.publish_content(
        db, account_id, kind=ContentKind.short_video, title_zh="视频", title_en="Video", anchors=anchors
    )
    return content.id


def test_catalog_reads_content_anchors_and_products_then_refreshes(db: Session) -> None:
    shop = make_shop(db)
    first_leaf, second_leaf = make_category(db), make_category(db)
    bag = make_product(db, shop.shop, category=first_leaf, price_fen=9900)
    db.add(Sku(product_id=bag.id, code="CHEAP-OFF", attributes={}, price_fen=100, stock=1, is_active=False))
    scarf = make_product(db, shop.shop, category=second_leaf, price_fen=5000)
    db.commit()
    _, creator = make_creator(db)
    make_plan(db, bag)

    shop_video = _video(db, shop.account.id, [scarf.id, bag.id])
    creator_video = _video(db, creator.id, [bag.id])
    plain_video = _video(db, creator.id, [])
    room = content_service.publish_content(
        db,
        shop.account.id,
        kind=ContentKind.live,
        title_zh="直播",
        title_en="Live",
        scheduled_at=clock.now() + timedelta(hours=2),
        anchors=[bag.id],
    ).id

    catalog = load_catalog(db)
    assert catalog.content_ids.tolist() == [shop_video, creator_video, plain_video, room]
    assert catalog.account_ids.tolist() == [shop.account.id, creator.id, creator.id, shop.account.id]
    # A shop account's own shop; a creator's from the first anchored product; none without anchors.
    assert catalog.shop_ids.tolist() == [shop.shop.id, shop.shop.id, -1, shop.shop.id]
    # Top categories by id (the first made first), of the first anchored product.
    tops = [db.get(Category, leaf.parent_id) for leaf in (first_leaf, second_leaf)]
    assert catalog.category_names == [(top.name_zh, top.name_en) for top in tops]  # type: ignore[union-attr]
    assert catalog.category.tolist() == [1, 0, -1, 0]
    assert catalog.price_fen.tolist() == [5000, 9900, 0, 9900]  # the inactive cheaper SKU does not count
    assert catalog.is_live.tolist() == [False, False, False, True]
    assert catalog.status.tolist() == [0, 0, 0, 0]
    assert [catalog.anchors_of(code) for code in range(4)] == [[scarf.id, bag.id], [bag.id], [], [bag.id]]
    assert catalog.account_is_shop == {shop.account.id: True, creator.id: False}
    assert catalog.account_names[creator.id] == creator.name
    assert catalog.account_followers == {shop.account.id: 0, creator.id: 0}

    content_service.start_live(db, room)
    content_service.remove_content(db, plain_video)
    later_video = _video(db, shop.account.id, [bag.id])
    fresh = catalog.refreshed(db)
    assert fresh.content_ids.tolist() == [shop_video, creator_video, plain_video, room, later_video]
    assert fresh.status.tolist() == [0, 0, 3, 1, 0]
    assert fresh.live_now.tolist() == [False, False, False, True, False]
    assert fresh.anchors_of(4) == [bag.id]
    assert fresh.shop_ids[4] == shop.shop.id and fresh.category[4] == 0 and fresh.price_fen[4] == 9900
    assert np.array_equal(catalog.status, [0, 0, 0, 0])  # the old catalog is never mutated

    content_service.end_live(db, room)
    assert fresh.refreshed(db).status.tolist() == [0, 0, 3, 2, 0]
