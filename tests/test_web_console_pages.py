"""The consoles, server side (no browser): every page renders for its kind of account, nobody else
gets in, a merchant sees only their own shop, and the pages read in batches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.factories import PASSWORD, make_user
from tests.web_console_helpers import OTHER_SHOP_ORDER_TOTAL, seed_consoles
from tests.web_helpers import web_login
from zhongcao.shops.models import ShopStaff, StaffRole
from zhongcao.users.models import Role
from zhongcao.web import i18n


@pytest.fixture
def world(db, app):
    return seed_consoles(db, app)


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response.text


def merchant_pages(world) -> list[str]:
    return [
        "/merchant",
        "/merchant/products",
        "/merchant/products?status=active",
        f"/merchant/products/{world.web.product_ids[0]}",
        "/merchant/orders",
        "/merchant/orders?status=paid",
        f"/merchant/orders/{world.to_ship_order_id}",
        "/merchant/after-sales",
        "/merchant/after-sales?status=requested",
        f"/merchant/after-sales/{world.case_id}",
        "/merchant/inbox",
        "/merchant/inbox?filter=unanswered",
        f"/merchant/inbox/{world.conversation_id}",
        "/merchant/compass",
        "/merchant/compass?days=7",
        "/merchant/compass/funnels",
        "/merchant/compass/content",
        "/merchant/compass/audience",
        "/merchant/compass/search",
        "/merchant/score",
        "/merchant/finance",
        "/merchant/finance?status=settled&from=2026-01-01&to=2026-01-31",
    ]


CREATOR_PAGES = ["/creator", "/creator?days=90&kind=short_video", "/creator/commissions", "/creator/plans"]


def operator_pages(world) -> list[str]:
    return [
        "/operator",
        "/operator?days=30",
        "/operator/gmv",
        "/operator/scores",
        "/operator/campaigns",
        f"/operator/campaigns/{world.campaign_id}",
        "/operator/jobs",
    ]


# --- every page, for its own kind of account ----------------------------------------------------


def test_every_merchant_page_renders(client, world):
    web_login(client, world.merchant_email)
    for url in merchant_pages(world):
        html = _html(client.get(url))
        assert "<h1" in html and 'class="console-nav"' in html and "error-page" not in html, url
        assert 'aria-current="page"' in html, url
    home = _html(client.get("/merchant"))
    # The to-dos: two paid orders to ship (one sold by the creator's video), one after-sales request,
    # no return on its way, one chat awaiting a reply.
    counts = re.findall(r'<span class="todo-count">([^<]+)</span>', home)
    assert counts[:4] == ["2", "1", "0", "1"]


def test_every_creator_and_operator_page_renders(client, world):
    web_login(client, world.creator_email)
    for url in CREATOR_PAGES:
        assert "<h1" in _html(client.get(url)), url
    client.cookies.clear()
    web_login(client, world.operator_email)
    for url in operator_pages(world):
        assert "<h1" in _html(client.get(url)), url


def test_signing_in_lands_on_the_console_of_the_account(client, world):
    for email, home in (
        (world.merchant_email, "/merchant"),
        (world.creator_email, "/creator"),
        (world.operator_email, "/operator"),
        (world.web.shopper_email, "/"),
    ):
        client.cookies.clear()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        response = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.headers["location"] == home, email


# --- who gets in -------------------------------------------------------------------------------------


def test_consoles_need_sign_in_and_the_right_kind_of_account(client, world):
    everything = merchant_pages(world) + CREATOR_PAGES + operator_pages(world)
    for url in ("/merchant", "/creator/plans", "/operator/gmv"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), url
    web_login(client, world.web.shopper_email)
    for url in everything:
        assert "无权访问" in _html(client.get(url), 403), url
    client.cookies.clear()
    web_login(client, world.merchant_email)
    for url in CREATOR_PAGES + operator_pages(world):
        _html(client.get(url), 403)
    client.cookies.clear()
    web_login(client, world.creator_email)
    for url in ("/merchant", "/merchant/compass", "/operator"):
        _html(client.get(url), 403)


def test_a_merchant_without_a_shop_gets_the_403_page(client, db, world):
    loner = make_user(db, Role.merchant)
    web_login(client, loner.email)
    _html(client.get("/merchant"), 403)


def test_a_merchant_sees_only_their_own_shop(client, world):
    """Tenant isolation: Bloom's owner asks for Wild Outdoors' records by id and gets the 404 page;
    Bloom's lists and Compass never show them."""
    web_login(client, world.merchant_email)
    other_product = world.web.product_ids[4]
    for url in (
        f"/merchant/orders/{world.other_order_id}",
        f"/merchant/inbox/{world.other_conversation_id}",
        f"/merchant/products/{other_product}",
    ):
        assert "页面不存在" in _html(client.get(url), 404), url
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/merchant/orders").text).group(1)
    for url, data in (
        (
            f"/merchant/orders/{world.other_order_id}/ship",
            {"carrier_name": "顺丰", "tracking_number": "SF0001"},
        ),
        (f"/merchant/products/{other_product}/status", {"status": "delisted"}),
        (f"/merchant/inbox/{world.other_conversation_id}", {"body": "你好"}),
    ):
        _html(client.post(url, data={**data, "csrf_token": token}), 404)
    orders = _html(client.get("/merchant/orders"))
    assert f"#{world.other_order_id}<" not in orders and OTHER_SHOP_ORDER_TOTAL not in orders
    for url in ("/merchant", "/merchant/compass", "/merchant/compass?days=90", "/merchant/compass/audience"):
        assert OTHER_SHOP_ORDER_TOTAL not in _html(client.get(url)), url
    assert "山野" not in _html(client.get("/merchant/products"))
    assert "帐篷防水吗" not in _html(client.get("/merchant/inbox?filter="))
    # Wild Outdoors' own owner does see their sale in their Compass.
    client.cookies.clear()
    web_login(client, world.other_merchant_email)
    assert OTHER_SHOP_ORDER_TOTAL in _html(client.get("/merchant/compass"))


def test_a_service_agent_can_read_but_not_change_the_catalog_or_ship(client, db, world):
    agent = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=world.web.shop_id, user_id=agent.id, role=StaffRole.service_agent))
    db.commit()
    web_login(client, agent.email)
    page = _html(client.get(f"/merchant/orders/{world.to_ship_order_id}"))
    assert 'action="/merchant/orders/' not in page and "你的角色只能查看" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    shipped = client.post(
        f"/merchant/orders/{world.to_ship_order_id}/ship",
        data={"carrier_name": "顺丰", "tracking_number": "SF0001", "csrf_token": token},
    )
    _html(shipped, 403)
    inbox = _html(client.get(f"/merchant/inbox/{world.conversation_id}"))  # customer service is their job
    # The shop's money is for owners and operators: no Finance link, and the page is a 403.
    assert 'href="/merchant/finance"' not in inbox
    _html(client.get("/merchant/finance"), 403)


# --- content of the pages ------------------------------------------------------------------------


def test_the_score_page_explains_every_indicator_and_what_to_improve_first(client, world):
    web_login(client, world.merchant_email)
    html = _html(client.get("/merchant/score"))
    for label in (
        "差评率",
        "品质退款率",
        "揽收及时性",
        "配送时长",
        "投诉率",
        "纠纷商责率",
        "3 分钟人工回复率",
        "售后处理时长",
    ):
        assert label in html, label
    assert "优先改进" in html and "预计体验分 +" in html
    assert html.count('class="meter"') >= 7  # a percentile bar for each measured indicator
    assert "plotly-graph-div" in html and "/static/vendor/plotly.min.js" in html and "cdn" not in html.lower()


def test_compass_pages_show_the_shops_numbers(client, world):
    web_login(client, world.merchant_email)
    trends = _html(client.get("/merchant/compass"))
    # Bloom sold 59.90 + 129 (delivered, seed_world) + 178 (to ship) + 129 (via the creator's video).
    assert "¥495.90" in trends and "T 头部达人" in trends and "短视频" in trends
    audience = _html(client.get("/merchant/compass/audience"))
    assert "小鹿爱分享" in audience  # the creator who sold for the shop
    english = _html(client.get("/locale?to=en&next=/merchant/compass"))
    assert "Sales by channel" in english and "GMV" in english


def test_creator_console_shows_the_sale_the_video_carried(client, world):
    web_login(client, world.creator_email)
    html = _html(client.get("/creator"))
    assert "三分钟教你挑精华" in html and "¥129.00" in html and "¥19.35" in html  # 15% of 129
    plans = _html(client.get("/creator/plans"))
    assert "定向" in plans and f'action="/creator/plans/{world.targeted_plan_id}/apply"' in plans


def test_empty_states_say_so(client, db, world):
    from tests.factories import make_shop

    bundle = make_shop(db)
    web_login(client, bundle.owner.email)
    assert "还没有订单" in _html(client.get("/merchant/orders"))
    assert "没有待发货的订单" in _html(client.get("/merchant/orders?status=paid"))
    assert "还没有这类商品" in _html(client.get("/merchant/products"))
    assert "这段时间还没有成交" in _html(client.get("/merchant/compass"))
    assert "这段时间还没有流量" in _html(client.get("/merchant/compass/funnels"))
    assert "体验分还没有计算" in _html(client.get("/merchant/score"))


# --- the message catalog -------------------------------------------------------------------------


def test_every_message_a_console_template_asks_for_exists():
    templates = Path(i18n.__file__).parent / "templates"
    literal = re.compile(r"""\b_\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")
    for folder in ("console", "merchant", "creator", "operator"):
        for path in (templates / folder).glob("*.html"):
            for key in literal.findall(path.read_text(encoding="utf-8")):
                assert i18n.has_message(key), f"{path.name}: {key}"


def test_every_message_built_from_a_value_exists():
    """Keys the templates build from a value (``t("merchant.order.status." ~ order.status.value)``)."""
    from zhongcao.affiliate.models import ApplicationStatus, CommissionKind, PlanKind
    from zhongcao.aftersales.models import AfterSaleStatus
    from zhongcao.catalog.models import ProductStatus
    from zhongcao.commerce.models import Carrier, Channel, OrderStatus
    from zhongcao.compass.service import RFM_SEGMENTS
    from zhongcao.content.models import ContentKind, ContentStatus
    from zhongcao.experience.nps import DRIVERS
    from zhongcao.experience.scoring import DIMENSIONS, INDICATORS
    from zhongcao.finance.models import SettlementStatus
    from zhongcao.support.service import InboxFilter
    from zhongcao.web import merchant
    from zhongcao.web.console import NAV

    families = {
        "compass.kpi.": merchant.compass.KPI_NAMES,
        "compass.channel.": [c.value for c in Channel],
        "compass.carrier.": [c.name for c in Carrier],
        "compass.segment.": [*RFM_SEGMENTS, *(f"{k}.help" for k in RFM_SEGMENTS)],
        "merchant.order.status.": [s.value for s in OrderStatus],
        "merchant.orders.empty_": ["all", *merchant.orders.ORDER_FILTERS],
        "merchant.case.status.": [s.value for s in AfterSaleStatus],
        "merchant.product.status.": [s.value for s in ProductStatus],
        "merchant.inbox.filter.": [f.value for f in InboxFilter],
        "merchant.finance.status.": [s.value for s in SettlementStatus],
        "merchant.finance.part.": ["pending", "settled", "total"],
        "creator.kind.": [k.value for k in ContentKind],
        "creator.content_status.": [s.value for s in ContentStatus],
        "creator.plan_kind.": [k.value for k in PlanKind],
        "creator.application.": [s.value for s in ApplicationStatus],
        "creator.commission.": [k.value for k in CommissionKind],
        "operator.driver.": list(DRIVERS),
        "operator.field.": ["content", "center", "other"],
        "operator.campaign.state.": ["upcoming", "running", "ended", "cancelled"],
        "shop.score.": list(DIMENSIONS),
        "xp.ind.": [f"{i.key}{end}" for i in INDICATORS for end in ("", ".help", ".how")],
        "console.name.": list(NAV),
    }
    missing = [p + v for p, values in families.items() for v in values if not i18n.has_message(p + v)]
    labels = [
        key for groups in NAV.values() for group, links in groups for key in (group, *(k for *_, k in links))
    ]
    missing += [key for key in labels if not i18n.has_message(key)]
    assert missing == []


# --- speed: no query per row ---------------------------------------------------------------------


def _queries(database, client, url: str) -> int:
    count = 0

    def on_execute(*_args, **_kwargs) -> None:
        nonlocal count
        count += 1

    event.listen(database.engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(database.engine, "before_cursor_execute", on_execute)
    return count


def test_console_lists_read_in_batches_not_per_row(client, db, database, world):
    """Six more orders, cases, chats and products: the same number of queries per list page."""
    from tests.commerce_helpers import delivered_order, pay, place
    from tests.factories import ShopBundle
    from tests.web_helpers import _product
    from zhongcao.aftersales import service as aftersales_service
    from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
    from zhongcao.catalog.models import Category, Product
    from zhongcao.content.models import Account
    from zhongcao.shops.models import Shop
    from zhongcao.support import service as support_service
    from zhongcao.users import service as users_service
    from zhongcao.users.models import User

    web_login(client, world.merchant_email)
    urls = ["/merchant/orders", "/merchant/products", "/merchant/after-sales", "/merchant/inbox?filter="]
    before = {url: _queries(database, client, url) for url in urls}
    shopper = db.get(User, world.web.shopper_id)
    shop = db.get(Shop, world.web.shop_id)
    bundle = ShopBundle(
        shop=shop,
        owner=users_service.get_by_email(db, world.merchant_email),
        account=db.get(Account, world.web.shop_account_id),
    )
    cleanser = db.get(Product, world.web.product_ids[1])
    leaf = db.get(Category, cleanser.category_id)
    for i in range(6):
        pay(db, shopper, place(db, shopper, [{"sku_id": world.web.sku_ids[1], "quantity": 1}]))
        support_service.start_conversation(db, user_id=shopper.id, shop_id=shop.id, message="在吗")
        _product(db, shop, leaf, None, (f"新品{i}", f"New {i}"), [("标准", 1000 + i, 5)])
        done = delivered_order(db, buyer=shopper, shop=bundle, product=cleanser)
        aftersales_service.open_case(
            db,
            shopper.id,
            done.order.id,
            order_item_id=done.item.id,
            kind=AfterSaleKind.refund_only,
            reason=AfterSaleReason.logistics,
        )
    db.commit()
    after = {url: _queries(database, client, url) for url in urls}
    assert after == before
