"""After-sales on both sides in headless Chromium (issue #17, item 2), on SQLite and PostgreSQL: the
shopper opens a return on a phone, adds a photo, the merchant sees it and approves at the desk, the
shopper posts the return's carrier and number, the merchant confirms the parcel and the refund shows
on the shopper's case page. Screenshots of the shopper's case page in zh-CN and en, and the merchant's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.media_helpers import png
from tests.web_helpers import (
    CHROMIUM,
    PHONE,
    LiveServer,
    PageProblems,
    WebWorld,
    screenshot,
    seed_world,
    sign_in,
)
from zhongcao.media.storage import LocalStorage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

MERCHANT = "owner-bloom_beauty@example.com"
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db, tmp_path) -> Iterator[tuple[LiveServer, WebWorld]]:
    app.state.media_storage = LocalStorage(tmp_path / "media")
    world = seed_world(db)
    with LiveServer(app) as server:
        yield server, world


def _page(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, PageProblems(page)


def test_a_return_through_both_sides_in_the_browser(site, browser, database, tmp_path):
    server, world = site
    kind = database.dialect
    photo = tmp_path / "crack.png"
    photo.write_bytes(png(640, 480))
    phone_ctx, shopper, shopper_problems = _page(browser, PHONE)
    desk_ctx, merchant, merchant_problems = _page(browser, DESK)
    try:
        sign_in(shopper, server.url, world.shopper_email)
        shopper.goto(f"{server.url}/orders/{world.order_id}/items/{world.order_item_id}/after-sale")
        shopper.locator("input[name=kind][value=return_and_refund]").check(force=True)
        shopper.locator("input[name=reason][value=quality]").check(force=True)
        shopper.locator("textarea[name=description]").fill("瓶盖裂了，精华漏了一半")
        shopper.locator("form button[type=submit]").last.click()
        shopper.wait_for_url(re.compile(r"/after-sales/\d+$"))
        case_id = int(shopper.url.rsplit("/", 1)[1])
        shopper.locator("#f-image").set_input_files(str(photo))
        shopper.locator("form[action='/after-sales/evidence'] button[type=submit]").click()
        shopper.wait_for_url(re.compile(rf"/after-sales/{case_id}"))
        assert shopper.locator("[data-evidence=buyer] img").count() == 1
        assert shopper.locator(f"form[action='/after-sales/{case_id}/return-shipped']").count() == 0

        # The merchant sees the photo and approves the return.
        sign_in(merchant, server.url, MERCHANT)
        merchant.goto(f"{server.url}/merchant/after-sales/{case_id}")
        assert merchant.locator("[data-evidence=buyer] img").count() == 1
        merchant.locator(f"form[action='/merchant/after-sales/{case_id}/approve'] button").click()
        merchant.wait_for_load_state("load")

        # The shopper posts the parcel's carrier and number.
        shopper.reload()
        shopper.locator("#f-carrier_name").select_option(index=1)
        shopper.locator("#f-tracking_number").fill("SF1234567890")
        shopper.locator(f"form[action='/after-sales/{case_id}/return-shipped'] button").click()
        shopper.wait_for_url(re.compile(rf"/after-sales/{case_id}"))
        assert "SF1234567890" in shopper.locator("main").inner_text()
        screenshot(shopper, f"{kind}-after-sale-case-returning-zh")

        # The merchant confirms the parcel: the refund is paid and shows on the shopper's page.
        merchant.goto(f"{server.url}/merchant/after-sales/{case_id}")
        assert "SF1234567890" in merchant.locator("main").inner_text()
        screenshot(merchant, f"{kind}-merchant-after-sale-case-zh")
        merchant.locator(f"form[action='/merchant/after-sales/{case_id}/receive'] button").click()
        merchant.wait_for_load_state("load")
        shopper.reload()
        assert shopper.locator("[data-case-status]").get_attribute("data-case-status") == "refunded"
        assert shopper.locator("[data-refunded]").count() == 1
        screenshot(shopper, f"{kind}-after-sale-case-refunded-zh")
        shopper.goto(f"{server.url}/locale?to=en&next=/after-sales/{case_id}")
        assert "Refund" in shopper.locator("main").inner_text()
        screenshot(shopper, f"{kind}-after-sale-case-refunded-en")
        assert shopper_problems.take() == [] and merchant_problems.take() == []
    finally:
        phone_ctx.close()
        desk_ctx.close()
