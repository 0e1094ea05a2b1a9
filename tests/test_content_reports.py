"""Shoppers report videos and live rooms; operators dismiss the reports or take the item down (issue
#16, item 4), through the API and the pages, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from tests.commerce_helpers import make_content
from tests.factories import auth, make_creator, make_shop, make_user
from tests.web_helpers import form_token, web_login
from zhongcao.audit.models import AuditEntry
from zhongcao.content import reports
from zhongcao.content.models import ReportStatus
from zhongcao.users.models import Role


def _error(r) -> tuple[int, str, str | None]:  # type: ignore[no-untyped-def]
    error = r.json()["error"]
    return r.status_code, error["code"], error["details"].get("field")


def test_report_then_take_down_closes_the_reports(client, db) -> None:
    shop = make_shop(db)
    video = make_content(db, shop.account, [])
    alice, bob = make_user(db), make_user(db)
    operator = make_user(db, Role.operator)
    ops = auth(db, operator)
    url = f"/api/content/{video.id}/reports"

    assert client.post(url, json={"reason": "misleading"}).status_code == 401
    r = client.post(url, json={"reason": "nonsense"}, headers=auth(db, alice))
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "reason"
    r = client.post(url, json={"reason": "other"}, headers=auth(db, alice))
    assert _error(r) == (422, "details_required", "details")
    r = client.post(url, json={"reason": "other", "details": "x" * 501}, headers=auth(db, alice))
    assert r.status_code == 422
    r = client.post(url, json={"reason": "misleading", "details": "说能治病"}, headers=auth(db, alice))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "open" and r.json()["reason"] == "misleading"
    assert _error(client.post(url, json={"reason": "vulgar"}, headers=auth(db, alice)))[:2] == (
        409,
        "already_reported",
    )
    assert client.post(url, json={"reason": "prohibited"}, headers=auth(db, bob)).status_code == 201
    # The owner cannot report their own content; nobody can report what does not exist.
    r = client.post(url, json={"reason": "misleading"}, headers=auth(db, shop.owner))
    assert _error(r) == (422, "own_content", "content_id")
    assert (
        client.post(
            "/api/content/999999/reports", json={"reason": "vulgar"}, headers=auth(db, bob)
        ).status_code
        == 404
    )

    # Operators only, and the queue counts people and reasons.
    assert client.get("/api/ops/content-reports", headers=auth(db, alice)).status_code == 403
    queue = client.get("/api/ops/content-reports", headers=ops).json()["items"]
    assert [(q["content_id"], q["open_reports"]) for q in queue] == [(video.id, 2)]
    assert sorted(x["reason"] for x in queue[0]["reasons"]) == ["misleading", "prohibited"]
    assert len(client.get(f"/api/ops/content/{video.id}/reports", headers=ops).json()) == 2
    kept = client.get("/api/ops/content-reports?reason=prohibited", headers=ops).json()["items"]
    assert [(q["content_id"], q["open_reports"]) for q in kept] == [(video.id, 2)]
    assert client.get("/api/ops/content-reports?reason=vulgar", headers=ops).json()["items"] == []

    # Taking it down closes both reports as acted on; the reporter sees it.
    r = client.post(f"/api/ops/content/{video.id}/take-down", json={"reason": "夸大功效"}, headers=ops)
    assert r.status_code == 200
    assert client.get("/api/ops/content-reports", headers=ops).json()["items"] == []
    mine = client.get(f"/api/content/{video.id}/reports/mine", headers=auth(db, alice)).json()
    assert mine["status"] == "actioned"
    # Removed content cannot be reported any more.
    carol = make_user(db)
    assert client.post(url, json={"reason": "vulgar"}, headers=auth(db, carol)).status_code == 404


def test_dismissing_reports_needs_a_reason_and_is_audited(client, db) -> None:
    user, creator = make_creator(db)
    video = make_content(db, creator, [])
    reporter = make_user(db)
    operator = make_user(db, Role.operator)
    ops = auth(db, operator)
    reports.report(db, video.id, user_id=reporter.id, reason="harassment", details="")
    # A creator cannot report their own video.
    r = client.post(f"/api/content/{video.id}/reports", json={"reason": "vulgar"}, headers=auth(db, user))
    assert _error(r) == (422, "own_content", "content_id")

    url = f"/api/ops/content/{video.id}/reports/dismiss"
    assert _error(client.post(url, json={}, headers=ops)) == (422, "reason_required", "reason")
    r = client.post(url, json={"reason": "正常的产品对比，无人身攻击"}, headers=ops)
    assert r.status_code == 200 and r.json() == {"dismissed": 1}
    assert _error(client.post(url, json={"reason": "again"}, headers=ops))[:2] == (409, "no_open_reports")
    db.expire_all()
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "content.dismiss_reports"))
    assert entry is not None and entry.actor_user_id == operator.id and entry.target_id == video.id
    assert entry.before["open_reports"] == 1 and entry.after["dismissed"] == 1
    mine = reports.my_report(db, video.id, reporter.id)
    assert mine is not None and mine.status is ReportStatus.dismissed
    # The content stays up.
    assert client.get(f"/api/content/{video.id}").status_code == 200


def test_report_and_review_through_the_pages(client, db) -> None:
    shop = make_shop(db)
    video = make_content(db, shop.account, [])
    shopper = make_user(db)
    operator = make_user(db, Role.operator)

    web_login(client, shopper.email)
    assert f'href="/content/{video.id}/report"' in client.get(f"/videos/{video.id}").text
    page_url = f"/content/{video.id}/report"
    token = form_token(client, page_url)
    refused = client.post(page_url, data={"reason": "other", "details": "", "csrf_token": token})
    assert refused.status_code == 422 and 'id="details-error"' in refused.text
    done = client.post(
        page_url,
        data={"reason": "misleading", "details": "直播说三天瘦十斤", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"/videos/{video.id}")
    again = client.get(page_url)
    assert "data-reported" in again.text and "直播说三天瘦十斤" in again.text

    client.cookies.clear()
    web_login(client, operator.email)
    queue = client.get("/operator/moderation/reports")
    assert queue.status_code == 200 and f'id="reported-{video.id}"' in queue.text
    assert f'id="reported-{video.id}"' not in client.get("/operator/moderation/reports?reason=vulgar").text
    assert "/operator/moderation/reports" in client.get("/operator/workbench").text
    item = client.get(f"/operator/moderation/{video.id}")
    assert 'id="reports"' in item.text and "直播说三天瘦十斤" in item.text
    token = form_token(client, f"/operator/moderation/{video.id}")
    action = f"/operator/moderation/{video.id}/dismiss-reports"
    assert client.post(action, data={"reason": " ", "csrf_token": token}).status_code == 422
    ok = client.post(action, data={"reason": "有检测报告支持", "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert f'id="reported-{video.id}"' not in client.get("/operator/moderation/reports").text
