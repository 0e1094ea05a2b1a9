"""A service agent in a real browser (docs/security.md, "Shop roles"): the pages it may read show
what customers ask about, without a button or form it may not use; a form-only page is the 403 page.
Screenshots: test-output/screenshots/ (agent-*)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_user
from tests.web_console_helpers import ConsoleWorld, seed_consoles
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao import clock
from zhongcao.campaigns import coupons
from zhongcao.campaigns.models import CouponFunder
from zhongcao.shops.models import ShopStaff, StaffRole
from zhongcao.users.models import Role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, ConsoleWorld, str, int]]:
    world = seed_consoles(db, app)
    agent = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=world.web.shop_id, user_id=agent.id, role=StaffRole.service_agent))
    now = clock.now()
    coupon = coupons.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=world.web.shop_id,
        name="新客立减 10 元",
        threshold_fen=9900,
        discount_fen=1000,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=10),
    )
    db.commit()
    with LiveServer(app) as server:
        yield server, world, agent.email, coupon.id


@pytest.fixture
def desk(browser) -> Iterator[tuple[Any, PageProblems]]:
    context = browser.new_context(viewport=DESK, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    yield page, problems
    context.close()


def _open(page: Any, problems: PageProblems, url: str, shot: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.locator(".error-page").count() == 0, url
    assert not problems.take(), url
    screenshot(page, shot)


def test_a_service_agent_reads_without_buttons_it_may_not_use(site, desk):
    server, world, agent_email, coupon_id = site
    page, problems = desk
    base, web = server.url, world.web
    sign_in(page, base, agent_email)

    _open(page, problems, f"{base}/merchant/products", "agent-products")
    assert page.get_by_role("link", name="发布新商品").count() == 0
    assert page.get_by_role("link", name="编辑").count() == 0  # "查看" (view) instead
    assert page.locator('input[name="product_ids"]').count() == 0  # no bulk selection
    page.locator('a[href="/merchant/products/csv"]').click()
    page.wait_for_url(f"{base}/merchant/products/csv")
    assert page.locator('a[href="/merchant/products/csv/export"]').is_visible()
    assert page.locator('input[type="file"]').count() == 0  # no import
    assert page.get_by_text("导入商品（新建、改价、改库存）需要店主或运营角色").is_visible()
    screenshot(page, "agent-products-csv")

    _open(page, problems, f"{base}/merchant/products/{web.product_ids[0]}", "agent-product-editor")
    assert page.locator(".product-editor fieldset[disabled]").count() >= 1
    assert page.locator('.product-editor button[type="submit"]').count() == 0

    _open(page, problems, f"{base}/merchant/coupons", "agent-coupons")
    assert page.locator('a[href="/merchant/coupons/new"]').count() == 0
    _open(page, problems, f"{base}/merchant/coupons/{coupon_id}", "agent-coupon")
    assert page.locator('main button[type="submit"]').count() == 0

    _open(page, problems, f"{base}/merchant/campaigns/{world.campaign_id}", "agent-campaign")
    assert page.locator('form[action$="/registrations"]').count() == 0
    assert page.get_by_text("报名或撤回商品需要店主或运营角色").is_visible()

    _open(page, problems, f"{base}/merchant/content", "agent-studio")
    assert page.locator('a[href="/merchant/content/videos/new"]').count() == 0
    _open(page, problems, f"{base}/merchant/live/{web.live_id}", "agent-live")
    assert page.locator('form[action^="/merchant/live/"]').count() == 0  # no start, end or pin
    assert page.get_by_text("开播、下播和置顶商品需要店主或运营角色").is_visible()

    page.goto(f"{base}/merchant/content/videos/new")
    assert page.locator(".error-page").count() == 1 and "无权访问" in page.content()
    screenshot(page, "agent-publish-refused")
