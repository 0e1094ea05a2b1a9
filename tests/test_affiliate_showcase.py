"""The creator's showcase (商品橱窗) and the plaza's search, filters and sorts, on both databases:
adding only what the creator may promote (and saying why not), order, removal, what shoppers see when
a product goes off sale or its plan ends, buying from a showcase (the showcase channel and the
creator's commission), and the plaza by pinyin with every filter and sort."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api_helpers import assert_error, walk_items
from tests.commerce_helpers import first_sku, place
from tests.content_helpers import make_plan
from tests.factories import auth, make_category, make_creator, make_product, make_shop, make_user
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate import showcase
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.commerce.models import Carrier, Channel
from zhongcao.experience import scores as experience_scores

SHOWCASE = "/api/creator/showcase"


def _ids(body: dict[str, Any]) -> list[int]:
    return [i["product_id"] for i in body["items"]]


# --- the showcase ----------------------------------------------------------------------------------


def test_add_order_move_remove(client, db):
    bundle = make_shop(db)
    a, b, c = (make_product(db, bundle.shop, price_fen=20_000) for _ in range(3))
    for p in (a, b, c):
        make_plan(db, p, PlanKind.open, 1500)
    creator, account = make_creator(db)
    h = auth(db, creator)

    for p in (a, b, c):
        r = client.post(SHOWCASE, json={"product_id": p.id}, headers=h)
        assert r.status_code == 201, r.text
    body = client.get(SHOWCASE, headers=h).json()
    assert _ids(body) == [a.id, b.id, c.id]
    first = body["items"][0]
    assert first["position"] == 1 and first["available"] is True and first["unavailable_reason"] is None
    assert first["commission_bps"] == 1500 and first["estimated_commission_fen"] == 3_000
    assert first["product_title_zh"] == a.title_zh and first["price_fen"] == 20_000

    assert_error(client.post(SHOWCASE, json={"product_id": a.id}, headers=h), 409, "already_in_showcase")
    r = client.post(f"{SHOWCASE}/{c.id}/move", json={"position": 1}, headers=h)
    assert r.status_code == 200 and _ids(r.json()) == [c.id, a.id, b.id]
    r = client.post(f"{SHOWCASE}/{c.id}/move", json={"position": 99}, headers=h)
    assert _ids(r.json()) == [a.id, b.id, c.id]
    assert [i["position"] for i in r.json()["items"]] == [1, 2, 3]
    assert_error(
        client.post(f"{SHOWCASE}/{c.id}/move", json={"position": 0}, headers=h), 422, "validation_error"
    )

    assert client.delete(f"{SHOWCASE}/{a.id}", headers=h).status_code == 204
    body = client.get(SHOWCASE, headers=h).json()
    assert _ids(body) == [b.id, c.id] and [i["position"] for i in body["items"]] == [1, 2]
    assert_error(client.delete(f"{SHOWCASE}/{a.id}", headers=h), 404, "showcase_item_not_found")
    assert showcase.showcase_product_ids(db, account.id) == [b.id, c.id]
    public = client.get(f"/api/accounts/{account.id}/showcase").json()
    assert [i["product_id"] for i in public["items"]] == [b.id, c.id]
    assert public["items"][0]["title_zh"] == b.title_zh and public["items"][0]["price_fen"] == 20_000


def test_refusals_say_why(client, db):
    bundle = make_shop(db)
    no_plan, exclusive, delisted, targeted_only = (make_product(db, bundle.shop) for _ in range(4))
    creator, account = make_creator(db)
    _, rival = make_creator(db)
    make_plan(db, exclusive, PlanKind.exclusive, 2000, creators=[rival])
    make_plan(db, delisted, PlanKind.open, 1000)
    delisted.status = ProductStatus.delisted
    db.commit()
    make_plan(db, targeted_only, PlanKind.open, 500)
    make_plan(db, targeted_only, PlanKind.targeted, 1500, creators=[rival])
    h = auth(db, creator)

    for product, reason in (
        (no_plan, "no_active_plan"),
        (exclusive, "exclusive_to_others"),
        (delisted, "product_off_sale"),
    ):
        body = assert_error(
            client.post(SHOWCASE, json={"product_id": product.id}, headers=h),
            422,
            "not_promotable",
            "product_id",
        )
        assert body["details"]["reason"] == reason
    # The open plan beside the targeted one lets anyone promote it.
    assert client.post(SHOWCASE, json={"product_id": targeted_only.id}, headers=h).status_code == 201
    assert_error(
        client.post(SHOWCASE, json={"product_id": 10**12}, headers=h), 422, "product_not_found", "product_id"
    )
    assert_error(client.post(SHOWCASE, json={"product_id": "x"}, headers=h), 422, "validation_error")
    assert_error(
        client.post(SHOWCASE, json={"product_id": no_plan.id}, headers=auth(db, make_user(db))),
        403,
        "wrong_role",
    )
    assert_error(client.get(SHOWCASE), 401, "not_authenticated")
    assert_error(client.get(f"/api/accounts/{10**12}/showcase"), 404, "account_not_found")
    assert showcase.showcase_product_ids(db, account.id) == [targeted_only.id]


def test_off_sale_and_ended_plans_leave_what_shoppers_see(client, db):
    bundle = make_shop(db)
    keep, delist, ended, exclusive_later = (make_product(db, bundle.shop) for _ in range(4))
    plans = {p.id: make_plan(db, p, PlanKind.open, 1000) for p in (keep, delist, ended, exclusive_later)}
    creator, account = make_creator(db)
    _, rival = make_creator(db)
    h = auth(db, creator)
    for p in (keep, delist, ended, exclusive_later):
        assert client.post(SHOWCASE, json={"product_id": p.id}, headers=h).status_code == 201

    delist.status = ProductStatus.delisted
    db.commit()
    affiliate_service.end_plan(db, bundle.shop.id, plans[ended.id].id)
    affiliate_service.end_plan(db, bundle.shop.id, plans[exclusive_later.id].id)
    make_plan(db, exclusive_later, PlanKind.exclusive, 3000, creators=[rival])

    public = client.get(f"/api/accounts/{account.id}/showcase").json()
    assert [i["product_id"] for i in public["items"]] == [keep.id]
    mine = {i["product_id"]: i for i in client.get(SHOWCASE, headers=h).json()["items"]}
    assert len(mine) == 4  # nothing deleted
    assert mine[keep.id]["available"] is True
    assert (mine[delist.id]["available"], mine[delist.id]["unavailable_reason"]) == (
        False,
        "product_off_sale",
    )
    assert mine[ended.id]["unavailable_reason"] == "no_active_plan"
    assert mine[exclusive_later.id]["unavailable_reason"] == "exclusive_to_others"
    assert mine[exclusive_later.id]["commission_bps"] is None

    # Back on sale: back in the showcase, in its place.
    delist.status = ProductStatus.active
    db.commit()
    assert showcase.showcase_product_ids(db, account.id) == [keep.id, delist.id]


def test_a_creator_sees_and_changes_only_their_own_showcase(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    make_plan(db, product, PlanKind.open, 1000)
    me, _ = make_creator(db)
    other, other_account = make_creator(db)
    assert client.post(SHOWCASE, json={"product_id": product.id}, headers=auth(db, other)).status_code == 201
    assert client.get(SHOWCASE, headers=auth(db, me)).json() == {"items": []}
    assert_error(
        client.delete(f"{SHOWCASE}/{product.id}", headers=auth(db, me)), 404, "showcase_item_not_found"
    )
    assert_error(
        client.post(f"{SHOWCASE}/{product.id}/move", json={"position": 1}, headers=auth(db, me)),
        404,
        "showcase_item_not_found",
    )
    assert showcase.showcase_product_ids(db, other_account.id) == [product.id]


def test_buying_from_a_showcase_carries_the_creator(db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop, price_fen=10_000)
    make_plan(db, product, PlanKind.open, 1200)
    _, account = make_creator(db)
    showcase.add(db, account.id, product.id)
    buyer = make_user(db)
    checkout = place(
        db,
        buyer,
        [
            {
                "sku_id": first_sku(db, product).id,
                "quantity": 1,
                "attribution": {"channel": "showcase", "account_id": account.id},
            }
        ],
    )
    item = checkout.orders[0].items[0]
    assert (item.channel, item.account_id, item.content_id) == (Channel.showcase, account.id, None)
    assert item.carrier == Carrier.alliance and item.commission_bps == 1200


# --- the plaza -------------------------------------------------------------------------------------


def _product(db, shop, category, zh: str, en: str, *, price: int, sold: int = 0) -> Product:
    product = Product(
        shop_id=shop.id, category_id=category.id, title_zh=zh, title_en=en, status=ProductStatus.active
    )
    db.add(product)
    db.flush()
    db.add(Sku(product_id=product.id, code=f"S{product.id}", price_fen=price, stock=50, sold_count=sold))
    db.commit()
    return product


@pytest.fixture
def plaza_world(db) -> dict[str, Any]:
    dresses, fitness = make_category(db), make_category(db)
    good, poor = make_shop(db, "花语女装"), make_shop(db, "健身之家")
    experience_scores.record_score(db, good.shop.id, score_centi=480)
    experience_scores.record_score(db, poor.shop.id, score_centi=390)
    db.commit()
    red = _product(db, good.shop, dresses, "夏季红色连衣裙", "Summer red dress", price=19_900, sold=120)
    blue = _product(db, good.shop, dresses, "蓝色长款连衣裙", "Blue long dress", price=29_900, sold=10)
    bells = _product(db, poor.shop, fitness, "可调节哑铃", "Adjustable dumbbells", price=49_900, sold=300)
    plans = {
        "red": make_plan(db, red, PlanKind.open, 2000),
        "blue": make_plan(db, blue, PlanKind.open, 800),
        "bells": make_plan(db, bells, PlanKind.open, 1000),
    }
    plans["red_targeted"] = make_plan(db, red, PlanKind.targeted, 3000)
    creator, account = make_creator(db)
    return {
        "red": red,
        "blue": blue,
        "bells": bells,
        "plans": plans,
        "dresses": dresses,
        "creator": creator,
        "account": account,
    }


def _plaza(client, db, world, **params: Any) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return walk_items(
        client, "/api/creator/plaza" + (f"?{query}" if query else ""), auth(db, world["creator"])
    )


@pytest.mark.parametrize("q", ["连衣裙", "lianyiqun", "lyq", "dress"])
def test_plaza_search_uses_the_product_analysis(client, db, plaza_world, q):
    w = plaza_world
    rows = _plaza(client, db, w, q=q)
    assert {r["product_id"] for r in rows} == {w["red"].id, w["blue"].id}
    assert len(rows) == 3  # the red dress has an open and a targeted plan


def test_plaza_filters(client, db, plaza_world):
    w = plaza_world
    p = w["plans"]
    plan_ids = lambda **kw: {r["plan_id"] for r in _plaza(client, db, w, **kw)}  # noqa: E731
    assert plan_ids(category_id=w["dresses"].id) == {p["red"].id, p["blue"].id, p["red_targeted"].id}
    assert plan_ids(min_commission_bps=1000, max_commission_bps=2000) == {p["red"].id, p["bells"].id}
    assert plan_ids(min_price_fen=20_000, max_price_fen=50_000) == {p["blue"].id, p["bells"].id}
    assert plan_ids(min_shop_score_centi=450) == {p["red"].id, p["blue"].id, p["red_targeted"].id}
    assert plan_ids(min_sales=100) == {p["red"].id, p["red_targeted"].id, p["bells"].id}
    assert plan_ids(q="lyq", kind="targeted") == {p["red_targeted"].id}
    assert plan_ids(q="lyq", min_sales=100, kind="open") == {p["red"].id}
    assert plan_ids(q="wxyz不存在") == set()
    rows = _plaza(client, db, w, q="hongse")
    assert rows[0]["sales"] == 120 and rows[0]["shop_score_centi"] == 480
    assert rows[0]["category_id"] == w["dresses"].id and rows[0]["in_showcase"] is False


def test_plaza_sorts_and_pages(client, db, plaza_world):
    w = plaza_world
    p = w["plans"]
    order = lambda sort: [r["plan_id"] for r in _plaza(client, db, w, sort=sort)]  # noqa: E731
    assert order("commission_rate") == [p["red_targeted"].id, p["red"].id, p["bells"].id, p["blue"].id]
    # Per sale: 199 × 30% = 59.70, 499 × 10% = 49.90, 199 × 20% = 39.80, 299 × 8% = 23.92.
    assert order("commission_per_sale") == [p["red_targeted"].id, p["bells"].id, p["red"].id, p["blue"].id]
    assert order("sales")[:1] == [p["bells"].id] and order("sales")[-1] == p["blue"].id
    assert order("price_asc")[-1] == p["bells"].id and order("price_desc")[0] == p["bells"].id
    assert order("shop_score")[-1] == p["bells"].id
    assert order("newest") == [p["red_targeted"].id, p["bells"].id, p["blue"].id, p["red"].id]
    assert order("newest") == [r["plan_id"] for r in _plaza(client, db, w)]


def test_plaza_bad_input(client, db, plaza_world):
    h = auth(db, plaza_world["creator"])
    for params, field in (
        ("sort=cheapest", "sort"),
        ("min_commission_bps=0", "min_commission_bps"),
        ("min_shop_score_centi=501", "min_shop_score_centi"),
        ("min_price_fen=-1", "min_price_fen"),
    ):
        body = assert_error(client.get(f"/api/creator/plaza?{params}", headers=h), 422, "validation_error")
        assert field in str(body)
    assert_error(
        client.get("/api/creator/plaza?min_price_fen=500&max_price_fen=100", headers=h),
        422,
        "invalid_range",
        "min_price_fen",
    )
    assert_error(client.get("/api/creator/plaza?cursor=abc", headers=h), 422, "invalid_cursor", "cursor")


def test_plaza_marks_what_is_in_my_showcase(client, db, plaza_world):
    w = plaza_world
    showcase.add(db, w["account"].id, w["bells"].id)
    rows = {r["plan_id"]: r for r in _plaza(client, db, w)}
    assert rows[w["plans"]["bells"].id]["in_showcase"] is True
    assert rows[w["plans"]["red"].id]["in_showcase"] is False
