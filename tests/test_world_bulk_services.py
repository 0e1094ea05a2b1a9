"""The bulk forms that the demo world and the importers use: same rules as the one-row forms, all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_category, make_creator, make_product, make_shop, make_user
from zhongcao import clock, flows
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import AffiliatePlan, PlanKind
from zhongcao.campaigns import service as campaigns_service
from zhongcao.campaigns.models import CampaignProduct
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.content import bulk as content_bulk
from zhongcao.content import service as content_service
from zhongcao.content.models import Account, AccountKind, Content, ContentAnchor, ContentKind, Follow
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.users import security
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_users_bulk_share_one_hash_and_refuse_taken_emails(db: Session) -> None:
    hashed = security.hash_password("bulk password 1")
    ids = users_service.create_users_bulk(
        db,
        [
            users_service.NewUser("A@Example.com", "A"),
            users_service.NewUser("b@example.com", "B", Role.creator),
        ],
        hashed,
    )
    db.commit()
    assert len(ids) == 2
    assert users_service.authenticate(db, "a@example.com", "bulk password 1").id == ids[0]
    assert users_service.get_user(db, ids[1]).role is Role.creator
    before = _count(db, User)
    with pytest.raises(Conflict) as caught:
        users_service.create_users_bulk(
            db,
            [users_service.NewUser("c@example.com", "C"), users_service.NewUser("a@example.com", "A2")],
            hashed,
        )
    assert caught.value.code == "email_taken"
    with pytest.raises(Conflict):
        users_service.create_users_bulk(
            db,
            [users_service.NewUser("d@example.com", "D"), users_service.NewUser("D@example.com", "D2")],
            hashed,
        )
    db.rollback()
    assert _count(db, User) == before


def test_products_bulk_checks_every_row_before_writing(db: Session) -> None:
    bundle = make_shop(db)
    leaf = make_category(db)
    good = catalog_service.NewProduct(
        shop_id=bundle.shop.id,
        category_id=leaf.id,
        title_zh="好物",
        title_en="Good thing",
        skus=[catalog_service.NewSku("A", 990, 5, {"颜色": "黑色"}), catalog_service.NewSku("B", 1990, 0)],
    )
    ids = catalog_service.create_products_bulk(db, [good, good])
    db.commit()
    assert len(ids) == 2
    product = catalog_service.get_product(db, ids[1])
    assert product.status is ProductStatus.active and [s.code for s in product.skus] == ["A", "B"]
    assert product.skus[0].attributes == {"颜色": "黑色"}
    before = (_count(db, Product), _count(db, Sku))
    bad_price = catalog_service.NewProduct(
        shop_id=bundle.shop.id,
        category_id=leaf.id,
        title_zh="坏",
        title_en="Bad",
        skus=[catalog_service.NewSku("A", 0)],
    )
    with pytest.raises(InvalidInput) as caught:
        catalog_service.create_products_bulk(db, [good, bad_price])
    assert caught.value.details["field"] == "products[1].skus[0].price_fen"
    top_level = catalog_service.NewProduct(
        shop_id=bundle.shop.id, category_id=leaf.parent_id, title_zh="坏", title_en="Bad", skus=good.skus
    )
    with pytest.raises(InvalidInput) as caught:
        catalog_service.create_products_bulk(db, [top_level])
    assert caught.value.code == "category_not_leaf"
    no_shop = catalog_service.NewProduct(
        shop_id=bundle.shop.id + 999, category_id=leaf.id, title_zh="坏", title_en="Bad", skus=good.skus
    )
    with pytest.raises(NotFound):
        catalog_service.create_products_bulk(db, [no_shop])
    db.rollback()
    assert (_count(db, Product), _count(db, Sku)) == before
    assert catalog_service.product_placements(db, ids) == {
        pid: (bundle.shop.id, leaf.id, True) for pid in ids
    }


def test_accounts_and_follows_bulk(db: Session) -> None:
    bundle = make_shop(db)
    creator = make_user(db, Role.creator)
    shopper = make_user(db)
    ids = content_bulk.create_accounts_bulk(
        db,
        [
            content_bulk.NewAccount(
                AccountKind.creator, "bulk_creator", "Bulk", user_id=creator.id, is_top_kol=True
            ),
            content_bulk.NewAccount(AccountKind.shop, "bulk_shop", "Shop", shop_id=bundle.shop.id),
        ],
    )
    db.commit()
    assert content_service.get_account(db, ids[0]).is_top_kol
    with pytest.raises(Conflict):  # the creator has an account already
        content_bulk.create_accounts_bulk(
            db, [content_bulk.NewAccount(AccountKind.creator, "other_handle", "X", user_id=creator.id)]
        )
    with pytest.raises(Forbidden):  # shoppers have no creator account
        content_bulk.create_accounts_bulk(
            db, [content_bulk.NewAccount(AccountKind.creator, "shopper_acc", "X", user_id=shopper.id)]
        )
    with pytest.raises(InvalidInput):  # a shop account is never a Top-KOL
        content_bulk.create_accounts_bulk(
            db,
            [
                content_bulk.NewAccount(
                    AccountKind.shop, "kol_shop", "X", shop_id=bundle.shop.id, is_top_kol=True
                )
            ],
        )
    with pytest.raises(Conflict):
        content_bulk.create_accounts_bulk(
            db, [content_bulk.NewAccount(AccountKind.shop, "bulk_shop", "X", shop_id=bundle.shop.id)]
        )
    db.rollback()
    content_service.follow_account(db, shopper.id, ids[0])
    made = content_bulk.follow_bulk(
        db, [(shopper.id, ids[0]), (shopper.id, ids[1]), (creator.id, ids[0]), (creator.id, ids[0])]
    )
    db.commit()
    assert made == 2  # the existing follow and the repeat are skipped
    db.expire_all()
    assert content_service.get_account(db, ids[0]).follower_count == 2
    assert content_service.get_account(db, ids[1]).follower_count == 1
    assert _count(db, Follow) == 3


def test_content_bulk_follows_the_anchor_rules(db: Session) -> None:
    bundle = make_shop(db)
    other = make_shop(db)
    mine = make_product(db, bundle.shop)
    planned = make_product(db, bundle.shop)
    theirs = make_product(db, other.shop)
    _, creator = make_creator(db)
    affiliate_service.create_plan(
        db, bundle.shop.id, product_id=planned.id, kind=PlanKind.open, commission_bps=1000
    )
    later = clock.now() + timedelta(days=1)
    ids = flows.publish_content_bulk(
        db,
        [
            content_bulk.NewContent(
                bundle.account.id,
                ContentKind.short_video,
                "视频",
                "Video",
                topic="outfit",
                duration_seconds=30,
                anchors=[mine.id],
            ),
            content_bulk.NewContent(
                creator.id, ContentKind.live, "直播", "Live", scheduled_at=later, anchors=[planned.id]
            ),
        ],
    )
    db.commit()
    assert [content_service.get_content(db, i).status.value for i in ids] == ["published", "scheduled"]
    assert content_service.anchored_product_ids(db, ids[1]) == [planned.id]
    before = (_count(db, Content), _count(db, ContentAnchor))
    cases = [
        (
            content_bulk.NewContent(
                bundle.account.id, ContentKind.short_video, "x", "x", anchors=[theirs.id]
            ),
            "product_not_found",
        ),
        (
            content_bulk.NewContent(creator.id, ContentKind.short_video, "x", "x", anchors=[mine.id]),
            "product_not_promotable",
        ),
        (
            content_bulk.NewContent(
                creator.id, ContentKind.short_video, "x", "x", anchors=[planned.id, planned.id]
            ),
            "duplicate_anchor",
        ),
        (
            content_bulk.NewContent(creator.id, ContentKind.live, "x", "x", duration_seconds=5),
            "not_for_live",
        ),
    ]
    for item, code in cases:
        with pytest.raises(InvalidInput) as caught:
            flows.publish_content_bulk(db, [item])
        assert caught.value.code == code
        db.rollback()
    assert (_count(db, Content), _count(db, ContentAnchor)) == before


def test_promotable_pairs_agrees_with_the_one_account_rule(db: Session) -> None:
    bundle = make_shop(db)
    products = [make_product(db, bundle.shop) for _ in range(4)]
    _, a = make_creator(db)
    _, b = make_creator(db)
    affiliate_service.create_plan(
        db, bundle.shop.id, product_id=products[0].id, kind=PlanKind.open, commission_bps=800
    )
    affiliate_service.create_plan(
        db,
        bundle.shop.id,
        product_id=products[1].id,
        kind=PlanKind.exclusive,
        commission_bps=900,
        creator_account_ids=[a.id],
    )
    affiliate_service.create_plan(
        db, bundle.shop.id, product_id=products[2].id, kind=PlanKind.open, commission_bps=800
    )
    affiliate_service.create_plan(
        db,
        bundle.shop.id,
        product_id=products[2].id,
        kind=PlanKind.targeted,
        commission_bps=1500,
        creator_account_ids=[b.id],
    )
    pairs = [(acc.id, p.id) for acc in (a, b, bundle.account) for p in products]
    expected = {
        (acc.id, pid)
        for acc in (a, b, bundle.account)
        for pid in affiliate_service.promotable_product_ids(db, acc.id, [p.id for p in products])
    }
    assert affiliate_service.promotable_pairs(db, pairs) == expected
    assert (a.id, products[1].id) in expected and (b.id, products[1].id) not in expected


def test_open_plans_bulk_and_registrations_bulk(db: Session) -> None:
    bundle = make_shop(db)
    other = make_shop(db)
    leaf = make_category(db)
    elsewhere = make_category(db)
    p1 = make_product(db, bundle.shop, category=leaf)
    p2 = make_product(db, bundle.shop, category=leaf)
    p3 = make_product(db, bundle.shop, category=elsewhere)
    ids = affiliate_service.create_open_plans_bulk(
        db, [(bundle.shop.id, p1.id, 1000), (bundle.shop.id, p2.id, 1500)]
    )
    db.commit()
    assert [affiliate_service.get_plan(db, i).kind for i in ids] == [PlanKind.open, PlanKind.open]
    before = _count(db, AffiliatePlan)
    for rows, error in [
        ([(bundle.shop.id, p3.id, 1000), (bundle.shop.id, p1.id, 1000)], Conflict),  # p1 has one
        ([(other.shop.id, p3.id, 1000)], InvalidInput),  # not the shop's product
        ([(bundle.shop.id, p3.id, 0)], InvalidInput),  # rate out of range
    ]:
        with pytest.raises(error):
            affiliate_service.create_open_plans_bulk(db, rows)
        db.rollback()
    assert _count(db, AffiliatePlan) == before

    now = clock.now()
    campaign = campaigns_service.create_campaign(
        db,
        slug="bulk-618",
        name_zh="618",
        name_en="618",
        starts_at=now,
        ends_at=now + timedelta(days=3),
        category_ids=[leaf.parent_id],
    )
    reg = campaigns_service.register_products_bulk(
        db, campaign.id, [(bundle.shop.id, p1.id), (bundle.shop.id, p2.id)]
    )
    db.commit()
    assert len(reg) == 2
    for entries, code in [
        ([(bundle.shop.id, p3.id)], "category_not_eligible"),
        ([(bundle.shop.id, p1.id)], "already_registered"),
        ([(other.shop.id, p2.id)], "product_not_found"),
    ]:
        with pytest.raises((InvalidInput, Conflict, NotFound)) as caught:
            campaigns_service.register_products_bulk(db, campaign.id, entries)
        assert caught.value.code == code
        db.rollback()
    assert _count(db, CampaignProduct) == 2
    assert _count(db, Account) == 2
