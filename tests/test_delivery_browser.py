"""A new order from payment to delivery by the carrier, in a real browser (issue #17, item 1), on
SQLite and PostgreSQL: the shopper buys and pays on a phone, the merchant ships in the console at a
desk picking the carrier from the list, the ``carrier_updates`` job (run as the job runner runs it,
with the carrier's clock sped up) picks the parcel up, moves it and delivers it, the shopper follows
the tracking on the order page in Chinese and English, confirms receipt, reviews and answers the NPS
survey. Nothing is written to the database by the test: every step is a page or the job."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
from zhongcao import clock
from zhongcao.jobs.runner import run_now
from zhongcao.logistics import carriers, routes
from zhongcao.logistics.carriers import Kind

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

MERCHANT = "owner-bloom_beauty@example.com"
DESK = {"width": 1440, "height": 900}
# A day of the carrier's time passes in about a second: a trip across the country takes a few.
SCALE = 0.00001
ADDRESS = (("收货人", "王小明"), ("手机号", "13800138000"), ("省份", "四川省"), ("城市", "成都市"),
           ("区县", "武侯区"), ("详细地址", "人民南路四段 9 号"))  # fmt: skip


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"carrier_time_scale": SCALE})


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, WebWorld]]:
    world = seed_world(db)
    with LiveServer(app) as server:
        yield server, world


def _page(browser: Any, viewport: dict[str, int], **kwargs: Any) -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN", **kwargs)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, PageProblems(page)


def _clean_number(shop_id: int) -> str:
    """A tracking number the simulated carrier delivers without a delay (its plans are seeded by the
    number, so a test can pick one; the delayed and lost ones are the service tests')."""
    route = routes.route_for(shop_id, {"province": "四川省", "city": "成都市", "district": "武侯区"})
    for i in range(1000):
        number = f"SF{20261209000 + i}"
        plan = carriers.SIMULATED.plan(carriers.BY_CODE["sf"], number, route, clock.now())
        if {e.kind for e in plan} >= {Kind.delivered} and Kind.delayed not in {e.kind for e in plan}:
            return number
    raise AssertionError("no clean tracking number")


def _carrier_job(app: Any) -> dict[str, int]:
    """One run of the carrier job, as the worker and ``zhongcao jobs run --only carrier_updates`` run it."""
    return run_now(app.state.database, app.state.settings, ["carrier_updates"])


def test_a_new_order_is_delivered_by_the_carrier_and_reviewed(site, browser, app, database):
    server, world = site
    kind = database.dialect
    phone_ctx, phone, problems = _page(browser, PHONE, has_touch=True)
    desk_ctx, shop, shop_problems = _page(browser, DESK)
    try:
        # The shopper buys the cleanser and pays.
        sign_in(phone, server.url, world.shopper_email)
        phone.goto(f"{server.url}/products/{world.product_ids[1]}")
        phone.get_by_role("button", name="立即购买").click()
        phone.wait_for_url(re.compile(r"/checkout\?"))
        for label, value in ADDRESS:
            fill_field(phone, label, value)
        phone.get_by_role("button", name="提交订单").click()
        phone.wait_for_url(re.compile(r"/checkouts/\d+/pay"))
        phone.get_by_role("button", name=re.compile("确认支付")).click()
        phone.wait_for_url(re.compile(r"/orders/\d+$"))
        order_id = int(phone.url.rsplit("/", 1)[1])
        assert phone.locator("[data-parcel-status]").count() == 0  # nothing shipped yet

        # The merchant ships it with SF, chosen from the list in the page's language.
        sign_in(shop, server.url, MERCHANT)
        shop.goto(f"{server.url}/merchant/orders/{order_id}")
        options = shop.get_by_label("快递公司").locator("option").all_inner_texts()
        assert "顺丰速运" in options and "京东物流" in options
        shop.get_by_label("快递公司").select_option("sf")
        shop.get_by_label("快递单号").fill(_clean_number(world.shop_id))
        shop.get_by_role("button", name="确认发货").click()
        shop.wait_for_url(re.compile(rf"/merchant/orders/{order_id}$"))
        assert shop.locator("[data-parcel-status]").get_attribute("data-parcel-status") == "awaiting_pickup"
        assert shop.locator("[data-carrier]").inner_text() == "顺丰速运"

        # The carrier job: pickup within the (scaled) hours, then the trip; the shopper watches it.
        time.sleep(0.2)
        assert _carrier_job(app)["carrier_events"] >= 1
        phone.reload()
        status = phone.locator("[data-parcel-status]").get_attribute("data-parcel-status")
        assert status in ("in_transit", "out_for_delivery"), status
        assert phone.locator(".tracking-events li[data-kind=picked_up]").count() == 1
        assert "顺丰速运" in phone.locator(".tracking").inner_text()
        screenshot(phone, f"{kind}-delivery-tracking-in-transit-zh")
        delivered = False
        for _ in range(40):  # the trip takes a few seconds at this scale
            time.sleep(0.5)
            if _carrier_job(app)["carrier_deliveries"]:
                delivered = True
                break
        assert delivered, "the carrier did not deliver within 20 seconds"

        phone.reload()
        assert phone.locator("[data-parcel-status]").get_attribute("data-parcel-status") == "delivered"
        assert phone.locator(".tracking-events li").first.get_attribute("data-kind") == "delivered"
        assert "成都市武侯区" in phone.locator(".tracking").inner_text()
        assert "已送达" in phone.locator(".status-large").inner_text()
        screenshot(phone, f"{kind}-delivery-tracking-delivered-zh")
        phone.goto(f"{server.url}/locale?to=en&next=/orders/{order_id}")
        tracking = phone.locator(".tracking").inner_text()
        assert "SF Express" in tracking and "Delivered" in tracking and "Wuhou District, Chengdu" in tracking
        screenshot(phone, f"{kind}-delivery-tracking-delivered-en")
        phone.goto(f"{server.url}/locale?to=zh&next=/orders/{order_id}")

        # The merchant sees the same scans.
        shop.reload()
        assert shop.locator("[data-parcel-status]").get_attribute("data-parcel-status") == "delivered"
        screenshot(shop, f"{kind}-delivery-merchant-order-zh")

        # The shopper confirms receipt, reviews the cleanser and answers the survey.
        phone.get_by_role("button", name="确认收货").click()
        phone.wait_for_url(re.compile(rf"/orders/{order_id}$"))
        phone.get_by_role("link", name=re.compile("评价")).first.click()
        phone.wait_for_url(re.compile(rf"/orders/{order_id}/items/\d+/review"))
        phone.locator("label[for=rating-5]").click()
        phone.get_by_label("评价内容").fill("顺丰第三天就到了，包装完好，洗得很干净。")
        phone.get_by_role("button", name="发布评价").click()
        phone.wait_for_url(re.compile(rf"/orders/{order_id}$"))
        assert phone.get_by_role("status").first.inner_text() == "感谢你的评价！"
        phone.get_by_role("link", name="为这次购物打分").click()
        phone.wait_for_url(re.compile(rf"/nps\?order_id={order_id}"))
        phone.locator("label.scale-point", has_text="9").first.click()
        phone.locator("form[action='/nps'] button[type=submit]").click()
        phone.wait_for_load_state("load")
        assert phone.locator(".thanks").count() == 1
        phone.goto(f"{server.url}/orders/{order_id}")
        assert phone.locator("[data-reviewed]").count() == 1 and phone.locator("[data-rated]").count() == 1
        screenshot(phone, f"{kind}-delivery-order-done-zh")
        assert problems.take() == [] and shop_problems.take() == []
    finally:
        phone_ctx.close()
        desk_ctx.close()
