"""The showcase and the plaza in headless Chromium, on SQLite and PostgreSQL: a creator searches the
plaza by pinyin (``lianyiqun``) and initials, filters by price, adds products to the showcase, removes
one; a shopper sees the showcase on the creator's page, and its product link carries the showcase
attribution. Screenshots in zh-CN and en of the plaza, the showcase and the creator's page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.content_helpers import make_plan
from tests.factories import PASSWORD, make_category, make_shop
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.content.models import Account, AccountKind
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

CREATOR = "xiaolu@example.com"
SHOPPER = "buyer@example.com"
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _product(db, shop, category, zh: str, en: str, price: int, sold: int) -> Product:
    product = Product(
        shop_id=shop.id, category_id=category.id, title_zh=zh, title_en=en, status=ProductStatus.active
    )
    db.add(product)
    db.flush()
    db.add(Sku(product_id=product.id, code=f"S{product.id}", price_fen=price, stock=80, sold_count=sold))
    db.commit()
    return product


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    dresses, fitness = make_category(db), make_category(db)
    shop = make_shop(db, "花语女装").shop
    gym = make_shop(db, "健身之家").shop
    red = _product(db, shop, dresses, "夏季红色连衣裙", "Summer red dress", 19_900, 320)
    blue = _product(db, shop, dresses, "蓝色长款连衣裙", "Blue long dress", 29_900, 45)
    bells = _product(db, gym, fitness, "可调节哑铃", "Adjustable dumbbells", 49_900, 800)
    make_plan(db, red, PlanKind.open, 2000)
    make_plan(db, blue, PlanKind.open, 800)
    make_plan(db, blue, PlanKind.targeted, 1500)
    make_plan(db, bells, PlanKind.open, 1000)
    user = users_service.create_user(
        db, email=CREATOR, password=PASSWORD, display_name="小鹿爱分享", role=Role.creator
    )
    account = Account(
        kind=AccountKind.creator,
        user_id=user.id,
        handle="xiaolu",
        name="小鹿爱分享",
        niche="穿搭",
        follower_count=56_000,
    )
    db.add(account)
    users_service.create_user(db, email=SHOPPER, password=PASSWORD, display_name="买家", role=Role.shopper)
    db.commit()
    ids = {"red": red.id, "blue": blue.id, "bells": bells.id, "account": account.id}
    with LiveServer(app) as server:
        yield server, ids


def _titles(page: Any) -> list[str]:
    return page.locator("table.plaza tbody th[scope=row] a").all_inner_texts()


def test_creator_builds_a_showcase_and_a_shopper_sees_it(site, browser, database):
    server, ids = site
    dialect = database.dialect
    creator = browser.new_context(viewport=DESK, locale="zh-CN")
    page = creator.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    try:
        sign_in(page, server.url, CREATOR)
        page.goto(f"{server.url}/creator")
        assert page.locator("nav a[href='/creator/plaza']").count() == 1
        page.goto(f"{server.url}/creator/plaza")
        # Pinyin finds the dresses and not the dumbbells.
        page.get_by_label("搜索商品").fill("lianyiqun")
        page.get_by_role("button", name="搜索", exact=True).click()
        page.wait_for_url(re.compile(r"q=lianyiqun"))
        titles = _titles(page)
        assert set(titles) == {"夏季红色连衣裙", "蓝色长款连衣裙"}, titles
        assert "定向计划：仅受邀或申请通过的达人可推广" in page.content()
        # Initials, a price cap, sorted by commission per sale.
        page.get_by_label("搜索商品").fill("lyq")
        page.get_by_label("最高售价（元）").fill("250")
        page.get_by_label("排序").select_option("commission_per_sale")
        page.get_by_role("button", name="搜索", exact=True).click()
        page.wait_for_url(re.compile(r"price_max=250"))
        assert _titles(page) == ["夏季红色连衣裙"]
        screenshot(page, f"{dialect}-plaza-zh")
        page.get_by_role("button", name="加入橱窗 夏季红色连衣裙").click()
        page.wait_for_url(re.compile(r"/creator/plaza\?.*price_max=250"))
        assert page.get_by_text("已加入橱窗").first.is_visible()
        assert page.locator("table.plaza").get_by_text("已在橱窗").is_visible()
        # A bad filter is shown next to its field; the rest of the search still runs.
        page.get_by_label("最低佣金率（%）").fill("abc")
        page.get_by_role("button", name="搜索", exact=True).click()
        assert page.locator("#rate_min-error").is_visible()
        # Clear the filters, add the blue dress (its open plan) and the dumbbells.
        page.get_by_role("link", name="清除筛选").click()
        page.get_by_role("button", name="加入橱窗 蓝色长款连衣裙").first.click()
        page.wait_for_url(re.compile(r"/creator/plaza"))
        page.get_by_role("button", name="加入橱窗 可调节哑铃").click()
        page.wait_for_url(re.compile(r"/creator/plaza"))

        page.goto(f"{server.url}/creator/showcase")
        rows = page.locator("table.showcase tbody th[scope=row]").all_inner_texts()
        assert [r.splitlines()[0] for r in rows] == ["夏季红色连衣裙", "蓝色长款连衣裙", "可调节哑铃"]
        page.get_by_role("button", name="上移 可调节哑铃").click()
        page.wait_for_url(re.compile(r"/creator/showcase"))
        page.get_by_role("button", name="移出橱窗 蓝色长款连衣裙").click()
        page.wait_for_url(re.compile(r"/creator/showcase$"))
        rows = page.locator("table.showcase tbody th[scope=row]").all_inner_texts()
        assert [r.splitlines()[0] for r in rows] == ["夏季红色连衣裙", "可调节哑铃"]
        screenshot(page, f"{dialect}-showcase-zh")

        page.goto(f"{server.url}/locale?to=en&next=/creator/plaza?q=dress")
        assert set(_titles(page)) == {"Summer red dress", "Blue long dress"}
        assert "Targeted plan: only invited or approved creators" in page.content()
        screenshot(page, f"{dialect}-plaza-en")
        page.goto(f"{server.url}/creator/showcase")
        assert page.get_by_text("2 of 2 shown to your followers").is_visible()
        screenshot(page, f"{dialect}-showcase-en")
        assert not problems.errors, problems.errors
    finally:
        creator.close()

    shopper = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = shopper.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    try:
        sign_in(page, server.url, SHOPPER)
        page.goto(f"{server.url}/accounts/{ids['account']}")
        showcase = page.locator("#showcase")
        assert showcase.locator(".tile-title").all_inner_texts() == ["夏季红色连衣裙", "可调节哑铃"]
        screenshot(page, f"{dialect}-creator-page-zh")
        showcase.get_by_role("link", name="夏季红色连衣裙").click()
        page.wait_for_url(re.compile(rf"/products/{ids['red']}\?from=showcase:{ids['account']}"))
        hidden = page.locator("form input[name=from]").first.get_attribute("value")
        assert hidden == f"showcase:{ids['account']}"
        page.goto(f"{server.url}/locale?to=en&next=/accounts/{ids['account']}")
        assert page.locator("#showcase .tile-title").all_inner_texts() == [
            "Summer red dress",
            "Adjustable dumbbells",
        ]
        screenshot(page, f"{dialect}-creator-page-en")
        assert not problems.errors, problems.errors
    finally:
        shopper.close()
