"""An operator's flash sales for a campaign (issue #18: "a merchant, or an operator for a campaign, sets
up a flash sale"): the API under /api/ops, the campaign's console page in both languages, the audit
log of each creation and ending; and the merchant's list filtered by status."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.commerce_helpers import make_campaign
from tests.factories import PASSWORD, auth, make_product, make_shop, make_user
from tests.flashsale_helpers import make_sale
from tests.web_helpers import form_token, web_login
from zhongcao import clock
from zhongcao.audit.models import AuditEntry
from zhongcao.catalog.models import Sku
from zhongcao.flashsales.models import FlashSale, FlashSaleStatus
from zhongcao.users.models import Role


def _body(sku_id: int, **extra: object) -> dict[str, object]:
    return {
        "sku_id": sku_id,
        "title": "大促秒杀",
        "price_fen": 990,
        "quantity": 3,
        "per_buyer_limit": 1,
        "starts_at": clock.now().isoformat(),
        **extra,
    }


def test_an_operator_sets_up_lists_and_ends_a_campaign_flash_sale_through_the_api(client, db) -> None:  # type: ignore[no-untyped-def]
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=10, price_fen=9900)
    campaign = make_campaign(db, [product])
    operator, shopper = make_user(db, Role.operator), make_user(db, Role.shopper)
    db.commit()
    ops = auth(db, operator)
    url = f"/api/ops/campaigns/{campaign.id}/flash-sales"
    sku_id = product.skus[0].id
    assert client.post(url, json=_body(sku_id)).status_code == 401
    assert client.post(url, json=_body(sku_id), headers=auth(db, shopper)).status_code == 403
    assert client.post(url, json=_body(sku_id), headers=auth(db, shop.owner)).status_code == 403
    missing = client.post("/api/ops/campaigns/999999/flash-sales", json=_body(sku_id), headers=ops)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "campaign_not_found"
    too_dear = client.post(url, json=_body(sku_id, price_fen=9900), headers=ops)
    assert too_dear.status_code == 422 and too_dear.json()["error"]["details"]["field"] == "price_fen"
    made = client.post(url, json=_body(sku_id, reason="双11 开场"), headers=ops)
    assert made.status_code == 201, made.text
    sale = made.json()
    assert (
        sale["campaign_id"] == campaign.id and sale["shop_id"] == shop.shop.id and sale["phase"] == "on_sale"
    )
    db.expire_all()
    assert db.get(Sku, sku_id).stock == 7  # the same rule as the merchant's: units leave the stock
    listed = client.get(url, headers=ops)
    assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [sale["id"]]
    assert client.get(url, headers=auth(db, shop.owner)).status_code == 403
    # The shop sees the campaign's sale on its SKU in its own list.
    mine = client.get("/api/merchant/flash-sales", headers=auth(db, shop.owner)).json()
    assert [s["id"] for s in mine] == [sale["id"]]
    ended = client.post(f"/api/ops/flash-sales/{sale['id']}/end", json={"reason": "库存有误"}, headers=ops)
    assert ended.status_code == 200 and ended.json()["phase"] == "ended"
    db.expire_all()
    assert db.get(Sku, sku_id).stock == 10
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.target_kind == "flash_sale").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.reason, e.actor_user_id) for e in entries] == [
        ("flash_sale.create", "双11 开场", operator.id),
        ("flash_sale.end", "库存有误", operator.id),
    ]
    assert entries[0].after["campaign_id"] == campaign.id and entries[0].after["quantity"] == 3


def test_an_operator_creates_and_ends_a_campaign_flash_sale_on_the_campaign_page(
    client, db, settings
) -> None:  # type: ignore[no-untyped-def]
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=10, price_fen=9900)
    campaign = make_campaign(db, [product])
    operator = make_user(db, Role.operator)
    db.commit()
    web_login(client, operator.email, PASSWORD)
    page_url = f"/operator/campaigns/{campaign.id}"
    for lang, heading in (("zh-CN", "活动秒杀"), ("en", "Campaign flash sales")):
        client.get(f"/locale?to={'zh' if lang == 'zh-CN' else 'en'}&next=/")
        page = client.get(page_url)
        assert page.status_code == 200 and heading in page.text and 'id="flash-sales"' in page.text
    client.get("/locale?to=zh&next=/")
    token = form_token(client, page_url)
    starts = (clock.now() + timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    form = {
        "csrf_token": token,
        "sku_id": str(product.skus[0].id),
        "title": "开场秒杀",
        "price": "9.90",
        "quantity": "2",
        "per_buyer_limit": "1",
        "payment_window_minutes": "15",
        "starts_at": starts,
        "reason": "",
    }
    bad = client.post(f"{page_url}/flash-sales", data={**form, "price": "199"})
    assert bad.status_code == 422 and "field-invalid" in bad.text and 'id="fs-price-error"' in bad.text
    made = client.post(f"{page_url}/flash-sales", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text[:2000]
    sale = db.scalar(select(FlashSale).where(FlashSale.title == "开场秒杀"))
    assert sale is not None and sale.campaign_id == campaign.id and sale.price_fen == 990
    page = client.get(page_url)
    assert f'data-sale="{sale.id}"' in page.text and "开场秒杀" in page.text
    ended = client.post(
        f"{page_url}/flash-sales/{sale.id}/end", data={"csrf_token": token}, follow_redirects=False
    )
    assert ended.status_code == 303
    db.expire_all()
    assert db.get(FlashSale, sale.id).status is FlashSaleStatus.ended
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == sale.id)).all()
    assert sorted(actions) == ["flash_sale.create", "flash_sale.end"]
    # The audit entry names the campaign when the operator gave no reason.
    reason = db.scalar(select(AuditEntry.reason).where(AuditEntry.action == "flash_sale.create"))
    assert reason == f"campaign {campaign.id} flash sale"


def test_the_merchant_list_filters_by_status(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_sale(db, settings, quantity=1, stock=10)
    web_login(client, world.shop.owner.email, PASSWORD)
    client.get("/locale?to=zh&next=/")
    everything = client.get("/merchant/flash-sales")
    assert (
        'class="chips filter-chips"' in everything.text and f'data-sale="{world.sale.id}"' in everything.text
    )
    scheduled = client.get("/merchant/flash-sales?status=scheduled")
    assert f'data-sale="{world.sale.id}"' in scheduled.text
    ended = client.get("/merchant/flash-sales?status=ended")
    assert f'data-sale="{world.sale.id}"' not in ended.text and "没有这个状态的秒杀" in ended.text
    assert client.get("/merchant/flash-sales?status=bogus").status_code == 200  # unknown: every sale
