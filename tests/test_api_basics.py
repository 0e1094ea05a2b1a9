"""The API's contract with every client: error shape, size limits, auth, no stack traces."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from tests.api_helpers import assert_error
from tests.factories import PASSWORD, auth, make_user
from zhongcao import clock
from zhongcao.security import csrf_token
from zhongcao.users import service as users_service
from zhongcao.users.models import AuthToken, Role, TokenKind, User


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/no-such-thing"), 404, "not_found")
    assert_error(client.delete("/api/health/live"), 405, "method_not_allowed")


def test_openapi_and_docs_work_offline(client):
    assert client.get("/openapi.json").json()["info"]["title"] == "zhongcao"
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "/static/api-docs/" in html
        assert "cdn" not in html.lower() and "googleapis" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert client.get(f"/static/api-docs/{asset}").status_code == 200


def test_validation_error_names_the_field(client):
    err = assert_error(
        client.post(
            "/api/auth/register", json={"email": "a@example.com", "password": 12345678, "display_name": "x"}
        ),
        422,
        "validation_error",
    )
    assert err["details"]["field"] == "password"
    err = assert_error(
        client.post("/api/auth/register", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "validation_error",
    )
    assert err["details"]["errors"]


def test_body_size_limit(client, app):
    limit = app.state.settings.max_request_bytes
    big = b'{"x": "' + b"a" * (limit + 10) + b'"}'
    assert_error(
        client.post("/api/auth/login", content=big, headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )

    def chunks():
        for _ in range(limit // 1000 + 5):
            yield b"a" * 1000

    r = client.post("/api/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_unhandled_error_has_no_stack_trace(app, client):
    router = APIRouter()

    @router.get("/api/test-boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.include_router(router)
    err = assert_error(client.get("/api/test-boom"), 500, "internal_error")
    assert "secret" not in str(err) and "Traceback" not in str(err)


def test_bearer_and_cookie_sessions(client, db):
    user = make_user(db)
    r = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200
    assert client.cookies.get("zc_session")
    assert client.get("/api/me").json()["id"] == user.id  # cookie
    token = r.json()["token"]
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # A write authenticated by the cookie carries the session's token (tests/test_security.py).
    proof = {"X-CSRF-Token": csrf_token(client.cookies["zc_session"])}
    assert client.post("/api/auth/logout", headers=proof).status_code == 204
    client.cookies.clear()
    assert_error(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")


def test_bad_authorization_headers(client):
    assert_error(client.get("/api/me"), 401, "not_authenticated")
    assert_error(
        client.get("/api/me", headers={"Authorization": "Basic abc"}), 401, "invalid_authorization_header"
    )
    assert_error(client.get("/api/me", headers={"Authorization": "Bearer zc_nope"}), 401, "invalid_token")


def test_api_tokens_expire_and_revoke(client, db):
    user = make_user(db)
    headers = auth(db, user)
    r = client.post("/api/me/tokens", json={"name": "ci", "expires_in_days": 1}, headers=headers)
    assert r.status_code == 201
    token, token_id = r.json()["token"], r.json()["token_id"]
    assert db.get(AuthToken, token_id).token_hash != token  # only a digest is stored
    with clock.travel(clock.now() + timedelta(days=2)):
        assert_error(
            client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token"
        )
    assert client.delete(f"/api/me/tokens/{token_id}", headers=headers).status_code == 204
    assert_error(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")
    other = make_user(db)
    assert_error(client.delete(f"/api/me/tokens/{token_id}", headers=auth(db, other)), 404, "token_not_found")


def test_passwords_are_argon2_and_login_is_case_insensitive(client, db):
    user = make_user(db)
    assert db.get(User, user.id).password_hash.startswith("$argon2id$")
    r = client.post("/api/auth/login", json={"email": user.email.upper(), "password": PASSWORD})
    assert r.status_code == 200


def test_disabled_user_cannot_log_in(client, db):
    user = make_user(db)
    secret, _ = users_service.issue_token(db, user, kind=TokenKind.api)
    user.is_active = False
    db.commit()
    assert_error(
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}),
        401,
        "account_disabled",
    )
    assert_error(client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}), 401, "invalid_token")


def test_duplicate_registration_is_a_conflict_and_changes_nothing(client, db):
    body = {"email": "dup@example.com", "password": "plum orchard 42", "display_name": "D"}
    assert client.post("/api/auth/register", json=body).status_code == 201
    count = db.query(User).count()
    err = assert_error(client.post("/api/auth/register", json=body), 409, "email_taken")
    assert err["details"]["field"] == "email"
    assert db.query(User).count() == count


def test_operator_creates_users_of_any_role(client, db):
    ops = make_user(db, Role.operator)
    shopper = make_user(db)
    body = {"email": "m@example.com", "password": "plum orchard 42", "display_name": "M", "role": "merchant"}
    assert_error(client.post("/api/ops/users", json=body, headers=auth(db, shopper)), 403, "wrong_role")
    r = client.post("/api/ops/users", json=body, headers=auth(db, ops))
    assert r.status_code == 201 and r.json()["role"] == "merchant"


def test_the_feeds_caller_lookup_agrees_with_the_full_one(db):
    """``caller_for_token`` (the feed's lean lookup: no user row) answers as ``user_for_token`` does for
    valid, expired, revoked and unknown tokens and for a disabled user."""
    user = make_user(db)
    live, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="a")
    short, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="b", ttl=timedelta(hours=1))
    revoked, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="c")
    users_service.revoke_token(db, revoked)

    def both(secret: str) -> tuple[int | None, int | None]:
        full = users_service.user_for_token(db, secret)
        lean = users_service.caller_for_token(db, secret)
        return (full.id if full else None), (lean.user_id if lean else None)

    assert both(live) == (user.id, user.id)
    assert users_service.caller_for_token(db, live).role is Role.shopper  # type: ignore[union-attr]
    assert both(short) == (user.id, user.id)
    with clock.travel(clock.now() + timedelta(hours=2)):
        assert both(short) == (None, None)
    assert both(revoked) == (None, None)
    assert both("zc_unknown") == (None, None) and both("not-a-token") == (None, None)
    db.get(User, user.id).is_active = False
    db.commit()
    assert both(live) == (None, None)


def test_feed_answers_401_for_a_revoked_token(client, db):
    user = make_user(db)
    secret, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="feed")
    users_service.revoke_token(db, secret)
    assert_error(client.get("/api/feed", headers={"Authorization": f"Bearer {secret}"}), 401, "invalid_token")
