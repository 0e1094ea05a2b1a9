"""Members-only coupons in headless Chromium: the merchant ticks 仅会员可领 in the coupon editor; a
shopper on a phone sees the 会员专享 coupon on the product page, is sent to join, joins, and claims it
on the membership page; zh-CN and en screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.commerce_helpers import paid_order
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.membership import service as membership_service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def _fits_phone(page, whole: bool = True) -> None:
    """Nothing overflows a phone: the whole page, or (``whole=False``) the main content and the coupon
    chips (in English the shared top bar of a signed-in shopper is wider than the phone; not ours)."""
    if whole:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page overflows: {width}px"
    width = page.evaluate("document.querySelector('main').scrollWidth")
    assert width <= PHONE["width"], f"the content overflows: {width}px"
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.coupon-chip')].map(e => e.getBoundingClientRect().right))"
    )
    assert right <= PHONE["width"], f"a coupon sticks out: {right}px"


def test_a_members_only_coupon_from_editor_to_claim(app, db, database, browser):
    bundle = paid_order(db, price_fen=26_000)
    shop_id = bundle.shop.shop.id
    membership_service.configure(db, shop_id, enabled=True, tiers=membership_service.DEFAULT_TIERS)
    db.commit()
    owner_email, buyer_email, product_id = bundle.shop.owner.email, bundle.buyer.email, bundle.product.id
    db.close()
    with LiveServer(app) as server:
        desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = desk.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, owner_email)
            page.goto(server.url + "/merchant/coupons/new")
            page.locator("#f-name").fill("会员无门槛减20")
            page.locator("#f-discount").fill("20")
            box = page.get_by_label("仅会员可领")
            box.check()
            assert "只有本店会员能领取" in page.locator("#members_only-hint").inner_text()
            screenshot(page, f"{database.dialect}-console-member-coupon-editor")
            page.locator("form.form-grid button[type=submit]").click()
            page.wait_for_url(re.compile(r"/merchant/coupons/\d+$"))
            assert page.get_by_label("仅会员可领").is_checked()
            page.goto(server.url + "/merchant/coupons")
            row = page.locator("tbody tr", has_text="会员无门槛减20")
            assert row.locator("[data-members-only]").inner_text() == "仅会员"
            screenshot(page, f"{database.dialect}-console-member-coupons")
            page.get_by_role("link", name="English").click()
            page.wait_for_load_state("load")
            assert row.locator("[data-members-only]").inner_text() == "Members only"
            screenshot(page, f"en-{database.dialect}-console-member-coupons")
            assert problems.take() == []
        finally:
            desk.close()

        phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = phone.new_page()
        page.set_default_timeout(15_000)
        problems = PageProblems(page)
        try:
            sign_in(page, server.url, buyer_email)
            page.goto(f"{server.url}/products/{product_id}")
            chip = page.locator(".coupon-chip-member")
            assert chip.locator("[data-members-only]").inner_text() == "会员专享"
            _fits_phone(page)
            screenshot(page, f"{database.dialect}-phone-member-coupon-strip", full_page=False)
            chip.get_by_role("link", name=re.compile("加入会员领取")).click()
            page.wait_for_url(re.compile(rf"/shops/{shop_id}/membership#join-title$"))
            assert "加入本店会员，就能领取" in page.locator(".member-coupons").inner_text()
            page.locator("#f-consent").check()
            page.get_by_role("button", name="立即加入").click()
            page.wait_for_load_state("load")
            section = page.locator(".member-coupons")
            assert "你是本店会员" in section.inner_text()
            section.get_by_role("button", name=re.compile("领取")).click()
            page.wait_for_load_state("load")
            assert page.locator(".flash").inner_text().startswith("领取成功")
            assert "已领取" in page.locator(".member-coupons").inner_text()
            _fits_phone(page)
            screenshot(page, f"{database.dialect}-phone-member-coupon-claimed")
            page.get_by_role("link", name="English").click()
            page.wait_for_load_state("load")
            assert "Members-only coupons" in page.locator(".member-coupons").inner_text()
            screenshot(page, f"en-{database.dialect}-phone-member-coupon-claimed")
            page.goto(f"{server.url}/products/{product_id}")
            assert page.locator(".coupon-chip-member [data-members-only]").inner_text() == "Members"
            _fits_phone(page, whole=False)
            screenshot(page, f"en-{database.dialect}-phone-member-coupon-strip", full_page=False)
            assert problems.take() == []
        finally:
            phone.close()
