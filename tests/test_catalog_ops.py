"""Operators manage the category tree and the brand list."""

from __future__ import annotations

import pytest

from tests.api_helpers import assert_error, snapshot
from tests.catalog_helpers import CATALOG_TABLES
from tests.factories import auth, make_shop, make_user
from zhongcao.catalog import service as catalog
from zhongcao.config import get_settings
from zhongcao.errors import NotFound
from zhongcao.users.models import Role


@pytest.fixture
def ops(db):
    return auth(db, make_user(db, Role.operator))


def test_create_top_and_leaf_categories(client, db, ops):
    r = client.post(
        "/api/ops/categories",
        json={
            "slug": "  Home-Living ",
            "name_zh": " 家居 ",
            "name_en": "Home & living",
            "platform_fee_bps": 450,
        },
        headers=ops,
    )
    assert r.status_code == 201, r.text
    top = r.json()
    assert top["slug"] == "home-living" and top["name_zh"] == "家居" and top["parent_id"] is None
    assert top["platform_fee_bps"] == 450
    r = client.post(
        "/api/ops/categories",
        json={"slug": "kitchen", "name_zh": "厨具", "name_en": "Kitchen", "parent_id": top["id"]},
        headers=ops,
    )
    assert r.status_code == 201, r.text
    leaf = r.json()
    assert leaf["parent_id"] == top["id"] and leaf["platform_fee_bps"] is None
    tree = client.get("/api/categories").json()
    assert [c["id"] for c in tree] == [top["id"]] and [c["id"] for c in tree[0]["children"]] == [leaf["id"]]
    # The leaf inherits its parent's fee; the top one falls back to nothing but itself.
    assert catalog.effective_platform_fee_bps(db, leaf["id"]) == 450


def test_category_rules(client, db, ops):
    top = catalog.create_category(db, slug="top", name_zh="大类", name_en="Top")
    leaf = catalog.create_category(db, slug="leaf", name_zh="小类", name_en="Leaf", parent_id=top.id)
    before = snapshot(db, CATALOG_TABLES)

    def post(body):
        return client.post("/api/ops/categories", json=body, headers=ops)

    base = {"slug": "new", "name_zh": "新", "name_en": "New"}
    assert_error(post({**base, "parent_id": leaf.id}), 422, "category_too_deep", "parent_id")
    assert_error(post({**base, "slug": "LEAF"}), 409, "slug_taken", "slug")
    assert_error(post({**base, "parent_id": 999_999}), 404, "category_not_found", "parent_id")
    assert_error(post({**base, "parent_id": "1"}), 422, "validation_error", "parent_id")
    assert_error(post({**base, "slug": "has space"}), 422, "validation_error", "slug")
    assert_error(post({**base, "slug": "-x"}), 422, "validation_error", "slug")
    assert_error(post({**base, "slug": "x" * 65}), 422, "validation_error", "slug")
    assert_error(post({**base, "name_zh": "   "}), 422, "validation_error", "name_zh")
    assert_error(post({**base, "name_zh": "长" * 41}), 422, "validation_error", "name_zh")
    assert_error(post({**base, "name_en": "a\x00b"}), 422, "validation_error", "name_en")
    assert_error(post({**base, "platform_fee_bps": 10_001}), 422, "validation_error", "platform_fee_bps")
    assert_error(post({**base, "platform_fee_bps": -1}), 422, "validation_error", "platform_fee_bps")
    assert_error(post({**base, "platform_fee_bps": 1.5}), 422, "validation_error", "platform_fee_bps")
    assert_error(post({"slug": "new", "name_zh": "新"}), 422, "validation_error", "name_en")
    assert_error(post({**base, "colour": "red"}), 422, "validation_error", "colour")
    assert_error(
        client.post("/api/ops/categories", content=b"{not json", headers=ops), 422, "validation_error"
    )
    assert snapshot(db, CATALOG_TABLES) == before


def test_update_category(client, db, ops):
    top = catalog.create_category(db, slug="top", name_zh="大类", name_en="Top", platform_fee_bps=100)
    other = catalog.create_category(db, slug="other", name_zh="其他", name_en="Other")
    r = client.patch(
        f"/api/ops/categories/{top.id}", json={"name_en": " Top things ", "slug": "top-things"}, headers=ops
    )
    assert r.status_code == 200, r.text
    assert r.json()["name_en"] == "Top things" and r.json()["slug"] == "top-things"
    assert r.json()["platform_fee_bps"] == 100 and r.json()["name_zh"] == "大类"
    r = client.patch(f"/api/ops/categories/{top.id}", json={"platform_fee_bps": None}, headers=ops)
    assert r.status_code == 200 and r.json()["platform_fee_bps"] is None

    before = snapshot(db, CATALOG_TABLES)
    url = f"/api/ops/categories/{top.id}"
    assert_error(client.patch(url, json={"slug": "other"}, headers=ops), 409, "slug_taken", "slug")
    assert_error(client.patch(url, json={"name_zh": None}, headers=ops), 422, "validation_error", "name_zh")
    assert_error(
        client.patch(url, json={"parent_id": other.id}, headers=ops), 422, "validation_error", "parent_id"
    )
    assert_error(
        client.patch(url, json={"platform_fee_bps": "100"}, headers=ops),
        422,
        "validation_error",
        "platform_fee_bps",
    )
    assert_error(
        client.patch("/api/ops/categories/999999", json={"name_zh": "x"}, headers=ops),
        404,
        "category_not_found",
    )
    assert snapshot(db, CATALOG_TABLES) == before


def test_brands(client, db, ops):
    r = client.post("/api/ops/brands", json={"name_zh": " 花西子 ", "name_en": "Florasis"}, headers=ops)
    assert r.status_code == 201, r.text
    brand = r.json()
    assert brand == {"id": brand["id"], "name_zh": "花西子", "name_en": "Florasis"}
    other = client.post(
        "/api/ops/brands", json={"name_zh": "完美日记", "name_en": "Perfect Diary"}, headers=ops
    )
    assert other.status_code == 201

    r = client.patch(f"/api/ops/brands/{brand['id']}", json={"name_en": "FLORASIS"}, headers=ops)
    assert r.status_code == 200 and r.json()["name_en"] == "FLORASIS" and r.json()["name_zh"] == "花西子"

    before = snapshot(db, CATALOG_TABLES)
    assert_error(
        client.post("/api/ops/brands", json={"name_zh": "花西子", "name_en": "Again"}, headers=ops),
        409,
        "brand_exists",
        "name_zh",
    )
    assert_error(
        client.patch(f"/api/ops/brands/{brand['id']}", json={"name_zh": "完美日记"}, headers=ops),
        409,
        "brand_exists",
        "name_zh",
    )
    assert_error(
        client.post("/api/ops/brands", json={"name_zh": "x"}, headers=ops), 422, "validation_error", "name_en"
    )
    assert_error(
        client.post("/api/ops/brands", json={"name_zh": 5, "name_en": "x"}, headers=ops),
        422,
        "validation_error",
        "name_zh",
    )
    assert_error(
        client.patch(f"/api/ops/brands/{brand['id']}", json={"name_en": None}, headers=ops),
        422,
        "validation_error",
        "name_en",
    )
    assert_error(
        client.patch("/api/ops/brands/999999", json={"name_en": "x"}, headers=ops), 404, "brand_not_found"
    )
    assert snapshot(db, CATALOG_TABLES) == before
    listed = client.get("/api/brands").json()["items"]
    assert [b["name_zh"] for b in listed] == ["完美日记", "花西子"]


def test_only_operators_manage_the_catalog(client, db):
    top = catalog.create_category(db, slug="top", name_zh="大类", name_en="Top")
    brand = catalog.create_brand(db, name_zh="牌", name_en="Brand")
    shopper = auth(db, make_user(db, Role.shopper))
    merchant = auth(db, make_shop(db).owner)
    creator = auth(db, make_user(db, Role.creator))
    before = snapshot(db, CATALOG_TABLES)
    calls = [
        ("POST", "/api/ops/categories", {"slug": "x", "name_zh": "x", "name_en": "x"}),
        ("PATCH", f"/api/ops/categories/{top.id}", {"name_zh": "y"}),
        ("POST", "/api/ops/brands", {"name_zh": "x", "name_en": "x"}),
        ("PATCH", f"/api/ops/brands/{brand.id}", {"name_zh": "y"}),
    ]
    for method, url, body in calls:
        assert_error(client.request(method, url, json=body), 401, "not_authenticated")
        bad_token = {"Authorization": "Bearer zc_nonsense"}
        assert_error(client.request(method, url, json=body, headers=bad_token), 401, "invalid_token")
        for headers in (shopper, merchant, creator):
            assert_error(client.request(method, url, json=body, headers=headers), 403, "wrong_role")
    assert snapshot(db, CATALOG_TABLES) == before


def test_category_service_helpers(db):
    top = catalog.create_category(db, slug="top", name_zh="大类", name_en="Top")
    a = catalog.create_category(db, slug="a", name_zh="甲", name_en="A", parent_id=top.id, platform_fee_bps=0)
    b = catalog.create_category(db, slug="b", name_zh="乙", name_en="B", parent_id=top.id)
    assert catalog.category_ids_under(db, top.id) == [top.id, a.id, b.id]
    assert catalog.category_ids_under(db, a.id) == [a.id]
    with pytest.raises(NotFound):
        catalog.category_ids_under(db, 999_999)
    assert catalog.get_category(db, a.id) is a
    # An explicit 0 is a fee of zero, not "inherit".
    assert catalog.effective_platform_fee_bps(db, a.id) == 0
    assert catalog.effective_platform_fee_bps(db, b.id) == get_settings().default_platform_fee_bps
