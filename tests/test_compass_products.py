"""Compass product funnel and search insights, by hand: each number traced to the events and orders
that make it, and each shop sees only its own products and its own share of a query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa

from tests.commerce_helpers import delivered_order, first_sku, make_content, paid_order, pay, place
from tests.compass_helpers import refresh_compass
from tests.factories import auth, make_category, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.commerce import service as commerce_service
from zhongcao.events import service as events_service
from zhongcao.reviews import service as reviews_service

MINUTE_US = 60 * 1_000_000


def _ingest(store: Any, rows: list[dict[str, Any]]) -> None:
    """Events given one dict per event (missing columns are null)."""
    names = sorted({k for row in rows for k in row})
    columns: dict[str, Any] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        columns[name] = pa.array(values, pa.list_(pa.int64())) if name == "result_ids" else values
    events_service.ingest(columns, store)


def _search_order(db, buyer, product) -> Any:  # type: ignore[no-untyped-def]
    """A paid order of ``product`` attributed to search (as the app sends it from a results page)."""
    checkout = place(
        db,
        buyer,
        [{"sku_id": first_sku(db, product).id, "quantity": 1, "attribution": {"channel": "search"}}],
    )
    return pay(db, buyer, checkout)


def _world(client, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two shops selling lamps (category A), the second also phone cases (category B)."""
    lamps, cases = make_category(db), make_category(db)
    mine, theirs = make_shop(db), make_shop(db)
    p1 = make_product(db, mine.shop, category=lamps, price_fen=10_000, stock=50)
    p2 = make_product(db, mine.shop, category=lamps, price_fen=3_000, stock=50)
    p3 = make_product(db, theirs.shop, category=lamps, price_fen=8_000, stock=50)
    p4 = make_product(db, theirs.shop, category=cases, price_fen=2_000, stock=50)
    b = [make_user(db) for _ in range(8)]
    now = clock.now()
    now_us = int(now.timestamp() * 1_000_000)
    store = events_service.get_store(client.app.state.settings, client.app.state.database)
    store.clear()
    # The period before (10 days ago): one order of p1 and one view of it.
    with clock.travel(now - timedelta(days=10)):
        paid_order(db, buyer=b[0], shop=mine, product=p1)
    _ingest(
        store,
        [
            {
                "ts": now_us - 10 * 86_400 * 1_000_000,
                "type": "product_view",
                "user_id": b[0].id,
                "product_id": p1.id,
            }
        ],
    )

    def at(minutes: int) -> int:
        return now_us - minutes * MINUTE_US

    _ingest(
        store,
        [
            # b1 searched "table lamp" an hour ago, then "  Desk LAMP " (normalised "desk lamp"): the
            # view from search is credited to the latest search that showed p1, and so is the order.
            {
                "ts": at(60),
                "type": "search",
                "user_id": b[1].id,
                "query": "table lamp",
                "result_ids": [p1.id],
            },
            {
                "ts": at(10),
                "type": "search",
                "user_id": b[1].id,
                "query": "  Desk LAMP ",
                "result_ids": [p1.id, p3.id, p2.id],
            },
            {
                "ts": at(9),
                "type": "product_view",
                "user_id": b[1].id,
                "product_id": p1.id,
                "channel": "search",
            },
            {
                "ts": at(8),
                "type": "add_to_cart",
                "user_id": b[1].id,
                "product_id": p1.id,
                "channel": "search",
            },
            # b2 searched "desk lamp" and clicked theirs; later viewed p1 from the mall (not search).
            {
                "ts": at(9),
                "type": "search",
                "user_id": b[2].id,
                "query": "desk lamp",
                "result_ids": [p3.id, p1.id],
            },
            {
                "ts": at(8),
                "type": "product_view",
                "user_id": b[2].id,
                "product_id": p3.id,
                "channel": "search",
            },
            {"ts": at(5), "type": "product_view", "user_id": b[2].id, "product_id": p1.id, "channel": "mall"},
            # b7 searched three hours ago: the view from search now is too late to be credited.
            {
                "ts": at(180),
                "type": "search",
                "user_id": b[7].id,
                "query": "desk lamp",
                "result_ids": [p2.id],
            },
            {
                "ts": at(1),
                "type": "product_view",
                "user_id": b[7].id,
                "product_id": p2.id,
                "channel": "search",
            },
            # Demand in lamps that only the other shop won, or that nobody clicked; and phone cases.
            {
                "ts": at(30),
                "type": "search",
                "user_id": b[3].id,
                "query": "lamp shade",
                "result_ids": [p3.id],
            },
            {
                "ts": at(29),
                "type": "product_view",
                "user_id": b[3].id,
                "product_id": p3.id,
                "channel": "search",
            },
            {
                "ts": at(30),
                "type": "search",
                "user_id": b[4].id,
                "query": "Lamp Shade",
                "result_ids": [p3.id],
            },
            {
                "ts": at(28),
                "type": "product_view",
                "user_id": b[4].id,
                "product_id": p3.id,
                "channel": "search",
            },
            {"ts": at(20), "type": "search", "user_id": b[5].id, "query": "lamp oil", "result_ids": [p3.id]},
            {
                "ts": at(20),
                "type": "search",
                "user_id": b[6].id,
                "query": "phone case",
                "result_ids": [p4.id],
            },
            {
                "ts": at(19),
                "type": "product_view",
                "user_id": b[6].id,
                "product_id": p4.id,
                "channel": "search",
            },
        ],
    )
    # A video of mine anchoring p2, shown three times.
    video = make_content(db, mine.account, [p2])
    _ingest(
        store,
        [{"ts": at(15), "type": "impression", "user_id": u.id, "content_id": video.id} for u in b[:3]],
    )
    # Orders this period: b1's from search (p1); b2 two of p1; b4 one of p1, delivered and rated 2;
    # b3 one of p2, delivered and rated 5; b5 one of p2 that the shop cancelled (refunded in full).
    _search_order(db, b[1], p1)
    paid_order(db, buyer=b[2], shop=mine, product=p1, quantity=2)
    bad = delivered_order(db, buyer=b[4], shop=mine, product=p1)
    reviews_service.create_review(db, b[4].id, bad.order.id, bad.item.id, rating=2, text="dim")
    good = delivered_order(db, buyer=b[3], shop=mine, product=p2)
    reviews_service.create_review(db, b[3].id, good.order.id, good.item.id, rating=5, text="bright")
    cancelled = paid_order(db, buyer=b[5], shop=mine, product=p2)
    commerce_service.cancel_order_as_merchant(db, mine.shop.id, cancelled.order.id, reason="out_of_stock")
    paid_order(db, buyer=b[6], shop=theirs, product=p4)
    refresh_compass(client, db)
    return {"mine": mine, "theirs": theirs, "p": [None, p1, p2, p3, p4], "lamps": lamps, "cases": cases}


def test_product_funnel_refunds_and_reviews_by_hand(client, db) -> None:
    w = _world(client, db)
    p1, p2 = w["p"][1], w["p"][2]
    body = client.get("/api/merchant/compass/products?days=7", headers=auth(db, w["mine"].owner)).json()
    rows = {r["product_id"]: r for r in body["products"]}
    assert set(rows) == {p1.id, p2.id}  # only the caller's products
    one, two = rows[p1.id]["current"], rows[p2.id]["current"]
    # p1: three search result slots ("table lamp", and "desk lamp" twice); viewed from search and
    # from the mall; one add-to-cart; orders from b1 (search), b2 (two units), b4 (delivered).
    assert (one["search_exposures"], one["content_exposures"], one["exposures"]) == (3, 0, 3)
    assert (one["clicks"], one["add_to_carts"]) == (2, 1)
    assert (one["orders"], one["units"], one["buyers"], one["gmv_fen"]) == (3, 4, 3, 40_000)
    assert (one["reviews"], one["bad_reviews"], one["average_rating_centi"]) == (1, 1, 200)
    assert one["click_rate"] == 0.6667 and one["conversion"] == 1.5 and one["refund_rate"] == 0.0
    # p2: two slots (b1's "desk lamp" page and b7's), three impressions of the video anchoring it;
    # one view; two orders, one of them refunded in full; one five-star review.
    assert (two["search_exposures"], two["content_exposures"], two["clicks"]) == (2, 3, 1)
    assert (two["orders"], two["refunds"], two["refunded_fen"], two["refund_rate"]) == (2, 1, 3_000, 0.5)
    assert (two["reviews"], two["average_rating_centi"]) == (1, 500)
    # Against the period before: p1 had one order and one view then.
    before = rows[p1.id]["previous"]
    assert (before["orders"], before["clicks"], before["gmv_fen"]) == (1, 1, 10_000)
    assert rows[p1.id]["change"]["orders"] == 2.0 and rows[p1.id]["change"]["clicks"] == 1.0
    assert rows[p2.id]["change"]["orders"] is None  # nothing before: no ratio
    assert rows[p1.id]["title_en"] == p1.title_en and rows[p1.id]["on_sale"] is True
    # Busiest first by GMV (default), or by what the merchant asks for.
    assert [r["product_id"] for r in body["products"]] == [p1.id, p2.id]
    by_exposure = client.get(
        "/api/merchant/compass/products?days=7&sort=exposures&limit=1", headers=auth(db, w["mine"].owner)
    ).json()["products"]
    assert [r["product_id"] for r in by_exposure] == [p2.id]
    # The other shop sees only its own products.
    theirs = client.get("/api/merchant/compass/products?days=7", headers=auth(db, w["theirs"].owner)).json()
    assert {r["product_id"] for r in theirs["products"]} == {w["p"][3].id, w["p"][4].id}
    bad = client.get("/api/merchant/compass/products?sort=price", headers=auth(db, w["mine"].owner))
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "sort"


def test_search_insights_by_hand_and_for_the_callers_shop_only(client, db) -> None:
    w = _world(client, db)
    body = client.get("/api/merchant/compass/search?days=7", headers=auth(db, w["mine"].owner)).json()
    led = {r["query"]: r for r in body["queries"]}
    assert list(led) == ["desk lamp", "table lamp"]  # most orders first; never "lamp shade" or "phone case"
    desk = led["desk lamp"]
    # Three searches; my products had 4 of its 6 slots; b1's click and order were credited to it
    # (b7's view came too late; b2's click went to the other shop).
    assert (desk["searches"], desk["exposures"], desk["clicks"], desk["orders"], desk["gmv_fen"]) == (
        3,
        4,
        1,
        1,
        10_000,
    )
    assert desk["exposure_share"] == 0.6667 and desk["click_share"] == 0.5
    assert desk["previous"] == {"exposures": 0, "clicks": 0, "orders": 0, "gmv_fen": 0}
    table = led["table lamp"]
    assert (table["searches"], table["exposures"], table["clicks"], table["click_share"]) == (1, 1, 0, None)
    # Missed: lamp queries (my category) where I got under a tenth of the clicks, most searched first;
    # "desk lamp" I won half of; "phone case" is not a category I sell in.
    missed = body["missed"]
    assert [m["query"] for m in missed] == ["lamp shade", "lamp oil", "table lamp"]
    shade = missed[0]
    assert shade["category_id"] == w["lamps"].id and shade["category_en"] == w["lamps"].name_en
    assert (shade["searches"], shade["clicks"], shade["shop_clicks"], shade["click_share"]) == (2, 2, 0, 0.0)
    assert (missed[1]["clicks"], missed[1]["click_share"]) == (0, None)  # nobody clicked "lamp oil"
    assert body["missed_below_share"] == 0.1
    # The other shop: its own queries and shares; mine never named.
    other = client.get("/api/merchant/compass/search?days=7", headers=auth(db, w["theirs"].owner)).json()
    theirs = {r["query"]: r for r in other["queries"]}
    assert set(theirs) == {"desk lamp", "lamp shade", "lamp oil", "phone case"}
    assert (theirs["desk lamp"]["clicks"], theirs["desk lamp"]["click_share"]) == (1, 0.5)
    assert theirs["lamp shade"]["click_share"] == 1.0 and theirs["phone case"]["orders"] == 0
    assert all("shop_id" not in m for m in other["missed"])
    assert all(m["query"] != "lamp shade" for m in other["missed"])  # they won it
    limited = client.get(
        "/api/merchant/compass/search?days=7&limit=1", headers=auth(db, w["mine"].owner)
    ).json()
    assert len(limited["queries"]) == 1 and len(limited["missed"]) == 1
    bad = client.get("/api/merchant/compass/search?limit=0", headers=auth(db, w["mine"].owner))
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "limit"
