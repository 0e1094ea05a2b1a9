"""Security headers on every response and CSRF everywhere (issue #14, items 2 and 3; docs/security.md).

The probe cases: a page could be framed and had no CSP; a cross-origin form-content-type POST to
``/api/me/tokens`` or ``/api/coupons/{id}/claim`` with only the session cookie minted a token or
claimed a coupon; a web form token was not bound to the session. The browser half (every page of
every role loads with the CSP and no violation) is in the browser tests, through PageProblems
(tests/web_helpers.py), and in tests/test_web_headers_browser.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api_helpers import assert_error, count
from tests.factories import PASSWORD, auth, make_shop, make_user
from tests.web_helpers import form_token, seed_world, web_login
from zhongcao import clock
from zhongcao.api import create_app
from zhongcao.security import CSRF_HEADER, csrf_token
from zhongcao.users import service as users_service
from zhongcao.users.models import TokenKind
from zhongcao.web import charts

TEMPLATES = Path(__file__).parents[1] / "src" / "zhongcao" / "web" / "templates"
EVIL = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _policy(response) -> dict[str, str]:
    header = response.headers.get("content-security-policy")
    assert header, f"no CSP on {response.request.url}"
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def _assert_headers(response) -> None:
    policy = _policy(response)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]


# --- headers --------------------------------------------------------------------------------------


def test_every_kind_of_response_has_the_headers(client, db):
    seed_world(db)
    db.commit()
    responses = [
        client.get("/"),  # a page
        client.get("/login"),
        client.get("/no-such-page"),  # an error page
        client.get("/api/health/live"),  # JSON
        client.get("/api/no-such-thing"),
        client.get("/static/web/css/base.css"),
        client.post(
            "/api/auth/login", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
        ),
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 200, 404, 200, 413]
    for response in responses:
        _assert_headers(response)
        policy = _policy(response)
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert "unsafe" not in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # plain HTTP: no HSTS


def test_secure_cookies_and_hsts_when_configured(settings, database, db):
    world = seed_world(db)
    db.commit()
    app = create_app(settings=settings.model_copy(update={"cookie_secure": True}), database=database)
    with TestClient(app, base_url="https://testserver") as client:
        login = client.get("/login")
        assert login.headers["strict-transport-security"].startswith("max-age=")
        cookies = login.headers.get_list("set-cookie")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        done = client.post(
            "/login",
            data={"email": world.shopper_email, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        cookies += done.headers.get_list("set-cookie")  # the session, the flash notice, the language
        switched = client.get("/locale?to=en&next=/", follow_redirects=False)
        cookies += switched.headers.get_list("set-cookie")
        api = client.post("/api/auth/login", json={"email": world.shopper_email, "password": PASSWORD})
        cookies += api.headers.get_list("set-cookie")
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert {"zc_csrf", "zc_session", "zc_flash", "zc_locale"} <= names
    for cookie in cookies:
        assert "secure" in [part.strip().lower() for part in cookie.split(";")], cookie


def test_api_docs_load_nothing_inline_and_only_they_relax_styles(client):
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        _assert_headers(response)
        policy = _policy(response)
        assert policy["script-src"] == "'self'"  # still no inline script
        assert policy["style-src"] == "'self' 'unsafe-inline'"  # Swagger UI / ReDoc inject styles
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), "an inline script"
        assert "cdn" not in response.text.lower()
    starter = re.search(r'<script src="(/static/web/js/api-docs\.js[^"]*)"', client.get("/docs").text)
    assert starter and client.get(starter.group(1)).status_code == 200


def test_templates_have_no_inline_script_style_or_handler():
    """The policy allows no inline script or style; a template that used one would break in the
    browser. Event handlers (onclick=...) are inline scripts too."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)", r"<style[\s>]", r"\sstyle=", r"\son[a-z]+\s*="):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert found == []


def test_charts_are_data_not_scripts():
    chart = charts.funnel([("a", 3), ("b", 1)], label="funnel")
    html = str(chart.html)
    assert "<script" not in html and "style=" not in html
    assert 'class="plotly-graph-div"' in html and "data-figure=" in html


def test_plotly_stylesheet_is_served_from_the_bundle(client):
    from zhongcao.web.static import plotly_css_url

    response = client.get(plotly_css_url())
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert ".js-plotly-plot .plotly .main-svg" in response.text and response.text.count("{") > 50


# --- CSRF: the JSON API ---------------------------------------------------------------------------


def _cookie_session(client, db, user) -> str:
    token, _ = users_service.issue_token(db, user, kind=TokenKind.session)
    db.commit()
    client.cookies.set("zc_session", token)
    return token


def _coupon(client, db) -> int:
    bundle = make_shop(db)
    body = {
        "name": "满100减10",
        "threshold_fen": 10_000,
        "discount_fen": 1_000,
        "per_user_limit": 1,
        "total_quantity": 10,
        "starts_at": (clock.now() - timedelta(hours=1)).isoformat(),
        "ends_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    response = client.post("/api/merchant/coupons", json=body, headers=auth(db, bundle.owner))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize(
    "headers",
    [
        {**EVIL, **FORM},  # a form on another site, posted by the shopper's browser
        {"Origin": "https://evil.example", **FORM},  # an older browser: no Sec-Fetch-Site
        {"Origin": "null", **FORM},  # a sandboxed frame
        FORM,  # no browser headers at all, and no token
    ],
    ids=["cross-site", "foreign-origin", "null-origin", "no-token"],
)
def test_cross_origin_cookie_writes_are_refused(client, db, headers):
    coupon_id = _coupon(client, db)
    _cookie_session(client, db, make_user(db))
    tokens_before = count(db, "auth_tokens")
    minted = client.post("/api/me/tokens", content=b"name=pwned", headers=headers)
    error = assert_error(minted, 403, "csrf_failed")
    assert error["details"]["reason"] in {"cross_site", "missing_token"}
    assert_error(
        client.post(f"/api/coupons/{coupon_id}/claim", content=b"", headers=headers), 403, "csrf_failed"
    )
    assert_error(client.delete("/api/me/tokens/1", headers=headers), 403, "csrf_failed")
    assert count(db, "auth_tokens") == tokens_before
    assert count(db, "user_coupons") == 0


def test_same_origin_cookie_writes_with_the_token_work(client, db):
    coupon_id = _coupon(client, db)
    session = _cookie_session(client, db, make_user(db))
    proof = {CSRF_HEADER: csrf_token(session), "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/me/tokens", json={"name": "ci"}, headers=proof).status_code == 201
    assert client.post(f"/api/coupons/{coupon_id}/claim", headers=proof).status_code == 201
    # Without Sec-Fetch-Site, a matching Origin will do; reading needs no proof at all.
    origin_only = {CSRF_HEADER: csrf_token(session), "Origin": "http://testserver"}
    assert client.post("/api/me/tokens", json={"name": "ci2"}, headers=origin_only).status_code == 201
    assert client.get("/api/me/coupons").status_code == 200


def test_a_token_of_another_session_or_site_is_refused(client, db):
    other = users_service.issue_token(db, make_user(db), kind=TokenKind.session)[0]
    session = _cookie_session(client, db, make_user(db))
    wrong = assert_error(
        client.post("/api/me/tokens", json={}, headers={CSRF_HEADER: csrf_token(other)}), 403, "csrf_failed"
    )
    assert wrong["details"]["reason"] == "bad_token"
    # The right token does not make a cross-site request acceptable.
    stolen = {CSRF_HEADER: csrf_token(session), **EVIL}
    assert (
        assert_error(client.post("/api/me/tokens", json={}, headers=stolen), 403, "csrf_failed")["details"][
            "reason"
        ]
        == "cross_site"
    )
    same_site = {CSRF_HEADER: csrf_token(session), "Sec-Fetch-Site": "same-site"}
    assert_error(client.post("/api/me/tokens", json={}, headers=same_site), 403, "csrf_failed")


def test_bearer_clients_are_unaffected(client, db):
    coupon_id = _coupon(client, db)
    user = make_user(db)
    _cookie_session(client, db, make_user(db))  # a cookie of someone else is ignored: the bearer wins
    bearer = auth(db, user)
    assert client.post("/api/me/tokens", json={"name": "x"}, headers={**bearer, **EVIL}).status_code == 201
    claimed = client.post(f"/api/coupons/{coupon_id}/claim", headers={**bearer, **EVIL})
    assert claimed.status_code == 201
    client.cookies.clear()
    assert client.post("/api/me/tokens", json={}, headers=bearer).status_code == 201


# --- CSRF: the pages' forms -----------------------------------------------------------------------


def test_the_pages_carry_the_token_for_scripts(client, db):
    world = seed_world(db)
    db.commit()
    web_login(client, world.shopper_email)
    page = client.get("/")
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert meta and meta.group(1) == csrf_token(client.cookies["zc_session"])
    # What the page's scripts send (zhongcao.send in js/app.js) is accepted by the API.
    sent = client.post("/api/me/tokens", json={"name": "from a page"}, headers={CSRF_HEADER: meta.group(1)})
    assert sent.status_code == 201


def test_a_form_token_from_one_session_is_refused_in_another(app, client, db):
    world = seed_world(db)
    db.commit()
    web_login(client, world.shopper_email)
    token_a = form_token(client, "/orders")
    with TestClient(app) as other:
        web_login(other, world.shopper_email)  # the same shopper, another browser: another session
        refused = other.post("/logout", data={"csrf_token": token_a}, follow_redirects=False)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert other.get("/orders", follow_redirects=False).status_code == 200  # still signed in
        # The anonymous cookie a token was bound to before sign-in is no proof after it.
        anonymous = form_token(other, "/login")
    assert client.post("/logout", data={"csrf_token": anonymous}, follow_redirects=False).status_code == 403
    assert client.post("/logout", data={"csrf_token": token_a}, follow_redirects=False).status_code == 303


def test_a_token_from_before_sign_in_is_refused_after_it(client, db):
    world = seed_world(db)
    db.commit()
    before = form_token(client, "/login")
    web_login(client, world.shopper_email)
    assert client.post("/logout", data={"csrf_token": before}, follow_redirects=False).status_code == 403


def test_a_form_posted_from_another_site_is_refused_even_with_the_token(client, db):
    world = seed_world(db)
    db.commit()
    web_login(client, world.shopper_email)
    token = form_token(client, "/orders")
    refused = client.post("/logout", data={"csrf_token": token}, headers=EVIL, follow_redirects=False)
    assert refused.status_code == 403
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert (
        client.post("/logout", data={"csrf_token": token}, headers=own, follow_redirects=False).status_code
        == 303
    )
