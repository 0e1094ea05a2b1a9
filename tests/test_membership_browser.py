"""Membership in headless Chromium: the merchant turns the programme on; a shopper on a phone joins
from the shop page (consent required) and sees their tier; zh-CN and en screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.commerce_helpers import paid_order
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, fill_field, screenshot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def test_a_merchant_opens_a_membership_and_a_shopper_joins(app, db, database, browser):
    bundle = paid_order(db, price_fen=26_000)
    db.commit()
    owner_email, buyer_email, shop_id = bundle.shop.owner.email, bundle.buyer.email, bundle.shop.shop.id
    product_id = bundle.product.id
    db.close()
    with LiveServer(app) as server:
        desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = desk.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, owner_email)
            page.locator(".console-nav").get_by_role("link", name="会员").click()
            page.wait_for_url(re.compile(r"/merchant/members$"))
            page.get_by_label("开启会员计划").check()
            page.get_by_label("累计消费门槛 2").fill("200")
            page.get_by_label("累计消费门槛 3").fill("100")  # lower than silver: refused, typed kept
            page.get_by_role("button", name="保存会员计划").click()
            page.wait_for_load_state("load")
            assert page.get_by_role("alert").count() >= 1
            assert page.get_by_label("累计消费门槛 3").input_value() == "100"
            page.get_by_label("累计消费门槛 3").fill("1000")
            page.get_by_label("会员折扣").fill("5")
            page.get_by_role("button", name="保存会员计划").click()
            page.wait_for_load_state("load")
            assert "会员计划已保存" in page.locator(".flash").inner_text()
            assert [e for e in problems.take() if "422" not in e] == []
        finally:
            desk.close()

        phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = phone.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, buyer_email)
            page.goto(f"{server.url}/shops/{shop_id}")
            page.get_by_role("link", name="会员中心").click()
            page.wait_for_url(re.compile(rf"/shops/{shop_id}/membership$"))
            page.get_by_label("手机号").fill("13800138000")
            page.get_by_role("button", name="立即加入").click()  # no consent yet
            page.wait_for_load_state("load")
            assert "请勾选同意会员规则" in page.locator("main").inner_text()
            assert page.get_by_label("手机号").input_value() == "13800138000"
            page.locator("#f-consent").check()
            page.get_by_role("button", name="立即加入").click()
            page.wait_for_load_state("load")
            card = page.locator(".member-card")
            assert card.locator(".member-tier").inner_text() == "银卡会员"  # ¥260 spent: over ¥200
            assert "再消费 ¥740.00 升级为金卡会员" in card.inner_text()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the page overflows: {width}px"
            assert "全店商品立减 5%" in page.locator(".member-perk").inner_text()
            screenshot(page, f"{database.dialect}-phone-membership")
            # At checkout the member price is taken: 5% of ¥260.00.
            page.goto(f"{server.url}/products/{product_id}")
            page.get_by_role("button", name="立即购买").click()
            page.wait_for_url(re.compile(r"/checkout\?"))
            for label, value in (("收货人", "王小明"), ("手机号", "13800138000"), ("省份", "浙江省"),
                                 ("城市", "杭州市"), ("区县", "西湖区"), ("详细地址", "文三路 100 号")):  # fmt: skip
                fill_field(page, label, value)
            assert page.locator("[data-member-off]").get_attribute("data-member-off") == "1300"
            assert page.locator(".summary-bar .price").inner_text() == "¥247.00"
            page.get_by_role("button", name="提交订单").click()
            page.wait_for_url(re.compile(r"/checkouts/\d+/pay"))
            assert page.locator("[data-member-price]").inner_text() == "会员价 · 已减 5%"
            assert "优惠 -¥13.00" in page.locator("main").inner_text()
            screenshot(page, f"{database.dialect}-phone-member-price")
            page.goto(f"{server.url}/shops/{shop_id}/membership")
            page.get_by_role("link", name="English").click()
            page.wait_for_load_state("load")
            assert page.locator(".member-tier").inner_text() == "Silver"
            screenshot(page, f"en-{database.dialect}-phone-membership")
            assert [e for e in problems.take() if "422" not in e] == []
        finally:
            phone.close()

        desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = desk.new_page()
        page.set_default_timeout(15_000)
        try:
            sign_in(page, server.url, owner_email)
            page.goto(server.url + "/merchant/members")
            assert page.locator('[data-kpi="members"] .kpi-value').inner_text() == "1"
            assert page.locator('[data-kpi="share"] .kpi-value').inner_text() == "100.0%"
            screenshot(page, f"{database.dialect}-console-merchant-members")
            page.get_by_role("link", name="English").click()
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "Members"
            screenshot(page, f"en-{database.dialect}-console-merchant-members")
        finally:
            desk.close()
