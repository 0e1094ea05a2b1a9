"""Sign-up and shop onboarding through the pages (issue #15, item 1): /register for shoppers and
creators with the password rule explained, /open-shop for a shopper's application and its status, the
operator's review page; then the whole story in Chromium: register -> apply -> an operator approves
-> the new owner opens the merchant console."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_category, make_user
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
from zhongcao.content import service as content_service
from zhongcao.shops import applications
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import ApplicationStatus, StaffRole
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

GOOD_CODE = "91440300708461136T"
GOOD_PASSWORD = "plum orchard 42 lanterns"
DESK = {"width": 1280, "height": 900}


def _register(client, **fields: str):  # type: ignore[no-untyped-def]
    token = form_token(client, "/register")
    data = {"email": "new@x.com", "display_name": "小新", "password": GOOD_PASSWORD, "role": "shopper"}
    data.update(fields)
    return client.post("/register", data={**data, "csrf_token": token}, follow_redirects=False)


def test_login_links_to_register_and_the_rule_is_explained(client) -> None:
    assert 'href="/register"' in client.get("/login").text
    page = client.get("/register")
    assert page.status_code == 200
    assert "常见密码" in page.text and 'name="role"' in page.text
    english = client.get("/register", headers={"accept-language": "en"})
    assert "Common passwords" in english.text and "Sign up" in english.text


@pytest.mark.parametrize("role", ["shopper", "creator"])
def test_register_signs_in(client, db, role: str) -> None:
    response = _register(client, role=role)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == ("/" if role == "shopper" else "/creator")
    user = users_service.get_by_email(db, "new@x.com")
    assert user is not None and user.role.value == role
    if role == "creator":
        assert content_service.creator_account_for_user(db, user.id) is not None
        assert client.get("/creator").status_code == 200
    else:
        assert "小新" in client.get("/").text


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"password": "password123"}, "password", "太容易被猜到"),
        ({"password": "short"}, "password", "至少需要 8 个字符"),
        ({"email": "nope"}, "email", "有效的邮箱"),
        ({"display_name": ""}, "display_name", "请填写此项"),
        ({"role": "operator"}, "role", "请选择购物者或创作者"),
    ],
)
def test_a_refused_sign_up_says_why_and_keeps_what_was_typed(client, db, fields, field, text) -> None:
    response = _register(client, **fields)
    assert response.status_code == 422, response.text
    assert f'id="{field}-error"' in response.text and text in response.text
    if field != "email":
        assert 'value="new@x.com"' in response.text
    assert users_service.get_by_email(db, "new@x.com") is None


def test_taken_email_is_refused_on_the_field(client, db) -> None:
    user = make_user(db)
    response = _register(client, email=user.email)
    assert response.status_code == 409 and 'id="email-error"' in response.text


def _apply(client, category_id: int, **fields: str):  # type: ignore[no-untyped-def]
    token = form_token(client, "/open-shop")
    data = {
        "name_zh": "青禾小铺",
        "name_en": "Green Grain",
        "category_id": str(category_id),
        "credit_code": GOOD_CODE,
        "contact_name": "王芳",
        "contact_phone": "13800138000",
    }
    data.update(fields)
    return client.post("/open-shop", data={**data, "csrf_token": token}, follow_redirects=False)


def test_apply_review_and_see_the_decision(client, db) -> None:
    category = make_category(db)
    shopper = make_user(db)
    operator = make_user(db, Role.operator)
    web_login(client, shopper.email)
    bad = _apply(client, category.id, credit_code="91440300708461136A")
    assert bad.status_code == 422 and 'id="credit_code-error"' in bad.text and "校验码" in bad.text
    assert 'value="青禾小铺"' in bad.text  # what was typed is kept
    assert _apply(client, category.id).status_code == 303
    page = client.get("/open-shop")
    assert "审核中" in page.text and 'action="/open-shop"' not in page.text  # one pending at a time
    (row,) = applications.applications_of(db, shopper.id)

    client.cookies.clear()
    web_login(client, operator.email)
    listing = client.get("/operator/shop-applications?status=pending")
    assert listing.status_code == 200 and "青禾小铺" in listing.text
    token = form_token(client, f"/operator/shop-applications/{row.id}")
    url = f"/operator/shop-applications/{row.id}"
    for action in ("reject", "approve"):  # either decision says why
        refused = client.post(url, data={"action": action, "reason": " ", "csrf_token": token})
        assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    done = client.post(
        url,
        data={"action": "reject", "reason": "执照照片看不清", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    decided = {"action": "approve", "reason": "核验通过", "csrf_token": token}
    assert client.post(url, data=decided).status_code == 409

    client.cookies.clear()
    web_login(client, shopper.email)
    page = client.get("/open-shop")
    assert "执照照片看不清" in page.text and 'action="/open-shop"' in page.text  # may apply again


def test_the_review_pages_are_for_operators(client, db) -> None:
    web_login(client, make_user(db).email)
    assert client.get("/operator/shop-applications").status_code == 403
    client.cookies.clear()
    assert client.get("/open-shop", follow_redirects=False).status_code == 303  # sign in first


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
def test_register_apply_approve_and_open_the_console(app, db, database, phone) -> None:
    category = make_category(db)
    operator = make_user(db, Role.operator)
    operator_email = operator.email
    db.commit()
    page, problems = phone
    kind = database.dialect
    with LiveServer(app) as server:
        page.goto(f"{server.url}/login")
        page.get_by_role("link", name="注册").last.click()
        page.wait_for_url("**/register")
        page.get_by_label("邮箱").fill("seller@x.com")
        page.get_by_label("昵称").fill("青禾")
        page.get_by_label("密码").fill("123")
        screenshot(page, f"{kind}-register")
        page.locator("form[action='/register'] button[type=submit]").click()
        assert page.locator("#password-error").is_visible()
        page.get_by_label("密码").fill(GOOD_PASSWORD)
        page.locator("form[action='/register'] button[type=submit]").click()
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("link", name="青禾").is_visible()  # signed in

        page.goto(f"{server.url}/open-shop")
        page.get_by_label("店铺中文名").fill("青禾小铺")
        page.get_by_label("店铺英文名").fill("Green Grain")
        page.get_by_label("主营类目").select_option(str(category.id))
        page.get_by_label("统一社会信用代码").fill("91440300708461136A")
        page.get_by_label("联系人").fill("王芳")
        page.get_by_label("联系电话").fill("138 0013 8000")
        page.locator("form[action='/open-shop'] button[type=submit]").click()
        assert page.locator("#credit_code-error").is_visible()
        screenshot(page, f"{kind}-open-shop-bad-code")
        page.get_by_label("统一社会信用代码").fill(GOOD_CODE)
        page.locator("form[action='/open-shop'] button[type=submit]").click()
        page.wait_for_selector("li.application[data-status=pending]")
        screenshot(page, f"{kind}-open-shop-pending")
        problems.take()  # the 422s above were meant

        page.context.clear_cookies()
        page.set_viewport_size(DESK)  # the operator console is desk-first
        sign_in(page, server.url, operator_email)
        page.goto(f"{server.url}/operator/shop-applications?status=pending")
        screenshot(page, f"{kind}-operator-shop-applications")
        page.get_by_role("link", name="青禾小铺").click()
        screenshot(page, f"{kind}-operator-shop-application")
        page.get_by_label("审核意见").fill("营业执照与信用代码核验一致")
        page.get_by_role("button", name="通过并开店").click()
        page.wait_for_selector("text=已通过，店铺已开通")

        page.context.clear_cookies()
        page.set_viewport_size(PHONE)
        sign_in(page, server.url, "seller@x.com", GOOD_PASSWORD)
        page.goto(f"{server.url}/open-shop")
        page.wait_for_selector("li.application[data-status=approved]")
        screenshot(page, f"{kind}-open-shop-approved")
        page.get_by_role("link", name="进入商家后台").click()
        page.wait_for_url(f"{server.url}/merchant")
        assert "青禾小铺" in page.content()
        screenshot(page, f"{kind}-merchant-console-new-shop")
        assert problems.take() == []

    seller = users_service.get_by_email(db, "seller@x.com")
    assert seller is not None
    db.expire_all()
    membership = shops_service.membership_for_user(db, seller.id)
    assert membership is not None and membership.role is StaffRole.owner
    assert applications.applications_of(db, seller.id)[0].status is ApplicationStatus.approved
