"""The fixed shopper flows in headless Chromium on a phone: the chosen SKU stays chosen after adding
to the cart, the cart groups by shop, a declined card reads as a sentence, the pay page of a paid
checkout says so, and a review and an order rating, once given, are shown instead of the forms.
Screenshots in zh-CN and en of each changed page (and the merchant's score page, explained)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_console_helpers import ConsoleWorld, seed_consoles
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, fill_field, screenshot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, ConsoleWorld]]:
    world = seed_consoles(db, app)
    with LiveServer(app) as server:
        yield server, world


def _no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def _both(page: Any, base: str, path: str, name: str) -> None:
    """Screenshots of ``path`` in Chinese and English, each checked for overflow."""
    for locale in ("zh", "en"):
        page.goto(f"{base}/locale?to={locale}&next={path}")
        _no_overflow(page)
        screenshot(page, f"{name}-{locale}")
    page.goto(f"{base}/locale?to=zh&next={path}")


def test_the_fixed_shopper_flows_on_a_phone(site, browser):
    server, consoles = site
    world = consoles.web
    base = server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    try:
        sign_in(page, base, world.shopper_email)
        # The serum's second size, chosen and added: still chosen when the page comes back.
        page.goto(f"{base}/products/{world.product_ids[0]}")
        page.locator("label.sku", has_text="50ml").click()
        page.get_by_role("button", name="加入购物车").click()
        page.wait_for_url(f"**/products/{world.product_ids[0]}?sku=*")
        assert page.locator("label.sku", has_text="50ml").locator("input").is_checked()
        assert page.locator("[data-shown-price]").inner_text() == "¥199.00"
        screenshot(page, "ux-product-after-add-zh")
        # A second shop's product: the cart has two groups, each with its subtotal.
        page.goto(f"{base}/products/{world.product_ids[5]}")
        page.get_by_role("button", name="加入购物车").click()
        page.wait_for_url("**?sku=*")
        page.goto(f"{base}/cart")
        assert page.locator("[data-cart-shop]").count() == 2
        assert page.locator("[data-shop-subtotal]").all_inner_texts() == ["¥199.00", "¥129.00"]
        _both(page, base, "/cart", "ux-cart")

        # Check out the cart; the card is declined first: a sentence, not a code.
        page.get_by_role("link", name="去结算").click()
        for label, value in (
            ("收货人", "王小明"),
            ("手机号", "13800138000"),
            ("省份", "浙江省"),
            ("城市", "杭州市"),
            ("区县", "西湖区"),
            ("详细地址", "文三路 100 号"),
        ):
            fill_field(page, label, value)
        page.get_by_role("button", name="提交订单").click()
        page.wait_for_url("**/checkouts/*/pay")
        pay_path = page.url.removeprefix(base)
        page.locator("input[value=pm_card_declined]").check()
        page.locator("form[action$='/pay'] button[type=submit]").click()
        error = page.locator(".form-errors").inner_text()
        assert "银行卡被发卡行拒绝了" in error and "card_declined" not in error
        _no_overflow(page)
        screenshot(page, "ux-pay-declined-zh")
        assert all("402" in problem for problem in problems.take())  # the decline's own answer
        page.locator("input[value=pm_card_ok]").check()
        page.locator("form[action$='/pay'] button[type=submit]").click()
        page.wait_for_url(lambda url: "/pay" not in url)
        # Back on the pay page of the paid checkout: it says paid, with the orders.
        page.goto(base + pay_path)
        assert page.locator("h1").inner_text() == "支付成功"
        assert page.locator("a", has_text="查看订单").count() == 2
        assert "应付金额" not in page.content()
        _both(page, base, pay_path, "ux-pay-paid")

        # The delivered order, rated 4 already (the seed): the rating is shown, not asked again.
        order = f"/orders/{world.order_id}"
        page.goto(base + order)
        assert page.locator("[data-rated]").inner_text() == "已为订单打分：4 分"
        assert page.get_by_role("link", name="为这次购物打分").count() == 0
        # Review the line, then see the review instead of the form.
        page.get_by_role("link", name="评价").first.click()
        page.locator("label[for=rating-4]").click()
        page.get_by_label("评价内容").fill("洗得很干净，不紧绷。")
        page.get_by_role("button", name="发布评价").click()
        page.wait_for_url(f"**{order}")
        assert page.locator("[data-reviewed]").count() == 1 and page.locator("[data-rated]").count() == 1
        assert page.get_by_role("link", name="评价", exact=True).count() == 0
        _both(page, base, order, "ux-order-answered")
        _both(page, base, f"{order}/items/{world.order_item_id}/review", "ux-review-answered")
        _both(page, base, f"/nps?order_id={world.order_id}", "ux-nps-answered")
        assert (
            page.locator("[data-answered]").count() == 1 and page.locator("form[action='/nps']").count() == 0
        )
        assert not problems.take()
    finally:
        context.close()

    # The merchant's score page: all eight indicators charted, the advice in its direction.
    merchant = browser.new_context(viewport=DESK, locale="zh-CN")
    page = merchant.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, base, consoles.merchant_email)
        page.goto(f"{base}/merchant/score")
        page.locator(".plotly-graph-div .main-svg").first.wait_for()
        assert page.locator(".improve-move").inner_text().startswith(("从", "把"))
        _both(page, base, "/merchant/score", "ux-merchant-score")
        page.goto(f"{base}/merchant/compass")
        screenshot(page, "ux-merchant-compass-zh")
    finally:
        merchant.close()
