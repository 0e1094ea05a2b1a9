"""Issue #17's walk-through: a fresh ``zhongcao demo --scale small``, served by uvicorn, and a real
browser (Debian's headless Chromium) signing in with each login the login page lists. Each login's main
pages show real content: a live room opens the feed (signed out and signed in), the shopper's orders
cover every state, both demo shops' score pages show a score (and the poor shop's says what to fix
first), the creator's statement has pending and settled commissions, the operator's dashboard has its
charts. Screenshots in zh-CN and en under test-output/screenshots/demo-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.demo_world_helpers import DemoWorld, build_demo
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, screenshot
from zhongcao import clock
from zhongcao.commerce.models import OrderStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
DESK = {"width": 1440, "height": 900}
KINDS = ("shopper", "good_shop", "poor_shop", "creator", "operator")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoWorld, str]]:
    from zhongcao.api import create_app
    from zhongcao.config import Settings

    world = build_demo(tmp_path_factory.mktemp("demo-walk"), 42)
    patch = pytest.MonkeyPatch()
    for name, value in world.env.items():
        patch.setenv(name, value)
    try:
        with LiveServer(create_app(Settings(), world.database)) as server:
            yield world, server.url
    finally:
        patch.undo()
        world.database.dispose()


def _page(browser: Any, viewport: dict[str, int], locale: str = "zh-CN") -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page, PageProblems(page)


def _sign_in_as(page: Any, base: str, kind: str) -> None:
    """Through the login page's list: the demo login's own one-click button."""
    page.goto(f"{base}/login")
    page.locator(".demo-logins").wait_for()
    names = {
        "shopper": "以买家身份登录",
        "good_shop": "以优质店铺店主登录",
        "poor_shop": "以问题店铺店主登录",
        "creator": "以达人身份登录",
        "operator": "以平台运营登录",
    }
    page.get_by_role("button", name=names[kind]).click()
    page.wait_for_url(lambda url: "/login" not in url)


def _english(page: Any, base: str, path: str) -> None:
    page.goto(f"{base}/locale?to=en&next={quote(path)}")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def _first_card_is_live(page: Any) -> None:
    first = page.locator("article.feed-card").first
    first.wait_for()
    assert first.locator(".live-badge").count() == 1, first.inner_html()[:500]
    assert first.locator("a[href^='/live/']").count() >= 1


def test_the_login_page_lists_every_printed_login(served: tuple[DemoWorld, str], browser: Any) -> None:
    world, base = served
    context, page, problems = _page(browser, PHONE)
    page.goto(f"{base}/login")
    listed = page.locator(".demo-login-list code").all_inner_texts()
    printed = re.findall(r"[\w.-]+@demo\.zhongcao\.example\.com", world.output)
    assert listed and set(listed) == set(printed), (listed, printed)
    screenshot(page, "demo-login-zh")
    _english(page, base, "/login")
    assert page.get_by_role("button", name="Sign in as the shopper").count() == 1
    screenshot(page, "demo-login-en")
    # Signed out, the feed opens on the good shop's room on air.
    page.goto(f"{base}/")
    _first_card_is_live(page)
    screenshot(page, "demo-feed-visitor-en", full_page=False)
    assert not problems.take()
    context.close()


def test_the_shopper_sees_a_live_room_first_and_orders_in_every_state(
    served: tuple[DemoWorld, str], browser: Any
) -> None:
    _world, base = served
    context, page, problems = _page(browser, PHONE)
    _sign_in_as(page, base, "shopper")
    page.goto(f"{base}/")
    _first_card_is_live(page)
    screenshot(page, "demo-shopper-feed-zh", full_page=False)
    live = page.locator("article.feed-card").first.locator("a[href^='/live/']").first.get_attribute("href")
    page.goto(f"{base}{live}")
    page.locator("[data-live-room]").wait_for()
    screenshot(page, "demo-shopper-live-zh", full_page=False)
    for status in OrderStatus:
        page.goto(f"{base}/orders?status={status.value}")
        rows = page.locator("a[href^='/orders/']")
        assert rows.count() >= 1, f"no {status.value} order"
    page.goto(f"{base}/orders")
    screenshot(page, "demo-shopper-orders-zh")
    page.goto(f"{base}/mall")
    assert page.locator(".live-now a[href^='/live/']").count() >= 1
    _english(page, base, "/orders")
    screenshot(page, "demo-shopper-orders-en")
    assert not problems.take()
    context.close()


@pytest.mark.parametrize("kind", ["good_shop", "poor_shop"])
def test_both_demo_shops_score_pages_show_a_score(
    served: tuple[DemoWorld, str], browser: Any, kind: str
) -> None:
    _world, base = served
    context, page, problems = _page(browser, DESK)
    _sign_in_as(page, base, kind)
    page.goto(f"{base}/merchant/score")
    assert page.locator(".score-none").count() == 0, "no score: too few orders"
    text = page.locator("main").inner_text()
    score = float(re.search(r"([345]\.\d\d)", text).group(1))
    assert (score >= 4.5) if kind == "good_shop" else (score < 3.8), score
    screenshot(page, f"demo-{kind}-score-zh")
    _english(page, base, "/merchant/score")
    screenshot(page, f"demo-{kind}-score-en")
    page.goto(f"{base}/merchant/compass")
    screenshot(page, f"demo-{kind}-compass-en")
    assert not problems.take()
    context.close()


def test_the_creator_has_pending_and_settled_commissions(served: tuple[DemoWorld, str], browser: Any) -> None:
    _world, base = served
    context, page, problems = _page(browser, DESK)
    _sign_in_as(page, base, "creator")
    # The simulated month (the statement's default period is the current calendar month).
    today = clock.business_today()  # statements count business days (UTC+8)
    period = f"from={(today - timedelta(days=35)).isoformat()}&to={today.isoformat()}"
    for state in ("pending", "settled"):
        page.goto(f"{base}/creator/statement?{period}&state={state}")
        assert page.locator("table tbody tr").count() >= 1, f"no {state} commission"
    page.goto(f"{base}/creator/statement?{period}")
    screenshot(page, "demo-creator-statement-zh")
    _english(page, base, f"/creator/statement?{period}")
    screenshot(page, "demo-creator-statement-en")
    assert not problems.take()
    context.close()


def test_the_operator_dashboard_has_its_charts(served: tuple[DemoWorld, str], browser: Any) -> None:
    _world, base = served
    context, page, problems = _page(browser, DESK)
    _sign_in_as(page, base, "operator")
    page.goto(f"{base}/operator")
    page.locator(".js-plotly-plot, [data-chart]").first.wait_for()
    screenshot(page, "demo-operator-zh")
    page.goto(f"{base}/operator/scores")
    screenshot(page, "demo-operator-scores-zh")
    assert not problems.take()
    context.close()
