"""The shop's content pages (publish a video, schedule and host a live session) and the live room's
comments and likes: pages (TestClient) and the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.commerce_helpers import pay, place
from tests.factories import auth as token_headers
from tests.media_helpers import tiny_video
from tests.web_console_helpers import seed_consoles
from tests.web_helpers import form_token, web_login
from zhongcao import clock
from zhongcao.catalog.models import Product
from zhongcao.commerce.models import Order, OrderItem
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind, ContentStatus, ContentVideo, LiveComment
from zhongcao.media.models import Media
from zhongcao.media.storage import LocalStorage
from zhongcao.users.models import User


def auth(client, email: str) -> dict[str, str]:
    db = client._session
    user = db.scalar(select(User).where(User.email == email))
    headers = token_headers(db, user)
    db.commit()
    return headers


@pytest.fixture
def world(db, app):
    return seed_consoles(db, app)


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    app.state.media_storage = storage
    return storage


@pytest.fixture
def mp4(tmp_path) -> bytes:
    return tiny_video(tmp_path / "clip.mp4", seconds=1.0)


def _merchant(client, world) -> str:
    web_login(client, world.merchant_email)
    return form_token(client, "/merchant/content/videos/new")


def _counts(db) -> tuple[int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Media)),
        db.scalar(select(func.count()).select_from(Content)),
    )


def _publish(client, token: str, video: bytes, name: str = "clip.mp4", **fields):
    data = {"csrf_token": token, "title_zh": "新品试色", "title_en": "First look", "topic": "美妆", **fields}
    return client.post(
        "/merchant/content/videos",
        data=data,
        files={"video": (name, video, "video/mp4")},
        follow_redirects=False,
    )


def test_a_published_video_plays_on_the_video_page_and_the_feed(client, db, world, store, mp4):
    token = _merchant(client, world)
    product = world.web.product_ids[0]
    response = _publish(client, token, mp4, products=[str(product)])
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"].startswith("/merchant/content?show=videos")

    db.expire_all()
    content = db.scalars(select(Content).order_by(Content.id.desc())).first()
    assert (content.kind, content.title_en, content.account_id) == (
        ContentKind.short_video,
        "First look",
        world.web.shop_account_id,
    )
    link = db.get(ContentVideo, content.id)
    assert link is not None and db.get(Media, link.media_id).shop_id == world.web.shop_id

    page = client.get(f"/videos/{content.id}").text
    source = re.search(r'<source src="(/media/video/[^"]+)" type="video/mp4">', page)
    assert source, page[:3000]
    assert re.search(r'<video [^>]*poster="/media/video/[^"]+poster-w\d+', page)
    assert f"/products/{product}?from=short_video:{content.id}" in page
    served = client.get(source.group(1))
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert served.content[4:8] == b"ftyp"

    feed = client.get("/?mode=latest").text
    assert source.group(1) in feed

    listing = client.get("/merchant/content?show=videos").text
    assert f'id="content-{content.id}"' in listing and "First look" not in listing  # zh page: zh title
    assert "新品试色" in listing


def test_the_api_publishes_an_uploaded_video_the_shop_owns(client, db, world, store, mp4):
    owner = auth(client, world.merchant_email)
    upload = client.post("/api/media/videos", headers=owner, files={"file": ("a.mp4", mp4, "video/mp4")})
    assert upload.status_code == 201, upload.text
    body = {
        "account_id": world.web.shop_account_id,
        "kind": "short_video",
        "title_zh": "接口发布",
        "title_en": "Via the API",
        "anchors": [world.web.product_ids[0]],
        "video_media_id": upload.json()["id"],
    }
    published = client.post("/api/merchant/content", headers=owner, json=body)
    assert published.status_code == 201, published.text
    assert published.json()["video"]["url"] == upload.json()["url"]
    assert published.json()["video"]["poster_url"] == upload.json()["poster_url"]

    # Another shop cannot publish this shop's upload.
    other = auth(client, world.other_merchant_email)
    other_account = client.get("/api/merchant/accounts", headers=other).json()["items"][0]["id"]
    refused = client.post("/api/merchant/content", headers=other, json={**body, "account_id": other_account})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "media_not_found"
    assert refused.json()["error"]["details"]["field"] == "video_media_id"

    # A live session plays no uploaded video.
    live = {**body, "kind": "live", "scheduled_at": (clock.now() + timedelta(hours=1)).isoformat()}
    assert client.post("/api/merchant/content", headers=owner, json=live).status_code == 422


def test_a_script_renamed_mp4_is_refused_and_nothing_is_stored(client, db, world, store):
    token = _merchant(client, world)
    before = _counts(db)
    response = _publish(client, token, b"#!/bin/sh\nrm -rf /\n" * 50, name="clip.mp4", title_en="Kept title")
    assert response.status_code == 422
    assert "无法识别这个视频" in response.text  # the page's words, not a code
    assert "invalid_video" not in response.text
    assert 'value="Kept title"' in response.text  # what was typed is kept
    assert _counts(db) == before
    assert not any(p.is_file() for p in store.root.rglob("*"))


def test_an_oversized_video_is_a_clean_413_and_nothing_is_stored(client, db, app, world, store, mp4):
    app.state.settings = app.state.settings.model_copy(update={"media_max_video_bytes": len(mp4) - 1})
    token = _merchant(client, world)
    before = _counts(db)
    response = _publish(client, token, mp4)
    assert response.status_code == 413
    assert "视频太大了" in response.text
    assert _counts(db) == before


def test_a_refused_form_keeps_what_was_typed_and_stores_nothing(client, db, world, store, mp4):
    token = _merchant(client, world)
    before = _counts(db)
    response = _publish(client, token, mp4, title_zh="", title_en="Only English")
    assert response.status_code == 422
    assert 'value="Only English"' in response.text and 'aria-invalid="true"' in response.text
    # A product that is not the shop's: refused after the upload, which is then removed again.
    foreign = _publish(client, token, mp4, products=["999999"])
    assert foreign.status_code in (404, 422)
    assert _counts(db) == before


def test_schedule_start_pin_and_end_a_live_session_from_the_console(client, db, world):
    token = _merchant(client, world)
    starts = (clock.now() + timedelta(hours=3)).astimezone().strftime("%Y-%m-%dT%H:%M")
    products = [str(p) for p in world.web.product_ids[:2]]
    missing = client.post(
        "/merchant/content/live",
        data={"csrf_token": token, "title_zh": "", "title_en": "Evening", "starts_at": starts},
        follow_redirects=False,
    )
    assert missing.status_code == 422 and 'value="Evening"' in missing.text
    made = client.post(
        "/merchant/content/live",
        data={
            "csrf_token": token,
            "title_zh": "晚间直播",
            "title_en": "Evening live",
            "starts_at": (clock.now() + timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M"),
            "products": products,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text[:2000]
    url = made.headers["location"]
    live_id = int(url.rsplit("/", 1)[1])
    dashboard = client.get(url).text
    assert "晚间直播" in dashboard and "开始直播" in dashboard

    def post(action: str, **data) -> None:
        response = client.post(f"{url}/{action}", data={"csrf_token": token, **data}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == url

    post("pin", product_id=products[0])  # not on air yet: refused, said on the page
    assert "开播后才能置顶商品" in client.get(url).text
    post("start")
    post("pin", product_id=products[0])
    db.expire_all()
    assert db.get(Content, live_id).pinned_product_id == int(products[0])
    page = client.get(f"/live/{live_id}/pinned").text
    assert f"/products/{products[0]}?from=live:{live_id}" in page
    post("unpin")
    db.expire_all()
    assert db.get(Content, live_id).pinned_product_id is None
    assert client.get(f"/live/{live_id}/pinned").text.strip() == ""
    post("end")
    db.expire_all()
    assert db.get(Content, live_id).status is ContentStatus.ended
    # Another shop's session is not found.
    assert client.get(f"/merchant/live/{world.web.live_id + 10_000}").status_code == 404


def test_another_shops_live_session_is_not_found_from_the_console(client, db, world):
    other = db.scalars(
        select(Content).where(
            Content.kind == ContentKind.live, Content.account_id != world.web.shop_account_id
        )
    ).first()
    _merchant(client, world)
    if other is not None:
        assert client.get(f"/merchant/live/{other.id}").status_code == 404
        assert client.get(f"/merchant/live/{other.id}/stats").status_code == 404


def test_viewers_comment_and_like_and_the_host_sees_the_numbers(client, db, world):
    live_id = world.web.live_id
    shopper = auth(client, world.web.shopper_email)
    made = client.post(f"/api/live/{live_id}/comments", headers=shopper, json={"body": "  好看！<b>x</b> "})
    assert made.status_code == 201, made.text
    assert made.json()["body"] == "好看！<b>x</b>" and made.json()["who"].endswith("**")
    for bad in ({"body": ""}, {"body": "x" * 201}, {"body": "two\nlines"}, {"text": "x"}):
        assert client.post(f"/api/live/{live_id}/comments", headers=shopper, json=bad).status_code == 422
    assert client.post(f"/api/live/{live_id}/comments", json={"body": "hi"}).status_code == 401
    listed = client.get(f"/api/live/{live_id}/comments").json()["items"]
    assert [c["body"] for c in listed] == ["好看！<b>x</b>"]

    assert client.post(f"/api/live/{live_id}/likes", headers=shopper, json={"count": 3}).json()["total"] == 3
    assert client.post(f"/api/live/{live_id}/likes", headers=shopper, json={}).json()["total"] == 4
    for bad in (0, 51, "3", 2.5):
        assert (
            client.post(f"/api/live/{live_id}/likes", headers=shopper, json={"count": bad}).status_code == 422
        )

    # Two paid orders bought in the room (one of two units), and one only placed: the host counts the paid.
    buyer = db.get(User, world.web.shopper_id)
    anchored = content_service.anchored_product_ids(db, live_id)
    skus = {p.id: p.skus[0].id for p in db.scalars(select(Product).where(Product.id.in_(anchored)))}
    line = {"attribution": {"channel": "live", "content_id": live_id}}
    pay(db, buyer, place(db, buyer, [{"sku_id": skus[anchored[0]], "quantity": 2, **line}]))
    pay(db, buyer, place(db, buyer, [{"sku_id": skus[anchored[-1]], "quantity": 1, **line}]))
    place(db, buyer, [{"sku_id": skus[anchored[0]], "quantity": 5, **line}])

    # The room's page escapes the comment; the host's numbers count it.
    room = client.get(f"/live/{live_id}").text
    assert "&lt;b&gt;x&lt;/b&gt;" in room and "<b>x</b>" not in room
    owner = auth(client, world.merchant_email)
    stats = client.get(f"/api/merchant/content/{live_id}/live-stats", headers=owner).json()
    assert (stats["comments"], stats["likes"], stats["status"]) == (1, 4, "live")
    db.expire_all()
    paid = db.execute(
        select(func.count(func.distinct(OrderItem.order_id)), func.coalesce(func.sum(OrderItem.paid_fen), 0))
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.content_id == live_id, Order.paid_at.is_not(None))
    ).one()
    assert paid[0] >= 2
    assert (stats["orders"], stats["gmv_fen"]) == (paid[0], paid[1])
    assert sum(p["gmv_fen"] for p in stats["top_products"]) == stats["gmv_fen"]
    assert stats["top_products"] == sorted(stats["top_products"], key=lambda p: -p["gmv_fen"])
    assert sum(p["units"] for p in stats["top_products"]) == stats["units"]

    # Another shop's host cannot read them.
    other = auth(client, world.other_merchant_email)
    assert client.get(f"/api/merchant/content/{live_id}/live-stats", headers=other).status_code == 404


def test_comments_and_likes_need_the_room_on_air(client, db, world):
    shopper = auth(client, world.web.shopper_email)
    video = world.web.video_ids[0]
    for path, body in (
        (f"/api/live/{video}/comments", {"body": "hi"}),
        (f"/api/live/{video}/likes", {"count": 1}),
    ):
        refused = client.post(path, headers=shopper, json=body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "content_not_live"
    assert db.scalar(select(func.count()).select_from(LiveComment)) == 0


def test_the_room_page_forms_comment_and_like(client, db, world):
    live_id = world.web.live_id
    web_login(client, world.web.shopper_email)
    token = form_token(client, f"/live/{live_id}")
    sent = client.post(
        f"/live/{live_id}/comments",
        data={"csrf_token": token, "body": "来了"},
        headers={"X-Requested-With": "fetch"},
    )
    assert sent.status_code == 201 and sent.json()["body"] == "来了"
    empty = client.post(
        f"/live/{live_id}/comments",
        data={"csrf_token": token, "body": " "},
        headers={"X-Requested-With": "fetch"},
    )
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "请先写点内容"
    liked = client.post(
        f"/live/{live_id}/likes",
        data={"csrf_token": token, "count": "2"},
        headers={"X-Requested-With": "fetch"},
    )
    assert liked.json() == {"total": 2}
    assert "来了" in client.get(f"/live/{live_id}").text
    # Without script the forms post normally and come back to the room, saying what went wrong.
    plain = client.post(
        f"/live/{live_id}/comments", data={"csrf_token": token, "body": ""}, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"] == f"/live/{live_id}"
    assert "请先写点内容" in client.get(f"/live/{live_id}").text
    # Without the token: refused.
    assert client.post(f"/live/{live_id}/comments", data={"body": "x"}).status_code == 403


def test_pins_comments_and_likes_are_published_to_the_room_after_commit(db, world, monkeypatch):
    import zhongcao.content.live as content_live
    import zhongcao.content.service as content_service

    sent: list[tuple[str, dict]] = []

    def capture(session, channel, message):  # what the outbox sends once the transaction commits
        sent.append((channel, message))

    monkeypatch.setattr(content_service, "publish_after_commit", capture)
    monkeypatch.setattr(content_live, "publish_after_commit", capture)
    live_id = world.web.live_id
    product = content_service.anchored_product_ids(db, live_id)[0]
    content_service.pin_product(db, live_id, product)
    content_live.post_comment(db, live_id, world.web.shopper_id, "hello")
    content_live.add_likes(db, live_id, 2)
    assert [m["type"] for _, m in sent] == ["pin", "comment", "likes"]
    assert {c for c, _ in sent} == {f"live:{live_id}"}
    assert sent[0][1]["product_id"] == product and sent[1][1]["body"] == "hello" and sent[2][1]["total"] == 2


def test_every_content_page_renders_in_both_languages(client, world):
    web_login(client, world.merchant_email)
    pages = [
        "/merchant/content",
        *(f"/merchant/content?show={s}" for s in ("videos", "scheduled", "live", "ended")),
        "/merchant/content?show=nonsense&cursor=garbage",
        "/merchant/content/videos/new",
        "/merchant/content/live/new",
        f"/merchant/live/{world.web.live_id}",
    ]
    for locale in ("zh", "en"):
        client.get(f"/locale?to={locale}&next=/merchant")
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:1000])
            assert "Traceback" not in response.text and not re.search(r">studio\.[a-z_.]+<", response.text), (
                url
            )
    stats = client.get(f"/merchant/live/{world.web.live_id}/stats").json()
    assert stats["status"] == "live" and stats["gmv"].startswith("¥")
    empty = client.get("/merchant/content?show=ended").text
    assert "No ended sessions yet." in empty


def test_a_service_agent_reads_but_cannot_publish_or_host(client, db, world, store, mp4):
    from tests.factories import make_user
    from zhongcao.shops.models import ShopStaff, StaffRole
    from zhongcao.users.models import Role

    agent = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=world.web.shop_id, user_id=agent.id, role=StaffRole.service_agent))
    db.commit()
    web_login(client, agent.email)
    listing = client.get("/merchant/content").text
    assert "/merchant/content/videos/new" not in listing
    token = form_token(client, f"/merchant/live/{world.web.live_id}")
    before = _counts(db)
    assert _publish(client, token, mp4).status_code == 403
    for action in ("end", "unpin"):
        response = client.post(f"/merchant/live/{world.web.live_id}/{action}", data={"csrf_token": token})
        assert response.status_code == 403
    db.expire_all()
    assert db.get(Content, world.web.live_id).status is ContentStatus.live
    assert _counts(db) == before


def test_a_shop_without_an_account_opens_one_before_publishing(client, db, world):
    from tests.factories import make_user
    from zhongcao.shops.models import Shop, ShopStaff, StaffRole
    from zhongcao.users.models import Role

    shop = Shop(name_zh="新店", name_en="New shop")
    db.add(shop)
    db.flush()
    owner = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=shop.id, user_id=owner.id, role=StaffRole.owner))
    db.commit()
    web_login(client, owner.email)
    page = client.get("/merchant/content").text
    assert "先开通店铺账号" in page and "/merchant/content/videos/new" not in page
    token = form_token(client, "/merchant/content")
    bad = client.post(
        "/merchant/content/account", data={"csrf_token": token, "handle": "No Spaces!", "name": "新店官方"}
    )
    assert bad.status_code == 422 and 'value="新店官方"' in bad.text and "账号 ID 为" in bad.text
    taken = client.post(
        "/merchant/content/account", data={"csrf_token": token, "handle": "bloom_beauty", "name": "x"}
    )
    assert taken.status_code == 422 and "已被使用" in taken.text
    made = client.post(
        "/merchant/content/account",
        data={"csrf_token": token, "handle": "new_shop", "name": "新店官方"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "/merchant/content/videos/new" in client.get("/merchant/content").text
    assert "发布账号：新店官方" in client.get("/merchant/content/videos/new").text
