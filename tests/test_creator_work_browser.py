"""The creator's studio and statement in headless Chromium: the creator uploads a video anchoring a
product from the plaza, the video plays on its page and in the feed, a shopper buys through it, and
the statement shows the commission pending, then settled after the settlement job; zh-CN and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.commerce_helpers import pay, place
from tests.media_helpers import tiny_video
from tests.web_console_helpers import seed_consoles
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, sign_in
from zhongcao import clock
from zhongcao.affiliate import showcase
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import OrderItem
from zhongcao.config import get_settings
from zhongcao.finance import service as finance_service
from zhongcao.media.storage import LocalStorage
from zhongcao.users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def site(app, db, tmp_path) -> Iterator[tuple[LiveServer, Any]]:
    app.state.media_storage = LocalStorage(tmp_path / "media")
    world = seed_consoles(db, app)
    # The studio anchors showcase products (the plaza → showcase step has its own browser test).
    showcase.add(db, world.web.creator_account_id, world.web.product_ids[0])
    db.commit()
    with LiveServer(app) as server:
        yield server, world


def _buy_through(db, world, content_id: int) -> tuple[int, int]:
    """The shopper buys the serum through the video; delivered and confirmed. (order id, commission)"""
    shopper = db.get(User, world.web.shopper_id)
    line = {
        "sku_id": world.web.sku_ids[0],
        "quantity": 1,
        "attribution": {"channel": "short_video", "content_id": content_id},
    }
    order_id = pay(db, shopper, place(db, shopper, [line])).orders[0].id
    order_service.ship_order(db, world.web.shop_id, order_id, carrier_name="顺丰", tracking_number="SF9")
    order_service.record_delivery(db, order_id)
    order_service.confirm_receipt(db, world.web.shopper_id, order_id)
    item = db.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).one()
    commission = item.commission_fen
    db.commit()
    return order_id, commission


def test_a_creator_publishes_a_video_and_its_commission_settles(site, browser, db, database, tmp_path):
    server, world = site
    serum = world.web.product_ids[0]
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = PageProblems(page)
    try:
        sign_in(page, server.url, world.creator_email)
        page.get_by_role("link", name="发布短视频").click()
        page.wait_for_url(re.compile(r"/creator/content/videos/new"))
        clip = tmp_path / "review.mp4"
        tiny_video(clip, seconds=2.0)
        page.get_by_label("视频文件").set_input_files(str(clip))
        page.get_by_label("中文标题").fill("三分钟看懂这瓶精华")
        page.get_by_label("英文标题").fill("This serum in three minutes")
        page.get_by_label("话题").fill("测评")
        page.get_by_label("搜索商品").fill("精华")
        page.get_by_label(re.compile("花漾 保湿精华液")).check()
        screenshot(page, f"{database.dialect}-console-creator-publish")
        page.get_by_role("button", name="发布", exact=True).click()
        page.wait_for_url(re.compile(r"/creator\?kind=short_video#content-\d+"))
        video_id = int(page.url.rsplit("-", 1)[1])
        assert "视频已发布" in page.locator("body").inner_text()
        assert problems.take() == []

        # The video plays on its page, anchoring the serum, and is in the feed.
        page.goto(f"{server.url}/videos/{video_id}")
        source = page.locator("video source").first
        assert source.get_attribute("type") == "video/mp4"
        src = source.get_attribute("src")
        assert page.locator(f'a[href^="/products/{serum}?from=short_video:{video_id}"]').count() >= 1
        page.goto(f"{server.url}/?mode=latest")
        assert page.locator(f'.feed source[src="{src}"]').count() == 1

        # A shopper buys through the video: the commission accrues to the creator, pending.
        order_id, commission = _buy_through(db, world, video_id)
        yuan = f"¥{commission // 100}.{commission % 100:02d}"
        page.goto(f"{server.url}/creator/statement")
        line = page.locator(f'#statement-lines tr[data-order="{order_id}"][data-state="pending"]')
        assert line.count() == 1 and yuan in line.inner_text() and "三分钟看懂这瓶精华" in line.inner_text()
        assert yuan in page.locator('[data-total="pending"]').inner_text()
        screenshot(page, f"{database.dialect}-console-creator-statement-pending")

        # The settlement job settles the order: the commission with it.
        finance_service.run_settlements(db, clock.now() + timedelta(days=get_settings().settlement_days + 1))
        page.reload()
        line = page.locator(f'#statement-lines tr[data-order="{order_id}"][data-state="settled"]')
        assert line.count() == 1 and "已结算" in line.inner_text()
        assert yuan in page.locator('[data-total="settled"]').inner_text()
        assert page.locator('#statement-lines tr[data-state="pending"]').count() == 0
        screenshot(page, f"{database.dialect}-console-creator-statement")
        assert problems.take() == []

        # English.
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "Commission statement"
        assert "Settled" in page.locator("#statement-lines").inner_text()
        screenshot(page, f"en-{database.dialect}-console-creator-statement")
        page.goto(f"{server.url}/creator/content/videos/new")
        assert "Anchored products" in page.locator("body").inner_text()
        screenshot(page, f"en-{database.dialect}-console-creator-publish")
        assert problems.take() == []
    finally:
        context.close()
