"""Discounting in the numbers people see and the rankings built on them (issue #19, item 3): the
sales shown and ranked leave out brushed orders' units, wherever they appear, and come back when the
case is dismissed. A small ring is planted by recording a brushing case over real orders."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.commerce_helpers import ADDRESS, completed_order, make_content, make_plan, paid_order
from tests.factories import auth, make_creator, make_product, make_shop, make_user
from tests.integrity_helpers import block, dismiss, flag
from tests.web_helpers import web_login
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import Sku
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.models import FlagKind

OWN_ADDRESS = {**ADDRESS, "line": "文一西路 969 号"}  # not the ring's shared address


def _sales_everywhere(client, db, bundle) -> dict[str, object]:
    product_id, sku_id = bundle.product.id, bundle.item.sku_id
    facts = catalog_service.on_sale_product_facts_query().subquery()
    snap = catalog_service.catalogue_snapshot(db)
    owner = auth(db, bundle.shop.owner)
    api = client.get(f"/api/merchant/products/{product_id}", headers=owner).json()
    return {
        "shown": catalog_service.shown_sold_counts(db, [sku_id])[sku_id],
        "search_index": catalog_service.searchable_products(db, [product_id])[0].sold,
        "feed_and_matching": snap.sold[snap.product_ids.index(product_id)],
        "plaza": db.scalar(select(facts.c.sales).where(facts.c.product_id == product_id)),
        "api": [s["sold_count"] for s in api["skus"] if s["id"] == sku_id],
        "product_page": f"已售 {catalog_service.shown_sold_counts(db, [sku_id])[sku_id]}"
        in client.get(f"/products/{product_id}").text,
        "shop_page": client.get(f"/shops/{bundle.shop.shop.id}").text.count("已售 "),
    }


def test_sales_leave_out_brushed_orders_until_dismissed(client, db, settings) -> None:
    honest = completed_order(db, quantity=2, address=OWN_ADDRESS)
    # Each at its own address: what discounts here is the case's flags, not the hold on shared keys.
    ring = [
        completed_order(
            db, shop=honest.shop, product=honest.product, address={**ADDRESS, "line": f"环城北路 {i} 号"}
        )
        for i in range(3)
    ]
    db.expire_all()
    assert db.get(Sku, honest.item.sku_id).sold_count == 5
    before = _sales_everywhere(client, db, honest)
    assert before["shown"] == 5 and before["search_index"] == 5 and before["feed_and_matching"] == 5
    assert before["plaza"] == 5 and before["api"] == [5] and before["product_page"]

    case_id = flag(
        db,
        settings,
        block(
            [r.buyer.id for r in ring],
            [honest.shop.shop.id],
            kind=BlockKind.brushing,
            target_kind=TargetKind.shop,
            orders=[r.order.id for r in ring],
        ),
    )
    during = _sales_everywhere(client, db, honest)
    assert during["shown"] == 2 and during["search_index"] == 2 and during["feed_and_matching"] == 2
    assert during["plaza"] == 2 and during["api"] == [2] and during["product_page"]
    db.expire_all()
    assert db.get(Sku, honest.item.sku_id).sold_count == 5  # the bookkeeping stays exact

    web_login(client, honest.shop.owner.email)
    listing = client.get("/merchant/products").text
    assert '<td class="num">2</td>' in listing and '<td class="num">5</td>' not in listing

    dismiss(db, settings, case_id)
    assert _sales_everywhere(client, db, honest) == before


def _followers_everywhere(client, db, fan, creator, shop_bundle, content, plan) -> dict[str, object]:
    owner = auth(db, shop_bundle.owner)
    plan_page = client.get(f"/merchant/alliance/plans/{plan.id}", params={"q": "shown-"}).text
    n = _n(db, creator)
    found = client.get(
        "/api/merchant/affiliate/creator-accounts", params={"q": "shown-"}, headers=owner
    ).json()
    shop_account = shop_bundle.account.id
    return {
        "api": client.get(f"/api/accounts/{creator.id}").json()["follower_count"],
        "content_api": client.get(f"/api/content/{content.id}").json()["account"]["follower_count"],
        "my_follows": [
            f["account"]["follower_count"]
            for f in client.get("/api/me/follows", headers=auth(db, fan)).json()["items"]
        ],
        "feed_feature": content_reads.account_briefs(db, [creator.id])[creator.id].follower_count,
        "matching": dict(content_reads.creator_account_rows(db))[creator.id],
        "creator_search": [(a["id"], a["follower_count"]) for a in found],
        "account_page": client.get(f"/accounts/{creator.id}").text.count(f"{_n(db, creator)} 粉丝"),
        "video_page": client.get(f"/videos/{content.id}").text.count(f"{_n(db, creator)} 粉丝"),
        "shop_page": f"{_n(db, shop_bundle.account)} 粉丝"
        in client.get(f"/shops/{shop_bundle.shop.id}").text,
        "shop_account": content_reads.shown_follower_counts(db, [shop_account])[shop_account],
        "plan_listed": f"@{creator.handle} · {n} 粉丝" in plan_page,
        "plan_found": re.search(rf"@{creator.handle}</span></th>\s*<td class=\"num\">{n}</td>", plan_page)
        is not None,
    }


def _n(db, account) -> int:
    return content_reads.shown_follower_counts(db, [account.id])[account.id]


def test_follower_counts_leave_out_bought_follows_until_dismissed(client, db, settings) -> None:
    _, bought = make_creator(db)  # 2 real followers and 4 bought ones
    _, honest = make_creator(db)  # 3 real followers
    for account, handle in ((bought, "shown-bought"), (honest, "shown-honest")):
        account.handle = handle
    shop = make_shop(db)
    db.commit()
    farm = [make_user(db) for _ in range(4)]
    fans = [make_user(db) for _ in range(3)]
    for user in farm:
        content_service.follow_account(db, user.id, bought.id)
        content_service.follow_account(db, user.id, shop.account.id)
    for user in fans:
        content_service.follow_account(db, user.id, honest.id)
    for user in fans[:2]:
        content_service.follow_account(db, user.id, bought.id)
    product = make_product(db, shop.shop)
    content = make_content(db, bought, [product])
    plan = make_plan(db, product, kind=PlanKind.targeted, creators=[bought])
    db.commit()
    web_login(client, shop.owner.email)  # the merchant's alliance page; the public pages look the same

    before = _followers_everywhere(client, db, fans[0], bought, shop, content, plan)
    assert before["api"] == before["content_api"] == before["feed_feature"] == before["matching"] == 6
    assert sorted(before["my_follows"]) == [3, 6]
    assert before["creator_search"] == [(bought.id, 6), (honest.id, 3)]  # most followed first
    assert before["account_page"] and before["video_page"] and before["shop_page"]
    assert before["shop_account"] == 4 and before["plan_listed"] and before["plan_found"]

    case_id = flag(
        db,
        settings,
        block([u.id for u in farm], [bought.id, shop.account.id], target_kind=TargetKind.account),
    )
    during = _followers_everywhere(client, db, fans[0], bought, shop, content, plan)
    assert during["api"] == during["content_api"] == during["feed_feature"] == during["matching"] == 2
    assert sorted(during["my_follows"]) == [2, 3]
    assert during["creator_search"] == [(honest.id, 3), (bought.id, 2)]  # bought follows rank nothing
    assert during["account_page"] and during["video_page"] and during["shop_page"]
    assert during["shop_account"] == 0 and during["plan_listed"] and during["plan_found"]

    dismiss(db, settings, case_id)
    assert _followers_everywhere(client, db, fans[0], bought, shop, content, plan) == before


def test_sales_of_buyers_sharing_an_address_wait_a_week_for_their_evidence(client, db, settings) -> None:
    """Three buyers shipping to one address (a ring's look before its confirmations and reviews come
    in): the scan finds no block yet, but their units are held from the sales shown and ranked for a
    week, and so are those of the shop's other new customers (a ring member paying with its own address
    looks like one); a returning customer's count at once; after the week all count again."""
    from datetime import timedelta

    from zhongcao import clock, integrity_flows

    with clock.frozen(clock.now() - timedelta(days=10)):
        honest = completed_order(db, quantity=2, address=OWN_ADDRESS)  # the shop's customer since
    completed_order(
        db, buyer=honest.buyer, shop=honest.shop, product=honest.product, quantity=2, address=OWN_ADDRESS
    )
    new = {**ADDRESS, "line": "莫干山路 100 号"}
    completed_order(db, shop=honest.shop, product=honest.product, address=new)  # a new customer
    for _ in range(3):  # three buyers, all shipping to the shared test ADDRESS
        paid_order(db, shop=honest.shop, product=honest.product)
    db.expire_all()
    assert catalog_service.shown_sold_counts(db, [honest.item.sku_id])[honest.item.sku_id] == 8

    integrity_flows.publish_flags(db, settings)
    assert _sales_everywhere(client, db, honest)["shown"] == 4  # the returning customer's two orders
    assert integrity_service.active_flags(db).of_kind(FlagKind.order).tolist() == []  # held, not flagged

    with clock.frozen(clock.now() + timedelta(days=7, hours=1)):
        integrity_flows.publish_flags(db, settings)
    after = _sales_everywhere(client, db, honest)
    assert after["shown"] == 8 and after["search_index"] == 8 and after["plaza"] == 8
