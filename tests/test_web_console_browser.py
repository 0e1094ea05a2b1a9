"""The consoles in a real browser: headless Chromium (Debian's, never a downloaded one) against the
real server (uvicorn in a thread) on the test database, at a desk's size (1440 × 900).

Every console page must load with no console error, no uncaught exception and no failed request, and
its charts must be drawn by the offline Plotly bundle; each page is saved as a screenshot
(test-output/screenshots/, and $ZHONGCAO_SCREENSHOTS_DIR when set).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.web_console_helpers import ConsoleWorld, seed_consoles
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.commerce.models import Order, OrderStatus, Shipment

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
    with LiveServer(app) as server:
        yield server, world


@pytest.fixture
def desk(browser) -> Iterator[tuple[Any, PageProblems]]:
    context = browser.new_context(viewport=DESK, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    yield page, problems
    context.close()


def _visit(page: Any, problems: PageProblems, url: str, shot: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.locator("h1").count() >= 1, url
    assert page.locator(".error-page").count() == 0, url
    charts = page.locator(".plotly-graph-div")
    for i in range(charts.count()):  # drawn by Plotly, not just an empty div
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached")
    found = problems.take()
    assert not found, f"{url}: {found}"
    screenshot(page, shot)


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/$"))


def test_every_console_page_loads_clean(site, desk, database):
    server, world = site
    page, problems = desk
    base, kind, web = server.url, database.dialect, site[1].web
    sign_in(page, base, world.merchant_email)
    assert page.url == base + "/merchant"  # merchants land on their console
    merchant = [
        ("/merchant", "home"),
        ("/merchant/products", "products"),
        (f"/merchant/products/{web.product_ids[0]}", "product"),
        ("/merchant/orders", "orders"),
        (f"/merchant/orders/{world.to_ship_order_id}", "order"),
        ("/merchant/after-sales", "after-sales"),
        (f"/merchant/after-sales/{world.case_id}", "after-sale"),
        ("/merchant/inbox", "inbox"),
        (f"/merchant/inbox/{world.conversation_id}", "conversation"),
        ("/merchant/compass", "compass"),
        ("/merchant/compass/funnels", "compass-funnels"),
        ("/merchant/compass/content", "compass-content"),
        ("/merchant/compass/audience", "compass-audience"),
        ("/merchant/compass/search", "compass-search"),
        ("/merchant/score", "score"),
    ]
    for url, name in merchant:
        _visit(page, problems, base + url, f"{kind}-console-merchant-{name}")
    # Another shop's order is a 404 page inside the console's own site.
    page.goto(f"{base}/merchant/orders/{world.other_order_id}")
    assert page.locator("h1").inner_text() == "页面不存在"
    assert [e for e in problems.take() if "404" not in e] == []
    _sign_out(page)
    sign_in(page, base, world.creator_email)
    for url, name in [
        ("/creator", "home"),
        ("/creator/commissions", "commissions"),
        ("/creator/plans", "plans"),
    ]:
        _visit(page, problems, base + url, f"{kind}-console-creator-{name}")
    _sign_out(page)
    sign_in(page, base, world.operator_email)
    operator = [
        ("/operator", "nps"),
        ("/operator/gmv", "gmv"),
        ("/operator/scores", "scores"),
        ("/operator/campaigns", "campaigns"),
        (f"/operator/campaigns/{world.campaign_id}", "campaign"),
    ]
    for url, name in operator:
        _visit(page, problems, base + url, f"{kind}-console-operator-{name}")


def test_a_merchant_ships_an_order_from_the_console(site, desk, db, database):
    server, world = site
    page, problems = desk
    sign_in(page, server.url, world.merchant_email)
    page.goto(server.url + "/merchant/orders?status=paid")
    page.get_by_role("link", name=re.compile(f"发货 #{world.to_ship_order_id}")).click()
    page.wait_for_url(re.compile(rf"/merchant/orders/{world.to_ship_order_id}"))
    # A bad tracking number: the error is beside the field, nothing typed is lost, focus on the summary.
    page.get_by_label("快递公司").select_option("sf")
    page.get_by_label("快递单号").fill("SF 12")
    page.get_by_role("button", name="确认发货").click()
    page.wait_for_load_state("load")
    assert "快递单号只能是" in page.locator("#tracking_number-error").inner_text()
    assert page.get_by_label("快递公司").input_value() == "sf"
    assert page.get_by_label("快递单号").input_value() == "SF 12"
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert all("422" in problem for problem in problems.take())
    screenshot(page, f"{database.dialect}-console-ship-error")
    page.get_by_label("快递单号").fill("SF1234567890")
    page.get_by_role("button", name="确认发货").click()
    page.wait_for_url(re.compile(rf"/merchant/orders/{world.to_ship_order_id}$"))
    assert page.get_by_role("status").first.inner_text() == "已发货"
    assert "SF1234567890" in page.locator("main").inner_text()
    assert problems.take() == []
    db.expire_all()
    assert db.get(Order, world.to_ship_order_id).status is OrderStatus.shipped
    shipment = db.scalars(select(Shipment).where(Shipment.order_id == world.to_ship_order_id)).one()
    assert (shipment.carrier_name, shipment.tracking_number) == ("sf", "SF1234567890")
    db.rollback()


def test_console_keyboard_focus_is_visible_and_english_works(site, desk):
    server, world = site
    page, problems = desk
    sign_in(page, server.url, world.operator_email)
    page.goto(server.url + "/operator/campaigns")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Campaigns"
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    focused = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused == ["solid", "3px"]
    nav = page.get_by_role("navigation", name="Console navigation")
    assert nav.get_by_role("link", name="Campaigns").get_attribute("aria-current") == "page"
    screenshot(page, "en-console-operator-campaigns")
    assert problems.take() == []
