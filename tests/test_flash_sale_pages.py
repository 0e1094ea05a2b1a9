"""Flash-sale pages in both languages: the merchant's page (list, create, end), the host dashboard's
pin-and-start, and the shopper's box on the product page and in the live room, buying through the
page's own endpoint."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.commerce_helpers import ADDRESS
from tests.factories import PASSWORD, make_user
from tests.flashsale_helpers import make_sale, write_all
from tests.web_helpers import form_token, web_login
from zhongcao import clock
from zhongcao.flashsales.models import FlashSale, FlashSaleStatus
from zhongcao.users import addresses
from zhongcao.users.schemas import AddressIn


def test_merchant_creates_and_ends_a_flash_sale_in_the_console(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=1, stock=10)
    web_login(client, world.shop.owner.email, PASSWORD)
    for lang in ("zh-CN", "en"):
        page = client.get("/merchant/flash-sales", headers={"Accept-Language": lang})
        assert page.status_code == 200 and 'id="flash-sales"' in page.text
    token = form_token(client, "/merchant/flash-sales")
    starts = (clock.now() + timedelta(hours=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    made = client.post(
        "/merchant/flash-sales",
        data={
            "csrf_token": token,
            "sku_id": str(world.sku.id),
            "title": "整点秒杀",
            "price": "9.90",
            "quantity": "2",
            "per_buyer_limit": "1",
            "payment_window_minutes": "15",
            "starts_at": starts,
            "live_content_id": "",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text[:2000]
    sale = db.scalar(select(FlashSale).where(FlashSale.title == "整点秒杀"))
    assert sale is not None and sale.price_fen == 990 and sale.quantity == 2
    bad = client.post(
        "/merchant/flash-sales",
        data={
            "csrf_token": token,
            "sku_id": str(world.sku.id),
            "title": "x",
            "price": "999",
            "quantity": "1",
            "per_buyer_limit": "1",
            "payment_window_minutes": "15",
            "starts_at": starts,
        },
    )
    assert bad.status_code == 422 and "field-invalid" in bad.text
    ended = client.post(
        f"/merchant/flash-sales/{sale.id}/end", data={"csrf_token": token}, follow_redirects=False
    )
    assert ended.status_code == 303
    db.expire_all()
    assert db.get(FlashSale, sale.id).status is FlashSaleStatus.ended


def test_the_shopper_sees_the_box_and_buys_from_the_product_page(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=1, stock=10)
    buyer = make_user(db)
    address = addresses.create_address(
        db,
        buyer.id,
        AddressIn(
            recipient="张三",
            phone="13800138000",
            province_code="330000",
            city_code="330100",
            district_code="330106",
            detail="文三路 1 号",
            is_default=True,
        ),
    )
    assert address.id
    web_login(client, buyer.email, PASSWORD)
    for lang in ("zh-CN", "en"):
        page = client.get(f"/products/{world.product.id}", headers={"Accept-Language": lang})
        assert page.status_code == 200 and f'data-flash-sale="{world.sale.id}"' in page.text
        assert 'data-show="on_sale"' in page.text
    token = form_token(client, f"/products/{world.product.id}")
    bought = client.post(f"/flash-sales/{world.sale.id}/join", data={"csrf_token": token})
    assert bought.status_code == 201, bought.text
    assert bought.json()["state"] == "queued"
    write_all(db, settings)
    page = client.get(f"/products/{world.product.id}")
    assert 'data-show="ordered"' in page.text and "/checkouts/" in page.text
    other = make_user(db)
    client.cookies.clear()
    web_login(client, other.email, PASSWORD)
    token = form_token(client, f"/products/{world.product.id}")
    refused = client.post(f"/flash-sales/{world.sale.id}/join", data={"csrf_token": token})
    assert refused.status_code in (409, 422)
    assert ADDRESS  # the helpers' address is the API's; the page uses the saved default
