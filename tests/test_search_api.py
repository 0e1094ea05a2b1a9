"""GET /api/search and /api/search/suggest on both backends: Chinese recall, filters, facets, sorts,
shops and content, explanations, and bad queries answered cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.api_helpers import assert_error
from tests.commerce_helpers import make_campaign, make_content
from tests.factories import make_category, make_creator, make_shop
from zhongcao.catalog.models import Brand, Product, ProductStatus, Sku


def _product(
    db: Session, shop, category, zh: str, en: str, *, price: int, stock: int, brand: Brand | None = None
) -> Product:
    product = Product(
        shop_id=shop.id,
        category_id=category.id,
        brand_id=brand.id if brand else None,
        title_zh=zh,
        title_en=en,
        status=ProductStatus.active,
    )
    db.add(product)
    db.flush()
    db.add(Sku(product_id=product.id, code=f"S{product.id}", price_fen=price, stock=stock))
    db.commit()
    return product


@pytest.fixture
def catalogue(db: Session) -> dict[str, object]:
    dresses, phones = make_category(db), make_category(db)
    shop_a, shop_b = make_shop(db, "花语女装"), make_shop(db, "数码之家")
    brand = Brand(name_zh="花语", name_en="Huayu")
    db.add(brand)
    db.commit()
    red = _product(
        db, shop_a.shop, dresses, "夏季红色连衣裙", "Summer red dress", price=19_900, stock=5, brand=brand
    )
    blue = _product(
        db, shop_a.shop, dresses, "蓝色长款連衣裙", "Blue long dress", price=25_900, stock=0, brand=brand
    )
    case = _product(db, shop_b.shop, phones, "苹果手机壳", "Phone case for iPhone", price=4_900, stock=50)
    phones_top = db.get(type(phones), phones.parent_id)
    return {
        "red": red,
        "blue": blue,
        "case": case,
        "dresses": dresses,
        "phones": phones,
        "phones_top": phones_top,
        "shop_a": shop_a,
        "shop_b": shop_b,
        "brand": brand,
    }


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("q", ["连衣裙", "连衣", "衣裙", "lianyiqun", "lyq", "連衣裙", "dresses", "ＬＹＱ"])
def test_chinese_recall_sub_word_pinyin_traditional(client, catalogue, q: str) -> None:
    ids = _ids(client.get("/api/search", params={"q": q}))
    assert set(ids[:2]) == {catalogue["red"].id, catalogue["blue"].id}


def test_highlights_and_item_fields(client, catalogue) -> None:
    body = client.get("/api/search", params={"q": "连衣"}).json()
    first = body["items"][0]
    assert "<em>连衣</em>" in first["highlight"]
    assert first["price_fen"] in (19_900, 25_900) and first["shop_id"] == catalogue["shop_a"].shop.id
    assert body["ranking"] == "bm25" and body["fallback"] is None


def test_filters_and_facets(client, catalogue) -> None:
    red, blue, case = catalogue["red"].id, catalogue["blue"].id, catalogue["case"].id
    get = lambda **p: client.get("/api/search", params={"q": "连衣裙", **p})  # noqa: E731
    assert _ids(get(in_stock="true")) == [red]
    assert _ids(get(in_stock="false")) == [blue]
    assert _ids(get(price_min_fen=20_000)) == [blue]
    assert _ids(get(price_max_fen=20_000)) == [red]
    assert set(_ids(get(brand_id=catalogue["brand"].id))) == {red, blue}
    assert set(_ids(client.get("/api/search", params={"category_id": catalogue["phones"].id}))) == {case}
    # A top category includes its leaves.
    assert _ids(client.get("/api/search", params={"category_id": catalogue["phones_top"].id})) == [case]
    assert _ids(client.get("/api/search", params={"shop_id": catalogue["shop_b"].shop.id})) == [case]
    facets = client.get("/api/search", params={"q": "连衣裙"}).json()["facets"]
    assert facets["brand"] == [{"key": str(catalogue["brand"].id), "label": "花语", "count": 2}]
    assert facets["shop"][0]["label"] == "花语女装" and facets["shop"][0]["count"] == 2
    assert {f["key"]: f["count"] for f in facets["in_stock"]} == {"true": 1, "false": 1}
    browse = client.get("/api/search", params={"category_id": catalogue["phones"].id}).json()
    # Each facet is counted without its own filter: both categories still show.
    assert {f["key"] for f in browse["facets"]["category"]} == {
        str(catalogue["dresses"].id),
        str(catalogue["phones"].id),
    }


def test_campaign_filter(client, db, catalogue) -> None:
    campaign = make_campaign(db, [catalogue["red"]])
    assert _ids(client.get("/api/search", params={"campaign_id": campaign.id})) == [catalogue["red"].id]


def test_sorts_and_cursor_pages(client, catalogue) -> None:
    cheap_first = _ids(client.get("/api/search", params={"sort": "price_asc"}))
    assert cheap_first == [catalogue["case"].id, catalogue["red"].id, catalogue["blue"].id]
    first = client.get("/api/search", params={"sort": "price_desc", "limit": 2}).json()
    assert [i["id"] for i in first["items"]] == [catalogue["blue"].id, catalogue["red"].id]
    second = client.get(
        "/api/search", params={"sort": "price_desc", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert _ids(second) == [catalogue["case"].id] and second.json()["next_cursor"] is None


def test_zero_results_fall_back_and_suggest(client, catalogue) -> None:
    body = client.get("/api/search", params={"q": "zzzzqqqq"}).json()
    assert body["fallback"] == "popular_in_filters" and len(body["items"]) == 3
    typo = client.get("/api/search", params={"q": "dresss"}).json()
    assert typo["suggestion"] == "dress" and typo["items"]


def test_explain_gives_feature_contributions(client, catalogue) -> None:
    body = client.get("/api/search", params={"q": "连衣裙", "explain": "true"}).json()
    assert all(item["explanation"] and item["explanation"][0]["feature"] == "bm25" for item in body["items"])


@pytest.mark.parametrize(
    "params",
    [
        {"q": "连衣裙"},
        {"q": "连衣裙", "explain": "true"},
        {"q": "zzzzqqqq"},
        {"q": "dresss", "in_stock": "true"},
        {"sort": "price_asc", "limit": 1},
        {"q": "<b>&\"'"},
    ],
)
def test_the_body_built_as_bytes_is_the_response_model(client, catalogue, params: dict) -> None:
    # /api/search serialises its page straight to JSON; the same page as ProductSearchOut models
    # gives the same document.
    import json

    from zhongcao.search import service, views

    state = service.state_for(client.app)
    filters = service.ProductFilters(in_stock=True if params.get("in_stock") else None)
    page = service.search_products(
        None,
        state,
        params.get("q", ""),
        filters,
        sort=params.get("sort", "relevance"),
        limit=params.get("limit", 20),
        explain="explain" in params,
    )
    assert json.loads(views._product_page_json(page)) == json.loads(
        views._product_page(page).model_dump_json()
    )
    assert client.get("/api/search", params=params).json() == json.loads(views._product_page_json(page))


def test_shops_and_content(client, db, catalogue) -> None:
    # Shops and content are indexed at the worker's (periodic) full build, not by the change feed.
    _user, creator = make_creator(db)
    content = make_content(db, creator, [catalogue["red"]])
    shops = client.get("/api/search", params={"q": "数码", "type": "shop"}).json()
    assert [s["id"] for s in shops["items"]] == [catalogue["shop_b"].shop.id]
    found = client.get("/api/search", params={"q": "zhongcao", "type": "content"})
    assert _ids(found)[0] == content.id  # pinyin of 种草视频's title


@pytest.mark.parametrize(
    "q",
    [
        "",
        "   ",
        "😀🎉👗",
        "\x00\x01\x1b[31m\x7f",
        "'; DROP TABLE products; --",
        '" OR 1=1 /*',
        ".*[a-z]+(?=x)\\",
        "%_%' UNION SELECT *",
        "a" * 10_000,
        "连衣裙" * 2_000,  # 6,000 characters (the test client caps URLs at 64 KiB)
    ],
)
def test_bad_queries_return_clean_results(client, catalogue, q: str) -> None:
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"] and body["truncated"] == (len(q) > 256)
    assert all("<script" not in i["highlight"] for i in body["items"])
    assert client.get("/api/search/suggest", params={"q": q}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "a" * 10_001}, "q"),
        ({"sort": "random"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"price_min_fen": -1}, "price_min_fen"),
        ({"price_min_fen": 10, "price_max_fen": 5}, "price_min_fen"),
        ({"category_id": "abc"}, "category_id"),
        ({"type": "users"}, "type"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "eyJvIjogLTV9"}, "cursor"),
    ],
)
def test_bad_parameters_are_a_clean_422(client, catalogue, params: dict, field: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] in ("validation_error", "invalid_search", "invalid_cursor")
    assert body["details"]["field"].endswith(field)


def test_suggest_by_prefix_and_pinyin(client, db) -> None:
    category, shop = make_category(db), make_shop(db)
    for n in range(3):
        _product(db, shop.shop, category, f"碎花 连衣裙 {n}", f"Floral dress {n}", price=9_900, stock=3)
    for q in ("连衣", "lianyi", "lyq", "flo"):
        texts = [s["text"] for s in client.get("/api/search/suggest", params={"q": q}).json()["items"]]
        assert any("连衣裙" in t or "floral" in t for t in texts), (q, texts)
    assert_error(client.get("/api/search/suggest", params={"limit": 50}), 422, "validation_error", "limit")
