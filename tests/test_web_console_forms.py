"""The consoles' forms, server side: each posts with the page's form token; a refusal comes back as
the same page with the error beside the field and what was typed still in it; success redirects with
a notice and the service has done its work."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web_console_helpers import seed_consoles
from tests.web_helpers import form_token, web_login
from zhongcao.affiliate.models import ApplicationStatus, CreatorApplication
from zhongcao.aftersales.models import AfterSale, AfterSaleStatus
from zhongcao.campaigns.models import Campaign, CampaignStatus
from zhongcao.catalog.models import Category, Product, ProductStatus, Sku
from zhongcao.commerce.models import Order, OrderStatus, Shipment
from zhongcao.support.models import Conversation, Message, Sender


@pytest.fixture
def world(db, app):
    return seed_consoles(db, app)


def _post(client, url: str, data: dict, page: str | None = None):
    token = form_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _refused(response, status: int = 422) -> str:
    assert response.status_code == status, response.text[:2000]
    assert 'id="form-errors"' in response.text and "Traceback" not in response.text
    return response.text


def _flash(client, response) -> str:
    assert response.status_code == 303, response.text[:2000]
    page = client.get(response.headers["location"]).text
    found = re.search(r'<p class="flash" role="status">([^<]+)</p>', page)
    assert found, "no notice on the page redirected to"
    return found.group(1)


# --- merchant ----------------------------------------------------------------------------------


def test_ship_an_order_round_trip(client, db, world):
    web_login(client, world.merchant_email)
    url = f"/merchant/orders/{world.to_ship_order_id}"
    assert 'id="ship"' in client.get(url).text
    html = _refused(_post(client, url + "/ship", {"carrier_name": "zto", "tracking_number": "ZT 1"}, url))
    assert 'id="tracking_number-error"' in html and "快递单号只能是" in html
    assert '<option value="zto" selected>' in html and 'value="ZT 1"' in html
    html = _refused(_post(client, url + "/ship", {"carrier_name": "", "tracking_number": "ZT123456"}, url))
    assert 'id="carrier_name-error"' in html and 'value="ZT123456"' in html
    # A carrier the platform does not know is refused next to the field.
    html = _refused(_post(client, url + "/ship", {"carrier_name": "DHL", "tracking_number": "ZT123456"}, url))
    assert 'id="carrier_name-error"' in html and "请选择快递公司" in html
    assert (
        _flash(
            client,
            _post(client, url + "/ship", {"carrier_name": "zto", "tracking_number": "ZT123456"}, url),
        )
        == "已发货"
    )
    db.expire_all()
    assert db.get(Order, world.to_ship_order_id).status is OrderStatus.shipped
    shipment = db.scalars(select(Shipment).where(Shipment.order_id == world.to_ship_order_id)).one()
    assert (shipment.carrier_name, shipment.tracking_number) == ("zto", "ZT123456")
    page = client.get(url).text
    # The tracking card names the carrier in the page's language and waits for the pickup scan.
    assert "ZT123456" in page and 'id="ship"' not in page and "中通快递" in page
    assert 'data-parcel-status="awaiting_pickup"' in page
    # Shipping it again is refused in words, not with an error page.
    html = _refused(
        _post(client, url + "/ship", {"carrier_name": "中通快递", "tracking_number": "ZT999999"}, url), 409
    )
    assert "当前订单状态不允许此操作" in html


def test_sku_prices_and_stock_keep_what_was_typed_and_save_by_difference(client, db, world):
    web_login(client, world.merchant_email)
    product_id = world.web.product_ids[0]
    url = f"/merchant/products/{product_id}"
    skus = sorted(db.get(Product, product_id).skus, key=lambda s: s.id)
    small, large = skus[0].id, skus[1].id
    form = {
        f"price_{small}": "139.5",
        f"stock_{small}": "60",
        f"stock_was_{small}": "48",
        f"active_{small}": "1",
        f"price_{large}": "19,9.x",
        f"stock_{large}": "-3",
        f"stock_was_{large}": "20",
    }
    html = _refused(_post(client, url, form))
    assert f'id="price_{large}-error"' in html and f'id="stock_{large}-error"' in html
    assert 'value="19,9.x"' in html and 'value="-3"' in html and 'value="139.5"' in html
    db.expire_all()
    assert db.get(Sku, small).price_fen == 12900  # nothing saved while anything was wrong
    # Two units sell while the merchant types: the page showed 48, the merchant typed 60 (+12).
    db.get(Sku, small).stock = 46
    db.commit()
    form.update({f"price_{large}": "199", f"stock_{large}": "20", f"active_{large}": "1"})
    assert _flash(client, _post(client, url, form)) == "已保存"
    db.expire_all()
    assert (db.get(Sku, small).price_fen, db.get(Sku, small).stock) == (13950, 58)
    assert (db.get(Sku, large).price_fen, db.get(Sku, large).stock) == (19900, 20)
    # Switching off the last SKU on sale is refused by the catalog, beside that SKU's box.
    form = {
        f"price_{small}": "139.50",
        f"stock_{small}": "58",
        f"stock_was_{small}": "58",
        f"price_{large}": "199",
        f"stock_{large}": "20",
        f"stock_was_{large}": "20",
    }
    html = _refused(_post(client, url, form))
    assert "最后一个规格" in html
    db.expire_all()
    assert db.get(Sku, small).is_active and db.get(Sku, large).is_active  # nothing half-saved


def test_take_a_product_off_sale_and_back(client, db, world):
    web_login(client, world.merchant_email)
    product_id = world.web.product_ids[3]
    response = _post(
        client,
        f"/merchant/products/{product_id}/status",
        {"status": "delisted", "next": "/merchant/products"},
        "/merchant/products",
    )
    assert response.headers["location"] == "/merchant/products"
    assert _flash(client, response) == "商品已下架"
    db.expire_all()
    assert db.get(Product, product_id).status is ProductStatus.delisted
    response = _post(
        client, f"/merchant/products/{product_id}/status", {"status": "active"}, "/merchant/products"
    )
    assert _flash(client, response) == "商品已上架"
    db.expire_all()
    assert db.get(Product, product_id).status is ProductStatus.active


def test_reject_needs_a_reason_then_the_case_is_rejected(client, db, world):
    web_login(client, world.merchant_email)
    url = f"/merchant/after-sales/{world.case_id}"
    html = _refused(_post(client, url + "/reject", {"note": "   "}, url))
    assert 'id="note-error"' in html
    assert (
        _flash(client, _post(client, url + "/reject", {"note": "瓶盖完好，照片里看不到裂痕"}, url))
        == "已拒绝申请"
    )
    db.expire_all()
    case = db.get(AfterSale, world.case_id)
    assert case.status is AfterSaleStatus.rejected and case.merchant_note == "瓶盖完好，照片里看不到裂痕"
    # A decided case cannot be approved any more: said in words on the case page.
    html = _refused(_post(client, url + "/approve", {}, url), 409)
    assert "这张售后单已经处理过了" in html


def test_approve_refunds_a_refund_only_case(client, db, world):
    web_login(client, world.merchant_email)
    url = f"/merchant/after-sales/{world.case_id}"
    assert _flash(client, _post(client, url + "/approve", {}, url)) == "已同意申请"
    db.expire_all()
    case = db.get(AfterSale, world.case_id)
    assert case.status is AfterSaleStatus.refunded
    assert db.get(Order, case.order_id).refunded_fen == case.amount_fen


def test_reply_in_the_inbox_and_close(client, db, world):
    web_login(client, world.merchant_email)
    url = f"/merchant/inbox/{world.conversation_id}"
    html = _refused(_post(client, url, {"body": ""}))
    assert 'id="body-error"' in html
    response = _post(client, url, {"body": "今天下午发出，请留意物流。"})
    assert response.headers["location"] == url + "#latest"
    assert _flash(client, response) == "已发送"
    db.expire_all()
    conversation = db.get(Conversation, world.conversation_id)
    assert conversation.first_human_response_at is not None
    last = db.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id.desc())
    ).first()
    assert last.sender is Sender.agent and last.body == "今天下午发出，请留意物流。"
    assert _flash(client, _post(client, url + "/close", {}, url)) == "会话已结束"
    db.expire_all()
    assert db.get(Conversation, world.conversation_id).closed_at is not None
    assert 'id="f-body"' not in client.get(url).text  # a closed conversation takes no reply


# --- creator -----------------------------------------------------------------------------------


def test_a_creator_applies_to_a_targeted_plan_once_and_withdraws(client, db, world):
    web_login(client, world.creator_email)
    url = f"/creator/plans/{world.targeted_plan_id}/apply"
    response = _post(client, url, {"message": "粉丝 5.6 万，护肤垂类"}, "/creator/plans")
    assert response.headers["location"] == "/creator/plans#applications"
    assert _flash(client, response) == "申请已提交，等待商家审核"
    application = db.scalars(select(CreatorApplication)).one()
    assert application.status is ApplicationStatus.pending and application.message == "粉丝 5.6 万，护肤垂类"
    plans = client.get("/creator/plans").text
    assert "审核中" in plans and f"/creator/applications/{application.id}/withdraw" in plans
    # A second application to the same plan is refused in words.
    html = _refused(_post(client, url, {"message": "再试一次"}, "/creator/plans"), 409)
    assert "已有审核中的申请" in html
    response = _post(client, f"/creator/applications/{application.id}/withdraw", {}, "/creator/plans")
    assert _flash(client, response) == "申请已撤回"
    db.expire_all()
    assert db.get(CreatorApplication, application.id).status is ApplicationStatus.withdrawn


# --- operator ----------------------------------------------------------------------------------


def test_create_a_campaign_keeps_input_on_errors(client, db, world):
    web_login(client, world.operator_email)
    form = {
        "name_zh": "双十一",
        "name_en": "Double 11",
        "slug": "Double 11!",
        "starts_at": "2099-11-01T00:00",
        "ends_at": "2099-11-12T00:00",
        "min_score": "6",
        "subsidy": "5",
        "budget": "12.345",
    }
    html = _refused(_post(client, "/operator/campaigns", form))
    for name in ("min_score", "budget", "categories"):
        assert f'id="{name}-error"' in html, name
    assert 'value="双十一"' in html and 'value="Double 11!"' in html and 'value="2099-11-12T00:00"' in html
    top_id = db.get(Category, world.category_id).parent_id
    form.update(min_score="4.2", budget="20000", categories=str(top_id))
    html = _refused(_post(client, "/operator/campaigns", form))
    assert 'id="slug-error"' in html and "只能用小写字母" in html
    assert f'value="{top_id}" checked' in html  # the category picked stays picked
    form["slug"] = "double-11"
    response = _post(client, "/operator/campaigns", form)
    assert _flash(client, response) == "活动已创建"
    campaign = db.scalars(select(Campaign).where(Campaign.slug == "double-11")).one()
    assert (campaign.min_shop_score_centi, campaign.subsidy_per_item_fen, campaign.budget_fen) == (
        420,
        500,
        2_000_000,
    )
    # The same slug again: the service's refusal, beside the slug.
    html = _refused(_post(client, "/operator/campaigns", form), 409)
    assert 'id="slug-error"' in html and "这个标识已被使用" in html


def test_change_a_campaign_budget_and_cancel_it(client, db, world):
    web_login(client, world.operator_email)
    url = f"/operator/campaigns/{world.campaign_id}"
    html = _refused(_post(client, url, {"budget": "abc", "ends_at": ""}))
    assert 'id="budget-error"' in html and 'value="abc"' in html
    assert _flash(client, _post(client, url, {"budget": "20000", "ends_at": ""})) == "活动已更新"
    db.expire_all()
    assert db.get(Campaign, world.campaign_id).budget_fen == 2_000_000
    html = _refused(_post(client, url, {"budget": "", "ends_at": "2000-01-01T00:00"}))
    assert 'id="ends_at-error"' in html and "只能延长结束时间" in html
    assert _flash(client, _post(client, url, {"action": "cancel"})) == "活动已取消"
    db.expire_all()
    assert db.get(Campaign, world.campaign_id).status is CampaignStatus.cancelled
    assert 'action="/operator/campaigns/' not in client.get(url).text
