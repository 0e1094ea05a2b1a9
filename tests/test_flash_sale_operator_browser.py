"""An operator's campaign flash sale in a real browser (issue #18): on the campaign's page the
operator sets up a flash sale on a shop's SKU, sees it in the campaign's list with its units, ends it,
and reads the same page in English. Screenshots, zh and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web_console_helpers import ConsoleWorld, seed_consoles
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao import clock
from zhongcao.web.templating import DISPLAY_TZ

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


def test_an_operator_sets_up_and_ends_a_campaign_flash_sale(site, browser, database) -> None:  # type: ignore[no-untyped-def]
    server, world = site
    base, kind = server.url, database.dialect
    context = browser.new_context(viewport=DESK, device_scale_factor=1, locale="zh-CN")
    page: Any = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    campaign = f"/operator/campaigns/{world.campaign_id}"
    try:
        sign_in(page, base, world.operator_email)
        page.goto(f"{base}{campaign}")
        section = page.locator("#flash-sales")
        assert "还没有秒杀活动" in section.inner_text()
        starts = (clock.now() + timedelta(hours=2)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M")
        section.get_by_label("规格编号（SKU ID）").fill(str(world.web.sku_ids[3]))
        section.get_by_label("活动名称").fill("大促开场秒杀")
        section.get_by_label("秒杀价（元）").fill("0.10")
        section.get_by_label("秒杀数量").fill("2")
        section.get_by_label("开始时间").fill(starts)
        section.get_by_label("原因（记入审计日志）").fill("双11 开场引流")
        # A quantity the SKU does not have: the form says so at the field, keeping what was typed.
        section.get_by_label("秒杀数量").fill("100000")
        section.get_by_role("button", name="创建秒杀").click()
        page.wait_for_selector("#flash-sales .field-invalid")
        assert page.locator("#fs-quantity").input_value() == "100000"
        section = page.locator("#flash-sales")
        section.get_by_label("秒杀数量").fill("2")
        section.get_by_role("button", name="创建秒杀").click()
        page.wait_for_url(re.compile(re.escape(campaign) + r"(#flash-sales)?$"))
        row = page.locator("#campaign-flash-sales tr", has_text="大促开场秒杀")
        assert "2 / 2" in row.inner_text() and "未开始" in row.inner_text()
        screenshot(page, f"flash-operator-campaign-zh-{kind}")
        row.get_by_role("button", name=re.compile("结束")).click()
        page.wait_for_url(re.compile(re.escape(campaign) + r"(#flash-sales)?$"))
        row = page.locator("#campaign-flash-sales tr", has_text="大促开场秒杀")
        assert "已结束" in row.inner_text() and row.get_by_role("button").count() == 0
        # The audit log has both, with the operator's reason.
        page.goto(f"{base}/operator/audit?q=双11")
        assert "双11 开场引流" in page.locator("main").inner_text()
        page.goto(f"{base}/locale?to=en&next={campaign}")
        page.wait_for_url(re.compile(re.escape(campaign) + "$"))
        assert "Campaign flash sales" in page.locator("#flash-sales").inner_text()
        assert "Ended" in page.locator("#campaign-flash-sales tr", has_text="大促开场秒杀").inner_text()
        screenshot(page, f"flash-operator-campaign-en-{kind}")
        # The refused quantity answered 409 insufficient_stock with the form: that is the answer.
        found = problems.take()
        assert not [p for p in found if not ("409" in p or "Conflict" in p)], found
    finally:
        context.close()
