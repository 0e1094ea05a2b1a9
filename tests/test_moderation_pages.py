"""The moderation pages: an operator finds content and takes it down with a reason (refused without
one, the form shown again in the reader's language), the owner (shop or creator) sees "已下架：<reason>"
and appeals once, the operator decides from the appeals queue; other owners get the 404 page."""

from __future__ import annotations

from tests.commerce_helpers import make_content
from tests.factories import make_creator, make_shop, make_user
from tests.web_helpers import form_token, web_login
from zhongcao.content import moderation
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentStatus
from zhongcao.users.models import Role


def _english(client, method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
    """A request read in English (through the page's language switch), then back to Chinese."""
    client.get("/locale?to=en&next=/", follow_redirects=False)
    try:
        return client.request(method, url, **kwargs)
    finally:
        client.get("/locale?to=zh&next=/", follow_redirects=False)


def _html(response, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text[:2000]
    assert "Traceback" not in response.text
    return response.text


def test_an_operator_takes_down_and_the_shop_appeals_and_is_restored(client, db) -> None:
    shop = make_shop(db)
    video = make_content(db, shop.account, [])
    operator = make_user(db, Role.operator)

    web_login(client, operator.email)
    page = _html(client.get("/operator/moderation", params={"q": str(video.id)}))
    assert f'href="/operator/moderation/{video.id}"' in page and "内容治理" in page
    assert f"content-{video.id}" in _html(
        client.get("/operator/moderation", params={"q": shop.account.handle})
    )
    token = form_token(client, f"/operator/moderation/{video.id}")
    # Without a reason: refused, the form again with the error in the reader's language.
    refused = _english(
        client,
        "POST",
        f"/operator/moderation/{video.id}/take-down",
        data={"csrf_token": token, "reason": " "},
    )
    assert 'aria-invalid="true"' in _html(refused, 422) and "Take down" in refused.text
    db.expire_all()
    assert content_service.get_content(db, video.id).status is ContentStatus.published
    done = client.post(
        f"/operator/moderation/{video.id}/take-down",
        data={"csrf_token": token, "reason": "夸大功效"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.expire_all()
    assert content_service.get_content(db, video.id).status is ContentStatus.removed
    assert "夸大功效" in _html(client.get(f"/operator/moderation/{video.id}"))
    again = client.post(
        f"/operator/moderation/{video.id}/take-down", data={"csrf_token": token, "reason": "再次"}
    )
    assert "这条内容已经下架了" in _html(again, 409)

    # The shop sees why in its content list, and appeals once.
    client.cookies.clear()
    web_login(client, shop.owner.email)
    studio = _html(client.get("/merchant/content"))
    assert "已下架：夸大功效" in studio and f"/merchant/content/{video.id}/takedown" in studio
    english = _html(_english(client, "GET", "/merchant/content"))
    assert "Taken down: 夸大功效" in english
    token = form_token(client, f"/merchant/content/{video.id}/takedown")
    empty = client.post(f"/merchant/content/{video.id}/appeal", data={"csrf_token": token, "statement": ""})
    assert 'aria-invalid="true"' in _html(empty, 422)
    sent = client.post(
        f"/merchant/content/{video.id}/appeal",
        data={"csrf_token": token, "statement": "有检测报告"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = _html(client.get(f"/merchant/content/{video.id}/takedown"))
    assert "申诉已提交" in page and "有检测报告" in page and 'name="statement"' not in page
    second = client.post(
        f"/merchant/content/{video.id}/appeal", data={"csrf_token": token, "statement": "再申诉"}
    )
    # The form is gone once appealed; a replayed post is refused in words.
    assert second.status_code == 409 and "每次下架只能申诉一次" in second.text

    # The operator decides from the queue: a decision needs an outcome and a reason.
    client.cookies.clear()
    web_login(client, operator.email)
    queue = _html(client.get("/operator/moderation/appeals"))
    assert "有检测报告" in queue and f"/operator/moderation/{video.id}#decide" in queue
    token = form_token(client, f"/operator/moderation/{video.id}")
    missing = client.post(
        f"/operator/moderation/{video.id}/decide", data={"csrf_token": token, "reason": "ok"}
    )
    assert "请选择处理结果" in _html(missing, 422)
    decided = client.post(
        f"/operator/moderation/{video.id}/decide",
        data={"csrf_token": token, "outcome": "restore", "reason": "报告真实有效"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    db.expire_all()
    assert content_service.get_content(db, video.id).status is ContentStatus.published
    history = _html(client.get(f"/operator/moderation/{video.id}"))
    assert "申诉成立，恢复" in history and "报告真实有效" in history
    assert "没有待处理的申诉" in _html(client.get("/operator/moderation/appeals"))

    # The shop sees the outcome.
    client.cookies.clear()
    web_login(client, shop.owner.email)
    page = _html(_english(client, "GET", f"/merchant/content/{video.id}/takedown"))
    assert "Appeal granted" in page and "报告真实有效" in page


def test_a_creator_appeals_from_my_content_and_strangers_find_nothing(client, db) -> None:
    user, creator = make_creator(db)
    video = make_content(db, creator, [])
    operator = make_user(db, Role.operator)
    moderation.take_down(db, video.id, operator_user_id=operator.id, reason="搬运")
    web_login(client, user.email)
    home = _html(client.get("/creator"))
    assert "已下架：搬运" in home and f"/creator/content/{video.id}/takedown" in home
    token = form_token(client, f"/creator/content/{video.id}/takedown")
    sent = client.post(
        f"/creator/content/{video.id}/appeal",
        data={"csrf_token": token, "statement": "原创作品"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    db.expire_all()
    assert moderation.latest_takedown(db, video.id).appeal_status.value == "pending"

    other_user, _ = make_creator(db)
    other_shop = make_shop(db)
    for who, url in ((other_user, "/creator"), (other_shop.owner, "/merchant")):
        client.cookies.clear()
        web_login(client, who.email)
        assert client.get(f"{url}/content/{video.id}/takedown").status_code == 404
        token = form_token(client, url if url == "/creator" else "/merchant/content")
        r = client.post(f"{url}/content/{video.id}/appeal", data={"csrf_token": token, "statement": "x"})
        assert r.status_code == 404
    # Shoppers and merchants are not operators.
    assert client.get("/operator/moderation").status_code == 403
