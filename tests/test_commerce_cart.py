"""The shopper's cart."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.commerce_helpers import first_sku, make_campaign, make_content
from tests.factories import auth, make_creator, make_product, make_shop, make_user
from zhongcao.catalog.models import ProductStatus
from zhongcao.commerce.models import CartItem
from zhongcao.users.models import Role


def _lines(db) -> int:
    return db.scalar(select(func.count()).select_from(CartItem))


def test_add_increment_update_delete(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=1200, stock=10)
    sku = first_sku(db, product)
    r = client.post("/api/cart/items", json={"sku_id": sku.id, "quantity": 2}, headers=headers)
    assert r.status_code == 201, r.text
    item_id = r.json()["id"]
    assert r.json()["line_total_fen"] == 2400 and r.json()["attribution"]["channel"] == "other"
    r = client.post("/api/cart/items", json={"sku_id": sku.id, "quantity": 3}, headers=headers)
    assert r.status_code == 201 and r.json()["id"] == item_id and r.json()["quantity"] == 5
    cart = client.get("/api/cart", headers=headers).json()
    assert len(cart["items"]) == 1 and cart["item_total_fen"] == 6000 and cart["items"][0]["available"]
    r = client.patch(f"/api/cart/items/{item_id}", json={"quantity": 1}, headers=headers)
    assert r.status_code == 200 and r.json()["quantity"] == 1
    assert client.delete(f"/api/cart/items/{item_id}", headers=headers).status_code == 204
    assert client.get("/api/cart", headers=headers).json() == {"items": [], "item_total_fen": 0}


def test_latest_attribution_wins(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    product = make_product(db, shop.shop)
    sku = first_sku(db, product)
    _, creator = make_creator(db)
    _, kol = make_creator(db, top_kol=True)
    first = make_content(db, creator, [product])
    second = make_content(db, kol, [product])
    campaign = make_campaign(db, [product])
    add = {"sku_id": sku.id, "quantity": 1}
    r = client.post(
        "/api/cart/items",
        json={**add, "attribution": {"channel": "short_video", "content_id": first.id}},
        headers=headers,
    )
    assert r.json()["attribution"]["account_id"] == creator.id
    r = client.post(
        "/api/cart/items",
        json={**add, "attribution": {"channel": "live", "content_id": second.id, "campaign_id": campaign.id}},
        headers=headers,
    )
    assert r.json()["attribution"] == {
        "channel": "live",
        "content_id": second.id,
        "account_id": kol.id,
        "campaign_id": campaign.id,
    }
    # An add without attribution brings no new touch: the line keeps what it had.
    r = client.post("/api/cart/items", json=add, headers=headers)
    assert r.json()["quantity"] == 3 and r.json()["attribution"]["content_id"] == second.id
    # A bad attribution is refused and the line is unchanged.
    r = client.post(
        "/api/cart/items",
        json={**add, "attribution": {"channel": "live", "content_id": 9999}},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "attribution.content_id"
    item = client.get("/api/cart", headers=headers).json()["items"][0]
    assert item["quantity"] == 3 and item["attribution"]["content_id"] == second.id


def test_cart_refusals_change_nothing(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, stock=3))
    delisted = make_product(db, shop.shop)
    delisted.status = ProductStatus.delisted
    db.commit()
    cases = [
        ({"sku_id": sku.id, "quantity": 0}, 422, "validation_error"),
        ({"sku_id": sku.id, "quantity": -1}, 422, "validation_error"),
        ({"sku_id": sku.id}, 422, "validation_error"),
        ({"sku_id": "x", "quantity": 1}, 422, "validation_error"),
        ({"sku_id": 99999, "quantity": 1}, 404, "sku_not_found"),
        ({"sku_id": first_sku(db, delisted).id, "quantity": 1}, 409, "not_for_sale"),
        ({"sku_id": sku.id, "quantity": 4}, 409, "insufficient_stock"),
    ]
    for body, code, error in cases:
        r = client.post("/api/cart/items", json=body, headers=headers)
        assert r.status_code == code, (body, r.text)
        assert r.json()["error"]["code"] == error
    assert _lines(db) == 0
    item_id = client.post("/api/cart/items", json={"sku_id": sku.id, "quantity": 2}, headers=headers).json()[
        "id"
    ]
    r = client.post("/api/cart/items", json={"sku_id": sku.id, "quantity": 2}, headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_stock"
    assert (
        client.patch(f"/api/cart/items/{item_id}", json={"quantity": 0}, headers=headers).status_code == 422
    )
    assert (
        client.patch(f"/api/cart/items/{item_id}", json={"quantity": 9}, headers=headers).status_code == 409
    )
    # Another shopper's line is not found.
    stranger = auth(db, make_user(db))
    assert (
        client.patch(f"/api/cart/items/{item_id}", json={"quantity": 1}, headers=stranger).status_code == 404
    )
    r = client.delete(f"/api/cart/items/{item_id}", headers=stranger)
    assert r.status_code == 404 and r.json()["error"]["code"] == "cart_item_not_found"
    assert client.get("/api/cart", headers=stranger).json()["items"] == []
    db.expire_all()
    assert db.get(CartItem, item_id).quantity == 2
    assert client.get("/api/cart", headers=auth(db, make_user(db, Role.merchant))).status_code == 403


def test_cart_shows_lines_that_are_no_longer_available(client, db):
    buyer = make_user(db)
    headers = auth(db, buyer)
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=500)
    sku = first_sku(db, product)
    client.post("/api/cart/items", json={"sku_id": sku.id, "quantity": 1}, headers=headers)
    product.status = ProductStatus.delisted
    db.commit()
    cart = client.get("/api/cart", headers=headers).json()
    assert cart["items"][0]["available"] is False and cart["item_total_fen"] == 0
