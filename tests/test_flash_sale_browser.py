"""The flash-sale story in a real browser (issue #18), on SQLite and PostgreSQL with the in-process
admission (one API process): a merchant creates a one-unit flash sale for the live room in the console,
the host pins the product from the live dashboard ("Pin and start"), two shoppers on phones watch the
live room and press buy at the same moment; one is in the queue and, once the ``flash_sale_orders``
job (run as the job runner runs it) writes the order, sees "ready to pay" and pays; the other sees
"sold out" at once. Screenshots of the console, the dashboard and both phones, zh and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.web_console_helpers import ConsoleWorld, seed_consoles
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.jobs.runner import run_now
from zhongcao.users import addresses
from zhongcao.users.models import User
from zhongcao.users.schemas import AddressIn

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
DESK = {"width": 1440, "height": 900}
OTHER_SHOPPER = "reviewer@example.com"  # seed_world's second shopper
SOLD_OUT_BUDGET_MS = 1_000  # "at once": the loser's box says sold out within a second of the click


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, ConsoleWorld, int]]:
    world = seed_consoles(db, app)
    other = db.scalar(select(User).where(User.email == OTHER_SHOPPER))
    for n, user_id in enumerate((world.web.shopper_id, other.id)):
        addresses.create_address(
            db,
            user_id,
            AddressIn(
                recipient=("王小明", "李女士")[n],
                phone="13800138000",
                province_code="330000",
                city_code="330100",
                district_code="330106",
                detail=f"文三路 {n + 1} 号",
                is_default=True,
            ),
        )
    db.commit()
    with LiveServer(app) as server:
        yield server, world, other.id


def _page(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, PageProblems(page)


def _english(page: Any, base: str, path: str) -> None:
    page.goto(f"{base}/locale?to=en&next={path}")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def _box(page: Any) -> Any:
    return page.locator("[data-live-room] [data-flash-sale]")


def test_two_shoppers_race_for_the_last_unit_in_the_live_room(site, browser, app, database):
    server, world, _ = site
    base, kind = server.url, database.dialect
    live_id = world.web.live_id
    product_id = world.web.product_ids[3]  # the sunscreen: in the room, not pinned yet
    sku_id = world.web.sku_ids[3]
    desk_ctx, desk, desk_problems = _page(browser, DESK)
    phones = [_page(browser, PHONE) for _ in range(2)]
    try:
        # The merchant sets up a one-unit flash sale that waits for the host's pin.
        sign_in(desk, base, world.merchant_email)
        desk.goto(f"{base}/merchant/flash-sales")
        desk.get_by_label("商品规格").select_option(str(sku_id))
        desk.get_by_label("活动名称").fill("直播间 1 元秒杀")
        desk.get_by_label("秒杀价（元）").fill("1.00")
        desk.get_by_label("秒杀数量").fill("1")
        desk.get_by_label("直播间").select_option(str(live_id))
        desk.get_by_role("button", name="创建秒杀").click()
        desk.wait_for_url(re.compile(r"/merchant/flash-sales$"))
        row = desk.locator("#flash-sales tr", has_text="直播间 1 元秒杀")
        assert "0 / 1" not in row.inner_text()  # the unit is reserved, not sold
        screenshot(desk, f"flash-console-zh-{kind}")

        # Two shoppers watch the room; the box is not there until the host pins.
        for (_, phone, _), email in zip(phones, (world.web.shopper_email, OTHER_SHOPPER), strict=True):
            sign_in(phone, base, email)
            phone.goto(f"{base}/live/{live_id}")
            phone.wait_for_selector("[data-live-room][data-connected=true]")
        desk.goto(f"{base}/merchant/live/{live_id}")
        desk.wait_for_selector("[data-host][data-connected=true]")
        desk.locator(f"tr[data-anchor='{product_id}'] [data-flash-start]").click()
        desk.wait_for_selector(f"tr[data-anchor='{product_id}'] [data-pinned-badge]")
        screenshot(desk, f"flash-host-zh-{kind}")
        for _, phone, _ in phones:
            phone.wait_for_selector(f"[data-pinned-id='{product_id}']", timeout=5_000)
            phone.wait_for_selector("[data-live-room] [data-flash-sale][data-show=on_sale]")
            phone.wait_for_selector("[data-live-room] [data-flash-sale][data-connected=true]")
        screenshot(phones[0][1], f"flash-room-on-sale-zh-{kind}")

        # Both press buy at the same moment.
        clicked: dict[int, float] = {}
        # Playwright's sync pages belong to this thread: press them one right after the other.
        for i in (0, 1):
            clicked[i] = phones[i][1].evaluate(
                "() => { const t = performance.timeOrigin + performance.now();"
                " document.querySelector('[data-live-room] [data-flash-buy]').click(); return t; }"
            )
        shows = {}
        for i, (_, phone, _) in enumerate(phones):
            phone.wait_for_function(
                "() => ['queued', 'ordered', 'sold_out'].includes("
                "document.querySelector('[data-live-room] [data-flash-sale]').dataset.show)"
            )
            shows[i] = _box(phone).get_attribute("data-show")
        assert sorted(shows.values()) in (["queued", "sold_out"], ["ordered", "sold_out"]), shows
        winner = next(i for i in shows if shows[i] != "sold_out")
        loser = 1 - winner
        lost = phones[loser][1]
        seen = lost.evaluate("() => performance.timeOrigin + performance.now()")
        assert seen - clicked[loser] < SOLD_OUT_BUDGET_MS + 2_000  # wall clock of the check itself
        assert "已抢光" in _box(lost).inner_text()
        assert _box(lost).locator("[data-flash-buy]").is_hidden()
        screenshot(lost, f"flash-room-sold-out-zh-{kind}")

        # The job writes the order; the winner's box turns to "ready to pay" and they pay.
        won = phones[winner][1]
        assert run_now(app.state.database, app.state.settings, ["flash_sale_orders"])
        won.wait_for_selector("[data-live-room] [data-flash-sale][data-show=ordered]", timeout=5_000)
        assert "抢到了" in _box(won).inner_text()
        screenshot(won, f"flash-room-ready-to-pay-zh-{kind}")
        _box(won).get_by_role("link", name="去付款").click()
        won.wait_for_url(re.compile(r"/checkouts/\d+/pay$"))
        assert "¥1.00" in won.locator("main").inner_text()
        won.get_by_role("button", name=re.compile("确认支付")).click()
        won.wait_for_url(re.compile(r"/orders/\d+$"))
        won.goto(f"{base}/live/{live_id}")
        won.wait_for_selector("[data-live-room] [data-flash-sale][data-show=paid]")

        # The same boxes in English, on the phone.
        for i, (_, phone, _) in enumerate(phones):
            _english(phone, base, f"/live/{live_id}")
            phone.wait_for_selector("[data-live-room] [data-flash-sale][data-connected=true]")
            text = _box(phone).inner_text()
            assert ("Paid" in text) if i == winner else ("Sold out" in text), text
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            screenshot(phone, f"flash-room-{'paid' if i == winner else 'sold-out'}-en-{kind}")
        _english(desk, base, "/merchant/flash-sales")
        assert desk.locator("#flash-sales tr", has_text="直播间 1 元秒杀").count() == 1
        screenshot(desk, f"flash-console-en-{kind}")
        assert not desk_problems.take()
        for i, (_, _, problems) in enumerate(phones):
            found = problems.take()
            # The loser's buy answered 409 sold_out: that is the answer, not a broken page.
            expected = ("HTTP 409", "status of 409 (Conflict)") if i == loser else ()
            assert not [p for p in found if not any(e in p for e in expected)], found
    finally:
        desk_ctx.close()
        for context, _, _ in phones:
            context.close()
