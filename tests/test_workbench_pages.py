"""The operator's workbench through the pages (issue #16, item 4): forms refuse an action without a
reason (the form again, the message in the page's language), only operators reach the pages, and in
Chromium an operator arbitrates an escalated case against the merchant (the case closes refunded,
the audit log shows it, the shop's score at the next computation reflects it) and suspends a shop
and restores it; screenshots in zh and en."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.commerce_helpers import delivered_order
from tests.factories import make_user
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, form_token, screenshot, sign_in, web_login
from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason, AfterSaleStatus
from zhongcao.audit import service as audit_service
from zhongcao.experience import computation as score_computation
from zhongcao.experience import scores as experience_scores
from zhongcao.experience.scoring import ScoreConfig, ScoreRules
from zhongcao.pagination import PageParams
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import ShopStatus
from zhongcao.users.models import Role

RULES = ScoreRules(default=ScoreConfig(min_orders=1))
DESK = {"width": 1440, "height": 900}


def _escalated_case(db: Any) -> tuple[Any, int]:
    bundle = delivered_order(db, quantity=1)
    case = aftersales_service.open_case(
        db,
        bundle.buyer.id,
        bundle.order.id,
        order_item_id=bundle.item.id,
        kind=AfterSaleKind.refund_only,
        reason=AfterSaleReason.quality,
        description="收到的杯子有裂纹，附照片",
    )
    aftersales_service.reject(db, bundle.shop.shop.id, case.id, note="发货前检查过，是运输中损坏")
    aftersales_service.escalate(db, bundle.buyer.id, case.id)
    return bundle, case.id


def test_an_action_without_a_reason_shows_the_form_again(client, db) -> None:
    bundle, case_id = _escalated_case(db)
    operator = make_user(db, Role.operator)
    web_login(client, operator.email)
    url = f"/operator/after-sales/{case_id}"
    token = form_token(client, url)
    refused = client.post(url, data={"csrf_token": token, "refund": "yes", "reason": " "})
    assert refused.status_code == 422 and "请填写原因" in refused.text
    assert aftersales_service.get_case(db, case_id).status is AfterSaleStatus.arbitrating
    done = client.post(
        url,
        data={"csrf_token": token, "refund": "yes", "merchant_at_fault": "on", "reason": "质量问题"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.expire_all()
    case = aftersales_service.get_case(db, case_id)
    assert case.status is AfterSaleStatus.refunded and case.merchant_at_fault is True

    shop_url = f"/operator/shops/{bundle.shop.shop.id}"
    english = client.post(
        shop_url,
        data={"csrf_token": token, "action": "suspend", "reason": ""},
        headers={"accept-language": "en"},
    )
    assert english.status_code == 422
    assert "Give a reason" in english.text or "请填写原因" in english.text
    assert shops_service.get_shop(db, bundle.shop.shop.id).status is ShopStatus.active
    log = client.get("/operator/audit", params={"q": "质量"}).text
    assert "质量问题" in log and f"/operator/after-sales/{case_id}" in log
    assert "/operator/after-sales" in client.get("/operator/workbench").text


def test_the_workbench_is_for_operators(client, db) -> None:
    web_login(client, make_user(db, Role.merchant).email)
    for path in ("/operator/workbench", "/operator/audit", "/operator/shops", "/operator/users"):
        assert client.get(path).status_code == 403


needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
)


@pytest.fixture
def desk(browser) -> Iterator[tuple[Any, PageProblems]]:
    context = browser.new_context(viewport=DESK, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page, PageProblems(page)
    context.close()


@needs_chromium
@pytest.mark.browser
@pytest.mark.slow
def test_operator_arbitrates_against_the_merchant_and_suspends_a_shop(app, db, database, desk) -> None:
    bundle, case_id = _escalated_case(db)
    shop_id = bundle.shop.shop.id
    delivered_order(db, quantity=1)  # a peer: scores are percentiles among shops
    operator = make_user(db, Role.operator)
    email = operator.email
    now = clock.now() + timedelta(minutes=1)
    before = {r.shop_id: r.score_centi for r in score_computation.compute_scores(db, now, RULES)}
    db.commit()
    page, problems = desk
    kind = database.dialect
    with LiveServer(app) as server:
        sign_in(page, server.url, email)
        page.goto(f"{server.url}/operator/workbench")
        screenshot(page, f"{kind}-operator-workbench-zh")
        page.locator("a[href='/operator/after-sales']").first.click()
        page.wait_for_url("**/operator/after-sales")
        page.locator(f"a[href='/operator/after-sales/{case_id}']").click()
        page.wait_for_url(f"**/operator/after-sales/{case_id}")
        assert page.get_by_text("收到的杯子有裂纹").is_visible()
        assert page.get_by_text("发货前检查过").is_visible()
        # No reason: the form again with the message beside the box.
        page.locator("#decide input[name=refund][value=yes] + span").click()
        page.locator("#decide input[name=merchant_at_fault] + span").click()
        page.locator("#decide button[type=submit]").click()
        assert page.locator("#reason-error").is_visible()
        screenshot(page, f"{kind}-operator-case-zh")
        problems.take()  # the 422 above was meant
        page.locator("#f-reason").fill("照片显示出厂前已有裂纹，商家责任")
        with page.expect_navigation():
            page.locator("#decide button[type=submit]").click()
        screenshot(page, f"{kind}-operator-case-decided-zh")
        assert page.locator(".status-refunded").first.is_visible()

        page.goto(f"{server.url}/operator/audit")
        assert page.get_by_text("照片显示出厂前已有裂纹，商家责任").first.is_visible()
        screenshot(page, f"{kind}-operator-audit-zh")

        page.goto(f"{server.url}/operator/shops/{shop_id}")
        page.locator("input[name=action][value=suspend] + span").click()
        page.locator("#f-reason").fill("出售假冒商品")
        with page.expect_navigation():
            page.locator("#act button[type=submit]").click()
        assert page.locator(".status-suspended").first.is_visible()
        screenshot(page, f"{kind}-operator-shop-zh")
        page.locator("input[name=action][value=restore] + span").click()
        page.locator("#f-reason").fill("整改完成")
        with page.expect_navigation():
            page.locator("#act button[type=submit]").click()
        assert page.locator(".status-active").first.is_visible()

        page.goto(f"{server.url}/locale?to=en&next=/operator/after-sales/{case_id}")
        page.wait_for_url(f"**/operator/after-sales/{case_id}")
        assert page.get_by_text("The buyer's statement").is_visible()
        screenshot(page, f"{kind}-operator-case-en")
        page.goto(f"{server.url}/operator/workbench")
        screenshot(page, f"{kind}-operator-workbench-en")
        page.goto(f"{server.url}/operator/audit")
        screenshot(page, f"{kind}-operator-audit-en")
        assert problems.take() == []

    db.expire_all()
    case = aftersales_service.get_case(db, case_id)
    assert case.status is AfterSaleStatus.refunded and case.merchant_at_fault is True
    assert shops_service.get_shop(db, shop_id).status is ShopStatus.active
    actions = [e.action for e in audit_service.entries_page(db, PageParams(limit=10))[0]]
    assert actions == ["shop.restore", "shop.suspend", "after_sale.arbitrate"]
    after = {
        r.shop_id: r.score_centi
        for r in score_computation.compute_scores(db, now + timedelta(minutes=5), RULES)
    }
    assert after[shop_id] < before[shop_id]
    assert experience_scores.latest_score(db, shop_id).score_centi == after[shop_id]
