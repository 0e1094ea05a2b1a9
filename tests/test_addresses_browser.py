"""Adding an address with the province → city → district picker on a 390 px phone, in Chinese and in
English (issue #17 item 3): the lists fill from /api/divisions as the shopper chooses, the page does
not overflow, and the saved address reads in the page's language. Screenshots for review."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, screenshot, seed_world, sign_in
from zhongcao.users.models import UserAddress

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

CASES = {
    "zh": ("zh-CN", ("收货人", "手机号", "省份", "城市", "区县", "详细地址"), ("广东省", "深圳市", "南山区"),
           "保存地址", "广东省 深圳市 南山区 科技园 8 栋 1201"),
    "en": ("en", ("Recipient", "Mobile number", "Province", "City", "District", "Street address"),
           ("Guangdong", "Shenzhen", "Nanshan District"), "Save the address",
           "Guangdong, Shenzhen, Nanshan District, 科技园 8 栋 1201"),
}  # fmt: skip


@pytest.mark.parametrize("language", ["zh", "en"])
def test_adding_an_address_with_the_picker_on_a_phone(app, db, database, browser, language):
    _, labels, picks, save, shown = CASES[language]
    world = seed_world(db)
    email, shopper_id = world.shopper_email, world.shopper_id
    db.close()
    with LiveServer(app) as server:
        # Signed in in Chinese (sign_in reads the Chinese form), then the page language is switched.
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, email)
            page.goto(f"{server.url}/locale?to={'en' if language == 'en' else 'zh'}&next=/account/addresses")
            assert page.locator(".picker-refresh").is_hidden()  # JavaScript fills the lists instead
            recipient, phone, province, city, district, detail = labels
            page.get_by_label(recipient, exact=True).fill("李雷")
            page.get_by_label(phone, exact=True).fill("13900139000")
            page.get_by_label(province, exact=True).select_option(label=picks[0])
            page.get_by_label(city, exact=True).select_option(label=picks[1])
            page.get_by_label(district, exact=True).select_option(label=picks[2])
            page.get_by_label(detail, exact=True).fill("科技园 8 栋 1201")
            screenshot(page, f"addresses-picker-{language}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            page.get_by_role("button", name=save).click()
            page.wait_for_load_state("load")
            assert shown in page.locator(".address-line").first.inner_text()
            screenshot(page, f"addresses-saved-{language}")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert problems.take() == []
        finally:
            context.close()
    with database.session() as check:
        row = check.scalar(select(UserAddress).where(UserAddress.user_id == shopper_id))
        assert row is not None and (row.city_code, row.district_code) == ("440300", "440305")
