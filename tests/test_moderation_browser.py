"""Moderation end to end in headless Chromium: an operator takes a shop's video down with a reason and it
disappears from the shopper's feed; the merchant sees "已下架：<reason>" and appeals; the operator
restores it from the appeals queue and it is back in the feed. Screenshots in zh-CN and en of the
operator's moderation list, item page and appeals queue, and the merchant's take-down page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, seed_world, sign_in
from zhongcao.content import service as content_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

MERCHANT = "owner-bloom_beauty@example.com"
OPERATOR = "moderator@example.com"
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
REASON = "夸大功效：宣称“七天根治干皮”"


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, Any]]:
    world = seed_world(db)
    users_service.create_user(
        db, email=OPERATOR, password=PASSWORD, display_name="平台审核员", role=Role.operator
    )
    db.commit()
    with LiveServer(app) as server:
        yield server, world


def _feed_titles(page: Any, url: str) -> list[str]:
    page.goto(url + "/")
    return page.locator("article.feed-card .feed-title").all_inner_texts()


def _gone_from_feed(page: Any, url: str, title: str) -> float:
    began = time.monotonic()
    while True:
        titles = _feed_titles(page, url)
        if not any(title in t for t in titles):
            return time.monotonic() - began
        assert time.monotonic() - began < 1.0, titles
        time.sleep(0.05)


def test_take_down_appeal_and_restore(site, browser, database, db):
    server, world = site
    dialect = database.dialect
    video_id = world.video_ids[0]
    title = content_service.get_content(db, video_id).title_zh
    db.rollback()  # the server writes while the test waits: hold no transaction open
    shopper = browser.new_context(viewport=PHONE, locale="zh-CN")
    operator = browser.new_context(viewport=DESK, locale="zh-CN")
    merchant = browser.new_context(viewport=DESK, locale="zh-CN")
    feed, ops, shop = shopper.new_page(), operator.new_page(), merchant.new_page()
    for page in (feed, ops, shop):
        page.set_default_timeout(15_000)
    problems = [PageProblems(ops), PageProblems(shop)]
    try:
        assert any(title in t for t in _feed_titles(feed, server.url)), "the video is in the feed first"

        # The operator finds the video by its id and takes it down with a reason.
        sign_in(ops, server.url, OPERATOR)
        ops.goto(f"{server.url}/operator/moderation")
        ops.get_by_label("搜索").fill(str(video_id))
        ops.get_by_role("button", name="查找").click()
        row = ops.locator(f"#content-{video_id}")
        assert title in row.inner_text()
        screenshot(ops, f"moderation-list-zh-{dialect}")
        row.get_by_role("link", name="下架").click()
        ops.get_by_role("button", name="下架").click()  # without a reason: refused, in words
        assert ops.locator(".field-error").first.is_visible()
        ops.get_by_label("原因").fill(REASON)
        screenshot(ops, f"moderation-item-zh-{dialect}")
        ops.get_by_role("button", name="下架").click()
        ops.get_by_text("已下架，作者会看到原因").wait_for()

        # It leaves the shopper's feed within a second.
        assert _gone_from_feed(feed, server.url, title) < 1.0

        # The merchant sees why in the content list and appeals once.
        sign_in(shop, server.url, MERCHANT)
        shop.goto(f"{server.url}/merchant/content")
        assert f"已下架：{REASON}" in shop.locator(f"#content-{video_id}").inner_text()
        shop.locator(f"#content-{video_id}").get_by_role("link", name="查看原因与申诉").click()
        shop.get_by_label("申诉说明").fill(
            "功效描述来自第三方检测报告（编号 CTI-2024-0815），已附在商品详情页。"
        )
        screenshot(shop, f"moderation-appeal-zh-{dialect}")
        shop.get_by_role("button", name="提交申诉").click()
        shop.get_by_text("申诉已提交，平台处理后会在这里显示结果").wait_for()
        assert shop.get_by_role("button", name="提交申诉").count() == 0  # once only

        # The operator restores it from the appeals queue.
        ops.goto(f"{server.url}/operator/moderation/appeals")
        assert "CTI-2024-0815" in ops.locator(f"#appeal-{_takedown_id(db, video_id)}").inner_text()
        screenshot(ops, f"moderation-appeals-zh-{dialect}")
        ops.get_by_role("link", name="处理申诉").first.click()
        ops.get_by_label("恢复内容（申诉成立）").check()
        ops.get_by_label("原因").fill("检测报告核实有效，恢复展示")
        ops.get_by_role("button", name="提交处理结果").click()
        ops.get_by_text("已恢复，内容重新对外展示").wait_for()
        assert any(title in t for t in _feed_titles(feed, server.url)), "restored: back in the feed"

        # The merchant sees the outcome; both sides in English.
        shop.goto(f"{server.url}/locale?to=en&next=/merchant/content/{video_id}/takedown")
        shop.get_by_text("Appeal granted: the content is shown again.").wait_for()
        screenshot(shop, f"moderation-appeal-en-{dialect}")
        ops.goto(f"{server.url}/locale?to=en&next=/operator/moderation/{video_id}")
        ops.get_by_text("Appeal granted, restored").wait_for()
        screenshot(ops, f"moderation-item-en-{dialect}")
        ops.goto(f"{server.url}/operator/moderation")
        screenshot(ops, f"moderation-list-en-{dialect}")
        # The one refusal was asked for (a take-down without a reason); nothing else failed.
        assert [p for p in problems[0].take() if "422" not in p] == []
        assert problems[1].take() == []
    finally:
        for context in (shopper, operator, merchant):
            context.close()


def _takedown_id(db: Any, content_id: int) -> int:
    from zhongcao.content import moderation

    db.expire_all()
    row = moderation.latest_takedown(db, content_id)
    assert row is not None
    takedown_id = row.id
    db.rollback()  # hold no transaction open while the server writes
    return takedown_id
