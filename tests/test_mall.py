"""GET /api/mall: buy again, campaign zones, category entries, recommended, new from followed shops."""

from __future__ import annotations

from tests.commerce_helpers import completed_order, make_campaign
from tests.factories import auth, make_product, make_shop
from zhongcao.content import service as content_service


def test_anonymous_mall_has_campaigns_categories_and_recommended(client, db) -> None:
    shop = make_shop(db)
    products = [make_product(db, shop.shop) for _ in range(3)]
    campaign = make_campaign(db, products[:2], subsidy_per_item_fen=700)
    body = client.get("/api/mall").json()
    assert body["buy_again"] == [] and body["new_from_followed"] == []
    zone = body["campaigns"][0]
    assert zone["campaign_id"] == campaign.id and zone["subsidy_per_item_fen"] == 700
    assert {p["id"] for p in zone["products"]} == {products[0].id, products[1].id}
    assert sum(c["product_count"] for c in body["categories"]) == 3
    assert body["recommended_source"] == "popular" and len(body["recommended"]) == 3


def test_shopper_sees_buy_again_and_new_from_followed_shops(client, db) -> None:
    bundle = completed_order(db)
    followed = make_shop(db)
    content_service.follow_account(db, bundle.buyer.id, followed.account.id)
    fresh = make_product(db, followed.shop)
    body = client.get("/api/mall", headers=auth(db, bundle.buyer)).json()
    assert [p["id"] for p in body["buy_again"]] == [bundle.product.id]
    assert [p["id"] for p in body["new_from_followed"]] == [fresh.id]
    # No feed model has been trained here: recommendations fall back to best sellers.
    assert body["recommended_source"] == "popular"


def test_recommended_comes_from_the_feed_when_it_has_a_model(client, db) -> None:
    from types import SimpleNamespace

    from tests.commerce_helpers import make_content
    from tests.factories import make_user

    shop = make_shop(db)
    best_seller, carded, anchored, delisted = (make_product(db, shop.shop) for _ in range(4))
    video = make_content(db, shop.account, [anchored])
    delisted.status = "delisted"
    db.commit()
    shopper = make_user(db)

    class FeedStub:  # what the trained feed would show this shopper
        def page(self, _db, user_id, limit=10, cursor=None):
            assert user_id == shopper.id
            items = [
                SimpleNamespace(product_id=carded.id, content_id=None),
                SimpleNamespace(product_id=None, content_id=video.id),
                SimpleNamespace(product_id=delisted.id, content_id=None),
            ]
            return SimpleNamespace(items=items)

    client.app.state.feed_service = FeedStub()
    body = client.get("/api/mall", headers=auth(db, shopper)).json()
    assert body["recommended_source"] == "feed"
    ids = [p["id"] for p in body["recommended"]]
    assert ids[:2] == [carded.id, anchored.id]  # the feed's order, not-for-sale products left out
    assert delisted.id not in ids and best_seller.id in ids  # topped up with best sellers
    anonymous = client.get("/api/mall").json()
    assert anonymous["recommended_source"] == "popular"
