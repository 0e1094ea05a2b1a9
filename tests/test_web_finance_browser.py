"""The merchant's Finance page and the creator's earnings in headless Chromium: the statement for a
period, the settlement list with status, the CSV download (equal to the statement), in zh-CN and en."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web_finance_helpers import seed_finance
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao import clock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, Any, list[int]]]:
    world, orders = seed_finance(db, app)
    with LiveServer(app) as server:
        yield server, world, orders


def test_the_finance_page_shows_the_statement_and_downloads_the_csv(site, browser, database, tmp_path):
    server, world, orders = site
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    try:
        sign_in(page, server.url, world.merchant_email)
        page.locator(".console-nav").get_by_role("link", name="财务结算").click()
        page.wait_for_url(re.compile(r"/merchant/finance"))
        assert page.locator("h1").inner_text() == "财务结算"
        # The last 30 days (the settled order completed 8 days ago, maybe last month), typed in the form.
        today = clock.business_today()  # statements count business days (UTC+8)
        start = today - timedelta(days=30)
        page.get_by_label("开始日期").fill(start.isoformat())
        page.get_by_label("结束日期（含）").fill(today.isoformat())
        page.get_by_role("button", name="查看").click()
        page.wait_for_url(re.compile(r"from="))
        statement = page.locator("#statement")
        assert statement.locator('tr[data-part="total"] td').first.inner_text() == str(len(orders))
        assert statement.locator('tr[data-part="settled"] td').first.inner_text() == "1"
        rows = page.locator("#settlements tbody tr")
        assert rows.count() == len(orders)
        settled = page.locator(f'#settlements tr[data-order="{orders[0]}"]')
        assert "已结算" in settled.inner_text()
        assert problems.take() == []
        screenshot(page, f"{database.dialect}-console-merchant-finance")

        with page.expect_download() as info:
            page.locator("#statement-csv").click()
        download = info.value
        expected = f"statement-{world.web.shop_id}-{start.isoformat()}-{today.isoformat()}.csv"
        assert download.suggested_filename == expected
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        lines = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        total, body = lines[-1], lines[:-1]
        assert {int(r["order_id"]) for r in body} == set(orders)
        total_cell = statement.locator('tr[data-part="total"] td').last.inner_text()
        assert total_cell == f"¥{int(total['settlement_fen']) / 100:,.2f}"
        assert int(total["settlement_fen"]) == sum(int(r["settlement_fen"]) for r in body)

        # The status filter, then a period that is not one: this month instead, and why.
        page.get_by_role("link", name="待结算").first.click()
        page.wait_for_load_state("load")
        assert page.locator("#settlements tbody tr").count() == len(orders) - 1
        page.goto(server.url + "/merchant/finance?from=2026-05-01&to=2026-04-01")
        assert page.get_by_role("alert").count() >= 1
        assert [e for e in problems.take() if "422" not in e] == []

        # English.
        page.goto(server.url + "/merchant/finance")
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "Finance"
        assert "Download the statement (CSV)" in page.locator("#statement-csv").inner_text()
        screenshot(page, f"en-{database.dialect}-console-merchant-finance")
        assert problems.take() == []
        page.get_by_role("link", name="中文").click()
        page.wait_for_load_state("load")

        # The creator whose video carried a sale sees it pending.
        page.get_by_role("button", name="退出").click()
        page.wait_for_url(re.compile(r"/$"))
        sign_in(page, server.url, world.creator_email)
        page.goto(server.url + "/creator/commissions")
        pending = page.locator('[data-earning="pending"] .kpi-value').inner_text()
        assert pending.startswith("¥") and pending != "¥0.00"
        screenshot(page, f"{database.dialect}-console-creator-earnings")
        assert problems.take() == []
    finally:
        context.close()
