"""The public mall: categories, brands, product listings and product pages. No sign-in needed."""

from __future__ import annotations

from tests.api_helpers import assert_error, walk
from tests.factories import make_category, make_product, make_shop
from zhongcao.catalog import service as catalog
from zhongcao.catalog.models import ProductStatus
from zhongcao.shops import service as shops
from zhongcao.shops.models import ShopStatus


def _tree(db):
    clothes = catalog.create_category(db, slug="clothes", name_zh="服装", name_en="Clothes")
    tops = catalog.create_category(db, slug="tops", name_zh="上衣", name_en="Tops", parent_id=clothes.id)
    dresses = catalog.create_category(
        db, slug="dresses", name_zh="连衣裙", name_en="Dresses", parent_id=clothes.id, platform_fee_bps=300
    )
    beauty = catalog.create_category(db, slug="beauty", name_zh="美妆", name_en="Beauty")
    return clothes, tops, dresses, beauty


def test_category_tree(client, db):
    clothes, tops, dresses, beauty = _tree(db)
    r = client.get("/api/categories")
    assert r.status_code == 200, r.text
    assert r.json() == [
        {
            "id": clothes.id,
            "parent_id": None,
            "slug": "clothes",
            "name_zh": "服装",
            "name_en": "Clothes",
            "platform_fee_bps": None,
            "children": [
                {
                    "id": tops.id,
                    "parent_id": clothes.id,
                    "slug": "tops",
                    "name_zh": "上衣",
                    "name_en": "Tops",
                    "platform_fee_bps": None,
                },
                {
                    "id": dresses.id,
                    "parent_id": clothes.id,
                    "slug": "dresses",
                    "name_zh": "连衣裙",
                    "name_en": "Dresses",
                    "platform_fee_bps": 300,
                },
            ],
        },
        {
            "id": beauty.id,
            "parent_id": None,
            "slug": "beauty",
            "name_zh": "美妆",
            "name_en": "Beauty",
            "platform_fee_bps": None,
            "children": [],
        },
    ]


def test_brands_cursor_walk_returns_each_once(client, db):
    ids = [catalog.create_brand(db, name_zh=f"品牌{i}", name_en=f"Brand {i}").id for i in range(7)]
    assert walk(client, "/api/brands", limit=3) == sorted(ids, reverse=True)
    first = client.get("/api/brands", params={"limit": 1}).json()
    assert first["items"] == [{"id": ids[-1], "name_zh": "品牌6", "name_en": "Brand 6"}]


def test_product_list_shows_only_active_products_of_active_shops(client, db):
    open_shop = make_shop(db).shop
    closed_shop = make_shop(db).shop
    leaf = make_category(db)
    on_sale = make_product(db, open_shop, category=leaf, price_fen=1990)
    draft = make_product(db, open_shop, category=leaf)
    delisted = make_product(db, open_shop, category=leaf)
    hidden_by_shop = make_product(db, closed_shop, category=leaf)
    draft.status = ProductStatus.draft
    delisted.status = ProductStatus.delisted
    db.commit()
    shops.set_shop_status(db, closed_shop.id, ShopStatus.suspended)

    r = client.get("/api/products")
    assert r.status_code == 200, r.text
    page = r.json()
    assert [p["id"] for p in page["items"]] == [on_sale.id]
    assert page["next_cursor"] is None
    item = page["items"][0]
    assert item["shop_id"] == open_shop.id and item["category_id"] == leaf.id
    assert item["price_min_fen"] == item["price_max_fen"] == 1990
    assert item["in_stock"] is True
    for product in (draft, delisted, hidden_by_shop):
        assert_error(client.get(f"/api/products/{product.id}"), 404, "product_not_found")


def test_product_list_filters(client, db):
    clothes, tops, dresses, beauty = _tree(db)
    shop_a = make_shop(db).shop
    shop_b = make_shop(db).shop
    brand = catalog.create_brand(db, name_zh="某牌", name_en="Some brand")
    tee = make_product(db, shop_a, category=tops, brand=brand)
    dress = make_product(db, shop_b, category=dresses)
    lipstick = make_product(
        db,
        shop_a,
        category=catalog.create_category(
            db, slug="lips", name_zh="口红", name_en="Lipstick", parent_id=beauty.id
        ),
    )

    def ids(**params):
        r = client.get("/api/products", params=params)
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()["items"]]

    assert ids() == [lipstick.id, dress.id, tee.id]
    assert ids(category_id=tops.id) == [tee.id]
    assert ids(category_id=clothes.id) == [dress.id, tee.id]  # a top category includes its leaves
    assert ids(category_id=beauty.id) == [lipstick.id]
    assert ids(shop_id=shop_a.id) == [lipstick.id, tee.id]
    assert ids(brand_id=brand.id) == [tee.id]
    assert ids(category_id=clothes.id, shop_id=shop_b.id) == [dress.id]
    assert ids(shop_id=999_999) == []
    assert ids(brand_id=999_999) == []
    assert_error(
        client.get("/api/products", params={"category_id": 999_999}), 404, "category_not_found", "category_id"
    )
    assert_error(
        client.get("/api/products", params={"category_id": "tops"}), 422, "validation_error", "category_id"
    )
    assert_error(client.get("/api/products", params={"shop_id": 0}), 422, "validation_error", "shop_id")
    assert_error(client.get("/api/products", params={"brand_id": 2**70}), 422, "validation_error", "brand_id")


def test_product_list_cursor_walk(client, db):
    shop = make_shop(db).shop
    leaf = make_category(db)
    ids = [make_product(db, shop, category=leaf).id for _ in range(7)]
    assert walk(client, "/api/products", limit=2) == sorted(ids, reverse=True)
    assert walk(client, "/api/products", limit=100) == sorted(ids, reverse=True)
    assert_error(client.get("/api/products", params={"cursor": "%%%"}), 422, "invalid_cursor", "cursor")
    assert_error(client.get("/api/products", params={"limit": 0}), 422, "validation_error", "limit")
    assert_error(client.get("/api/products", params={"limit": 101}), 422, "validation_error", "limit")


def test_product_page_shows_active_skus_and_stock(client, db):
    shop = make_shop(db).shop
    product = make_product(db, shop, skus=3, price_fen=5000, stock=4)
    small, medium, large = product.skus
    medium.is_active = False
    large.stock = 0
    large.price_fen = 7000
    db.commit()

    r = client.get(f"/api/products/{product.id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == product.id and body["title_zh"] == product.title_zh
    assert body["price_min_fen"] == 5000 and body["price_max_fen"] == 7000
    assert body["in_stock"] is True
    assert body["skus"] == [
        {
            "id": small.id,
            "code": small.code,
            "attributes": {"size": "S"},
            "price_fen": 5000,
            "stock": 4,
            "in_stock": True,
        },
        {
            "id": large.id,
            "code": large.code,
            "attributes": {"size": "L"},
            "price_fen": 7000,
            "stock": 0,
            "in_stock": False,
        },
    ]
    assert "status" not in body and "sold_count" not in body["skus"][0]


def test_product_page_errors(client, db):
    assert_error(client.get("/api/products/999999"), 404, "product_not_found")
    assert_error(client.get("/api/products/abc"), 422, "validation_error", "product_id")
    assert_error(client.get("/api/products/0"), 422, "validation_error", "product_id")
    assert_error(client.get(f"/api/products/{2**64}"), 422, "validation_error", "product_id")


def test_sold_out_product_is_listed_but_not_in_stock(client, db):
    shop = make_shop(db).shop
    product = make_product(db, shop, stock=0)
    item = client.get("/api/products").json()["items"][0]
    assert item["id"] == product.id and item["in_stock"] is False
