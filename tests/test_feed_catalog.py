"""The feed's catalog read from the platform (through the content and catalog services), and refreshed."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session

from tests.content_helpers import make_plan
from tests.factories import make_category, make_creator, make_product, make_shop
from zhongcao import clock, flows
from zhongcao.catalog.models import Category, Sku
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind
from zhongcao.feed.catalog import load_catalog


def _video(db: Session, account_id: int, anchors: list[int]) -> int:
    content = flows.publish_content(
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
    room = flows.publish_content(
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


def test_a_refresh_with_nothing_changed_returns_the_same_catalog(db: Session) -> None:
    """The server refreshes every few seconds beside its requests: when nothing changed it must keep
    the catalogue (and everything derived from it) instead of rebuilding it."""
    shop = make_shop(db)
    bag = make_product(db, shop.shop, category=make_category(db), price_fen=9900)
    _video(db, shop.account.id, [bag.id])
    catalog = load_catalog(db)
    assert catalog.scores_version is not None and catalog.campaigns_version is not None
    assert catalog.refreshed(db) is catalog
    assert catalog.refreshed(db).refreshed(db) is catalog


def test_a_refresh_rereads_scores_and_campaigns_when_their_versions_move(db: Session) -> None:
    from tests.commerce_helpers import make_campaign
    from zhongcao.campaigns import service as campaigns_service
    from zhongcao.experience.models import ShopScore

    shop = make_shop(db)
    bag = make_product(db, shop.shop, category=make_category(db), price_fen=9900)
    _video(db, shop.account.id, [bag.id])
    catalog = load_catalog(db)
    assert catalog.shop_score_centi[shop.shop.id] is None and bag.id not in catalog.campaign_products

    db.add(ShopScore(shop_id=shop.shop.id, computed_at=clock.now(), score_centi=470, order_count=30))
    db.commit()
    scored = catalog.refreshed(db)
    assert scored is not catalog and scored.shop_score_centi[shop.shop.id] == 470
    assert np.isclose(scored.shop_score[0], 4.7)  # the derived per-item array follows
    assert scored.refreshed(db) is scored

    campaign = make_campaign(db, [bag])
    in_campaign = scored.refreshed(db)
    assert bag.id in in_campaign.campaign_products and in_campaign.in_campaign.tolist() == [True]
    campaigns_service.withdraw_registration(db, shop.shop.id, campaign.id, bag.id)
    withdrawn = in_campaign.refreshed(db)
    assert bag.id not in withdrawn.campaign_products and withdrawn.in_campaign.tolist() == [False]
    # Registered in another campaign, read at a time that campaign is over: its products leave with it.
    make_campaign(db, [bag], ends_at=clock.now() + timedelta(days=2))
    assert bag.id in withdrawn.refreshed(db).campaign_products
    assert bag.id not in withdrawn.refreshed(db, now=clock.now() + timedelta(days=3)).campaign_products


def test_versions_move_with_what_they_stand_for(db: Session) -> None:
    from sqlalchemy import update

    from tests.commerce_helpers import make_campaign
    from zhongcao.campaigns import service as campaigns_service
    from zhongcao.campaigns.models import CampaignProduct
    from zhongcao.experience import scores as experience_scores
    from zhongcao.experience.models import ShopScore

    shop = make_shop(db)
    bag = make_product(db, shop.shop, category=make_category(db), price_fen=9900)
    scores = experience_scores.scores_version(db)
    db.add(ShopScore(shop_id=shop.shop.id, computed_at=clock.now(), score_centi=420, order_count=30))
    db.commit()
    assert experience_scores.scores_version(db) != scores

    before = campaigns_service.running_campaigns_version(db)
    campaign = make_campaign(db, [bag], starts_at=clock.now() + timedelta(hours=1))
    registered = campaigns_service.running_campaigns_version(db)
    assert registered != before
    started = campaigns_service.running_campaigns_version(db, clock.now() + timedelta(hours=2))
    assert started[0] == (campaign.id,) and registered[0] == ()
    assert campaigns_service.running_campaigns_version(db) == registered  # nothing moved: equal
    campaigns_service.withdraw_registration(db, shop.shop.id, campaign.id, bag.id)
    withdrawn = campaigns_service.running_campaigns_version(db)
    assert withdrawn != registered
    # Registered again (what register_product does to a withdrawn registration).
    db.execute(update(CampaignProduct).values(withdrawn_at=None))
    db.commit()
    assert campaigns_service.running_campaigns_version(db) != withdrawn


def test_per_item_shop_scores_match_a_plain_lookup() -> None:
    from zhongcao.feed.catalog import Catalog

    rng = np.random.default_rng(3)
    shop_ids = rng.integers(-1, 40, size=500)
    scores = {int(s): (int(rng.integers(300, 500)) if s % 3 else None) for s in range(0, 40, 2)}
    n = len(shop_ids)
    catalog = Catalog(
        content_ids=np.arange(n), account_ids=np.zeros(n, dtype=np.int64), shop_ids=shop_ids,
        category=np.zeros(n, dtype=np.int64), price_fen=np.zeros(n, dtype=np.int64),
        created_s=np.zeros(n, dtype=np.int64), is_live=np.zeros(n, dtype=bool),
        status=np.zeros(n, dtype=np.int8), anchor_ptr=np.zeros(n + 1, dtype=np.int64),
        anchor_products=np.zeros(0, dtype=np.int64), account_followers={}, account_names={},
        account_is_shop={}, category_names=[], shop_score_centi=scores,
    )  # fmt: skip
    expected = [
        scores[int(s)] / 100.0 if scores.get(int(s)) is not None else np.nan for s in shop_ids.tolist()
    ]
    np.testing.assert_allclose(catalog.shop_score, np.asarray(expected, dtype=np.float32))
