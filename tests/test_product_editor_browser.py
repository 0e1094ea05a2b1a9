"""The product editor in headless Chromium: a merchant creates a product with two pictures and a 2×3 SKU
matrix, and a shopper sees it (pictures main first, the SKU picker by colour, the Markdown description
with no script of the merchant's running), in zh-CN and en. Screenshots of the editor (new and edit),
the product list and the shopper's page."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.factories import make_category, make_shop
from tests.web_helpers import CHROMIUM, PHONE, LiveServer, PageProblems, screenshot, sign_in
from zhongcao.media.storage import LocalStorage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

DESK = {"width": 1440, "height": 900}
PAYLOAD = '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2">'


def _photo(path: Path, colour: tuple[int, int, int], label: str) -> Path:
    image = Image.new("RGB", (900, 900), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 200, 700, 700), fill=(255, 255, 255))
    draw.text((420, 440), label, fill=colour)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def site(app, db, tmp_path) -> Iterator[tuple[LiveServer, str, int]]:
    app.state.media_storage = LocalStorage(tmp_path / "media")
    bundle = make_shop(db, "棉麻小铺")
    leaf = make_category(db)
    db.commit()
    with LiveServer(app) as server:
        yield server, bundle.owner.email, leaf.id


def test_create_a_product_with_two_pictures_and_a_matrix_and_see_it_as_a_shopper(
    site, browser, database, tmp_path
):
    server, email, leaf_id = site
    black = _photo(tmp_path / "black.jpg", (30, 30, 30), "BLACK")
    white = _photo(tmp_path / "white.jpg", (200, 180, 150), "WHITE")
    context = browser.new_context(viewport=DESK, device_scale_factor=1, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    try:
        sign_in(page, server.url, email)
        page.goto(f"{server.url}/merchant/products")
        page.get_by_role("link", name="发布新商品").first.click()
        page.wait_for_url(re.compile(r"/merchant/products/new"))
        screenshot(page, f"{database.dialect}-console-merchant-product-new")
        page.get_by_label("中文标题").fill("亚麻衬衫")
        page.get_by_label("英文标题").fill("Linen shirt")
        page.get_by_label("类目").select_option(str(leaf_id))
        page.get_by_label("中文详情").fill(f"**透气**亚麻\n\n- 可机洗\n\n{PAYLOAD}")
        page.get_by_label("英文详情").fill(f"**Breathable** linen\n\n{PAYLOAD}")
        page.get_by_label("商品属性").fill("材质=亚麻\n产地=杭州")
        page.get_by_label("添加图片").set_input_files([str(black), str(white)])
        page.get_by_label("规格 1 名称").fill("颜色")
        page.get_by_label("规格 1 的值").fill("黑色, 米白")
        page.get_by_label("规格 2 名称").fill("尺码")
        page.get_by_label("规格 2 的值").fill("S, M, L")
        page.get_by_role("button", name="生成规格表").click()
        rows = page.locator(".sku-table tbody tr")
        rows.nth(5).wait_for()
        assert rows.count() == 6
        assert page.locator(".editor-image img").count() == 2  # stored already, kept on the form
        for i in range(6):
            page.locator(f"input[name=sku_{i}_price]").fill(f"{129 + i}")
            page.locator(f"input[name=sku_{i}_stock]").fill(str(20 + i))
        page.get_by_role("button", name="保存并上架").click()
        page.wait_for_url(re.compile(r"/merchant/products/\d+$"))
        assert "商品已创建" in page.locator(".flash").inner_text()
        product_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator(".sku-table tbody tr").count() == 6
        assert page.locator(".editor-image img").count() == 2
        assert problems.take() == []
        screenshot(page, f"{database.dialect}-console-merchant-product-edit")

        page.goto(f"{server.url}/merchant/products")
        assert "亚麻衬衫" in page.locator("table.data").inner_text()
        assert page.locator("table.data img.thumb").count() == 1
        screenshot(page, f"{database.dialect}-console-merchant-products-list")

        context.clear_cookies()
        phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN", is_mobile=True)
        shopper = phone.new_page()
        shopper.set_default_timeout(15_000)
        seen = PageProblems(shopper)
        for locale, strong, group in (("zh", "透气", "颜色: 黑色"), ("en", "Breathable", "颜色: 黑色")):
            if locale == "en":
                shopper.goto(f"{server.url}/locale?to=en&next=/products/{product_id}")
            else:
                shopper.goto(f"{server.url}/products/{product_id}")
            shopper.wait_for_load_state("load")
            gallery = shopper.locator(".product-gallery img")
            assert gallery.count() == 2
            assert gallery.first.get_attribute("data-main") == "true"
            # The main picture loads at once; the others are lazy, so each is brought into view first.
            for i in range(gallery.count()):
                gallery.nth(i).scroll_into_view_if_needed()
                shopper.wait_for_function(
                    "i => { const img = document.querySelectorAll('.product-gallery img')[i];"
                    " return img.complete && img.naturalWidth > 0; }",
                    arg=i,
                )
            description = shopper.locator(".description")
            assert description.locator("strong").inner_text() == strong
            assert "<script>" in description.inner_text()  # shown as text, never run
            assert shopper.evaluate("() => window.__pwned") is None
            assert description.locator("script, img").count() == 0
            assert shopper.locator(".sku-group").first.inner_text() == group
            assert shopper.locator("input[name=sku_id]").count() == 6
            overflow = shopper.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page is {overflow}px wider than the phone"
            assert seen.take() == []
            screenshot(shopper, f"{database.dialect}-shopper-product-editor-made-{locale}")
        phone.close()
    finally:
        context.close()
