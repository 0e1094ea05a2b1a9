"""The shopper pages in a real browser: headless Chromium (Debian's, never a downloaded one) against
the real server (uvicorn in a thread) on the test database, at a phone's size (390 × 844).

Every page must load with no console error, no uncaught exception and no failed request; each main
page is saved as a screenshot (test-output/screenshots/, and $ZHONGCAO_SCREENSHOTS_DIR when set).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.commerce_helpers import pay, place
from tests.web_helpers import (
    CHROMIUM,
    PHONE,
    LiveServer,
    PageProblems,
    WebWorld,
    fill_field,
    screenshot,
    seed_world,
    sign_in,
)
from zhongcao.commerce.models import Order, OrderItem
from zhongcao.users.models import User
from zhongcao.web.live import live_hub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, WebWorld]]:
    world = seed_world(db)
    with LiveServer(app) as server:
        yield server, world


@pytest.fixture
def phone(browser) -> Iterator[tuple[Any, PageProblems]]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    yield page, problems
    context.close()


def _visit(page: Any, problems: PageProblems, url: str, shot: str | None = None) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.locator("h1").count() >= 1, url
    found = problems.take()
    assert not found, f"{url}: {found}"
    if shot:
        screenshot(page, shot)


def test_every_shopper_page_loads_clean(site, phone, database):
    server, world = site
    page, problems = phone
    base = server.url
    kind = database.dialect
    _visit(page, problems, base + "/", f"{kind}-01-feed-visitor")
    _visit(page, problems, base + "/login", f"{kind}-02-login")
    sign_in(page, base, world.shopper_email)
    problems.take()
    first_half = [
        ("/", "03-feed"),
        (f"/videos/{world.video_ids[0]}", "04-video"),
        (f"/live/{world.live_id}", "05-live"),
        ("/search?q=精华", "06-search"),
        ("/mall", "07-mall"),
        (f"/shops/{world.shop_id}", "08-shop"),
        (f"/products/{world.product_ids[0]}", "09-product"),
    ]
    for url, name in first_half:
        _visit(page, problems, base + url, f"{kind}-{name}")
    page.get_by_role("button", name="加入购物车").click()
    page.wait_for_url(re.compile(r"/products/\d+"))
    assert page.get_by_role("status").first.inner_text() == "已加入购物车"
    tour = [
        ("/cart", "10-cart"),
        ("/checkout?from_cart=1", "11-checkout"),
        ("/orders", "12-orders"),
        (f"/orders/{world.order_id}", "13-order"),
        (f"/orders/{world.order_id}/items/{world.order_item_id}/after-sale", "14-after-sale"),
        (f"/orders/{world.order_id}/items/{world.order_item_id}/review", "15-review"),
        (f"/nps?order_id={world.order_id}", "16-nps"),
    ]
    for url, name in tour:
        _visit(page, problems, base + url, f"{kind}-{name}")
    page.goto(base + "/no-such-page")
    assert page.locator("h1").inner_text() == "页面不存在"
    screenshot(page, f"{kind}-17-not-found")
    assert [e for e in problems.take() if "404" not in e] == []
    # Nothing is wider than the phone: no sideways scrolling anywhere on the tour.
    for url, _ in first_half + tour:
        page.goto(base + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url


def test_a_shopper_buys_from_a_feed_card_and_pays(site, phone, db, database):
    server, world = site
    page, problems = phone
    kind = database.dialect
    sign_in(page, server.url, world.shopper_email)
    page.goto(server.url + "/")
    card = page.locator("article.feed-card", has_text="秋冬干皮救星")
    card.get_by_role("link", name=re.compile("去购买")).click()
    page.wait_for_url(re.compile(r"/products/\d+\?from=short_video:\d+"))
    page.get_by_text("50ml").click()
    assert page.locator("[data-shown-price]").inner_text() == "¥199.00"
    page.get_by_label("数量").fill("2")
    page.get_by_role("button", name="立即购买").click()
    page.wait_for_url(re.compile(r"/checkout\?"))
    # A wrong phone number: the error is next to the field and nothing typed is lost.
    page.get_by_label("收货人").fill("王小明")
    page.get_by_label("手机号").fill("12")
    fill_field(page, "省份", "浙江省")
    fill_field(page, "城市", "杭州市")
    fill_field(page, "区县", "西湖区")
    page.get_by_label("详细地址").fill("文三路 100 号")
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_load_state("load")
    assert page.locator("#phone-error").inner_text().endswith("请输入有效的手机号")
    assert page.get_by_label("收货人").input_value() == "王小明"
    assert page.get_by_label("详细地址").input_value() == "文三路 100 号"
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert all("422" in problem for problem in problems.take())  # the refused form, and only that
    screenshot(page, f"{kind}-flow-checkout-error")
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url(re.compile(r"/checkouts/\d+/pay"))
    assert "¥398.00" in page.locator(".price-huge").inner_text()
    screenshot(page, f"{kind}-flow-pay")
    page.get_by_role("button", name=re.compile("确认支付")).click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert page.get_by_role("status").first.inner_text() == "支付成功！"
    assert "待发货" in page.locator(".status-large").inner_text()
    screenshot(page, f"{kind}-flow-paid")
    assert problems.take() == []
    order_id = int(page.url.rsplit("/", 1)[1])
    db.expire_all()
    order = db.get(Order, order_id)
    item = db.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).one()
    assert order.paid_at is not None and order.paid_fen == 39800 and order.user_id == world.shopper_id
    assert (
        item.quantity == 2 and item.channel.value == "short_video" and item.content_id == world.video_ids[0]
    )
    assert item.attribution_frozen_at is not None
    db.rollback()


def test_the_live_room_updates_in_real_time(site, app, browser, phone, database):
    server, world = site
    page, problems = phone
    live_hub(app).grace_seconds = 0.5  # a viewer who left stops counting half a second later
    page.goto(f"{server.url}/live/{world.live_id}")
    page.wait_for_selector(".live-room[data-connected=true]")
    page.locator('.viewer-count[data-count="1"]').wait_for(state="attached")
    # A second viewer raises the count for everyone.
    other = browser.new_context(viewport=PHONE, locale="zh-CN")
    other.new_page().goto(f"{server.url}/live/{world.live_id}")
    page.locator('.viewer-count[data-count="2"]').wait_for(state="attached")
    # A purchase attributed to the room reaches the ticker without a reload.
    with database.session() as session:
        buyer = session.get(User, world.shopper_id)
        line = {
            "sku_id": world.sku_ids[3],
            "quantity": 3,
            "attribution": {"channel": "live", "content_id": world.live_id},
        }
        pay(session, buyer, place(session, buyer, [line]))
    page.wait_for_selector(".ticker-list li.fresh", timeout=10_000)
    assert page.locator(".ticker-list li.fresh").first.inner_text() == "小** 买了 3 件 花漾 防晒乳 SPF50"
    screenshot(page, f"{database.dialect}-live-ticker")
    other.close()
    page.locator('.viewer-count[data-count="1"]').wait_for(state="attached", timeout=10_000)
    assert problems.take() == []


def test_search_suggests_as_you_type_and_filters(site, phone):
    server, world = site
    page, problems = phone
    page.goto(server.url + "/search")
    box = page.get_by_role("combobox", name="搜索商品")
    box.press_sequentially("shan", delay=30)  # pinyin of 山野, a word of four product titles
    page.wait_for_selector("#suggestions li[role=option]")
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert page.locator("#suggestions li[aria-selected=true]").inner_text() == "山野"
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.get_by_role("combobox").input_value() == "山野"
    assert page.locator(".tile").count() >= 1
    page.get_by_text("筛选", exact=True).click()
    page.get_by_label("最低价").fill("100")
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url(re.compile(r"price_min=100"))
    prices = [int(re.sub(r"\D", "", p)) for p in page.locator(".tile .price").all_inner_texts()]
    assert prices and min(prices) >= 10000
    page.get_by_role("link", name="价格从低到高").click()
    page.wait_for_url(re.compile(r"sort=price_asc"))
    prices = [int(re.sub(r"\D", "", p)) for p in page.locator(".tile .price").all_inner_texts()]
    assert prices == sorted(prices)
    assert problems.take() == []


def test_the_language_switch_is_remembered_and_focus_is_visible(site, phone):
    server, world = site
    page, problems = phone
    page.goto(f"{server.url}/products/{world.product_ids[0]}")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Bloom Hydrating Serum"
    page.goto(server.url + "/mall")
    assert page.get_by_role("navigation", name="Main navigation").is_visible()
    screenshot(page, "en-mall")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Keyboard users see where they are: the first Tab lands on the skip link, drawn with an outline.
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return [el.className, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused[0] == "skip-link" and focused[1] == "solid" and focused[2] == "3px"
    assert problems.take() == []
