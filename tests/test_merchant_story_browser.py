"""The merchant's workplace end to end (issue #15, "done when"), in Debian's headless Chromium against
uvicorn, on SQLite and on PostgreSQL: a new person registers and applies for a shop; an operator
approves it; the owner lists a product with two pictures and a 2×3 SKU matrix, publishes a video
anchoring it, schedules a live, goes on air and pins it, and creates a coupon; a shopper watches the
live room, sees the pinned card, comments, claims the coupon and buys with it preselected; contacts
the shop from the order and gets a reply in real time; the merchant ships; once the order completes, the settlements
job records it and the order's settlement appears on the merchant's statement.

Two steps are done the way the running platform does them without a person: the carrier's delivery
scan (``record_delivery``, a carrier integration being a later issue) and the job worker's
``settlements`` run. Everything else is a click or a keystroke in a page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.factories import make_category, make_user
from tests.media_helpers import tiny_video
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, fill_field, screenshot, sign_in
from zhongcao import clock
from zhongcao.commerce import service as order_service
from zhongcao.finance import service as finance_service
from zhongcao.media.storage import LocalStorage
from zhongcao.users.models import Role
from zhongcao.web.templating import DISPLAY_TZ

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

DESK = {"width": 1440, "height": 900}
GOOD_CODE = "91440300708461136T"
PASSWORD = "plum orchard 42 lanterns"
SELLER = "founder@qinghe.example.com"


def _photo(path: Path, colour: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (800, 800), colour)
    ImageDraw.Draw(image).rectangle((200, 200, 600, 600), fill=(250, 250, 245))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def site(app, db, tmp_path) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    app.state.media_storage = LocalStorage(tmp_path / "media")
    category = make_category(db)
    operator = make_user(db, Role.operator)
    shopper = make_user(db, Role.shopper)
    people = {
        "category": category.id,
        "operator": operator.email,
        "shopper": shopper.email,
        "shopper_id": shopper.id,
    }
    db.commit()
    with LiveServer(app) as server:
        yield server, people


def _context(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, PageProblems]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, PageProblems(page)


def _open_the_shop(page: Any, base: str, people: dict[str, Any], kind: str) -> None:
    """Register, apply with a valid credit code, have an operator approve, and sign in as the owner."""
    page.goto(f"{base}/register")
    page.get_by_label("邮箱").fill(SELLER)
    page.get_by_label("昵称").fill("青禾")
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("form[action='/register'] button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/open-shop")
    page.get_by_label("店铺中文名").fill("青禾小铺")
    page.get_by_label("店铺英文名").fill("Green Grain")
    page.get_by_label("主营类目").select_option(str(people["category"]))
    page.get_by_label("统一社会信用代码").fill(GOOD_CODE)
    page.get_by_label("联系人").fill("王芳")
    page.get_by_label("联系电话").fill("138 0013 8000")
    page.locator("form[action='/open-shop'] button[type=submit]").click()
    page.wait_for_selector("li.application[data-status=pending]")

    page.context.clear_cookies()
    sign_in(page, base, people["operator"])
    page.goto(f"{base}/operator/shop-applications?status=pending")
    page.get_by_role("link", name="青禾小铺").click()
    page.get_by_label("审核意见").fill("营业执照与统一社会信用代码核验一致")
    page.get_by_role("button", name="通过并开店").click()
    page.wait_for_selector("text=已通过，店铺已开通")

    page.context.clear_cookies()
    sign_in(page, base, SELLER, PASSWORD)
    page.goto(f"{base}/merchant")
    assert "青禾小铺" in page.content()
    screenshot(page, f"{kind}-story-new-shop")


def _list_the_product(page: Any, base: str, people: dict[str, Any], tmp_path: Path, kind: str) -> int:
    """Two pictures and a colour × size matrix (2 × 3 SKUs), saved and put on sale."""
    page.goto(f"{base}/merchant/products/new")
    page.get_by_label("中文标题").fill("亚麻衬衫")
    page.get_by_label("英文标题").fill("Linen shirt")
    page.get_by_label("类目").select_option(str(people["category"]))
    page.get_by_label("中文详情").fill("**透气**亚麻，可机洗")
    page.get_by_label("英文详情").fill("**Breathable** linen, machine washable")
    page.get_by_label("添加图片").set_input_files(
        [str(_photo(tmp_path / "a.jpg", (40, 70, 60))), str(_photo(tmp_path / "b.jpg", (200, 180, 150)))]
    )
    page.get_by_label("规格 1 名称").fill("颜色")
    page.get_by_label("规格 1 的值").fill("黑色, 米白")
    page.get_by_label("规格 2 名称").fill("尺码")
    page.get_by_label("规格 2 的值").fill("S, M, L")
    page.get_by_role("button", name="生成规格表").click()
    page.locator(".sku-table tbody tr").nth(5).wait_for()
    for i in range(6):
        page.locator(f"input[name=sku_{i}_price]").fill("129")
        page.locator(f"input[name=sku_{i}_stock]").fill("50")
    page.get_by_role("button", name="保存并上架").click()
    page.wait_for_url(re.compile(r"/merchant/products/\d+$"))
    assert page.locator(".sku-table tbody tr").count() == 6
    assert page.locator(".editor-image img").count() == 2
    screenshot(page, f"{kind}-story-product")
    return int(page.url.rsplit("/", 1)[1])


def _publish_a_video(page: Any, base: str, product_id: int, tmp_path: Path) -> int:
    page.goto(f"{base}/merchant/content")
    page.get_by_label("账号 ID").fill("qinghe_official")
    page.get_by_label("账号名称").fill("青禾小铺官方")
    page.get_by_role("button", name="开通账号").click()
    page.get_by_role("link", name="发布短视频").click()
    page.wait_for_url(re.compile(r"/merchant/content/videos/new$"))
    clip = tmp_path / "clip.mp4"
    tiny_video(clip, seconds=2.0)
    page.get_by_label("视频文件").set_input_files(str(clip))
    page.get_by_label("中文标题").fill("亚麻衬衫上身")
    page.get_by_label("英文标题").fill("The linen shirt, worn")
    page.locator(f"input[name=products][value='{product_id}']").check()
    page.get_by_role("button", name="发布").click()
    page.wait_for_url(re.compile(r"/merchant/content\?show=videos"))
    row = page.locator("tr", has_text="亚麻衬衫上身")
    return int(row.get_attribute("id").removeprefix("content-"))


def _go_live_and_pin(page: Any, base: str, product_id: int) -> int:
    page.goto(f"{base}/merchant/content/live/new")
    page.get_by_label("中文标题").fill("青禾上新直播")
    page.get_by_label("英文标题").fill("Green Grain: new in")
    starts = (clock.now() + timedelta(minutes=30)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("开播时间").fill(starts)
    page.locator(f"input[name=products][value='{product_id}']").check()
    page.get_by_role("button", name="预约直播").click()
    page.wait_for_url(re.compile(r"/merchant/live/\d+$"))
    live_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("button", name="开始直播").click()
    page.wait_for_selector("[data-host][data-status=live][data-connected=true]")
    page.locator(f"tr[data-anchor='{product_id}'] button", has_text="置顶").click()
    page.wait_for_selector(f"tr[data-anchor='{product_id}'] [data-pinned-badge]")
    return live_id


def _make_a_coupon(page: Any, base: str) -> None:
    page.goto(f"{base}/merchant/coupons/new")
    page.get_by_label("名称").fill("开业满99减15")
    page.get_by_label("使用门槛（元）").fill("99")
    page.get_by_label("优惠金额 / 最多减（元）").fill("15")
    page.get_by_label("发放总量").fill("100")
    page.get_by_role("button", name="创建优惠券").click()
    page.wait_for_url(re.compile(r"/merchant/coupons/\d+$"))


def test_a_new_merchant_opens_lists_goes_live_sells_and_sees_the_settlement(
    site, browser, database, db, tmp_path
) -> None:
    server, people = site
    base, kind = server.url, database.dialect
    desk, merchant, merchant_problems = _context(browser, DESK)
    phone, shopper, shopper_problems = _context(browser, PHONE)
    try:
        _open_the_shop(merchant, base, people, kind)
        product_id = _list_the_product(merchant, base, people, tmp_path, kind)
        video_id = _publish_a_video(merchant, base, product_id, tmp_path)
        _make_a_coupon(merchant, base)
        live_id = _go_live_and_pin(merchant, base, product_id)
        assert merchant_problems.take() == []

        # The shopper: the video plays with its product anchored; then the live room, its pinned card.
        sign_in(shopper, base, people["shopper"])
        shopper.goto(f"{base}/videos/{video_id}")
        shopper.wait_for_function(
            "() => { const v = document.querySelector('video'); return v && v.readyState >= 1; }"
        )
        assert shopper.locator(f"a[href^='/products/{product_id}?from=short_video:{video_id}']").count() >= 1
        shopper.goto(f"{base}/live/{live_id}")
        shopper.wait_for_selector(f"[data-live-room][data-connected=true] [data-pinned-id='{product_id}']")
        shopper.get_by_label("说点什么").fill("米白色有 M 码吗？")
        shopper.get_by_role("button", name="发送").click()
        shopper.locator("[data-comments] li", has_text="米白色有 M 码吗？").wait_for()
        merchant.locator("[data-comments] li", has_text="米白色有 M 码吗？").wait_for(timeout=5_000)
        screenshot(shopper, f"{kind}-story-live-room")

        # From the pinned card to the product (the live carries the order), claim, buy, pay.
        shopper.locator(f"[data-pinned-id='{product_id}'] a.anchor-buy").click()
        shopper.wait_for_url(re.compile(rf"/products/{product_id}\?from=live:{live_id}"))
        strip = shopper.locator(".coupon-strip")
        strip.get_by_role("button", name=re.compile("领取")).first.click()
        assert "领取成功" in shopper.locator(".flash").inner_text()
        shopper.locator("input[name=sku_id]").nth(4).check()
        shopper.get_by_role("button", name="立即购买").click()
        shopper.wait_for_url(re.compile(r"/checkout\?"))
        assert (
            shopper.locator(".coupon-picker input[type=radio]:checked").get_attribute("data-amount") == "1500"
        )
        assert shopper.locator('[data-sum="total"]').inner_text() == "¥114.00"
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
        assert "¥114.00" in shopper.locator(".order-foot").inner_text()
        merchant.wait_for_function(
            "() => document.querySelector('[data-stat=orders]').textContent.trim() === '1'"
        )
        screenshot(merchant, f"{kind}-story-live-host")

        # The shopper asks the shop from the order page; the merchant answers in the inbox, and the
        # answer reaches the shopper's open chat without a reload.
        shopper.get_by_role("link", name="联系客服").first.click()
        shopper.wait_for_url(re.compile(r"/messages/"))
        shopper.get_by_label("消息").fill("今天能发货吗？")
        shopper.get_by_role("button", name="发送").click()
        shopper.wait_for_url(re.compile(r"/messages/\d+"))
        conversation_id = int(re.search(r"/messages/(\d+)", shopper.url).group(1))
        merchant.goto(f"{base}/merchant/inbox/{conversation_id}")
        assert merchant.locator(".chat-theirs .chat-bubble").last.inner_text() == "今天能发货吗？"
        merchant.get_by_label("回复", exact=True).fill("亲，今天下午就发顺丰～")
        merchant.locator("form.chat-composer").get_by_role("button", name="发送").click()
        shopper.locator(".chat-theirs .chat-bubble", has_text="亲，今天下午就发顺丰～").wait_for(
            timeout=5_000
        )
        screenshot(shopper, f"{kind}-story-chat")

        # The merchant ships it from the order page.
        merchant.goto(f"{base}/merchant/orders/{order_id}")
        merchant.get_by_label("快递公司").select_option("sf")
        merchant.get_by_label("快递单号").fill("SF1234567890")
        merchant.get_by_role("button", name="确认发货").click()
        merchant.wait_for_selector(".flash")
        assert "已发货" in merchant.locator("main").inner_text()

        # The carrier's delivery scan, then the shopper confirms receipt in the page.
        order_service.record_delivery(db, order_id)
        db.commit()
        shopper.goto(f"{base}/orders/{order_id}")
        shopper.locator(f"form[action='/orders/{order_id}/confirm-receipt'] button").click()
        shopper.wait_for_selector(".flash")

        # The job worker's settlements run; the statement shows the order, pending.
        finance_service.run_settlements(db)
        db.commit()
        merchant.goto(f"{base}/merchant/finance")
        row = merchant.locator(f'#settlements tr[data-order="{order_id}"]')
        assert row.count() == 1 and "待结算" in row.inner_text()
        assert merchant.locator('#statement tr[data-part="total"] td').first.inner_text() == "1"
        screenshot(merchant, f"{kind}-story-statement")
        assert merchant_problems.take() == []
        assert shopper_problems.take() == []
    finally:
        desk.close()
        phone.close()
