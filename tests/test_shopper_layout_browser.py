"""No shopper page is wider than a phone: at 360 and 390 px, in Chinese and English, signed out and
signed in (with a long name, the header's hardest case), the page's scroll width stays within the
screen. Screenshots of the header and the changed pages in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.web_helpers import CHROMIUM, LiveServer, WebWorld, screenshot, seed_world, sign_in
from zhongcao.shops.models import ShopStaff
from zhongcao.support import service as support_service
from zhongcao.users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

LONG_NAME = "Alexandra Montgomery-Wang"


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, WebWorld]]:
    world = seed_world(db)
    shopper = db.get(User, world.shopper_id)
    assert shopper is not None
    shopper.display_name = LONG_NAME
    # Unread badges on the bell and on messages: the header at its widest.
    owner_id = db.scalar(select(ShopStaff.user_id).where(ShopStaff.shop_id == world.shop_id))
    assert owner_id is not None
    conversation, _ = support_service.start_conversation(
        db, user_id=world.shopper_id, shop_id=world.shop_id, message="在吗"
    )
    for i in range(12):
        support_service.post_agent_message(
            db, conversation.id, shop_id=world.shop_id, agent_user_id=owner_id, body=f"在的 {i}"
        )
    db.commit()
    with LiveServer(app) as server:
        yield server, world


def _public_pages(world: WebWorld) -> list[str]:
    return [
        "/",
        "/mall",
        "/search",
        "/search?q=%E7%B2%BE%E5%8D%8E",
        f"/products/{world.product_ids[0]}",
        f"/products/{world.product_ids[4]}",
        f"/shops/{world.shop_id}",
        f"/videos/{world.video_ids[0]}",
        f"/live/{world.live_id}",
        "/login",
        "/register",
    ]


def _signed_in_pages(world: WebWorld) -> list[str]:
    return [
        *_public_pages(world)[:-2],
        "/cart",
        "/orders",
        f"/orders/{world.order_id}",
        f"/orders/{world.order_id}/items/{world.order_item_id}/review",
        f"/orders/{world.order_id}/items/{world.order_item_id}/after-sale",
        "/nps",
        "/messages",
        "/notifications",
        "/me/coupons",
        f"/shops/{world.shop_id}/membership",
        "/account/security",
        "/open-shop",
    ]


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _check(page: Any, base: str, paths: list[str], label: str) -> list[str]:
    wide = []
    for path in paths:
        page.goto(base + path)
        page.wait_for_load_state("load")
        over = _overflow(page)
        if over > 0:
            wide.append(f"{label} {path}: {over}px too wide")
    return wide


def test_no_shopper_page_overflows_a_phone(site, browser):
    server, world = site
    problems: list[str] = []
    for locale in ("zh", "en"):
        context = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            page.goto(f"{server.url}/locale?to={locale}&next=/")
            for width in (360, 390):
                page.set_viewport_size({"width": width, "height": 800})
                problems += _check(page, server.url, _public_pages(world), f"{width}px {locale} signed out")
            screenshot(page, f"layout-header-signed-out-{locale}-390", full_page=False)
            page.goto(f"{server.url}/locale?to=zh&next=/")
            sign_in(page, server.url, world.shopper_email)
            page.goto(f"{server.url}/locale?to={locale}&next=/")
            for width in (360, 390):
                page.set_viewport_size({"width": width, "height": 800})
                problems += _check(page, server.url, _signed_in_pages(world), f"{width}px {locale} signed in")
            page.goto(server.url + "/orders")
            screenshot(page, f"layout-header-signed-in-{locale}-390", full_page=False)
        finally:
            context.close()
    assert not problems, "\n".join(problems)
