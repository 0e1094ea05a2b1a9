"""The shopper's pages where they used to read wrong (issue #17 item 7), server side in both
languages: data with an English text shown in English, money grouped in thousands, the pay page of a
paid checkout, a declined card in words, answered reviews and NPS shown instead of the forms, the cart
grouped by shop, the chosen SKU kept after adding to the cart, an order's address in the page language;
and Compass with nothing to compare."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.commerce_helpers import pay, place
from tests.factories import make_product
from tests.web_helpers import form_token, seed_world, web_login
from zhongcao.catalog.models import Product, Sku
from zhongcao.compass.service import CoreData, PeriodTotals, covers
from zhongcao.shops.models import Shop
from zhongcao.users.models import User
from zhongcao.web.merchant.compass import kpis

UNGROUPED_MONEY = re.compile(r"¥\d{4,}")


@pytest.fixture
def world(db):
    return seed_world(db)


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:2000]
    assert "Traceback" not in response.text
    return response.text


def _english(client, path: str) -> str:
    return client.get(f"/locale?to=en&next={path}").text


def _chinese(client, path: str) -> str:
    return client.get(f"/locale?to=zh&next={path}").text


def test_shop_accounts_read_in_the_page_language(client, world):
    creator_strip = re.compile(r'<p class="creator">(?:<a [^>]*>)?([^<]+)')
    video = f"/videos/{world.video_ids[0]}"  # posted by the shop's own account
    assert creator_strip.search(_chinese(client, video)).group(1).strip() == "花漾美妆旗舰店"
    english = _english(client, video)
    assert creator_strip.search(english).group(1).strip() == "Bloom Beauty Flagship"
    feed = _english(client, "/")
    assert "Bloom Beauty Flagship" in feed and "花漾美妆旗舰店" not in feed
    assert "Wild Outdoors" in feed and "山野户外" not in feed
    # A creator's own name has no English: it stays as written.
    assert "小鹿爱分享" in _english(client, f"/videos/{world.video_ids[1]}")


def test_a_creators_page_reads_in_both_languages(client, world):
    """The creator's public page shares the content header with the video and live pages."""
    path = f"/accounts/{world.creator_account_id}"
    assert client.get(path).status_code == 200
    for html in (_chinese(client, path), _english(client, path)):
        assert "小鹿爱分享" in html and 'id="showcase"' in html


def test_an_orders_address_reads_in_the_page_language(client, world):
    """The order stores 浙江省 杭州市 西湖区; its page names them in English on English pages."""
    web_login(client, world.shopper_email)
    path = f"/orders/{world.order_id}"
    assert "浙江省 杭州市 西湖区 文三路 100 号" in _chinese(client, path)
    english = _english(client, path)
    assert "Zhejiang, Hangzhou, Xihu District, 文三路 100 号" in english and "浙江省" not in english


def _expensive(db: Session, world) -> Product:
    shop = db.get(Shop, world.shop_id)
    assert shop is not None
    return make_product(db, shop, price_fen=17_972_950, stock=5)


def test_money_on_the_pages_has_thousands_separators(client, db, world):
    product = _expensive(db, world)
    sku_id = product.skus[0].id
    web_login(client, world.shopper_email)
    token = form_token(client, f"/products/{product.id}")
    added = client.post(
        f"/products/{product.id}", data={"sku_id": sku_id, "quantity": 1, "csrf_token": token}
    )
    assert added.status_code == 200
    for path in (f"/products/{product.id}", "/cart", f"/checkout?sku={sku_id}&qty=1", "/search?q=Product"):
        for html in (_chinese(client, path), _english(client, path)):
            assert "¥179,729.50" in html, path
            assert not UNGROUPED_MONEY.search(html), (path, UNGROUPED_MONEY.findall(html))


def test_the_chosen_sku_stays_chosen_after_adding_to_the_cart(client, db, world):
    product_id = world.product_ids[0]  # 30ml (the default choice) and 50ml
    fifty = db.scalar(select(Sku).where(Sku.product_id == product_id, Sku.id != world.sku_ids[0]))
    assert fifty is not None
    web_login(client, world.shopper_email)
    page = _html(client.get(f"/products/{product_id}"))
    assert re.search(rf'value="{world.sku_ids[0]}"[^>]*checked', page)  # the first in stock by default
    token = form_token(client, f"/products/{product_id}")
    response = client.post(
        f"/products/{product_id}",
        data={"sku_id": fifty.id, "quantity": 1, "csrf_token": token, "action": "cart"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = _html(client.get(response.headers["location"]))
    assert re.search(rf'value="{fifty.id}"[^>]*checked', page)
    assert not re.search(rf'value="{world.sku_ids[0]}"[^>]*checked', page)


def test_the_cart_is_grouped_by_shop_with_names_and_subtotals(client, db, world):
    web_login(client, world.shopper_email)
    # Two lines of Bloom (129.00 + 59.90) and one of Wild Outdoors (129.00 chair).
    for index in (0, 1, 5):
        product_id = world.product_ids[index]
        token = form_token(client, f"/products/{product_id}")
        client.post(
            f"/products/{product_id}",
            data={"sku_id": world.sku_ids[index], "quantity": 1, "csrf_token": token},
        )
    html = _chinese(client, "/cart")
    sections = re.findall(r'data-cart-shop="(\d+)"', html)
    assert sections == [str(world.shop_id), str(world.other_shop_id)]
    bloom = html[
        html.index(f'data-cart-shop="{world.shop_id}"') : html.index(
            f'data-cart-shop="{world.other_shop_id}"'
        )
    ]
    assert "花漾美妆旗舰店" in bloom and "¥188.90" in bloom and "小计" in bloom
    wild = html[html.index(f'data-cart-shop="{world.other_shop_id}"') :]
    assert "山野户外" in wild and "¥129.00" in wild
    english = _english(client, "/cart")
    assert "Bloom Beauty Flagship" in english and "Wild Outdoors" in english and "Subtotal" in english


def _placed(db: Session, world) -> object:
    buyer = db.get(User, world.shopper_id)
    assert buyer is not None
    return place(db, buyer, [{"sku_id": world.sku_ids[1], "quantity": 1}])


def test_the_pay_page_of_a_paid_checkout_says_paid_and_links_the_order(client, db, world):
    buyer = db.get(User, world.shopper_id)
    checkout = pay(db, buyer, _placed(db, world))
    order_id = checkout.orders[0].id
    web_login(client, world.shopper_email)
    html = _chinese(client, f"/checkouts/{checkout.id}/pay")
    assert "支付成功" in html and "实付金额" in html and "应付金额" not in html
    assert f'href="/orders/{order_id}"' in html and 'action="/checkouts/' not in html
    english = _english(client, f"/checkouts/{checkout.id}/pay")
    assert "Amount paid" in english and "Amount due" not in english and "View order" in english


@pytest.mark.parametrize(
    ("method", "zh", "en"),
    [
        ("pm_card_declined", "银行卡被发卡行拒绝了", "Your card was declined by its bank"),
    ],
)
def test_a_declined_card_reads_as_a_sentence(client, db, world, method, zh, en):
    checkout = _placed(db, world)
    web_login(client, world.shopper_email)
    for locale, expected in (("zh", zh), ("en", en)):
        client.get(f"/locale?to={locale}&next=/")
        token = form_token(client, f"/checkouts/{checkout.id}/pay")
        response = client.post(
            f"/checkouts/{checkout.id}/pay",
            data={"payment_method": method, "csrf_token": token, "idempotency_key": f"k-{locale}"},
        )
        assert 400 <= response.status_code < 500
        errors = re.search(r'<div class="form-errors"[^>]*>(.*?)</div>', response.text, re.S)
        assert errors and expected in errors.group(1)
        assert "card_declined" not in errors.group(1)


def test_an_answered_review_and_rating_are_shown_not_offered_again(client, db, world):
    order_id, item_id = world.order_id, world.order_item_id
    review_path = f"/orders/{order_id}/items/{item_id}/review"
    web_login(client, world.shopper_email)
    order_page = _chinese(client, f"/orders/{order_id}")
    assert f'href="{review_path}"' in order_page and f'href="/nps?order_id={order_id}"' in order_page
    token = form_token(client, review_path)
    sent = client.post(
        review_path, data={"rating": "4", "text": "洗得很干净", "tags": "温和", "csrf_token": token}
    )
    assert sent.status_code == 200
    token = form_token(client, f"/nps?order_id={order_id}")
    rated = client.post(
        "/nps", data={"score": "9", "reasons": "product", "order_id": order_id, "csrf_token": token}
    )
    assert rated.status_code == 200

    order_page = _chinese(client, f"/orders/{order_id}")
    assert "data-reviewed" in order_page and "已评价" in order_page and "★★★★☆" in order_page
    assert "data-rated" in order_page and "已为订单打分：9 分" in order_page
    review = _chinese(client, review_path)
    assert "你的评价" in review and "洗得很干净" in review and f'action="{review_path}"' not in review
    survey = _chinese(client, f"/nps?order_id={order_id}")
    assert "data-answered" in survey and "9 分（满分 10 分）" in survey and 'action="/nps"' not in survey
    english = _english(client, f"/nps?order_id={order_id}")
    assert "9 out of 10" in english and "Your rating" in english
    assert "You rated this order 9/10" in _english(client, f"/orders/{order_id}")


def _core(history_from: date | None, previous_gmv: int) -> CoreData:
    return CoreData(
        first_day=date(2026, 6, 1),
        last_day=date(2026, 6, 30),
        current=PeriodTotals(gmv_fen=3_600_000, orders=36, buyers=30, refunded_fen=0, visitors=300),
        previous=PeriodTotals(gmv_fen=previous_gmv, orders=1, buyers=1, refunded_fen=0, visitors=10),
        history_from=history_from,
    )


def test_compass_shows_new_instead_of_a_percentage_against_nothing():
    # The records start on the previous period's last day: a month against a few hours.
    started_late = _core(date(2026, 5, 31), 100_000)
    assert not started_late.previous_complete and started_late.change("gmv_fen") is None
    rows = {k["name"]: k for k in kpis(started_late)}
    assert rows["gmv_fen"]["change"] is None and rows["gmv_fen"]["new"] is True
    assert rows["refunded_fen"]["new"] is False  # nothing now either: "—"
    # Records covering the previous period: a real change.
    covered = _core(date(2026, 4, 1), 1_800_000)
    assert covered.previous_complete and covered.change("gmv_fen") == 1.0
    assert {k["name"]: k for k in kpis(covered)}["gmv_fen"]["new"] is False
    # A previous value of 0 is "new" even when covered.
    assert {k["name"]: k for k in kpis(_core(date(2026, 4, 1), 0))}["gmv_fen"]["new"] is True
    # Covering starts at the previous period's middle day.
    assert covers(date(2026, 5, 16), date(2026, 5, 2), 30) and not covers(
        date(2026, 5, 18), date(2026, 5, 2), 30
    )
    assert not covers(None, date(2026, 5, 2), 30)


def test_the_compass_page_says_new_against_an_uncovered_previous_period(client, db, app):
    from tests.web_console_helpers import seed_consoles

    consoles = seed_consoles(db, app)
    web_login(client, consoles.merchant_email)
    html = _chinese(client, "/merchant/compass")
    # The seeded sales are all recent: no percentage against the empty month before.
    assert "delta-new" in html and "新增" in html and "▲" not in html
    assert "New" in _english(client, "/merchant/compass")
