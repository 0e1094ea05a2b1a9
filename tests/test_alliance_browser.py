"""Creator partners end to end in headless Chromium: a creator requests a sample (a bad phone number is
explained first), the merchant approves and ships it, the creator sees "shipped" and confirms receipt;
the merchant creates an open and a targeted plan (a too-low targeted rate and an exclusive plan beside
them are refused with the rule in plain words), invites a creator by name, and approves an
application with a note. Screenshots in zh-CN and en of every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_creator
from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, screenshot, seed_world, sign_in
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.content.models import Account
from zhongcao.users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

MERCHANT = "owner-bloom_beauty@example.com"
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    world = seed_world(db)
    creator = db.get(Account, world.creator_account_id)
    creator_email = db.get(User, creator.user_id).email
    # A second creator has applied to a targeted plan on the serum (beside seed_world's open plan).
    applicant_user, applicant = make_creator(db)
    applicant.name, applicant.handle, applicant.follower_count = "阿杰测评", "ajie_review", 8800
    db.commit()
    targeted = affiliate_service.create_plan(
        db, world.shop_id, product_id=world.product_ids[0], kind=PlanKind.targeted, commission_bps=2500
    )
    affiliate_service.apply_to_plan(db, applicant.id, targeted.id, "我的粉丝多是 25 岁左右的护肤爱好者")
    ids = {
        "serum": world.product_ids[0],
        "cleanser": world.product_ids[1],
        "creator_email": creator_email,
        "applicant": applicant_user.email,
    }
    with LiveServer(app) as server:
        yield server, ids


def _main(page: Any) -> str:
    return page.locator("main").inner_text()


def test_samples_and_plans_in_the_browser(site, browser, database):
    server, ids = site
    dialect = database.dialect
    creator = browser.new_context(viewport=DESK, locale="zh-CN")
    merchant = browser.new_context(viewport=DESK, locale="zh-CN")
    c, m = creator.new_page(), merchant.new_page()
    for page in (c, m):
        page.set_default_timeout(15_000)
    c_problems, m_problems = PageProblems(c), PageProblems(m)
    try:
        # The creator asks for a sample of the serum.
        sign_in(c, server.url, ids["creator_email"])
        c.locator(".console-nav").get_by_role("link", name="我的寄样").click()
        assert "还没有寄样申请" in _main(c)
        c.get_by_role("link", name="申请寄样").first.click()
        c.wait_for_url(re.compile(r"/creator/samples/new$"))
        c.get_by_role("link", name="花漾 保湿精华液").click()
        c.wait_for_url(re.compile(rf"/creator/samples/new\?product_id={ids['serum']}$"))
        c.get_by_label("收件人").fill("小鹿")
        c.get_by_label("联系电话").fill("打我电话")
        c.get_by_label("收货地址").fill("上海市徐汇区漕溪北路 88 号 12 楼")
        c.get_by_label("给商家的留言").fill("想做一期秋冬保湿测评")
        c.get_by_role("button", name="提交申请").click()
        assert "请填写正确的电话号码" in c.locator(".field-error").inner_text()
        assert c.get_by_label("收货地址").input_value() == "上海市徐汇区漕溪北路 88 号 12 楼"
        screenshot(c, f"{dialect}-creator-sample-form-zh")
        c.get_by_label("联系电话").fill("138 0013 8000")
        c.get_by_role("button", name="提交申请").click()
        c.wait_for_url(re.compile(r"/creator/samples$"))
        assert "申请已提交" in c.locator(".flash").inner_text()
        assert "待处理" in c.locator("table.data tbody tr").first.inner_text()

        # The merchant approves it, then ships it.
        sign_in(m, server.url, MERCHANT)
        m.locator(".console-nav").get_by_role("link", name="寄样管理").click()
        m.wait_for_url(re.compile(r"/merchant/alliance/samples$"))
        assert m.locator('[data-count="requested"]').inner_text() == "1"
        row = m.locator("table.data tbody tr").first
        assert "小鹿爱分享" in row.inner_text() and "138 0013 8000" in row.inner_text()
        row.get_by_label("商家留言").fill("三天内发出")
        row.get_by_role("button", name=re.compile("^同意寄样")).click()
        assert "已同意" in m.locator(".flash").inner_text()
        row = m.locator("table.data tbody tr").first
        row.get_by_label("快递公司").fill("顺丰速运")
        row.get_by_label("快递单号").fill("SF 1234")
        row.get_by_role("button", name=re.compile("^发货")).click()
        assert "快递单号是 4 到 64 位" in _main(m)
        row = m.locator("table.data tbody tr").first
        row.get_by_label("快递单号").fill("SF1234567890")
        row.get_by_role("button", name=re.compile("^发货")).click()
        assert "已发货" in m.locator(".flash").inner_text()
        m.get_by_role("link", name=re.compile("^全部")).click()
        assert m.locator('[data-count="shipped"]').inner_text() == "1"
        screenshot(m, f"{dialect}-merchant-samples-zh")

        # The creator sees it shipped, with the parcel, and confirms receipt.
        c.reload()
        row = c.locator("table.data tbody tr").first
        assert row.locator("[data-status]").get_attribute("data-status") == "shipped"
        assert "已发货" in row.inner_text() and "SF1234567890" in row.inner_text()
        assert "三天内发出" in row.inner_text()
        screenshot(c, f"{dialect}-creator-samples-zh")
        row.get_by_role("button", name=re.compile("^确认收货")).click()
        assert "已签收" in c.locator("table.data tbody tr").first.inner_text()

        # Plans: an open plan on the cleanser, then a targeted one.
        m.locator(".console-nav").get_by_role("link", name="带货计划").click()
        m.wait_for_url(re.compile(r"/merchant/alliance$"))
        m.get_by_label("商品").select_option(str(ids["cleanser"]))
        m.get_by_label("普通").check()
        m.get_by_label("佣金率（%）").fill("10")
        m.get_by_role("button", name="创建计划").click()
        m.wait_for_url(re.compile(r"/merchant/alliance/plans/\d+$"))
        m.locator(".crumbs a").click()
        m.get_by_label("商品").select_option(str(ids["cleanser"]))
        m.get_by_label("定向").check()
        m.get_by_label("佣金率（%）").fill("8")
        m.get_by_role("button", name="创建计划").click()
        assert "定向计划的佣金率要高于这个商品普通计划的 10%" in m.locator("#form-errors").inner_text()
        m.get_by_label("佣金率（%）").fill("18.5")
        m.get_by_role("button", name="创建计划").click()
        m.wait_for_url(re.compile(r"/merchant/alliance/plans/\d+$"))
        assert "现在邀请达人加入吧" in m.locator(".flash").inner_text()
        m.get_by_label("按昵称或账号搜索达人").fill("小鹿")
        m.get_by_role("button", name="搜索").click()
        m.get_by_role("button", name=re.compile("^邀请 小鹿爱分享")).click()
        assert "已邀请" in m.locator(".flash").inner_text()
        assert "小鹿爱分享" in m.locator(".creator-list").inner_text()
        screenshot(m, f"{dialect}-merchant-plan-zh")
        # An exclusive plan beside them is refused, with the rule.
        m.locator(".crumbs a").click()
        m.get_by_label("商品").select_option(str(ids["cleanser"]))
        m.get_by_label("专属").check()
        m.get_by_label("佣金率（%）").fill("30")
        m.get_by_role("button", name="创建计划").click()
        assert "专属计划不能和它们同时存在" in m.locator("#form-errors").inner_text()
        screenshot(m, f"{dialect}-merchant-alliance-refused-zh")

        # The application to the serum's targeted plan, approved with a note.
        m.locator(".console-nav").get_by_role("link", name="达人申请").click()
        row = m.locator("table.data tbody tr").filter(has_text="阿杰测评")
        row.get_by_label(re.compile("给达人的话")).fill("欢迎合作，样品随后寄出")
        row.get_by_role("button", name=re.compile("^同意")).click()
        assert "已同意" in m.locator(".flash").inner_text()
        m.goto(f"{server.url}/merchant/alliance/applications?status=approved")
        row = m.locator("table.data tbody tr").filter(has_text="阿杰测评")
        assert "欢迎合作" in row.inner_text()
        screenshot(m, f"{dialect}-merchant-applications-zh")
        m.locator(".console-nav").get_by_role("link", name="带货达人").click()
        screenshot(m, f"{dialect}-merchant-alliance-creators-zh")

        # The same pages in English.
        for page, path, name in (
            (m, "/merchant/alliance", "merchant-alliance"),
            (m, "/merchant/alliance/samples", "merchant-samples"),
            (m, "/merchant/alliance/applications", "merchant-applications"),
            (c, "/creator/samples", "creator-samples"),
            (c, f"/creator/samples/new?product_id={ids['cleanser']}", "creator-sample-form"),
        ):
            page.goto(f"{server.url}/locale?to=en&next={path}")
            assert "寄样" not in page.locator(".console-nav").inner_text()
            screenshot(page, f"{dialect}-{name}-en")
        m.goto(f"{server.url}/merchant/alliance")
        assert "Affiliate plans" in _main(m) and "Targeted" in _main(m)
        bad = [p for p in m_problems.take() + c_problems.take() if not re.search(r"\b(409|422)\b", p)]
        assert bad == []
    finally:
        creator.close()
        merchant.close()
