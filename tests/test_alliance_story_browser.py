"""The Alliance and the operator end to end (issue #16, "done when"), in Debian's headless Chromium
against uvicorn, on SQLite and on PostgreSQL.

A creator finds a product in the plaza by pinyin, adds it to the showcase and requests a sample; the
merchant approves and ships it; the creator publishes a video anchoring it; a shopper buys through
the video, and the commission shows pending, then settled after the settlement job. An operator
arbitrates an escalated after-sales case against the merchant, and the shop's score is lower at the
next computation. A video an operator takes down disappears from the feed and from search.

Steps a person does not do in the running platform are done as the platform does them: the
carrier's delivery scan (``record_delivery``), the shopper's confirmation after delivery, the job
worker's settlement run and score computation, and the setup of the escalated case.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.media_helpers import tiny_video
from tests.web_console_helpers import seed_consoles
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, fill_field, screenshot, sign_in
from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason, AfterSaleStatus
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import OrderItem
from zhongcao.config import get_settings
from zhongcao.experience import computation as score_computation
from zhongcao.experience.scoring import ScoreConfig, ScoreRules
from zhongcao.finance import service as finance_service
from zhongcao.media.storage import LocalStorage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

DESK = {"width": 1440, "height": 900}
RULES = ScoreRules(default=ScoreConfig(min_orders=1))
VIDEO_TITLE = "三分钟看懂这瓶保湿精华"


@pytest.fixture
def site(app, db, tmp_path) -> Iterator[tuple[LiveServer, Any]]:
    app.state.media_storage = LocalStorage(tmp_path / "media")
    world = seed_consoles(db, app)
    with LiveServer(app) as server:
        yield server, world


def _context(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page, PageProblems(page)


def _escalated_case(db: Any, world: Any) -> int:
    """The shopper's order of the serum, delivered; the merchant refuses a refund; the shopper escalates."""
    order_id = _buy_with_service(db, world)
    item = db.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).one()
    case = aftersales_service.open_case(
        db,
        world.web.shopper_id,
        order_id,
        order_item_id=item.id,
        kind=AfterSaleKind.refund_only,
        reason=AfterSaleReason.quality,
        description="精华液瓶身漏液，附照片",
    )
    aftersales_service.reject(db, world.web.shop_id, case.id, note="出库前检查过，不是我们的问题")
    aftersales_service.escalate(db, world.web.shopper_id, case.id)
    db.commit()
    return case.id


def _buy_with_service(db: Any, world: Any) -> int:
    from tests.commerce_helpers import pay, place
    from zhongcao.users.models import User

    shopper = db.get(User, world.web.shopper_id)
    line = {"sku_id": world.web.sku_ids[0], "quantity": 1}
    order_id = pay(db, shopper, place(db, shopper, [line])).orders[0].id
    order_service.ship_order(db, world.web.shop_id, order_id, carrier_name="顺丰", tracking_number="SF77")
    order_service.record_delivery(db, order_id)
    db.commit()
    return order_id


def _gone_within(page: Any, url: str, selector: str, seconds: float) -> float:
    """Reload ``url`` until nothing matches ``selector``; the seconds it took (fails past ``seconds``)."""
    began = time.monotonic()
    while True:
        page.goto(url)
        if page.locator(selector).count() == 0:
            return time.monotonic() - began
        assert time.monotonic() - began < seconds, f"{selector} still on {url}"
        time.sleep(0.05)


def test_the_alliance_and_the_operator_in_the_browser(site, browser, db, database, tmp_path):
    server, world = site
    serum = world.web.product_ids[0]
    kind = database.dialect
    creator_ctx, creator, creator_problems = _context(browser, DESK)
    merchant_ctx, merchant, merchant_problems = _context(browser, DESK)
    shopper_ctx, shopper, shopper_problems = _context(browser, PHONE)
    ops_ctx, ops, ops_problems = _context(browser, DESK)
    try:
        # The creator finds the serum in the plaza by pinyin and adds it to the showcase.
        sign_in(creator, server.url, world.creator_email)
        creator.goto(f"{server.url}/creator/plaza")
        creator.get_by_label("搜索商品").fill("jinghuaye")
        creator.get_by_role("button", name="搜索", exact=True).click()
        creator.wait_for_url(re.compile(r"q=jinghuaye"))
        titles = creator.locator("table.plaza tbody th[scope=row] a").all_inner_texts()
        assert "花漾 保湿精华液" in titles, titles
        creator.get_by_role("button", name="加入橱窗 花漾 保湿精华液").first.click()
        creator.wait_for_url(re.compile(r"/creator/plaza"))
        assert "已加入橱窗" in creator.locator(".flash").inner_text()
        screenshot(creator, f"{kind}-alliance-story-plaza")

        # ... and asks the shop for a sample.
        creator.get_by_role("link", name=re.compile("^申请寄样 花漾 保湿精华液")).first.click()
        creator.wait_for_url(re.compile(rf"/creator/samples/new\?product_id={serum}"))
        creator.get_by_label("收件人").fill("小鹿")
        creator.get_by_label("联系电话").fill("138 0013 8000")
        creator.get_by_label("收货地址").fill("上海市徐汇区漕溪北路 88 号 12 楼")
        creator.get_by_label("给商家的留言").fill("想做一期秋冬保湿测评")
        creator.get_by_role("button", name="提交申请").click()
        creator.wait_for_url(re.compile(r"/creator/samples$"))

        # The merchant approves and ships it; the creator sees it shipped.
        sign_in(merchant, server.url, world.merchant_email)
        merchant.goto(f"{server.url}/merchant/alliance/samples")
        row = merchant.locator("table.data tbody tr").first
        row.get_by_role("button", name=re.compile("^同意寄样")).click()
        assert "已同意" in merchant.locator(".flash").inner_text()
        row = merchant.locator("table.data tbody tr").first
        row.get_by_label("快递公司").fill("顺丰速运")
        row.get_by_label("快递单号").fill("SF1234567890")
        row.get_by_role("button", name=re.compile("^发货")).click()
        assert "已发货" in merchant.locator(".flash").inner_text()
        creator.reload()
        row = creator.locator("table.data tbody tr").first
        assert row.locator("[data-status]").get_attribute("data-status") == "shipped"
        assert "SF1234567890" in row.inner_text()

        # The creator publishes a video anchoring the serum from the showcase.
        creator.goto(f"{server.url}/creator/content/videos/new")
        clip = tmp_path / "review.mp4"
        tiny_video(clip, seconds=2.0)
        creator.get_by_label("视频文件").set_input_files(str(clip))
        creator.get_by_label("中文标题").fill(VIDEO_TITLE)
        creator.get_by_label("英文标题").fill("This serum in three minutes")
        creator.get_by_label(re.compile("花漾 保湿精华液")).check()
        creator.get_by_role("button", name="发布", exact=True).click()
        creator.wait_for_url(re.compile(r"/creator\?kind=short_video#content-\d+"))
        video_id = int(creator.url.rsplit("-", 1)[1])
        assert creator_problems.take() == []

        # A shopper watches it and buys through its anchor.
        sign_in(shopper, server.url, world.web.shopper_email)
        shopper.goto(f"{server.url}/videos/{video_id}")
        shopper.locator(f'a[href^="/products/{serum}?from=short_video:{video_id}"]').first.click()
        shopper.wait_for_url(re.compile(rf"/products/{serum}\?from=short_video:{video_id}"))
        shopper.get_by_role("button", name="立即购买").click()
        shopper.wait_for_url(re.compile(r"/checkout\?"))
        for name, value in (
            ("收货人", "李雷"),
            ("手机号", "13900139000"),
            ("省份", "浙江省"),
            ("城市", "杭州市"),
            ("区县", "西湖区"),
            ("详细地址", "文三路 90 号"),
        ):
            if not shopper.get_by_label(name, exact=True).input_value():
                fill_field(shopper, name, value)
        shopper.get_by_role("button", name="提交订单").click()
        shopper.wait_for_url(re.compile(r"/pay$"))
        shopper.locator("form button[type=submit]").last.click()
        shopper.wait_for_url(re.compile(r"/orders/\d+$"))
        order_id = int(shopper.url.rsplit("/", 1)[1])
        assert shopper_problems.take() == []

        # Shipped, delivered by the carrier, confirmed: the commission is pending on the statement.
        order_service.ship_order(db, world.web.shop_id, order_id, carrier_name="顺丰", tracking_number="SF9")
        order_service.record_delivery(db, order_id)
        order_service.confirm_receipt(db, world.web.shopper_id, order_id)
        db.commit()
        creator.goto(f"{server.url}/creator/statement")
        line = creator.locator(f'#statement-lines tr[data-order="{order_id}"]')
        assert line.get_attribute("data-state") == "pending"
        assert VIDEO_TITLE in line.inner_text()
        screenshot(creator, f"{kind}-alliance-story-pending")

        # The settlement job settles the order and its commission.
        finance_service.run_settlements(db, clock.now() + timedelta(days=get_settings().settlement_days + 1))
        creator.reload()
        line = creator.locator(f'#statement-lines tr[data-order="{order_id}"]')
        assert line.get_attribute("data-state") == "settled" and "已结算" in line.inner_text()
        screenshot(creator, f"{kind}-alliance-story-settled")

        # An escalated case: the operator rules against the merchant; the score follows.
        case_id = _escalated_case(db, world)
        now = clock.now()
        before = {r.shop_id: r.score_centi for r in score_computation.compute_scores(db, now, RULES)}
        sign_in(ops, server.url, world.operator_email)
        ops.goto(f"{server.url}/operator/workbench")
        ops.locator("a[href='/operator/after-sales']").first.click()
        ops.locator(f"a[href='/operator/after-sales/{case_id}']").click()
        assert ops.get_by_text("精华液瓶身漏液").is_visible()
        ops.locator("#decide input[name=refund][value=yes] + span").click()
        ops.locator("#decide input[name=merchant_at_fault] + span").click()
        ops.locator("#f-reason").fill("照片显示出库时瓶盖未拧紧，商家责任")
        with ops.expect_navigation():
            ops.locator("#decide button[type=submit]").click()
        assert aftersales_service.get_case(db, case_id).status is AfterSaleStatus.refunded
        db.commit()
        after = {
            r.shop_id: r.score_centi
            for r in score_computation.compute_scores(db, now + timedelta(minutes=5), RULES)
        }
        assert after[world.web.shop_id] < before[world.web.shop_id], (before, after)
        ops.goto(f"{server.url}/operator/audit")
        assert ops.get_by_text("照片显示出库时瓶盖未拧紧，商家责任").first.is_visible()
        screenshot(ops, f"{kind}-alliance-story-audit")

        # The operator takes the video down: it leaves the feed and search within a second.
        shopper.goto(f"{server.url}/?mode=latest")
        assert shopper.locator(f"a[href^='/videos/{video_id}']").count() >= 1
        ops.goto(f"{server.url}/operator/moderation/{video_id}")
        ops.get_by_label("原因").fill("视频夸大功效，违反广告规范")
        ops.get_by_role("button", name="下架").click()
        ops.get_by_text("已下架，作者会看到原因").wait_for()
        assert (
            _gone_within(shopper, f"{server.url}/?mode=latest", f"a[href^='/videos/{video_id}']", 1.0) < 1.0
        )
        assert (
            _gone_within(shopper, f"{server.url}/search?q=保湿精华", f"a[href^='/videos/{video_id}']", 1.0)
            < 1.0
        )
        creator.goto(f"{server.url}/creator")
        assert "视频夸大功效" in creator.locator(f"#content-{video_id}").inner_text()
        screenshot(creator, f"{kind}-alliance-story-taken-down")
        for page_problems in (creator_problems, merchant_problems, shopper_problems, ops_problems):
            assert page_problems.take() == []
    finally:
        for context in (creator_ctx, merchant_ctx, shopper_ctx, ops_ctx):
            context.close()
