"""The password rule, password change, "sign out everywhere" and API tokens with an expiry and a scope
(issue #14, item 1), on the JSON API; and every account operation (sign-up, login, sessions, tokens,
password), called by one user, leaves another user's account and credentials as they were."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.factories import PASSWORD, auth, make_user
from zhongcao import clock
from zhongcao.users import addresses as addresses_service
from zhongcao.users.models import AuthToken, Role, User, UserAddress
from zhongcao.users.schemas import AddressIn

NEW_PASSWORD = "violet lantern harbour"


def _session(client, email: str, password: str = PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each "device" uses its bearer token only
    return {"Authorization": f"Bearer {response.json()['token']}"}


# --- the password rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["password", "12345678", "password1", "qwertyuiop", "aaaaaaaaaaaa", "new.person@example.com"]
)
def test_common_and_guessable_passwords_are_refused(client, password: str) -> None:
    response = client.post(
        "/api/auth/register",
        json={"email": "new.person@example.com", "password": password, "display_name": "New Person"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert error["details"]["field"] == "password"
    assert error["details"]["score"] < error["details"]["min_score"]


def test_a_good_password_is_accepted_and_operators_obey_the_rule_too(client, db) -> None:
    ok = client.post(
        "/api/auth/register", json={"email": "p@example.com", "password": NEW_PASSWORD, "display_name": "P"}
    )
    assert ok.status_code == 201, ok.text
    operator = make_user(db, role=Role.operator)
    weak = client.post(
        "/api/ops/users",
        headers=auth(db, operator),
        json={"email": "m@example.com", "password": "12345678", "display_name": "M", "role": "merchant"},
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"


# --- password change ------------------------------------------------------------------------------


def test_password_change_needs_the_current_password_and_a_good_new_one(client, db) -> None:
    user = make_user(db)
    headers = _session(client, user.email)
    wrong = client.post(
        "/api/me/password", headers=headers, json={"current_password": "nope", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert wrong.json()["error"]["details"]["field"] == "current_password"
    weak = client.post(
        "/api/me/password", headers=headers, json={"current_password": PASSWORD, "new_password": "password"}
    )
    assert weak.status_code == 422
    assert weak.json()["error"]["details"]["field"] == "new_password"
    assert client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_password_change_signs_out_other_sessions_but_keeps_this_one_and_tokens(client, db) -> None:
    user = make_user(db)
    this, other = _session(client, user.email), _session(client, user.email)
    token = auth(db, user)
    changed = client.post(
        "/api/me/password", headers=this, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked_sessions": 1}
    assert client.get("/api/me", headers=this).status_code == 200
    assert client.get("/api/me", headers=other).status_code == 401
    assert client.get("/api/me", headers=token).status_code == 200
    assert client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 401
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 200
    )


def test_guessing_the_current_password_is_throttled(client, db) -> None:
    user = make_user(db)
    headers = _session(client, user.email)
    statuses = [
        client.post(
            "/api/me/password",
            headers=headers,
            json={"current_password": f"guess {i}", "new_password": NEW_PASSWORD},
        ).status_code
        for i in range(8)
    ]
    assert statuses[:6] == [422] * 6 and statuses[6:] == [429, 429]


# --- sign out everywhere --------------------------------------------------------------------------


def test_sign_out_everywhere_revokes_every_other_session_and_token(client, db) -> None:
    user, bystander = make_user(db), make_user(db)
    this, other = _session(client, user.email), _session(client, user.email)
    token = auth(db, user)
    bystander_token = auth(db, bystander)
    response = client.post("/api/me/sign-out-everywhere", headers=this)
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert client.get("/api/me", headers=this).status_code == 200
    assert client.get("/api/me", headers=other).status_code == 401
    assert client.get("/api/me", headers=token).status_code == 401
    assert client.get("/api/me", headers=bystander_token).status_code == 200
    listed = client.get("/api/me/tokens", headers=this).json()
    assert [(t["kind"], t["current"]) for t in listed] == [("session", True)]


# --- API tokens: expiry and scope -----------------------------------------------------------------


def test_tokens_expire_by_default_and_the_lifetime_is_bounded(client, db) -> None:
    headers = auth(db, make_user(db))
    made = client.post("/api/me/tokens", headers=headers, json={"name": "ci"})
    assert made.status_code == 201, made.text
    expires = made.json()["expires_at"]
    assert expires is not None and made.json()["scope"] == "full"
    from datetime import datetime

    days = (datetime.fromisoformat(expires) - clock.now()).total_seconds() / 86400
    assert 89.9 < days <= 90
    too_long = client.post("/api/me/tokens", headers=headers, json={"expires_in_days": 366})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"]["field"] == "expires_in_days"
    for bad in ("30", 30.0, True, 0):
        assert (
            client.post("/api/me/tokens", headers=headers, json={"expires_in_days": bad}).status_code == 422
        )


def test_an_expired_token_is_refused(client, db) -> None:
    headers = auth(db, make_user(db))
    made = client.post("/api/me/tokens", headers=headers, json={"expires_in_days": 1}).json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/me", headers=mine).status_code == 200
    db.execute(
        update(AuthToken)
        .where(AuthToken.id == made["token_id"])
        .values(expires_at=clock.now() - timedelta(seconds=1))
    )
    response = client.get("/api/me", headers=mine)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"
    assert client.get("/api/feed", headers=mine).status_code == 401


def test_a_read_only_token_reads_but_never_writes(client, db) -> None:
    user = make_user(db)
    headers = auth(db, user)
    made = client.post("/api/me/tokens", headers=headers, json={"name": "dashboard", "scope": "read"}).json()
    assert made["scope"] == "read"
    read = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/me", headers=read).status_code == 200
    assert client.get("/api/me/tokens", headers=read).status_code == 200
    assert client.get("/api/cart", headers=read).status_code == 200
    for method, path, body in [
        ("POST", "/api/me/tokens", {"name": "escalate"}),
        ("DELETE", f"/api/me/tokens/{made['token_id']}", None),
        ("POST", "/api/me/sign-out-everywhere", None),
        ("POST", "/api/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        ("POST", "/api/cart/items", {"sku_id": 1, "quantity": 1}),
        ("POST", "/api/auth/logout", None),
    ]:
        response = client.request(method, path, headers=read, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "read_only_token"
    assert client.post("/api/me/tokens", headers=headers, json={"scope": "admin"}).status_code == 422


# --- one user never reaches another's account -----------------------------------------------------


@dataclass
class Case:
    body: Callable[[dict[str, Any]], Any] | None = None
    path: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}


# Every operation of the users router (OpenAPI tag "auth"): the attacker calls it (naming the victim's ids where the path
# takes one); the victim's user row and credentials must be as they were.
CASES: dict[tuple[str, str], Case] = {
    ("POST", "/api/auth/register"): Case(
        body=lambda w: {"email": w["victim_email"], "password": NEW_PASSWORD, "display_name": "X"}
    ),
    ("POST", "/api/auth/login"): Case(body=lambda w: {"email": w["victim_email"], "password": "guess"}),
    ("POST", "/api/auth/logout"): Case(),
    ("GET", "/api/me"): Case(),
    ("GET", "/api/me/tokens"): Case(),
    ("POST", "/api/me/tokens"): Case(body=lambda w: {"name": "mine"}),
    ("DELETE", "/api/me/tokens/{token_id}"): Case(path=lambda w: {"token_id": w["victim_token_id"]}),
    ("POST", "/api/me/password"): Case(
        body=lambda w: {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    ),
    ("POST", "/api/me/sign-out-everywhere"): Case(),
    # The address book: the attacker naming the victim's address gets 404 and changes nothing.
    ("GET", "/api/me/addresses"): Case(),
    ("POST", "/api/me/addresses"): Case(body=lambda w: ADDRESS),
    ("GET", "/api/me/addresses/{address_id}"): Case(path=lambda w: {"address_id": w["victim_address_id"]}),
    ("PUT", "/api/me/addresses/{address_id}"): Case(
        path=lambda w: {"address_id": w["victim_address_id"]}, body=lambda w: {**ADDRESS, "detail": "moved"}
    ),
    ("DELETE", "/api/me/addresses/{address_id}"): Case(path=lambda w: {"address_id": w["victim_address_id"]}),
    ("POST", "/api/me/addresses/{address_id}/default"): Case(
        path=lambda w: {"address_id": w["victim_address_id"]}
    ),
    ("GET", "/api/divisions"): Case(),  # public reference data
    # Operators only: a shopper gets 403.
    ("GET", "/api/ops/users"): Case(),
    ("POST", "/api/ops/users/{user_id}/disable"): Case(
        path=lambda w: {"user_id": w["victim_id"]}, body=lambda w: {"reason": "x"}
    ),
    ("POST", "/api/ops/users/{user_id}/restore"): Case(
        path=lambda w: {"user_id": w["victim_id"]}, body=lambda w: {"reason": "x"}
    ),
    ("POST", "/api/ops/users"): Case(  # operators only: a shopper gets 403
        body=lambda w: {
            "email": w["victim_email"],
            "password": NEW_PASSWORD,
            "display_name": "X",
            "role": "operator",
        }
    ),
}


ADDRESS = {
    "recipient": "小李",
    "phone": "13800138000",
    "province_code": "110000",
    "city_code": "110100",
    "district_code": "110105",
    "detail": "建国路 88 号",
}


def _operations(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        (method.upper(), path)
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
        if "auth" in operation.get("tags", ())
    }


def test_every_account_endpoint_has_a_case(app) -> None:
    assert _operations(app) == set(CASES)


def _victim_state(db, user_id: int) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    db.commit()
    user = db.execute(select(User.password_hash, User.email, User.is_active).where(User.id == user_id)).one()
    tokens = db.execute(
        select(AuthToken.id, AuthToken.revoked_at, AuthToken.expires_at, AuthToken.scope)
        .where(AuthToken.user_id == user_id)
        .order_by(AuthToken.id)
    ).all()
    addresses = db.execute(
        select(UserAddress.id, UserAddress.detail, UserAddress.is_default)
        .where(UserAddress.user_id == user_id)
        .order_by(UserAddress.id)
    ).all()
    return [tuple(user), *(tuple(t) for t in tokens), *(tuple(a) for a in addresses)]


def test_no_account_endpoint_reaches_another_user(client, db) -> None:
    victim, attacker = make_user(db), make_user(db)
    victim_headers = auth(db, victim)
    victim_token_id = db.scalar(select(AuthToken.id).where(AuthToken.user_id == victim.id))
    victim_address = addresses_service.create_address(db, victim.id, AddressIn(**ADDRESS))
    world = {
        "victim_email": victim.email,
        "victim_id": victim.id,
        "victim_token_id": victim_token_id,
        "victim_address_id": victim_address.id,
    }
    before = _victim_state(db, victim.id)
    for (method, template), case in sorted(CASES.items()):
        headers = auth(db, attacker)  # a fresh credential each time: logout and sign-out revoke theirs
        path = template.format(**case.path(world))
        response = client.request(method, path, headers=headers, json=case.body(world) if case.body else None)
        assert response.status_code < 500, (method, path, response.text)
        if method == "DELETE" or "{address_id}" in template:
            assert response.status_code == 404, response.text
        assert _victim_state(db, victim.id) == before, f"{method} {template} changed the victim's account"
    assert client.get("/api/me", headers=victim_headers).status_code == 200


def test_token_and_throttle_settings_are_checked_at_startup() -> None:
    from pydantic import ValidationError

    from zhongcao.config import Settings, describe_invalid

    for bad, named in [
        ({"api_token_default_days": 400}, "ZHONGCAO_API_TOKEN_DEFAULT_DAYS must not exceed"),
        ({"login_backoff_base_seconds": 60, "login_backoff_cap_seconds": 30}, "ZHONGCAO_LOGIN_BACKOFF"),
        ({"login_free_failures_account": 0}, "ZHONGCAO_LOGIN_FREE_FAILURES_ACCOUNT"),
    ]:
        with pytest.raises(ValidationError) as refused:
            Settings(**bad)
        assert named in describe_invalid(refused.value)
