"""Merchants manage their own products and SKUs. The shop always comes from the caller's context."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.api_helpers import assert_error, snapshot, walk
from tests.catalog_helpers import CATALOG_TABLES
from tests.factories import add_staff, auth, make_category, make_product, make_shop, make_user
from zhongcao.catalog import service as catalog
from zhongcao.catalog.models import Category, ProductStatus
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


@dataclass
class ShopWorld:
    id: int
    owner: dict[str, str]
    operator: dict[str, str]
    agent: dict[str, str]
    leaf: Category
    top: Category


@pytest.fixture
def shop(db) -> ShopWorld:
    bundle = make_shop(db)
    leaf = make_category(db)
    top = db.get(Category, leaf.parent_id)
    db.commit()
    return ShopWorld(
        id=bundle.shop.id,
        owner=auth(db, bundle.owner),
        operator=auth(db, add_staff(db, bundle.shop, StaffRole.operator)),
        agent=auth(db, add_staff(db, bundle.shop, StaffRole.service_agent)),
        leaf=leaf,
        top=top,
    )


def _product_body(category_id: int, **change):
    body = {
        "category_id": category_id,
        "title_zh": "纯棉T恤",
        "title_en": "Cotton tee",
        "skus": [
            {
                "code": "TEE-BLK-M",
                "attributes": {"颜色": "黑色", "尺码": "M"},
                "price_fen": 5900,
                "stock": 20,
            },
            {"code": "TEE-BLK-L", "attributes": {"颜色": "黑色", "尺码": "L"}, "price_fen": 6900, "stock": 0},
        ],
    }
    body.update(change)
    return body


def test_create_and_read_a_product(client, db, shop):
    brand = catalog.create_brand(db, name_zh="优衣", name_en="Uni")
    body = _product_body(
        shop.leaf.id,
        brand_id=brand.id,
        title_zh="  纯棉T恤 ",
        description_zh="  夏季新款\n透气 ",
    )
    body["skus"][0]["attributes"] = {" 颜色 ": " 黑色 ", "尺码": "M"}
    r = client.post("/api/merchant/products", json=body, headers=shop.operator)
    assert r.status_code == 201, r.text
    product = r.json()
    assert product["shop_id"] == shop.id and product["status"] == "draft"
    assert product["title_zh"] == "纯棉T恤" and product["description_zh"] == "夏季新款\n透气"
    assert product["brand_id"] == brand.id and product["category_id"] == shop.leaf.id
    assert [s["code"] for s in product["skus"]] == ["TEE-BLK-M", "TEE-BLK-L"]
    first = product["skus"][0]
    assert first["attributes"] == {"颜色": "黑色", "尺码": "M"}
    assert first["price_fen"] == 5900 and first["stock"] == 20 and first["in_stock"] is True
    assert first["is_active"] is True and first["sold_count"] == 0
    assert product["skus"][1]["in_stock"] is False

    for headers in (shop.owner, shop.operator, shop.agent):
        got = client.get(f"/api/merchant/products/{product['id']}", headers=headers)
        assert got.status_code == 200 and got.json() == product
    # A draft is not on sale.
    assert_error(client.get(f"/api/products/{product['id']}"), 404, "product_not_found")

    r = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id, status="active"), headers=shop.owner
    )
    assert r.status_code == 201 and r.json()["status"] == "active"
    assert client.get(f"/api/products/{r.json()['id']}").status_code == 200


BAD_PRODUCTS = [
    # (change to the body, status, code, field)
    ({"category_id": None}, 422, "validation_error", "category_id"),
    ({"category_id": "1"}, 422, "validation_error", "category_id"),
    ({"category_id": 999_999}, 404, "category_not_found", "category_id"),
    ({"brand_id": 999_999}, 404, "brand_not_found", "brand_id"),
    ({"brand_id": -1}, 422, "validation_error", "brand_id"),
    ({"title_zh": ""}, 422, "validation_error", "title_zh"),
    ({"title_zh": "   "}, 422, "validation_error", "title_zh"),
    ({"title_zh": "长" * 121}, 422, "validation_error", "title_zh"),
    ({"title_en": "x" * 201}, 422, "validation_error", "title_en"),
    ({"title_en": 42}, 422, "validation_error", "title_en"),
    ({"title_en": "bad\x00byte"}, 422, "validation_error", "title_en"),
    ({"description_en": "x" * 5001}, 422, "validation_error", "description_en"),
    ({"status": "delisted"}, 422, "validation_error", "status"),
    ({"status": "on_sale"}, 422, "validation_error", "status"),
    ({"skus": []}, 422, "validation_error", "skus"),
    ({"skus": None}, 422, "validation_error", "skus"),
    ({"skus": {"code": "A", "price_fen": 1}}, 422, "validation_error", "skus"),
    ({"shop_id": 1}, 422, "validation_error", "shop_id"),
    ({"skus": [{"code": "A", "price_fen": 0}]}, 422, "validation_error", "skus[0].price_fen"),
    ({"skus": [{"code": "A", "price_fen": -100}]}, 422, "validation_error", "skus[0].price_fen"),
    ({"skus": [{"code": "A", "price_fen": 100_000_001}]}, 422, "validation_error", "skus[0].price_fen"),
    ({"skus": [{"code": "A", "price_fen": "100"}]}, 422, "validation_error", "skus[0].price_fen"),
    ({"skus": [{"code": "A", "price_fen": 99.5}]}, 422, "validation_error", "skus[0].price_fen"),
    ({"skus": [{"code": "A"}]}, 422, "validation_error", "skus[0].price_fen"),
    ({"skus": [{"code": "A", "price_fen": 100, "stock": -1}]}, 422, "validation_error", "skus[0].stock"),
    ({"skus": [{"code": "A", "price_fen": 100, "stock": "5"}]}, 422, "validation_error", "skus[0].stock"),
    ({"skus": [{"code": "", "price_fen": 100}]}, 422, "validation_error", "skus[0].code"),
    ({"skus": [{"code": "has space", "price_fen": 100}]}, 422, "validation_error", "skus[0].code"),
    ({"skus": [{"code": "X" * 65, "price_fen": 100}]}, 422, "validation_error", "skus[0].code"),
    # (A SKU code may be left out since the product editor: the catalog makes SKU-1, SKU-2...)
    (
        {"skus": [{"code": "A", "price_fen": 100, "attributes": {f"k{i}": "v" for i in range(11)}}]},
        422,
        "validation_error",
        "skus[0].attributes",
    ),
    (
        {"skus": [{"code": "A", "price_fen": 100, "attributes": {"size": 3}}]},
        422,
        "validation_error",
        "skus[0].attributes.size",
    ),
    (
        {"skus": [{"code": "A", "price_fen": 100, "attributes": ["size"]}]},
        422,
        "validation_error",
        "skus[0].attributes",
    ),
    (
        {"skus": [{"code": "A", "price_fen": 100, "is_active": False}]},
        422,
        "validation_error",
        "skus[0].is_active",
    ),
    (
        {
            "skus": [
                {"code": "A", "price_fen": 100},
                {"code": "B", "price_fen": 100},
                {"code": "A", "price_fen": 200},
            ]
        },
        422,
        "duplicate_sku_code",
        "skus[2].code",
    ),
]


def test_create_product_bad_input_changes_nothing(client, db, shop):
    catalog.create_brand(db, name_zh="牌", name_en="Brand")
    before = snapshot(db, CATALOG_TABLES)
    for change, status, code, field in BAD_PRODUCTS:
        r = client.post(
            "/api/merchant/products", json={**_product_body(shop.leaf.id), **change}, headers=shop.owner
        )
        assert_error(r, status, code, field)
        assert snapshot(db, CATALOG_TABLES) == before, change


def test_products_attach_to_leaf_categories_only(client, db, shop):
    before = snapshot(db, CATALOG_TABLES)
    r = client.post("/api/merchant/products", json=_product_body(shop.top.id), headers=shop.owner)
    assert_error(r, 422, "category_not_leaf", "category_id")
    assert_error(
        client.post("/api/merchant/products", content=b'{"category_id": ', headers=shop.owner),
        422,
        "validation_error",
    )
    assert snapshot(db, CATALOG_TABLES) == before


def test_update_product_fields(client, db, shop):
    product = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id), headers=shop.owner
    ).json()
    other_leaf = make_category(db)
    brand = catalog.create_brand(db, name_zh="牌", name_en="Brand")
    url = f"/api/merchant/products/{product['id']}"
    r = client.patch(
        url,
        json={
            "title_en": " Organic cotton tee ",
            "category_id": other_leaf.id,
            "brand_id": brand.id,
            "description_en": "",
        },
        headers=shop.operator,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["title_en"] == "Organic cotton tee" and body["title_zh"] == "纯棉T恤"
    assert body["category_id"] == other_leaf.id and body["brand_id"] == brand.id
    r = client.patch(url, json={"brand_id": None}, headers=shop.owner)
    assert r.status_code == 200 and r.json()["brand_id"] is None and r.json()["category_id"] == other_leaf.id

    before = snapshot(db, CATALOG_TABLES)
    for change, status, code, field in [
        ({"category_id": shop.top.id}, 422, "category_not_leaf", "category_id"),
        ({"category_id": 999_999}, 404, "category_not_found", "category_id"),
        ({"brand_id": 999_999}, 404, "brand_not_found", "brand_id"),
        ({"title_zh": None}, 422, "validation_error", "title_zh"),
        ({"category_id": None}, 422, "validation_error", "category_id"),
        ({"status": None}, 422, "validation_error", "status"),
        ({"title_zh": ""}, 422, "validation_error", "title_zh"),
        ({"title_en": "new", "shop_id": 5}, 422, "validation_error", "shop_id"),
        ({"skus": []}, 422, "validation_error", "skus"),
        # A valid change together with a bad one applies neither.
        ({"title_en": "Changed", "category_id": 999_999}, 404, "category_not_found", "category_id"),
        ({"title_en": "Changed", "status": "delisted"}, 409, "illegal_transition", "status"),
    ]:
        assert_error(client.patch(url, json=change, headers=shop.owner), status, code, field)
    assert snapshot(db, CATALOG_TABLES) == before


def test_status_transitions(client, db, shop):
    product = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id), headers=shop.owner
    ).json()
    url = f"/api/merchant/products/{product['id']}"

    def move(to: str):
        return client.patch(url, json={"status": to}, headers=shop.owner)

    before = snapshot(db, CATALOG_TABLES)
    assert_error(move("delisted"), 409, "illegal_transition", "status")
    assert snapshot(db, CATALOG_TABLES) == before
    assert move("draft").json()["status"] == "draft"  # staying put is fine
    assert move("active").json()["status"] == "active"
    assert client.get(f"/api/products/{product['id']}").status_code == 200
    err = assert_error(move("draft"), 409, "illegal_transition", "status")
    assert err["details"]["from"] == "active" and err["details"]["to"] == "draft"
    assert move("delisted").json()["status"] == "delisted"
    assert_error(client.get(f"/api/products/{product['id']}"), 404, "product_not_found")
    assert_error(move("draft"), 409, "illegal_transition", "status")
    assert move("active").json()["status"] == "active"
    assert_error(move("published"), 422, "validation_error", "status")


def test_product_without_active_sku_cannot_go_on_sale(client, db, shop):
    body = _product_body(shop.leaf.id)
    body["skus"] = body["skus"][:1]
    product = client.post("/api/merchant/products", json=body, headers=shop.owner).json()
    sku_id = product["skus"][0]["id"]
    r = client.patch(f"/api/merchant/skus/{sku_id}", json={"is_active": False}, headers=shop.owner)
    assert r.status_code == 200 and r.json()["is_active"] is False
    before = snapshot(db, CATALOG_TABLES)
    assert_error(
        client.patch(
            f"/api/merchant/products/{product['id']}", json={"status": "active"}, headers=shop.owner
        ),
        409,
        "no_active_sku",
        "status",
    )
    assert snapshot(db, CATALOG_TABLES) == before
    client.patch(f"/api/merchant/skus/{sku_id}", json={"is_active": True}, headers=shop.owner)
    r = client.patch(f"/api/merchant/products/{product['id']}", json={"status": "active"}, headers=shop.owner)
    assert r.status_code == 200 and r.json()["status"] == "active"
    # The last active SKU of a product on sale cannot be switched off either.
    before = snapshot(db, CATALOG_TABLES)
    assert_error(
        client.patch(f"/api/merchant/skus/{sku_id}", json={"is_active": False}, headers=shop.owner),
        409,
        "last_active_sku",
        "is_active",
    )
    assert snapshot(db, CATALOG_TABLES) == before


def test_skus_add_and_update(client, db, shop):
    product = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id, status="active"), headers=shop.owner
    ).json()
    r = client.post(
        f"/api/merchant/products/{product['id']}/skus",
        json={"code": "TEE-WHT-M", "attributes": {"颜色": "白色"}, "price_fen": 6100, "stock": 3},
        headers=shop.operator,
    )
    assert r.status_code == 201, r.text
    sku = r.json()
    assert sku["product_id"] == product["id"] and sku["stock"] == 3 and sku["is_active"] is True
    r = client.patch(
        f"/api/merchant/skus/{sku['id']}",
        json={"price_fen": 5500, "attributes": {"颜色": "米白"}},
        headers=shop.owner,
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["price_fen"] == 5500
        and r.json()["attributes"] == {"颜色": "米白"}
        and r.json()["stock"] == 3
    )
    r = client.patch(f"/api/merchant/skus/{sku['id']}", json={"is_active": False}, headers=shop.owner)
    assert r.status_code == 200 and r.json()["is_active"] is False
    public = client.get(f"/api/products/{product['id']}").json()
    assert sku["id"] not in [s["id"] for s in public["skus"]]
    merchant_view = client.get(f"/api/merchant/products/{product['id']}", headers=shop.agent).json()
    assert sku["id"] in [s["id"] for s in merchant_view["skus"]]

    before = snapshot(db, CATALOG_TABLES)
    add_url = f"/api/merchant/products/{product['id']}/skus"
    for body, status, code, field in [
        ({"code": "TEE-BLK-M", "price_fen": 100}, 409, "sku_code_taken", "code"),
        ({"code": "NEW", "price_fen": 0}, 422, "validation_error", "price_fen"),
        ({"code": "NEW", "price_fen": 100, "stock": -5}, 422, "validation_error", "stock"),
        ({"code": "NEW"}, 422, "validation_error", "price_fen"),
        ({"code": "NEW", "price_fen": 100, "product_id": 1}, 422, "validation_error", "product_id"),
    ]:
        assert_error(client.post(add_url, json=body, headers=shop.owner), status, code, field)
    sku_url = f"/api/merchant/skus/{sku['id']}"
    for body, field in [
        ({"price_fen": None}, "price_fen"),
        ({"price_fen": -1}, "price_fen"),
        ({"price_fen": "12"}, "price_fen"),
        ({"is_active": "yes"}, "is_active"),
        ({"is_active": 1}, "is_active"),
        ({"attributes": {f"k{i}": "v" for i in range(11)}}, "attributes"),
        ({"attributes": {"k": ""}}, "attributes.k"),
        ({"stock": 5}, "stock"),
        ({"code": "X"}, "code"),
    ]:
        assert_error(client.patch(sku_url, json=body, headers=shop.owner), 422, "validation_error", field)
    assert_error(
        client.post(
            "/api/merchant/products/999999/skus", json={"code": "Z", "price_fen": 1}, headers=shop.owner
        ),
        404,
        "product_not_found",
    )
    assert_error(
        client.patch("/api/merchant/skus/999999", json={"price_fen": 1}, headers=shop.owner),
        404,
        "sku_not_found",
    )
    assert snapshot(db, CATALOG_TABLES) == before


def test_stock_adjustments(client, db, shop):
    product = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id), headers=shop.owner
    ).json()
    sku_id = product["skus"][0]["id"]  # stock 20
    url = f"/api/merchant/skus/{sku_id}/stock"
    r = client.post(url, json={"delta": 5}, headers=shop.operator)
    assert r.status_code == 200, r.text
    assert r.json()["stock"] == 25
    assert client.post(url, json={"delta": -24}, headers=shop.owner).json()["stock"] == 1
    assert client.post(url, json={"set": 7}, headers=shop.owner).json()["stock"] == 7
    assert client.post(url, json={"set": 0}, headers=shop.owner).json()["in_stock"] is False
    assert client.post(url, json={"delta": 3}, headers=shop.owner).json()["stock"] == 3

    before = snapshot(db, CATALOG_TABLES)
    err = assert_error(
        client.post(url, json={"delta": -4}, headers=shop.owner), 409, "stock_would_go_negative", "delta"
    )
    assert err["details"]["stock"] == 3 and err["details"]["delta"] == -4
    for body, field in [
        ({}, "delta"),
        ({"delta": 1, "set": 1}, "delta"),
        ({"delta": None}, "delta"),
        ({"delta": 0}, "delta"),
        ({"delta": "1"}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"delta": True}, "delta"),
        ({"delta": 10_000_001}, "delta"),
        ({"set": -1}, "set"),
        ({"set": "5"}, "set"),
        ({"stock": 5}, "stock"),
    ]:
        assert_error(client.post(url, json=body, headers=shop.owner), 422, _code(body), field)
    assert_error(
        client.post(url, json={"delta": 10_000_000}, headers=shop.owner), 422, "stock_too_large", "delta"
    )
    assert_error(
        client.post("/api/merchant/skus/999999/stock", json={"delta": 1}, headers=shop.owner),
        404,
        "sku_not_found",
    )
    assert snapshot(db, CATALOG_TABLES) == before


def _code(body: dict) -> str:
    # Shape errors come from request validation; the either/or and non-zero rules from the service.
    if body in ({}, {"delta": 1, "set": 1}, {"delta": None}, {"delta": 0}):
        return "invalid_input"
    return "validation_error"


def test_another_shops_ids_are_not_found(client, db, shop):
    stranger = make_shop(db)
    theirs = make_product(db, stranger.shop, category=shop.leaf)
    their_sku = theirs.skus[0].id
    db.commit()
    before = snapshot(db, CATALOG_TABLES)
    calls = [
        ("GET", f"/api/merchant/products/{theirs.id}", None, "product_not_found"),
        ("PATCH", f"/api/merchant/products/{theirs.id}", {"title_en": "mine now"}, "product_not_found"),
        (
            "POST",
            f"/api/merchant/products/{theirs.id}/skus",
            {"code": "MINE", "price_fen": 1},
            "product_not_found",
        ),
        ("PATCH", f"/api/merchant/skus/{their_sku}", {"price_fen": 1}, "sku_not_found"),
        ("POST", f"/api/merchant/skus/{their_sku}/stock", {"delta": -1}, "sku_not_found"),
        ("POST", f"/api/merchant/skus/{their_sku}/stock", {"set": 0}, "sku_not_found"),
    ]
    for method, url, body, code in calls:
        assert_error(client.request(method, url, json=body, headers=shop.owner), 404, code)
    assert snapshot(db, CATALOG_TABLES) == before
    listed = client.get("/api/merchant/products", headers=shop.owner).json()["items"]
    assert theirs.id not in [p["id"] for p in listed]


def test_service_agents_read_but_do_not_write(client, db, shop):
    product = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id), headers=shop.owner
    ).json()
    sku_id = product["skus"][0]["id"]
    assert client.get("/api/merchant/products", headers=shop.agent).status_code == 200
    assert client.get(f"/api/merchant/products/{product['id']}", headers=shop.agent).status_code == 200
    before = snapshot(db, CATALOG_TABLES)
    writes = [
        ("POST", "/api/merchant/products", _product_body(shop.leaf.id)),
        ("PATCH", f"/api/merchant/products/{product['id']}", {"title_en": "x"}),
        ("POST", f"/api/merchant/products/{product['id']}/skus", {"code": "Z", "price_fen": 1}),
        ("PATCH", f"/api/merchant/skus/{sku_id}", {"price_fen": 1}),
        ("POST", f"/api/merchant/skus/{sku_id}/stock", {"delta": 1}),
    ]
    for method, url, body in writes:
        err = assert_error(client.request(method, url, json=body, headers=shop.agent), 403, "wrong_shop_role")
        assert err["details"]["shop_role"] == "service_agent"
    assert snapshot(db, CATALOG_TABLES) == before


def test_only_merchants_reach_product_endpoints(client, db, shop):
    product = client.post(
        "/api/merchant/products", json=_product_body(shop.leaf.id), headers=shop.owner
    ).json()
    sku_id = product["skus"][0]["id"]
    calls = [
        ("GET", "/api/merchant/products", None),
        ("GET", f"/api/merchant/products/{product['id']}", None),
        ("POST", "/api/merchant/products", _product_body(shop.leaf.id)),
        ("PATCH", f"/api/merchant/products/{product['id']}", {"title_en": "x"}),
        ("POST", f"/api/merchant/products/{product['id']}/skus", {"code": "Z", "price_fen": 1}),
        ("PATCH", f"/api/merchant/skus/{sku_id}", {"price_fen": 1}),
        ("POST", f"/api/merchant/skus/{sku_id}/stock", {"delta": 1}),
    ]
    outsiders = [auth(db, make_user(db, role)) for role in (Role.shopper, Role.creator, Role.operator)]
    shopless = auth(db, make_user(db, Role.merchant))
    before = snapshot(db, CATALOG_TABLES)
    for method, url, body in calls:
        assert_error(client.request(method, url, json=body), 401, "not_authenticated")
        for headers in outsiders:
            assert_error(client.request(method, url, json=body, headers=headers), 403, "wrong_role")
        assert_error(client.request(method, url, json=body, headers=shopless), 403, "no_shop")
    assert snapshot(db, CATALOG_TABLES) == before


def test_merchant_product_list_pages_and_filters(client, db, shop):
    ids = []
    for status in ("draft", "active", "draft", "active", "active"):
        r = client.post(
            "/api/merchant/products", json=_product_body(shop.leaf.id, status=status), headers=shop.owner
        )
        ids.append(r.json()["id"])
    make_product(db, make_shop(db).shop, category=shop.leaf)  # someone else's
    assert walk(client, "/api/merchant/products", headers=shop.agent, limit=2) == sorted(ids, reverse=True)
    drafts = client.get("/api/merchant/products", params={"status": "draft"}, headers=shop.owner).json()[
        "items"
    ]
    assert [p["id"] for p in drafts] == [ids[2], ids[0]]
    assert all(len(p["skus"]) == 2 for p in drafts)
    assert_error(
        client.get("/api/merchant/products", params={"status": "gone"}, headers=shop.owner),
        422,
        "validation_error",
        "status",
    )


def test_create_product_service_for_bulk_use(db, shop):
    brand = catalog.create_brand(db, name_zh="批量", name_en="Bulk")
    made = [
        catalog.create_product(
            db,
            shop.id,
            category_id=shop.leaf.id,
            brand_id=brand.id,
            title_zh=f"商品{i}",
            title_en=f"Product {i}",
            status=ProductStatus.active,
            skus=[
                catalog.NewSku(code=f"P{i}-{j}", price_fen=100 + j, stock=j, attributes={"n": str(j)})
                for j in range(3)
            ],
            commit=False,
        )
        for i in range(20)
    ]
    db.commit()
    assert catalog.product_ids_of_shop(db, shop.id) == [p.id for p in made]
    assert catalog.product_ids_of_shop(db, shop.id, active_only=True) == [p.id for p in made]
    skus = catalog.skus_by_id(db, [s.id for p in made[:2] for s in p.skus] + [999_999])
    assert len(skus) == 6 and all(s.product.shop_id == shop.id for s in skus.values())
    assert catalog.get_active_product(db, made[0].id) is made[0]
    assert catalog.get_sku(db, made[0].skus[1].id).price_fen == 101
    with pytest.raises(InvalidInput) as exc:
        catalog.create_product(
            db,
            shop.id,
            category_id=shop.leaf.id,
            title_zh="x",
            title_en="x",
            skus=[catalog.NewSku(code="A", price_fen=0)],
        )
    assert exc.value.details["field"] == "skus[0].price_fen"
    with pytest.raises(InvalidInput) as exc:
        catalog.create_product(db, shop.id, category_id=shop.leaf.id, title_zh="x", title_en="x", skus=[])
    assert exc.value.code == "no_skus"
    with pytest.raises(NotFound) as exc:
        catalog.create_product(
            db,
            999_999,
            category_id=shop.leaf.id,
            title_zh="x",
            title_en="x",
            skus=[catalog.NewSku(code="A", price_fen=1)],
        )
    assert exc.value.code == "shop_not_found"
    db.rollback()
