"""Matching in headless Chromium: the creator sees products recommended to it with their reasons and
applies for a better-paying targeted plan; the merchant sees creators recommended for a product and
invites one with a targeted plan. Screenshots of both pages in zh-CN and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.content_helpers import make_plan
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, seed_world, sign_in
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog.models import Product
from zhongcao.content.models import Account
from zhongcao.users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

MERCHANT = "owner-bloom_beauty@example.com"
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    world = seed_world(db)
    products = [db.get(Product, pid) for pid in world.product_ids]
    bloom = [p for p in products if p is not None and p.shop_id == world.shop_id]
    # Open plans on the shop's other products; one of them with a targeted plan paying more.
    for product in bloom[1:4]:
        make_plan(db, product, commission_bps=1000)
    make_plan(db, bloom[1], PlanKind.targeted, 2500)
    creator = db.get(Account, world.creator_account_id)
    email = db.get(User, creator.user_id).email
    ids = {"creator_email": email, "product": bloom[2].id, "targeted_product": bloom[1].id}
    db.commit()
    with LiveServer(app) as server:
        yield server, ids


def test_creator_and_merchant_act_on_recommendations(site, browser, database):
    server, ids = site
    dialect = database.dialect
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    try:
        sign_in(page, server.url, ids["creator_email"])
        page.locator(".console-nav").get_by_role("link", name="为你推荐").click()
        page.wait_for_url(re.compile(r"/creator/recommended$"))
        rows = page.locator("table[data-recommended] tbody tr")
        assert rows.count() >= 2
        main = page.locator("main").inner_text()
        assert "推荐理由" in main and "你推广过" in main
        screenshot(page, f"{dialect}-creator-recommended-zh")
        page.get_by_role("button", name=re.compile("^申请定向佣金 25.0%")).first.click()
        page.wait_for_url(re.compile(r"/creator/plans"))
        assert "审核中" in page.locator("#applications").inner_text()
        page.goto(f"{server.url}/locale?to=en&next=/creator/recommended")
        page.wait_for_url(re.compile(r"/creator/recommended$"))
        assert "Why" in page.locator("main").inner_text()
        screenshot(page, f"{dialect}-creator-recommended-en")
        context.clear_cookies()

        sign_in(page, server.url, MERCHANT)
        page.goto(f"{server.url}/locale?to=zh-CN&next=/merchant")
        page.locator(".console-nav").get_by_role("link", name="达人匹配").click()
        page.wait_for_url(re.compile(r"/merchant/creator-match"))
        page.get_by_label("商品").select_option(str(ids["product"]))
        page.get_by_role("button", name="查看推荐达人").click()
        page.wait_for_url(re.compile(rf"product_id={ids['product']}"))
        assert "只有普通计划" in page.locator("main").inner_text()
        row = page.locator("table[data-creators] tbody tr").first
        assert "小鹿爱分享" in row.inner_text()
        screenshot(page, f"{dialect}-merchant-creator-match-zh")
        # A rate below the open plan's is refused with the reason, next to the field.
        row.get_by_label("定向佣金").fill("5")
        row.get_by_role("button", name=re.compile("^邀请并新建定向计划")).click()
        assert page.locator(".field-error, #form-errors").first.is_visible()
        row = page.locator("table[data-creators] tbody tr").first
        row.get_by_label("定向佣金").fill("15")
        row.get_by_role("button", name=re.compile("^邀请并新建定向计划")).click()
        page.wait_for_url(re.compile(rf"product_id={ids['product']}$"))
        assert "已邀请达人加入定向计划" in page.locator(".flash").inner_text()
        assert "已在定向计划中" in page.locator("table[data-creators] tbody tr").first.inner_text()
        page.goto(f"{server.url}/locale?to=en&next=/merchant/creator-match?product_id={ids['product']}")
        assert "Creator match" in page.locator("main").inner_text()
        screenshot(page, f"{dialect}-merchant-creator-match-en")
        assert [p for p in problems.take() if "422" not in p] == []
    finally:
        context.close()
