"""Content moderation through the API: take-downs with a reason, the owner's one appeal, the operator's
decision, the audit entries, and who may do what (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.commerce_helpers import make_content
from tests.factories import add_staff, auth, make_creator, make_shop, make_user
from zhongcao import clock, flows
from zhongcao.audit.models import AuditEntry
from zhongcao.content import live as content_live
from zhongcao.content import moderation
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus
from zhongcao.realtime.service import live_channel
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


def code(r) -> str:  # type: ignore[no-untyped-def]
    return r.json()["error"]["code"]


def field(r) -> str:  # type: ignore[no-untyped-def]
    return r.json()["error"]["details"]["field"]


def _audit(db, content_id: int) -> list[AuditEntry]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_kind == "content", AuditEntry.target_id == content_id)
            .order_by(AuditEntry.id)
        )
    )


def test_take_down_appeal_once_and_restore_through_the_api(client, db) -> None:
    shop = make_shop(db)
    video = make_content(db, shop.account, [])
    operator = make_user(db, Role.operator)
    ops, owner = auth(db, operator), auth(db, shop.owner)

    # A reason is required; an empty one is refused naming the field.
    r = client.post(f"/api/ops/content/{video.id}/take-down", json={"reason": "  "}, headers=ops)
    assert r.status_code == 422 and code(r) == "reason_required" and field(r) == "reason"
    r = client.post(f"/api/ops/content/{video.id}/take-down", json={}, headers=ops)
    assert r.status_code == 422 and code(r) == "reason_required"
    # Only operators take content down.
    r = client.post(f"/api/ops/content/{video.id}/take-down", json={"reason": "x"}, headers=owner)
    assert r.status_code == 403

    r = client.post(
        f"/api/ops/content/{video.id}/take-down", json={"reason": "虚假宣传：功效夸大"}, headers=ops
    )
    assert r.status_code == 200, r.text
    down = r.json()
    assert down["reason"] == "虚假宣传：功效夸大" and down["previous_status"] == "published"
    assert down["appeal_status"] == "none" and down["operator_user_id"] == operator.id
    db.expire_all()
    assert content_service.get_content(db, video.id).status is ContentStatus.removed
    r = client.post(f"/api/ops/content/{video.id}/take-down", json={"reason": "again"}, headers=ops)
    assert r.status_code == 409 and code(r) == "already_removed"
    # Gone for everyone else.
    assert client.get(f"/api/content/{video.id}").status_code == 404
    listed = client.get(f"/api/accounts/{shop.account.id}/content").json()["items"]
    assert video.id not in [i["id"] for i in listed]

    # The owner is told at once, with the reason and a link to the page that explains it.
    notes = client.get("/api/me/notifications", headers=owner).json()["items"]
    assert [(n["kind"], n["link"]) for n in notes] == [
        ("content_taken_down", f"/merchant/content/{video.id}/takedown")
    ]
    assert notes[0]["params"]["preview"] == "虚假宣传：功效夸大"

    # The owner sees why.
    r = client.get(f"/api/merchant/content/{video.id}/takedown", headers=owner)
    assert r.status_code == 200 and r.json()["reason"] == "虚假宣传：功效夸大"
    assert "operator_user_id" not in r.json()

    # ... and appeals once, with a statement.
    r = client.post(f"/api/merchant/content/{video.id}/appeal", json={"statement": ""}, headers=owner)
    assert r.status_code == 422 and code(r) == "statement_required" and field(r) == "statement"
    r = client.post(f"/api/merchant/content/{video.id}/appeal", json={"statement": "x" * 1001}, headers=owner)
    assert r.status_code == 422 and code(r) == "statement_too_long"
    r = client.post(
        f"/api/merchant/content/{video.id}/appeal",
        json={"statement": "已附检测报告，功效属实"},
        headers=owner,
    )
    assert r.status_code == 200 and r.json()["appeal_status"] == "pending"
    r = client.post(f"/api/merchant/content/{video.id}/appeal", json={"statement": "再申诉"}, headers=owner)
    assert r.status_code == 409 and code(r) == "appeal_already_made"

    # The operators' queue has it; a decision needs a reason and an outcome.
    queue = client.get("/api/ops/content-appeals", headers=ops).json()["items"]
    assert [q["content_id"] for q in queue] == [video.id]
    takedown_id = queue[0]["id"]
    r = client.post(
        f"/api/ops/content-appeals/{takedown_id}/decide", json={"outcome": "restore"}, headers=ops
    )
    assert r.status_code == 422 and code(r) == "reason_required"
    r = client.post(
        f"/api/ops/content-appeals/{takedown_id}/decide",
        json={"outcome": "restore", "reason": "检测报告有效"},
        headers=ops,
    )
    assert r.status_code == 200 and r.json()["appeal_status"] == "restored"
    r = client.post(
        f"/api/ops/content-appeals/{takedown_id}/decide",
        json={"outcome": "uphold", "reason": "改判"},
        headers=ops,
    )
    assert r.status_code == 409 and code(r) == "appeal_not_pending"
    assert client.get("/api/ops/content-appeals", headers=ops).json()["items"] == []

    # Back for everyone; the owner sees the outcome.
    assert client.get(f"/api/content/{video.id}").status_code == 200
    seen = client.get(f"/api/merchant/content/{video.id}/takedown", headers=owner).json()
    assert seen["appeal_status"] == "restored" and seen["decision_reason"] == "检测报告有效"
    notes = client.get("/api/me/notifications", headers=owner).json()["items"]
    assert [n["kind"] for n in notes] == ["content_restored", "content_taken_down"]

    entries = _audit(db, video.id)
    assert [e.action for e in entries] == ["content.take_down", "content.restore"]
    assert entries[0].actor_user_id == operator.id and entries[0].reason == "虚假宣传：功效夸大"
    assert entries[0].before["status"] == "published" and entries[0].after["status"] == "removed"
    assert entries[1].after["status"] == "published"

    # The operators' list finds it by id, title and account; its history has the one take-down.
    for q in (str(video.id), "种草", shop.account.handle):
        found = client.get("/api/ops/content", params={"q": q}, headers=ops).json()["items"]
        assert video.id in [i["id"] for i in found], q
    history = client.get(f"/api/ops/content/{video.id}/takedowns", headers=ops).json()
    assert [h["appeal_status"] for h in history] == ["restored"]


def test_an_upheld_take_down_stays_and_a_new_take_down_may_be_appealed_again(client, db) -> None:
    user, creator = make_creator(db)
    video = make_content(db, creator, [])
    operator = make_user(db, Role.operator)
    ops, me = auth(db, operator), auth(db, user)
    moderation.take_down(db, video.id, operator_user_id=operator.id, reason="搬运他人作品")
    r = client.post(f"/api/creator/content/{video.id}/appeal", json={"statement": "原创"}, headers=me)
    assert r.status_code == 200
    takedown = r.json()["id"]
    r = client.post(
        f"/api/ops/content-appeals/{takedown}/decide",
        json={"outcome": "uphold", "reason": "比对确认搬运"},
        headers=ops,
    )
    assert r.status_code == 200 and r.json()["appeal_status"] == "upheld"
    seen = client.get(f"/api/creator/content/{video.id}/takedown", headers=me).json()
    assert seen["appeal_status"] == "upheld" and seen["decision_reason"] == "比对确认搬运"
    notes = client.get("/api/me/notifications", headers=me).json()["items"]
    assert [(n["kind"], n["link"]) for n in notes] == [
        ("takedown_upheld", f"/creator/content/{video.id}/takedown"),
        ("content_taken_down", f"/creator/content/{video.id}/takedown"),
    ]
    assert client.get(f"/api/content/{video.id}").status_code == 404
    r = client.post(f"/api/creator/content/{video.id}/appeal", json={"statement": "再次申诉"}, headers=me)
    assert r.status_code == 409 and code(r) == "appeal_already_made"
    assert [e.action for e in _audit(db, video.id)] == ["content.take_down", "content.uphold_takedown"]


def test_owners_cannot_read_or_appeal_anothers_take_down(client, db) -> None:
    victim = make_shop(db)
    video = make_content(db, victim.account, [])
    operator = make_user(db, Role.operator)
    moderation.take_down(db, video.id, operator_user_id=operator.id, reason="违规")
    other_shop = make_shop(db)
    other_user, _ = make_creator(db)
    service_agent = add_staff(db, victim.shop, StaffRole.service_agent)
    for headers, prefix in (
        (auth(db, other_shop.owner), "/api/merchant"),
        (auth(db, other_user), "/api/creator"),
    ):
        assert client.get(f"{prefix}/content/{video.id}/takedown", headers=headers).status_code == 404
        r = client.post(f"{prefix}/content/{video.id}/appeal", json={"statement": "我的"}, headers=headers)
        assert r.status_code == 404
    # A service agent of the shop itself is no editor of its content.
    r = client.post(
        f"/api/merchant/content/{video.id}/appeal",
        json={"statement": "我的"},
        headers=auth(db, service_agent),
    )
    assert r.status_code == 403
    db.expire_all()
    assert moderation.latest_takedown(db, video.id).appeal_status.value == "none"
    # Content that was never taken down has nothing to appeal.
    own = make_content(db, other_shop.account, [])
    r = client.post(
        f"/api/merchant/content/{own.id}/appeal", json={"statement": "?"}, headers=auth(db, other_shop.owner)
    )
    assert r.status_code == 409 and code(r) == "not_taken_down"
    r = client.get(f"/api/merchant/content/{own.id}/takedown", headers=auth(db, other_shop.owner))
    assert r.status_code == 404 and code(r) == "takedown_not_found"


def test_ending_a_live_on_air_closes_the_room_for_its_viewers(client, db, monkeypatch) -> None:
    shop = make_shop(db)
    live = flows.publish_content(
        db,
        shop.account.id,
        kind=ContentKind.live,
        title_zh="直播间",
        title_en="Live room",
        scheduled_at=clock.now() + timedelta(hours=1),
    )
    content_service.start_live(db, live.id)
    operator = make_user(db, Role.operator)
    published: list[tuple[str, dict]] = []
    bus = client.app.state.realtime.bus
    original = bus.publish

    def recording(channel: str, msg: dict) -> None:
        published.append((channel, msg))
        original(channel, msg)

    monkeypatch.setattr(bus, "publish", recording)
    r = client.post(
        f"/api/ops/content/{live.id}/take-down",
        json={"reason": "直播中售卖违禁品"},
        headers=auth(db, operator),
    )
    assert r.status_code == 200 and r.json()["previous_status"] == "live"
    assert (live_channel(live.id), {"type": "status", "status": "removed"}) in published
    db.expire_all()
    ended = content_service.get_content(db, live.id)
    assert ended.status is ContentStatus.removed and ended.ended_at is not None
    assert [e.action for e in _audit(db, live.id)] == ["content.end_live"]
    # Viewers can no longer comment; the room's page is gone.
    viewer = make_user(db)
    try:
        content_live.post_comment(db, live.id, viewer.id, "还在吗")
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "code", "") == "content_not_found"
    else:
        raise AssertionError("a comment was taken in a closed room")
    # Restored after an appeal, it comes back as an ended live (its stream is over).
    owner = auth(db, shop.owner)
    client.post(f"/api/merchant/content/{live.id}/appeal", json={"statement": "误判"}, headers=owner)
    takedown = moderation.latest_takedown(db, live.id)
    moderation.decide_appeal(db, takedown.id, operator_user_id=operator.id, outcome="restore", reason="误判")
    db.expire_all()
    assert content_service.get_content(db, live.id).status is ContentStatus.ended
