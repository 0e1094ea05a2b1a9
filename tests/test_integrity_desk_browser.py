"""The integrity desk end to end in headless Chromium (issue #19, part B): a planted farm's likes on a
shop's video are a case; the operator filters the desk, opens the case (the evidence drawn, the
explanation, the effect on the shop), is refused without a reason, confirms with one; the merchant
reads the warning and its reason and appeals; the operator upholds from the appeals queue. Screenshots
in zh-CN and en."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from tests.integrity_helpers import block
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, seed_world, sign_in
from zhongcao import clock
from zhongcao.content import service as content_service
from zhongcao.events import service as events_service
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import IntegrityCase
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
OPERATOR = "integrity@example.com"
DESK = {"width": 1440, "height": 900}
FARM = list(range(880_101, 880_113))
REASON = "12 个新注册账号在 3 分钟内同步点赞同一批视频"


@pytest.fixture
def site(app, db, database) -> Iterator[tuple[LiveServer, int, int]]:
    world = seed_world(db)
    users_service.create_user(
        db, email=OPERATOR, password=PASSWORD, display_name="诚信专员", role=Role.operator
    )
    videos = [
        v for v in world.video_ids if content_service.get_content(db, v).account_id == _shop_account(db)
    ][:2]
    store = events_service.get_store(app.state.settings, database)
    start = clock.now() - timedelta(minutes=30)
    rows = [(u, v) for u in FARM for v in videos]
    store.append(
        {
            "type": ["like"] * len(rows),
            "user_id": [u for u, _ in rows],
            "content_id": [v for _, v in rows],
            "ts": [start + timedelta(seconds=7 * i) for i in range(len(rows))],
        }
    )
    integrity_service.record_blocks(db, [block(FARM, videos, start=start, minutes=3, score=0.97)])
    case_id = db.scalars(select(IntegrityCase.id)).one()
    db.commit()
    with LiveServer(app) as server:
        yield server, case_id, len(videos)


def _shop_account(db: Any) -> int:
    from zhongcao.content.models import Account
    from zhongcao.shops.models import Shop

    shop = db.scalars(select(Shop).where(Shop.name_en.ilike("%bloom%"))).first()
    return db.scalars(select(Account.id).where(Account.shop_id == shop.id)).first()


def test_the_desk_flow(site, browser, database, db):
    server, case_id, n_videos = site
    dialect = database.dialect
    db.rollback()  # the server writes while the test waits: hold no transaction open
    operator = browser.new_context(viewport=DESK, locale="zh-CN")
    merchant = browser.new_context(viewport=DESK, locale="zh-CN")
    ops, shop = operator.new_page(), merchant.new_page()
    for page in (ops, shop):
        page.set_default_timeout(15_000)
    problems = [PageProblems(ops), PageProblems(shop)]
    try:
        sign_in(ops, server.url, OPERATOR)
        ops.goto(f"{server.url}/operator/workbench")
        ops.get_by_text("诚信案件").wait_for()
        ops.goto(f"{server.url}/operator/integrity")
        ops.get_by_role("link", name="刷量（同步互动）").click()
        row = ops.locator(f"#case-{case_id}")
        assert "账号 × 12" in row.inner_text()
        screenshot(ops, f"integrity-desk-zh-{dialect}")
        row.get_by_role("link", name=f"#{case_id}").click()
        ops.locator("#explanation").get_by_text(f"12 个账号对 {n_videos} 个内容目标同步操作").wait_for()
        ops.locator(".plotly-graph-div .main-svg").first.wait_for()  # the evidence, drawn
        assert str(12 * n_videos) in ops.locator("#effects").inner_text()  # the farm's likes, off the shop
        ops.get_by_role("button", name="提交复核结论").click()  # neither decision nor reason: refused
        assert ops.locator(".field-error").first.is_visible()
        ops.get_by_label("确认作弊").check()
        ops.get_by_label("理由").fill(REASON)
        screenshot(ops, f"integrity-case-zh-{dialect}")
        ops.get_by_role("button", name="提交复核结论").click()
        ops.get_by_text("已确认案件").wait_for()
        assert "警告" in ops.locator("#sanctions").inner_text()

        sign_in(shop, server.url, MERCHANT)
        shop.goto(f"{server.url}/merchant/integrity")
        card = shop.locator("section[data-level=warning]")
        assert REASON in card.inner_text()
        card.get_by_label("申诉说明").fill("这些账号来自一次线下活动的扫码关注，名单可提供。")
        screenshot(shop, f"integrity-merchant-zh-{dialect}")
        card.get_by_role("button", name="提交申诉").click()
        shop.get_by_text("申诉已提交，运营会尽快处理").wait_for()

        ops.goto(f"{server.url}/operator/integrity/appeals")
        ops.get_by_label("维持处理").check()
        ops.get_by_label("理由").fill("账号均为同一设备批量注册，与线下活动无关")
        screenshot(ops, f"integrity-appeals-zh-{dialect}")
        ops.get_by_role("button", name="提交").click()
        ops.get_by_text("已维持处理").wait_for()

        ops.goto(f"{server.url}/locale?to=en&next=/operator/integrity/{case_id}")
        ops.get_by_text(f"12 accounts acted in lockstep on {n_videos} content targets").wait_for()
        screenshot(ops, f"integrity-case-en-{dialect}")
        shop.goto(f"{server.url}/locale?to=en&next=/merchant/integrity")
        shop.get_by_text("appeal refused").wait_for()
        screenshot(shop, f"integrity-merchant-en-{dialect}")
        assert [p for p in problems[0].take() if "422" not in p] == []
        assert problems[1].take() == []
    finally:
        for context in (operator, merchant):
            context.close()
