"""The whole loop in a real browser: a shopper buys from a feed card on a phone, the merchant ships it
from the console at a desk, the carrier delivers, the shopper confirms receipt and reviews it, and the
merchant's Compass and experience-score page show it. Headless Debian Chromium, the real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.web_console_helpers import ConsoleWorld, seed_consoles
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, fill_field, screenshot, sign_in
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Order, Payment
from zhongcao.compass import refresher
from zhongcao.devices import DEVICE_COOKIE, device_key
from zhongcao.experience import computation as experience_computation

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, ConsoleWorld]]:
    world = seed_consoles(db, app)
    db.commit()
    with LiveServer(app) as server:
        yield server, world


def _page(browser: Any, viewport: dict, **kwargs: Any) -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN", **kwargs)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, PageProblems(page)


def _score_orders(page: Any, url: str) -> int:
    """The paid orders the score page counts for the shop (too few for a score in this small world)."""
    page.goto(url + "/merchant/score")
    found = re.search(r"近 90 天支付订单 (\d+) 笔", page.locator("main").inner_text())
    assert found, page.locator("main").inner_text()
    return int(found.group(1))


def _orders_tile(page: Any, url: str) -> int:
    page.goto(url + "/merchant/compass?days=30")
    tile = page.locator("li.kpi", has=page.locator(".kpi-label", has_text="订单数"))
    return int(tile.locator(".kpi-value").inner_text().replace(",", ""))


def test_buy_ship_deliver_review_and_the_merchant_sees_it(site, browser, app, db, database):
    server, world = site
    kind = database.dialect
    settings = app.state.settings
    refresher.refresh_snapshot(database, settings)
    shop_context, shop, shop_problems = _page(browser, DESK)
    phone_context, phone, problems = _page(browser, PHONE, has_touch=True)
    try:
        sign_in(shop, server.url, world.merchant_email)
        orders_before = _orders_tile(shop, server.url)
        experience_computation.compute_scores(db)  # tonight's batch, from the records as they are
        db.commit()
        scored_before = _score_orders(shop, server.url)

        # The shopper buys from a feed card.
        sign_in(phone, server.url, world.web.shopper_email)
        phone.goto(server.url + "/")
        card = phone.locator("article.feed-card", has_text="秋冬干皮救星")
        screenshot(phone, f"{kind}-flow-feed", full_page=False)  # what a phone shows (README)
        card.get_by_role("link", name=re.compile("去购买")).click()
        phone.wait_for_url(re.compile(r"/products/\d+\?from=short_video:\d+"))
        screenshot(phone, f"{kind}-flow-product", full_page=False)
        phone.get_by_role("button", name="立即购买").click()
        phone.wait_for_url(re.compile(r"/checkout\?"))
        for label, value in (("收货人", "王小明"), ("手机号", "13800138000"), ("省份", "浙江省"),
                             ("城市", "杭州市"), ("区县", "西湖区"), ("详细地址", "文三路 100 号")):  # fmt: skip
            fill_field(phone, label, value)
        phone.get_by_role("button", name="提交订单").click()
        phone.wait_for_url(re.compile(r"/checkouts/\d+/pay"))
        phone.get_by_role("button", name=re.compile("确认支付")).click()
        phone.wait_for_url(re.compile(r"/orders/\d+$"))
        order_id = int(phone.url.rsplit("/", 1)[1])
        assert "待发货" in phone.locator(".status-large").inner_text()
        # The payment keeps the hash of the phone's zc_device cookie (integrity's order checks).
        device = next(c["value"] for c in phone_context.cookies() if c["name"] == DEVICE_COOKIE)
        paid_from = db.scalar(
            select(Payment.device_key)
            .join(Order, Order.checkout_id == Payment.checkout_id)
            .where(Order.id == order_id)
        )
        db.rollback()  # end the read: on SQLite it would hold the lock the server's next write needs
        assert paid_from == device_key(device)

        # The merchant ships it from the console.
        shop.goto(f"{server.url}/merchant/orders/{order_id}")
        shop.get_by_label("快递公司").select_option("sf")
        shop.get_by_label("快递单号").fill("SF2026112500")
        shop.get_by_role("button", name="确认发货").click()
        shop.wait_for_url(re.compile(rf"/merchant/orders/{order_id}$"))
        assert shop.get_by_role("status").first.inner_text() == "已发货"

        # The carrier picks it up and delivers it (outside the platform: its events arrive as service calls).
        commerce_service.record_pickup(db, order_id)
        commerce_service.record_delivery(db, order_id)

        # The shopper confirms receipt and reviews it.
        phone.goto(f"{server.url}/orders/{order_id}")
        phone.get_by_role("button", name="确认收货").click()
        phone.wait_for_url(re.compile(rf"/orders/{order_id}$"))
        review = phone.get_by_role("link", name=re.compile("评价")).first
        review.click()
        phone.wait_for_url(re.compile(rf"/orders/{order_id}/items/\d+/review"))
        phone.locator("label[for=rating-5]").click()
        phone.get_by_label("评价内容").fill("包装完好，第二天就到了，很保湿。")
        phone.get_by_role("button", name="发布评价").click()
        phone.wait_for_url(re.compile(rf"/orders/{order_id}$"))
        assert phone.get_by_role("status").first.inner_text() == "感谢你的评价！"
        screenshot(phone, f"{kind}-flow-reviewed")
        assert problems.take() == []

        # The merchant's Compass counts the order, and the score page counts it among the shop's orders.
        db.commit()
        refresher.refresh_snapshot(database, settings)
        assert _orders_tile(shop, server.url) == orders_before + 1
        screenshot(shop, f"{kind}-flow-merchant-compass")
        experience_computation.compute_scores(db)
        db.commit()
        assert _score_orders(shop, server.url) == scored_before + 1
        screenshot(shop, f"{kind}-flow-merchant-score")
        assert shop_problems.take() == []
    finally:
        phone_context.close()
        shop_context.close()
