"""The platform warehouse (云仓) end to end in headless Chromium: the merchant creates and sends an
inbound shipment in the console (zh-CN), an operator counts it in on the receiving desk (en, one unit
short: a discrepancy), the merchant sees the warehouse stock (en), a shopper sees the faster delivery
promise on the product page and at checkout (zh-CN on a phone, then en) and buys, and the warehouse's
fulfilment job ships the order as the platform warehouse's. Screenshots of every page for review."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, fill_field, screenshot, seed_world, sign_in
from zhongcao import clock
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Order, OrderStatus, Shipment
from zhongcao.config import Settings
from zhongcao.users.models import Role
from zhongcao.warehouse import fulfilment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

MERCHANT = "owner-bloom_beauty@example.com"
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width}px wide"


def _desk(browser: Any, server: LiveServer, email: str, language: str, path: str) -> tuple[Any, Any, Any]:
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    sign_in(page, server.url, email)
    page.goto(f"{server.url}/locale?to={language}&next={path}")
    return context, page, problems


def test_inbound_receipt_promise_and_warehouse_shipping(app, db, database, browser):
    world = seed_world(db)
    operator = make_user(db, Role.operator)
    operator_email = operator.email
    sunscreen, sku_id = world.product_ids[3], world.sku_ids[3]  # Bloom Sunscreen SPF50, 30 on sale
    db.commit()
    db.close()
    dialect = database.dialect
    with LiveServer(app) as server:
        # The merchant sends 40 units to the East China warehouse (zh-CN).
        context, page, problems = _desk(browser, server, MERCHANT, "zh", "/merchant")
        try:
            page.locator(".console-nav").get_by_role("link", name="云仓").click()
            page.wait_for_url(re.compile(r"/merchant/warehouse$"))
            assert "还没有商品入仓" in page.locator("main").inner_text()
            page.get_by_role("link", name="新建入仓单").first.click()
            page.wait_for_url(re.compile(r"/merchant/warehouse/inbounds/new$"))
            page.get_by_label(re.compile("华东仓")).check()
            page.locator(f"#f-qty_{sku_id}").fill("40")
            page.get_by_label("快递公司").fill("顺丰速运")
            page.get_by_label("快递单号").fill("SF1400000001")
            screenshot(page, f"{dialect}-warehouse-new-inbound-zh")
            page.get_by_role("button", name="确认发货").click()
            page.wait_for_url(re.compile(r"/merchant/warehouse/inbounds/\d+$"))
            assert "入仓单已发货" in page.locator(".flash").inner_text()
            assert "在途" in page.locator(".page-head").inner_text()
            screenshot(page, f"{dialect}-warehouse-inbound-zh")
            assert problems.take() == []
        finally:
            context.close()

        # An operator counts it in (en): 39 arrived, one short.
        context, page, problems = _desk(browser, server, operator_email, "en", "/operator/workbench")
        try:
            page.locator(".console-nav").get_by_role("link", name="Warehouse receiving").click()
            page.wait_for_url(re.compile(r"/operator/warehouse$"))
            queue = page.locator("#receiving-queue")
            assert "Bloom Sunscreen SPF50" in queue.inner_text() and "SF1400000001" in queue.inner_text()
            screenshot(page, f"{dialect}-warehouse-desk-en")
            queue.get_by_role("link", name=re.compile("^Receive")).first.click()
            counted = page.locator("#receive-lines input").first
            assert counted.input_value() == "40"
            counted.fill("39")
            screenshot(page, f"{dialect}-warehouse-receive-en")
            page.get_by_role("button", name="Receive and shelve").click()
            page.wait_for_url(re.compile(r"/operator/warehouse/inbounds/\d+$"))
            assert "Received and shelved" in page.locator(".flash").inner_text()
            assert "-1" in page.locator("#inbound-lines").inner_text()
            screenshot(page, f"{dialect}-warehouse-received-en")
            assert problems.take() == []
        finally:
            context.close()

        # The merchant's warehouse stock (en): 39 on the shelves and on sale, 30 own units off sale.
        context, page, problems = _desk(browser, server, MERCHANT, "en", "/merchant/warehouse")
        try:
            row = page.locator(f"#warehouse-stock tr[data-sku='{sku_id}']")
            assert row.locator("[data-col=on_hand]").inner_text() == "39"
            assert row.locator("[data-col=sellable]").inner_text() == "39"
            assert "Discrepancy" in page.locator("#warehouse-inbounds").inner_text()
            screenshot(page, f"{dialect}-warehouse-stock-en")
            assert problems.take() == []
        finally:
            context.close()

        # A shopper sees the promise and buys (zh-CN, phone).
        shopper = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = shopper.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, world.shopper_email)
            page.goto(f"{server.url}/products/{sunscreen}")
            promise = page.locator("[data-warehouse-promise]")
            assert promise.is_visible() and promise.inner_text().strip() == "⚡云仓发货 · 预计 1–2 天送达"
            _no_overflow(page)
            screenshot(page, f"{dialect}-warehouse-product-zh")
            # A product the shop ships itself makes no such promise.
            page.goto(f"{server.url}/products/{world.product_ids[1]}")
            assert page.locator("[data-warehouse-promise]").count() == 0
            page.goto(f"{server.url}/products/{sunscreen}")
            page.get_by_role("button", name="立即购买").click()
            page.wait_for_url(re.compile(r"/checkout\?"))
            assert "云仓发货 · 预计 1–2 天送达" in page.locator(".checkout-form").inner_text()
            for label, value in (
                ("收货人", "王小明"),
                ("手机号", "13800138000"),
                ("省份", "浙江省"),
                ("城市", "杭州市"),
                ("区县", "西湖区"),
                ("详细地址", "文三路 100 号"),
            ):
                fill_field(page, label, value)
            _no_overflow(page)
            screenshot(page, f"{dialect}-warehouse-checkout-zh")
            page.get_by_role("button", name="提交订单").click()
            page.wait_for_url(re.compile(r"/pay$"))
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(re.compile(r"/orders/\d+$"))
            order_id = int(page.url.rsplit("/", 1)[1])

            # The warehouse picks, packs and hands it over (the job, fast-forwarded).
            with database.session() as job_db:
                counts = fulfilment.run(job_db, clock.now(), Settings(warehouse_time_scale=0))
            assert counts["queued"] == 1 and counts["handed_over"] == 1
            page.reload()
            assert "YCE" in page.locator("main").inner_text()  # the warehouse's tracking number
            screenshot(page, f"{dialect}-warehouse-order-shipped-zh")
            # The same promise in English.
            page.goto(f"{server.url}/locale?to=en&next=/products/{sunscreen}")
            assert (
                page.locator("[data-warehouse-promise]").inner_text().strip()
                == "⚡Ships from platform warehouse · arrives in 1–2 days"
            )
            _no_overflow(page)
            screenshot(page, f"{dialect}-warehouse-product-en")
            assert problems.take() == []
        finally:
            shopper.close()

        # The merchant's order page says the warehouse shipped it; there is no ship form.
        context, page, problems = _desk(browser, server, MERCHANT, "zh", f"/merchant/orders/{order_id}")
        try:
            card = page.locator("#warehouse-fulfilment")
            assert "华东仓 · 上海" in card.inner_text() and "已交快递" in card.inner_text()
            assert page.locator("#ship").count() == 0
            screenshot(page, f"{dialect}-warehouse-merchant-order-zh")
            # The SKU's stock is the warehouse's now: shown, not editable, with where to restock.
            page.goto(f"{server.url}/merchant/products/{sunscreen}/skus")
            stock = page.locator(f"#f-stock_{sku_id}")
            assert stock.get_attribute("readonly") is not None
            assert "云仓库存" in page.locator(f"#held-{sku_id}").inner_text()
            screenshot(page, f"{dialect}-warehouse-held-stock-zh")
            page.goto(f"{server.url}/merchant/products/{sunscreen}")  # the editor
            assert page.locator("#f-sku_0_stock").get_attribute("readonly") is not None
            assert "云仓库存" in page.locator("#held-0").inner_text()
            assert problems.take() == []
        finally:
            context.close()

        # The carrier delivers; the shopper returns it (zh-CN, phone): the return goes to the warehouse.
        with database.session() as job_db:
            commerce_service.record_delivery(job_db, order_id)
            item_id = commerce_service.get_order_for_shop(job_db, world.shop_id, order_id).items[0].id
        shopper = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = shopper.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        desk, merchant, merchant_problems = _desk(browser, server, MERCHANT, "en", "/merchant")
        try:
            sign_in(page, server.url, world.shopper_email)
            page.goto(f"{server.url}/orders/{order_id}/items/{item_id}/after-sale")
            page.locator("input[name=kind][value=return_and_refund]").check(force=True)
            page.locator("input[name=reason][value=quality]").check(force=True)
            page.locator("textarea[name=description]").fill("包装破损")
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(re.compile(r"/after-sales/\d+$"))
            case_id = int(page.url.rsplit("/", 1)[1])
            merchant.goto(f"{server.url}/merchant/after-sales/{case_id}")
            merchant.locator(f"form[action='/merchant/after-sales/{case_id}/approve'] button").click()
            merchant.wait_for_load_state("load")
            page.reload()
            note = page.locator("[data-return-to]")
            assert "华东仓 · 上海" in note.inner_text() and "上海市青浦区" in note.inner_text()
            _no_overflow(page)
            screenshot(page, f"{dialect}-warehouse-return-to-zh")
            page.locator("#f-carrier_name").select_option(index=1)
            page.locator("#f-tracking_number").fill("SF1400000099")
            page.locator(f"form[action='/after-sales/{case_id}/return-shipped'] button").click()
            page.wait_for_url(re.compile(rf"/after-sales/{case_id}"))
            # The merchant (en) confirms it: the units go back on the warehouse's shelves.
            merchant.goto(f"{server.url}/merchant/after-sales/{case_id}")
            assert "East China · Shanghai" in merchant.locator("[data-return-to]").inner_text()
            screenshot(merchant, f"{dialect}-warehouse-return-receive-en")
            merchant.locator(f"form[action='/merchant/after-sales/{case_id}/receive'] button").click()
            merchant.wait_for_load_state("load")
            merchant.goto(f"{server.url}/merchant/warehouse")
            row = merchant.locator(f"#warehouse-stock tr[data-sku='{sku_id}']")
            assert row.locator("[data-col=on_hand]").inner_text() == "39"
            assert row.locator("[data-col=sellable]").inner_text() == "39"
            assert problems.take() == [] and merchant_problems.take() == []
        finally:
            shopper.close()
            desk.close()

    with database.session() as check:
        order = check.get(Order, order_id)
        assert order is not None and order.status is OrderStatus.delivered and order.refunded_fen > 0
        shipment = check.scalar(select(Shipment).where(Shipment.order_id == order_id))
        assert shipment is not None and shipment.platform_warehouse and shipment.carrier_name == "jd"
