"""Creators publish videos and lives anchoring products they may promote, read their data, and get a
commission statement whose entries go pending -> settled -> reversed (issue #16, items 1b and 5).
Pages (TestClient) and the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.commerce_helpers import pay, place
from tests.compass_helpers import refresh_compass
from tests.factories import auth as token_headers
from tests.factories import make_creator
from tests.media_helpers import tiny_video
from tests.web_console_helpers import seed_consoles
from tests.web_helpers import form_token, web_login
from zhongcao import clock, creator_flows
from zhongcao.affiliate import showcase
from zhongcao.affiliate.models import CommissionEntry
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import OrderItem
from zhongcao.config import get_settings
from zhongcao.content.models import Content, ContentKind, ContentStatus, ContentVideo
from zhongcao.finance import service as finance_service
from zhongcao.media.models import Media
from zhongcao.media.storage import LocalStorage
from zhongcao.users.models import User


@pytest.fixture
def world(db, app):
    world = seed_consoles(db, app)
    # The studio anchors showcase products: the serum (its open plan) is in the creator's showcase.
    showcase.add(db, world.web.creator_account_id, world.web.product_ids[0])
    db.commit()
    return world


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    app.state.media_storage = storage
    return storage


@pytest.fixture
def mp4(tmp_path) -> bytes:
    return tiny_video(tmp_path / "clip.mp4", seconds=1.0)


def _api(client, email: str) -> dict[str, str]:
    db = client._session
    headers = token_headers(db, db.scalar(select(User).where(User.email == email)))
    db.commit()
    return headers


def _creator_page(client, world) -> str:
    web_login(client, world.creator_email)
    return form_token(client, "/creator/content/videos/new")


def _publish(client, token: str, video: bytes, **fields):
    data = {
        "csrf_token": token,
        "title_zh": "精华测评",
        "title_en": "Serum review",
        "topic": "测评",
        **fields,
    }
    return client.post(
        "/creator/content/videos",
        data=data,
        files={"video": ("c.mp4", video, "video/mp4")},
        follow_redirects=False,
    )


def _counts(db) -> tuple[int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Media)),
        db.scalar(select(func.count()).select_from(Content)),
    )


def _latest_content(db) -> Content:
    db.expire_all()
    return db.scalars(select(Content).order_by(Content.id.desc())).first()


# --- publishing --------------------------------------------------------------------------------------


def test_a_creator_publishes_a_video_anchoring_a_promotable_product(client, db, world, store, mp4):
    serum, cleanser = world.web.product_ids[0], world.web.product_ids[1]
    token = _creator_page(client, world)
    form = client.get("/creator/content/videos/new").text
    # Only what an active plan lets this creator promote is offered: the serum (open plan), not the
    # cleanser (no plan).
    assert f'name="products" value="{serum}"' in form
    assert f'name="products" value="{cleanser}"' not in form
    assert "发布账号：小鹿爱分享" in form

    response = _publish(client, token, mp4, products=[str(serum)])
    assert response.status_code == 303, response.text[:2000]
    content = _latest_content(db)
    assert response.headers["location"] == f"/creator?kind=short_video#content-{content.id}"
    assert (content.account_id, content.kind, content.title_zh) == (
        world.web.creator_account_id,
        ContentKind.short_video,
        "精华测评",
    )
    media = db.get(Media, db.get(ContentVideo, content.id).media_id)
    creator_user = db.scalar(select(User).where(User.email == world.creator_email))
    assert (media.owner_id, media.shop_id) == (creator_user.id, None)  # the creator's own upload

    page = client.get(f"/videos/{content.id}").text
    assert re.search(r'<source src="/media/video/[^"]+" type="video/mp4">', page)
    assert f"/products/{serum}?from=short_video:{content.id}" in page
    home = client.get("/creator?kind=short_video").text
    assert f'id="content-{content.id}"' in home and "精华测评" in home


def test_a_product_the_creator_may_not_promote_is_refused_and_nothing_is_kept(client, db, world, store, mp4):
    token = _creator_page(client, world)
    before = _counts(db)
    refused = _publish(client, token, mp4, products=[str(world.web.product_ids[1])], title_en="Kept")
    assert refused.status_code == 422
    assert "你还不能推广这件商品" in refused.text and "product_not_promotable" not in refused.text
    assert 'value="Kept"' in refused.text
    missing = _publish(client, token, mp4, title_zh="")
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text
    assert _counts(db) == before
    assert not any(p.is_file() for p in store.root.rglob("*"))
    # In English too.
    client.get("/locale?to=en&next=/creator")
    english = _publish(client, token, mp4, products=[str(world.web.product_ids[1])])
    assert english.status_code == 422 and "You may not promote this product" in english.text


def test_a_creator_schedules_hosts_pins_and_ends_a_live_session(client, db, world):
    serum = world.web.product_ids[0]
    token = _creator_page(client, world)
    when = (clock.now() + timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M")
    base = {"csrf_token": token, "title_zh": "晚间种草", "title_en": "Evening picks", "starts_at": when}
    none_picked = client.post("/creator/content/live", data=base, follow_redirects=False)
    assert none_picked.status_code == 422 and "请至少选择一件商品" in none_picked.text
    foreign = client.post(
        "/creator/content/live",
        data={**base, "products": [str(world.web.product_ids[1])]},
        follow_redirects=False,
    )
    assert foreign.status_code == 422 and "你还不能推广这件商品" in foreign.text
    made = client.post(
        "/creator/content/live", data={**base, "products": [str(serum)]}, follow_redirects=False
    )
    assert made.status_code == 303, made.text[:2000]
    url = made.headers["location"]
    live_id = int(url.rsplit("/", 1)[1])
    assert db.get(Content, live_id).account_id == world.web.creator_account_id
    dashboard = client.get(url).text
    assert "晚间种草" in dashboard and f'action="/creator/live/{live_id}/start"' in dashboard
    assert 'data-host-base="/creator/live"' in dashboard and "/merchant/" not in dashboard.split("<main")[-1]

    def post(action: str, **data) -> str:
        r = client.post(f"{url}/{action}", data={"csrf_token": token, **data}, follow_redirects=False)
        assert r.status_code == 303, r.text[:500]
        return client.get(r.headers["location"]).text

    assert "请在开播后置顶" not in post("start")
    db.expire_all()
    assert db.get(Content, live_id).status is ContentStatus.live
    pinned = post("pin", product_id=str(serum))
    db.expire_all()
    assert db.get(Content, live_id).pinned_product_id == serum and "取消置顶" in pinned
    stats = client.get(f"{url}/stats").json()
    assert stats["status"] == "live" and stats["orders"] == 0
    post("unpin")
    post("end")
    db.expire_all()
    assert db.get(Content, live_id).status is ContentStatus.ended

    # Another creator's console does not know the room.
    other_user, _ = make_creator(db)
    db.commit()
    web_login(client, other_user.email)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/stats").status_code == 404


def test_the_api_publishes_and_hosts_with_the_same_rules(client, db, world, store, mp4):
    serum = world.web.product_ids[0]
    creator = _api(client, world.creator_email)
    upload = client.post("/api/media/videos", headers=creator, files={"file": ("a.mp4", mp4, "video/mp4")})
    assert upload.status_code == 201, upload.text
    body = {
        "kind": "short_video",
        "title_zh": "接口发布",
        "title_en": "Via the API",
        "anchors": [serum],
        "video_media_id": upload.json()["id"],
    }
    published = client.post("/api/creator/content", headers=creator, json=body)
    assert published.status_code == 201, published.text
    assert published.json()["account"]["id"] == world.web.creator_account_id
    refused = client.post(
        "/api/creator/content", headers=creator, json={**body, "anchors": [world.web.product_ids[1]]}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "product_not_promotable"
    assert refused.json()["error"]["details"]["field"] == "anchors[0]"

    live = client.post(
        "/api/creator/content",
        headers=creator,
        json={
            "kind": "live",
            "title_zh": "直播",
            "title_en": "Live",
            "anchors": [serum],
            "scheduled_at": (clock.now() + timedelta(hours=2)).isoformat(),
        },
    ).json()
    assert client.post(f"/api/creator/content/{live['id']}/start", headers=creator).status_code == 200
    stats = client.get(f"/api/creator/content/{live['id']}/live-stats", headers=creator)
    assert stats.status_code == 200 and stats.json()["status"] == "live"
    other_user, _ = make_creator(db)
    db.commit()
    other = token_headers(db, other_user)
    db.commit()
    assert client.get(f"/api/creator/content/{live['id']}/live-stats", headers=other).status_code == 404


# --- data and the statement -----------------------------------------------------------------------------


def _buy_through(db, world, content_id: int) -> int:
    """The shopper buys the serum through the creator's content; the order is delivered and confirmed."""
    shopper = db.get(User, world.web.shopper_id)
    line = {
        "sku_id": world.web.sku_ids[0],
        "quantity": 1,
        "attribution": {"channel": "short_video", "content_id": content_id},
    }
    order = pay(db, shopper, place(db, shopper, [line])).orders[0]
    order_service.ship_order(db, world.web.shop_id, order.id, carrier_name="顺丰", tracking_number="SF1")
    order_service.record_delivery(db, order.id)
    order_service.confirm_receipt(db, shopper.id, order.id)
    db.commit()
    return order.id


def test_the_statement_shows_pending_then_settled_then_reversed(client, db, world, store, mp4):
    token = _creator_page(client, world)
    assert _publish(client, token, mp4, products=[str(world.web.product_ids[0])]).status_code == 303
    video = _latest_content(db)
    order_id = _buy_through(db, world, video.id)
    item = db.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).one()
    assert item.account_id == world.web.creator_account_id and item.commission_fen > 0  # credited
    entry = db.scalars(select(CommissionEntry).where(CommissionEntry.order_id == order_id)).one()
    assert entry.account_id == world.web.creator_account_id

    creator = _api(client, world.creator_email)
    body = client.get("/api/creator/statement", headers=creator).json()
    [line] = [line for line in body["lines"] if line["order_id"] == order_id]
    assert (line["state"], line["kind"], line["amount_fen"]) == ("pending", "accrual", item.commission_fen)
    assert (line["content_id"], line["product_id"]) == (video.id, world.web.product_ids[0])
    assert body["pending_fen"] == item.commission_fen and body["settled_fen"] == 0
    page = client.get("/creator/statement").text
    assert (
        f'data-entry="{entry.id}" data-order="{order_id}" data-state="pending"' in page and "待结算" in page
    )

    # The finance job settles the order once its settlement days have passed: so is the commission.
    later = clock.now() + timedelta(days=get_settings().settlement_days + 1)
    finance_service.run_settlements(db, later)
    body = client.get("/api/creator/statement", headers=creator).json()
    assert [(x["state"], x["amount_fen"]) for x in body["lines"]] == [("settled", item.commission_fen)]
    assert (body["pending_fen"], body["settled_fen"], body["net_fen"]) == (
        0,
        item.commission_fen,
        item.commission_fen,
    )
    assert (
        f'data-entry="{entry.id}" data-order="{order_id}" data-state="settled"'
        in client.get("/creator/statement").text
    )

    # A refund after completion takes the commission back: a reversal, shown as reversed.
    case = aftersales_service.open_case(
        db,
        world.web.shopper_id,
        order_id,
        order_item_id=item.id,
        kind=AfterSaleKind.refund_only,
        reason=AfterSaleReason.quality,
        description="有破损",
    )
    aftersales_service.approve(db, world.web.shop_id, case.id)
    db.commit()
    body = client.get("/api/creator/statement", headers=creator).json()
    assert [x["state"] for x in body["lines"]] == ["settled", "reversed"]
    assert body["reversed_fen"] == item.commission_fen and body["net_fen"] == 0
    assert (
        body["reversed_fen"] == creator_flows.creator_earnings(db, world.web.creator_account_id).reversed_fen
    )
    page = client.get("/creator/statement?state=reversed").text
    assert 'data-state="reversed"' in page and 'data-state="settled"' not in page and "已冲回" in page

    # The CSV: one line per entry, amounts in yuan with two decimals and in fen, then the total.
    for url, headers in (("/api/creator/statement.csv", creator), ("/creator/statement.csv", {})):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
        assert rows[0] == list(creator_flows.STATEMENT_COLUMNS)
        yuan = f"{item.commission_fen // 100}.{item.commission_fen % 100:02d}"
        assert rows[1][1:] == [
            str(order_id),
            str(world.web.product_ids[0]),
            "花漾 保湿精华液",
            str(video.id),
            "精华测评",
            "accrual",
            "settled",
            yuan,
            str(item.commission_fen),
        ]
        assert rows[2][6:] == ["reversal", "reversed", f"-{yuan}", str(-item.commission_fen)]
        assert rows[3] == ["total", "", "", "", "", "", "", "", "0.00", "0"]
    english = client.get("/api/creator/statement.csv?lang=en", headers=creator).text
    assert "Bloom Hydrating Serum" in english and "Serum review" in english


def test_a_statement_period_is_checked(client, db, world):
    creator = _api(client, world.creator_email)
    bad = client.get("/api/creator/statement?from=2026-02-01&to=2026-01-01", headers=creator)
    assert bad.status_code == 422
    assert (bad.json()["error"]["code"], bad.json()["error"]["details"]["field"]) == (
        "invalid_period",
        "from",
    )
    long = client.get("/api/creator/statement?from=2020-01-01&to=2026-01-01", headers=creator)
    assert long.status_code == 422 and long.json()["error"]["code"] == "period_too_long"
    typo = client.get("/api/creator/statement?from=2026-13-01", headers=creator)
    assert typo.status_code == 422 and typo.json()["error"]["details"]["field"] == "from"
    web_login(client, world.creator_email)
    page = client.get("/creator/statement?from=2026-02-01&to=2026-01-01")
    assert page.status_code == 422 and "开始日期不能晚于结束日期" in page.text
    page = client.get("/creator/statement?from=yesterday")
    assert page.status_code == 422 and "请输入有效日期" in page.text


def test_creator_data_per_content_and_per_product(client, db, world, store, mp4):
    token = _creator_page(client, world)
    assert _publish(client, token, mp4, products=[str(world.web.product_ids[0])]).status_code == 303
    video = _latest_content(db)
    order_id = _buy_through(db, world, video.id)
    item = db.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).one()
    refresh_compass(client, db)

    creator = _api(client, world.creator_email)
    data = client.get("/api/creator/data?days=7", headers=creator)
    assert data.status_code == 200, data.text
    body = data.json()
    by_content = {r["id"]: r for r in body["content"]}
    assert (by_content[video.id]["orders"], by_content[video.id]["gmv_fen"]) == (1, item.paid_fen)
    assert by_content[video.id]["commission_fen"] == item.commission_fen
    assert by_content[video.id]["kind"] == "short_video"
    # seed_consoles sold the serum through the creator's earlier video too: two orders in all.
    serum = {r["id"]: r for r in body["products"]}[world.web.product_ids[0]]
    assert serum["orders"] == 2 and serum["title_zh"] == "花漾 保湿精华液"
    assert body["orders"] == 2 and body["gmv_fen"] == serum["gmv_fen"]
    bad = client.get("/api/creator/data?days=5", headers=creator)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "days"

    web_login(client, world.creator_email)
    page = client.get("/creator/data?days=7").text
    assert f'data-content="{video.id}"' in page and f'data-product="{world.web.product_ids[0]}"' in page
    client.get("/locale?to=en&next=/creator")
    english = client.get("/creator/data").text
    assert "By product" in english and "Bloom Hydrating Serum" in english
