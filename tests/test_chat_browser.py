"""Customer-service chat in headless Chromium, with two browsers at once: a shopper on a phone and
a service agent at a desk exchange messages that appear without a reload on the other side, the
agent takes the conversation and answers with a quick reply and a product card, and HTML typed
into a message is shown as text, never run. Screenshots in zh-CN and en of both sides."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import add_staff, make_product, make_shop, make_user
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.shops.models import StaffRole
from zhongcao.support import chat

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

XSS = "<img src=x onerror=\"document.title='pwned'\">"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    bundle = make_shop(db, "花漾美妆")
    product = make_product(db, bundle.shop)
    buyer = make_user(db, name="小雨")
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    chat.create_quick_reply(db, bundle.shop.id, title="发货时间", body="亲，48 小时内发货哦")
    world = {
        "shop_id": bundle.shop.id,
        "product_id": product.id,
        "buyer_email": buyer.email,
        "agent_email": agent.email,
    }
    db.commit()
    with LiveServer(app) as server:
        yield server, world


def _no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll("body *"))
          .filter(e => e.getBoundingClientRect().right > 390.5)
          .slice(0, 5).map(e => e.tagName + "." + e.className + " " + e.getBoundingClientRect().right)"""
    )
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone: {wide}"


def test_shopper_and_agent_chat_in_real_time(site, browser, database):
    server, world = site
    shopper_context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    agent_context = browser.new_context(viewport=DESK, locale="zh-CN")
    shopper, agent = shopper_context.new_page(), agent_context.new_page()
    for page in (shopper, agent):
        page.set_default_timeout(15_000)
    shopper_problems, agent_problems = PageProblems(shopper), PageProblems(agent)
    try:
        sign_in(agent, server.url, world["agent_email"])
        agent.goto(f"{server.url}/merchant/inbox")
        assert agent.locator("[data-chat-list] .empty").is_visible()

        # The shopper asks from the product page; the card goes along.
        sign_in(shopper, server.url, world["buyer_email"])
        shopper.goto(f"{server.url}/products/{world['product_id']}")
        shopper.get_by_role("link", name="联系客服").click()
        shopper.wait_for_url(re.compile(r"/messages/new"))
        assert shopper.locator(".chat-pending .chat-card-product").is_visible()
        shopper.get_by_label("消息").fill(XSS)
        shopper.get_by_role("button", name="发送").click()
        shopper.wait_for_url(re.compile(r"/messages/\d+"))
        conversation_id = int(re.search(r"/messages/(\d+)", shopper.url).group(1))  # type: ignore[union-attr]
        assert shopper.locator(".chat-mine .chat-bubble").last.inner_text() == XSS

        # The agent's open inbox shows the new conversation and the badge without a reload.
        row = agent.locator(f'[data-chat-list] a[href="/merchant/inbox/{conversation_id}"]')
        row.wait_for(timeout=5_000)
        assert agent.locator(".console-nav [data-chat-badge]").inner_text() == "2"
        row.click()
        agent.wait_for_url(re.compile(rf"/merchant/inbox/{conversation_id}"))
        assert agent.locator(".chat-theirs .chat-bubble").last.inner_text() == XSS
        assert agent.locator(".chat-thread img").count() == 0 and agent.title() != "pwned"
        assert agent.locator(".console-nav [data-chat-badge]").is_hidden()  # read once viewed

        # Assign to me, then answer with the quick reply, edited in the box.
        agent.get_by_role("button", name="由我接待").click()
        agent.wait_for_load_state()
        assert "由 " in agent.locator("[data-assignee]").inner_text()
        agent.get_by_label("快捷回复").select_option(label="发货时间")
        box = agent.get_by_label("回复", exact=True)
        assert box.input_value() == "亲，48 小时内发货哦"
        box.fill(box.input_value() + "～")
        url_before = agent.url
        agent.locator("form.chat-composer").get_by_role("button", name="发送").click()
        # The shopper's open chat shows it without a reload; the agent's page did not reload either.
        shopper.locator(".chat-theirs .chat-bubble", has_text="亲，48 小时内发货哦～").wait_for(timeout=5_000)
        assert agent.url == url_before
        agent.locator(".chat-mine .chat-bubble", has_text="亲，48 小时内发货哦～").wait_for(timeout=5_000)
        # The first response time appears in the header as soon as the answer is in.
        agent.locator("[data-first-response]", has_text="首次人工回复用时").wait_for(timeout=5_000)
        assert box.input_value() == ""

        # The shopper answers; it reaches the agent in real time, and the agent sees "read".
        shopper.get_by_label("消息").fill("好的，谢谢")
        shopper.get_by_role("button", name="发送").click()
        agent.locator(".chat-theirs .chat-bubble", has_text="好的，谢谢").wait_for(timeout=5_000)
        # A product card from the agent.
        agent.get_by_role("button", name="发送商品卡片").click()
        shopper.locator(".chat-theirs .chat-card-product").wait_for(timeout=5_000)
        shopper.locator("[data-chat-read]").wait_for(state="hidden")
        agent.locator("[data-chat-read]").wait_for(timeout=5_000)

        assert shopper.title() != "pwned" and shopper.locator(".chat-thread img").count() == 0
        screenshot(shopper, f"{database.dialect}-chat-shopper-zh", full_page=False)
        screenshot(agent, f"{database.dialect}-chat-merchant-zh")
        _no_overflow(shopper)
        assert shopper_problems.take() == [] and agent_problems.take() == []

        # The same two pages in English.
        for context in (shopper_context, agent_context):
            context.add_cookies([{"name": "zc_locale", "value": "en", "url": server.url}])
        shopper.goto(f"{server.url}/messages/{conversation_id}")
        agent.goto(f"{server.url}/merchant/inbox/{conversation_id}")
        assert shopper.get_by_role("button", name="Send").is_visible()
        assert agent.get_by_role("button", name="Send product card").is_visible()
        _no_overflow(shopper)
        screenshot(shopper, f"{database.dialect}-chat-shopper-en", full_page=False)
        screenshot(agent, f"{database.dialect}-chat-merchant-en")
        shopper.goto(f"{server.url}/messages")
        screenshot(shopper, f"{database.dialect}-chat-list-en", full_page=False)
        assert shopper_problems.take() == [] and agent_problems.take() == []
    finally:
        shopper_context.close()
        agent_context.close()
