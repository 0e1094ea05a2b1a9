"""Notifications in headless Chromium: a merchant's badge and list change the moment a shopper pays
(no reload), opening one marks it read; the shopper's phone centre; zh-CN and en screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.commerce_helpers import created_order, pay
from tests.factories import make_product, make_shop, make_user
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.notifications import service
from zhongcao.notifications.models import NotificationKind
from zhongcao.support import service as support

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def test_a_merchant_sees_a_paid_order_arrive_without_reloading(app, db, database, browser):
    shop = make_shop(db, "晨光咖啡")
    product = make_product(db, shop.shop, price_fen=4_500, stock=50)
    buyer = make_user(db, name="小红")
    db.commit()
    owner_email, owner_id, buyer_id = shop.owner.email, shop.owner.id, buyer.id
    shop_id, product_id = shop.shop.id, product.id
    db.close()
    with LiveServer(app) as server:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, owner_email)
            page.locator(".console-nav").get_by_role("link", name="通知").click()
            page.wait_for_url(re.compile(r"/merchant/notifications$"))
            assert page.locator("h1").inner_text() == "通知"
            assert "还没有通知" in page.locator("[data-notifications-empty]").inner_text()
            page.wait_for_selector("html[data-notifications=connected]")
            page.evaluate("window.stayed = true")  # gone if the page reloads

            # The shopper pays (the order service, in its own session, as the checkout page does).
            with database.session() as other:
                from tests.commerce_helpers import first_sku  # noqa: PLC0415

                bundle = created_order(
                    other,
                    buyer=other.get(type(buyer), buyer_id),
                    shop=type(shop)(
                        shop=other.get(type(shop.shop), shop_id),
                        owner=other.get(type(shop.owner), owner_id),
                        account=None,  # type: ignore[arg-type]
                    ),
                    product=other.get(type(product), product_id),
                    quantity=2,
                )
                del first_sku
                other.commit()
                pay(other, bundle.buyer, bundle.checkout)
                order_id = bundle.order.id

            badge = page.locator(".console-nav [data-unread-badge]")
            badge.wait_for(state="visible")
            assert badge.inner_text() == "1"
            item = page.locator("[data-notification-list] li").first
            item.wait_for()
            assert item.locator(".notice-kind").inner_text() == "新订单"
            assert f"订单 #{order_id} 已付款，实付 ¥90.00" in item.inner_text()
            assert page.locator("[data-notifications-empty]").is_hidden()
            assert page.evaluate("window.stayed") is True  # no reload
            assert problems.take() == []
            screenshot(page, f"{database.dialect}-console-merchant-notifications")

            # Opening it marks it read and shows the order.
            item.locator("button").click()
            page.wait_for_url(re.compile(rf"/merchant/orders/{order_id}$"))
            assert page.locator(".console-nav [data-unread-badge]").is_hidden()
            page.goto(server.url + "/merchant/notifications?show=unread")
            assert "没有未读通知" in page.locator("[data-notifications-empty]").inner_text()

            page.goto(server.url + "/merchant/notifications")
            page.get_by_role("link", name="English").click()
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "Notifications"
            assert (
                f"Order #{order_id} is paid (¥90.00)" in page.locator("[data-notification-list]").inner_text()
            )
            screenshot(page, f"en-{database.dialect}-console-merchant-notifications")
            assert problems.take() == []
        finally:
            context.close()

        # The shopper's phone centre: the shop answered; the bell shows it on every page.
        with database.session() as other:
            conversation, _ = support.start_conversation(
                other, user_id=buyer_id, shop_id=shop_id, message="有燕麦奶吗？"
            )
            support.post_agent_message(
                other, conversation.id, shop_id=shop_id, agent_user_id=owner_id, body="有的，下单备注即可～"
            )
            other.commit()
            buyer_email = other.get(type(buyer), buyer_id).email  # type: ignore[union-attr]
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = phone.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, buyer_email)
            page.goto(server.url + "/orders")
            assert page.locator(".topbar [data-unread-badge]").inner_text() == "1"
            page.locator(".topbar .bell").click()
            page.wait_for_url(re.compile(r"/notifications$"))
            text = page.locator("[data-notification-list]").inner_text()
            assert "晨光咖啡：有的，下单备注即可～" in text
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the page overflows: {width}px"
            assert problems.take() == []
            screenshot(page, f"{database.dialect}-phone-notifications")
            page.get_by_role("link", name="English").click()
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "Notifications"
            screenshot(page, f"en-{database.dialect}-phone-notifications")
            page.get_by_role("button", name="Mark all as read").click()
            page.wait_for_load_state("load")
            assert page.locator(".topbar [data-unread-badge]").is_hidden()
            assert problems.take() == []
        finally:
            phone.close()
    with database.session() as check:
        assert service.unread_count(check, buyer_id) == 0
        kinds = [n.kind for n in service.list_for_user(check, owner_id, service.PageParams())[0]]
        assert NotificationKind.order_paid in kinds
