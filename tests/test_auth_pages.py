"""The account security page (issue #14, item 1): change the password and sign out everywhere else, in
Chinese and English, for any kind of account; then the same in a real browser, with screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD, auth, make_user
from tests.web_helpers import (
    CHROMIUM,
    PHONE,
    LiveServer,
    PageProblems,
    form_token,
    screenshot,
    sign_in,
    web_login,
)
from zhongcao.users.models import Role

NEW_PASSWORD = "violet lantern harbour"
PAGE = "/account/security"


def _change(client, token: str, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
            "csrf_token": token,
        },
        follow_redirects=False,
    )


def test_the_page_needs_a_signed_in_user(client) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fsecurity"


@pytest.mark.parametrize("role", [Role.shopper, Role.creator, Role.operator])
def test_every_kind_of_account_changes_its_password(client, db, role: Role) -> None:
    user = make_user(db, role=role)
    other_device = auth(db, user)  # an API token: kept by a password change
    web_login(client, user.email)
    token = form_token(client, PAGE)
    response = _change(client, token, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == PAGE
    page = client.get(PAGE)
    assert "密码已修改" in page.text
    assert client.get("/api/me", headers=other_device).status_code == 200
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("locale", "current", "new", "confirm", "field", "text"),
    [
        ("zh", "wrong one", NEW_PASSWORD, None, "current_password", "当前密码不正确"),
        ("zh", PASSWORD, "12345678", None, "new_password", "这个密码太容易被猜到了"),
        ("zh", PASSWORD, NEW_PASSWORD, "something else", "confirm_password", "两次输入的新密码不一致"),
        ("en", PASSWORD, "password", None, "new_password", "This password is too easy to guess"),
        ("en", PASSWORD, "short", None, "new_password", "at least 8 characters"),
        ("en", "", NEW_PASSWORD, None, "current_password", "required"),
    ],
)
def test_a_refused_change_says_why_next_to_the_field(
    client, db, locale: str, current: str, new: str, confirm: str | None, field: str, text: str
) -> None:
    user = make_user(db)
    web_login(client, user.email)
    client.get(f"/locale?to={locale}")
    token = form_token(client, PAGE)
    response = _change(client, token, current, new, confirm)
    assert response.status_code == 422, response.text
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error and text.lower() in error.group(1).lower(), response.text
    assert NEW_PASSWORD not in response.text and PASSWORD not in response.text  # never echoed
    assert client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_the_rule_is_explained_on_the_form(client, db) -> None:
    web_login(client, make_user(db).email)
    assert "常见密码（如 password、12345678）" in client.get(PAGE).text
    client.get("/locale?to=en")
    assert "Common passwords (like password or 12345678)" in client.get(PAGE).text


def test_sign_out_everywhere_from_the_page(client, db) -> None:
    user = make_user(db)
    token_headers = auth(db, user)
    other = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json()["token"]
    client.cookies.clear()
    web_login(client, user.email)
    page = client.get(PAGE)
    assert "退出其他 2 处登录" in page.text
    response = client.post(
        "/account/sign-out-everywhere", data={"csrf_token": form_token(client, PAGE)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "已退出其他所有设备" in client.get(PAGE).text
    assert client.get("/api/me", headers=token_headers).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert client.get(PAGE).status_code == 200  # this browser stays signed in


def test_forms_need_the_csrf_token(client, db) -> None:
    web_login(client, make_user(db).email)
    assert _change(client, "forged", PASSWORD, NEW_PASSWORD).status_code == 403
    assert client.post("/account/sign-out-everywhere", data={}, follow_redirects=False).status_code == 403


# --- in a real browser ----------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
)


@pytest.fixture
def phone(browser) -> Iterator[tuple[Any, PageProblems]]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page, PageProblems(page)
    context.close()


@needs_chromium
@pytest.mark.browser
def test_a_person_changes_the_password_and_signs_out_everywhere(app, db, database, phone) -> None:
    user = make_user(db, name="王小明")
    email = user.email
    token_headers = auth(db, user)
    db.commit()
    page, problems = phone
    kind = database.dialect
    with LiveServer(app) as server:
        sign_in(page, server.url, email)
        page.get_by_role("link", name="王小明").click()  # the name in the header leads to the page
        page.wait_for_url(re.compile(r"/account/security$"))
        assert page.locator("h1").inner_text() == "账号安全"
        assert not problems.take()
        screenshot(page, f"{kind}-account-security")
        # A guessable password: refused, with the reason next to the field and the rule above it.
        page.get_by_label("当前密码").fill(PASSWORD)
        page.get_by_label("新密码", exact=True).fill("12345678")
        page.get_by_label("再次输入新密码").fill("12345678")
        page.get_by_role("button", name="修改密码").click()
        page.wait_for_load_state("load")
        assert "太容易被猜到" in page.locator("#new_password-error").inner_text()
        assert [p for p in problems.take() if "422" not in p] == []
        screenshot(page, f"{kind}-account-weak-password")
        page.get_by_label("当前密码").fill(PASSWORD)
        page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
        page.get_by_role("button", name="修改密码").click()
        page.wait_for_load_state("load")
        assert "密码已修改" in page.get_by_role("status").inner_text()
        page.get_by_role("button", name="退出其他所有登录").click()
        page.wait_for_load_state("load")
        assert "已退出其他所有设备" in page.get_by_role("status").inner_text()
        assert page.get_by_role("button", name="退出其他所有登录").is_disabled()
        assert "只有当前这一处" in page.locator("#sessions-title + ul + form").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert not problems.take()
        screenshot(page, f"{kind}-account-signed-out-everywhere")
        with_old_token = page.request.get(server.url + "/api/me", headers=token_headers)
        assert with_old_token.status == 401


def test_a_read_only_token_in_the_cookie_cannot_write_through_the_pages(client, db) -> None:
    user = make_user(db)
    full = auth(db, user)
    read = client.post("/api/me/tokens", headers=full, json={"scope": "read"}).json()["token"]
    client.cookies.set("zc_session", read)
    assert client.get(PAGE).status_code == 200  # reading is what the token is for
    token = form_token(client, PAGE)
    response = client.post("/account/sign-out-everywhere", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 403
    assert _change(client, token, PASSWORD, NEW_PASSWORD).status_code == 403
    assert client.get("/api/me", headers=full).status_code == 200


@needs_chromium
@pytest.mark.browser
def test_a_locked_login_says_when_to_try_again_in_the_browser(app, db, database, phone) -> None:
    email = make_user(db).email
    db.commit()
    page, problems = phone
    with LiveServer(app) as server:
        page.goto(server.url + "/login")
        for i in range(7):
            page.get_by_label("邮箱").fill(email)
            page.get_by_label("密码").fill(f"wrong {i}")
            page.locator("form[action='/login'] button[type=submit]").click()
            page.wait_for_load_state("load")
        alert = page.get_by_role("alert").inner_text()
        assert "登录失败次数过多" in alert and "秒后再试" in alert
        assert page.get_by_label("邮箱").input_value() == email  # what was typed is kept
        # The refused sign-ins (401, then 429) and nothing else.
        assert all(re.search(r"\b(401|429)\b", p) for p in problems.take())
        screenshot(page, f"{database.dialect}-login-throttled")
