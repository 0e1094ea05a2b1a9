"""The shopper's forms, server side: cart, follow, after-sales, reviews, the NPS survey, payment.
Each posts with the page's form token, and a refusal comes back as the form with the error beside
the field and what was typed still in it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web_helpers import form_token, seed_world, web_login
from zhongcao.aftersales.models import AfterSale
from zhongcao.commerce.models import CartItem, Checkout, Order
from zhongcao.content.models import Follow
from zhongcao.experience.models import NpsResponse
from zhongcao.reviews.models import Review


@pytest.fixture
def world(client, db):
    built = seed_world(db)
    web_login(client, built.shopper_email)
    return built


def _post(client, url: str, data: dict, page: str | None = None):
    token = form_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def test_add_to_cart_then_change_and_remove_the_line(client, db, world):
    product = world.product_ids[0]
    response = _post(
        client,
        f"/products/{product}",
        {"sku_id": world.sku_ids[0], "quantity": 2, "action": "cart", "from": f"live:{world.live_id}"},
    )
    assert (
        response.status_code == 303
        # Back to the product with the chosen SKU still selected, and the live still carrying it.
        and response.headers["location"]
        == f"/products/{product}?sku={world.sku_ids[0]}&from=live:{world.live_id}"
    )
    item = db.scalars(select(CartItem)).one()
    item_id = item.id
    assert item.quantity == 2 and item.channel.value == "live" and item.content_id == world.live_id
    # Too many: the product form again, the error at the quantity.
    html = _post(
        client, f"/products/{product}", {"sku_id": world.sku_ids[0], "quantity": 500, "action": "cart"}
    ).text
    assert "库存不足" in html and 'id="quantity-error"' in html and 'value="500"' in html
    # A link whose content does not anchor the product is not trusted: the product page gets the sale.
    _post(
        client,
        f"/products/{world.product_ids[4]}",
        {"sku_id": world.sku_ids[4], "quantity": 1, "action": "cart", "from": f"live:{world.live_id}"},
    )
    db.expire_all()
    tent = db.scalars(select(CartItem).where(CartItem.sku_id == world.sku_ids[4])).one()
    assert tent.channel.value == "product_page" and tent.content_id is None
    assert (
        _post(client, f"/cart/items/{item_id}", {"quantity": 3, "action": "update"}, "/cart").status_code
        == 303
    )
    db.expire_all()
    assert db.get(CartItem, item_id).quantity == 3
    html = _post(client, f"/cart/items/{item_id}", {"quantity": 0, "action": "update"}, "/cart").text
    assert "请输入数字" in html
    assert _post(client, f"/cart/items/{item_id}", {"action": "remove"}, "/cart").status_code == 303
    db.expire_all()
    assert db.get(CartItem, item_id) is None
    assert "¥399.00" in client.get("/cart").text  # the tent is still there


def test_checkout_from_the_cart_splits_by_shop_and_a_declined_card_can_be_retried(client, db, world):
    for i in (0, 4):
        _post(
            client,
            f"/products/{world.product_ids[i]}",
            {"sku_id": world.sku_ids[i], "quantity": 1, "action": "cart"},
        )
    html = client.get("/checkout?from_cart=1").text
    assert "将按店铺拆分为 2 个订单" in html
    address = {
        "name": "王小明",
        "phone": "13800138000",
        "province_code": "330000",
        "city_code": "330100",
        "district_code": "330106",
        "line": "文三路 1 号",
    }
    response = _post(
        client,
        "/checkout",
        {**address, "from_cart": "1", "idempotency_key": "cart-1"},
        "/checkout?from_cart=1",
    )
    assert response.status_code == 303
    pay_url = response.headers["location"]
    checkout_id = int(re.search(r"/checkouts/(\d+)/pay", pay_url).group(1))
    assert db.scalars(select(CartItem)).all() == []
    html = _post(
        client, pay_url, {"payment_method": "pm_card_declined", "idempotency_key": "p1"}, pay_url
    ).text
    # The decline in words, never the raw code.
    assert "银行卡被发卡行拒绝了，未扣款" in html and "（card_declined）" not in html
    response = _post(client, pay_url, {"payment_method": "pm_card_ok", "idempotency_key": "p2"}, pay_url)
    assert response.status_code == 303 and response.headers["location"] == "/orders"
    db.expire_all()
    assert db.get(Checkout, checkout_id).status.value == "paid"
    paid = db.scalars(select(Order).where(Order.checkout_id == checkout_id)).all()
    assert len(paid) == 2 and all(o.status.value == "paid" for o in paid)
    # A paid checkout's pay page says so, with its orders, and offers no payment form.
    paid_page = client.get(pay_url).text
    assert "支付成功" in paid_page and 'name="payment_method"' not in paid_page
    assert all(f'href="/orders/{o.id}"' in paid_page for o in paid)


def test_follow_and_unfollow_a_shop(client, db, world):
    url = f"/accounts/{world.shop_account_id}/follow"
    response = _post(client, url, {"next": f"/shops/{world.shop_id}"}, f"/shops/{world.shop_id}")
    assert response.headers["location"] == f"/shops/{world.shop_id}"
    assert db.scalar(select(Follow).where(Follow.user_id == world.shopper_id)) is not None
    assert 'aria-pressed="true"' in client.get(f"/shops/{world.shop_id}").text
    _post(client, url, {"next": "https://evil.example/", "action": "unfollow"}, f"/shops/{world.shop_id}")
    db.expire_all()
    assert db.scalar(select(Follow).where(Follow.user_id == world.shopper_id)) is None


def test_after_sale_request(client, db, world):
    url = f"/orders/{world.order_id}/items/{world.order_item_id}/after-sale"
    html = _post(
        client, url, {"kind": "return_and_refund", "reason": "", "quantity": "5", "description": "瓶子漏了"}
    ).text
    assert "请填写此项" in html and 'id="reason-error"' in html and 'id="quantity-error"' in html
    assert "瓶子漏了" in html and re.search(r'value="return_and_refund" checked', html)
    response = _post(
        client, url, {"kind": "refund_only", "reason": "quality", "quantity": "1", "description": "瓶子漏了"}
    )
    case = db.scalars(select(AfterSale)).one()
    assert response.status_code == 303 and response.headers["location"] == f"/after-sales/{case.id}"
    assert case.kind.value == "refund_only" and case.description == "瓶子漏了" and case.amount_fen > 0
    assert "售后申请已提交" in client.get(f"/after-sales/{case.id}").text
    html = client.get(f"/orders/{world.order_id}").text
    assert "等待商家处理" in html and url not in html and f'href="/after-sales/{case.id}"' in html
    # A second request for the same line is refused with the service's reason.
    html = _post(client, url, {"kind": "refund_only", "reason": "quality", "quantity": "1"}).text
    assert "该商品已有进行中的售后" in html


def test_review_form(client, db, world):
    url = f"/orders/{world.order_id}/items/{world.order_item_id}/review"
    html = _post(client, url, {"text": "好用", "tags": "保湿"}).text
    assert "请选择评分" in html and ">好用</textarea>" in html and 'value="保湿"' in html
    response = _post(client, url, {"rating": "4", "text": "好用", "tags": "保湿，温和"})
    assert response.status_code == 303
    review = db.scalars(select(Review).where(Review.user_id == world.shopper_id)).one()
    assert review.rating == 4 and review.tags == ["保湿", "温和"] and review.is_first
    html = _post(client, url, {"rating": "5", "tags": "x" * 30}).text
    assert "每个标签 1 到 20 个字" in html


def test_nps_survey(client, db, world):
    html = _post(
        client, "/nps", {"order_id": world.order_id, "text": "还行"}, f"/nps?order_id={world.order_id}"
    ).text
    assert "请选择 0 到 10 的分数" in html and ">还行</textarea>" in html
    html = _post(
        client,
        "/nps",
        {"order_id": world.order_id, "score": "9", "reasons": ["product", "logistics"]},
        f"/nps?order_id={world.order_id}",
    ).text
    assert "感谢你的反馈" in html
    answer = db.scalars(select(NpsResponse)).one()
    assert (
        answer.score == 9
        and answer.trigger.value == "after_delivery"
        and answer.reasons == ["product", "logistics"]
    )
    html = _post(
        client, "/nps", {"order_id": world.order_id, "score": "3"}, f"/nps?order_id={world.order_id}"
    ).text
    assert "你已经回答过这份问卷了" in html


def test_confirm_receipt(client, db, world):
    response = _post(client, f"/orders/{world.order_id}/confirm-receipt", {}, f"/orders/{world.order_id}")
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Order, world.order_id).status.value == "completed"
    # Confirming twice is refused on the error page, in words.
    response = _post(client, f"/orders/{world.order_id}/confirm-receipt", {}, f"/orders/{world.order_id}")
    assert response.status_code == 409 and "当前订单状态不允许此操作" in response.text


def test_likes_from_events_show_on_cards(client, app, world):
    from zhongcao import clock
    from zhongcao.compass.likes import LikeCounts
    from zhongcao.events import service as events_service

    store = events_service.get_store(app.state.settings, app.state.database)
    video = world.video_ids[1]
    store.append(
        {"ts": [clock.now()] * 3, "type": ["like"] * 3, "user_id": [1, 2, 3], "content_id": [video] * 3}
    )
    app.state.web_like_counts = LikeCounts(app.state.settings, app.state.database, store)
    app.state.web_like_counts.refresh_now()
    assert app.state.web_like_counts.counts.get(video, 0) >= 3
    html = client.get(f"/videos/{video}").text
    assert re.search(r"♥ \d+ 赞", html)
