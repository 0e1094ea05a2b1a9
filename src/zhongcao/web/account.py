"""The account security page, for every kind of account: change the password, see where one is
signed in, and sign out everywhere else (``users.service.change_password`` / ``sign_out_everywhere``;
the JSON API has the same at /api/me/password and /api/me/sign-out-everywhere)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.deps import client_address
from zhongcao.errors import InvalidInput, TooManyRequests
from zhongcao.users import security
from zhongcao.users import service as users_service
from zhongcao.web.context import FormData, SignedInPage, WebContext, session_token
from zhongcao.web.forms import Form

router = APIRouter(include_in_schema=False)


def throttled_message(page: WebContext, seconds: int) -> str:
    """When a locked sign-in may be tried again, in seconds or, from two minutes on, in minutes."""
    if seconds < 120:
        return page.tn("auth.throttled", "auth.throttled.plural", seconds)
    return page.tn("auth.throttled_minutes", "auth.throttled_minutes.plural", -(-seconds // 60))


PATH = "/account/security"
# The longest password a form takes (the API's limit too): argon2 hashes any length, slowly.
MAX_PASSWORD = 128


def _render(page: WebContext, form: Form | None, status_code: int = 200) -> Response:
    assert page.user is not None
    current = session_token(page.request)
    digest = security.token_digest(current) if current else None
    tokens = users_service.list_tokens(page.db, page.user)
    return page.render(
        "auth/security.html",
        status_code=status_code,
        form=form,
        tokens=tokens,
        current_digest=digest,
        others=sum(1 for row in tokens if row.token_hash != digest),
    )


@router.get(PATH)
def security_page(page: SignedInPage) -> Response:
    return _render(page, None)


@router.post("/account/password")
def change_password(page: SignedInPage, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    values = {}
    for name in ("current_password", "new_password", "confirm_password"):
        raw = data.get(name)
        values[name] = raw if isinstance(raw, str) else ""
        if not values[name]:
            form.error(name, page.t("form.required"))
        elif len(values[name]) > MAX_PASSWORD:
            form.error(name, page.tn("form.too_long", "form.too_long.plural", MAX_PASSWORD))
    if form.ok and len(values["new_password"]) < 8:
        form.error("new_password", page.t("account.password_too_short"))
    if form.ok and values["new_password"] != values["confirm_password"]:
        form.error("confirm_password", page.t("account.password_mismatch"))
    if form.ok:
        try:
            users_service.change_password(
                page.db,
                page.request.app.state.login_throttle,
                page.user,
                current_password=values["current_password"],
                new_password=values["new_password"],
                address=client_address(page.request),
                keep_secret=session_token(page.request),
            )
        except TooManyRequests as exc:
            form.message = throttled_message(page, exc.retry_after)
            response = _render(page, form, status_code=429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except InvalidInput as exc:
            page.db.rollback()
            if exc.code == "wrong_password":
                form.error("current_password", page.t("account.wrong_password"))
            else:
                form.error("new_password", page.t("account.weak_password"))
        else:
            return page.redirect(PATH, flash="account.password_changed")
    # Passwords are never echoed back into the form.
    return _render(page, form, status_code=422)


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(page: SignedInPage, _: FormData) -> Response:
    assert page.user is not None
    users_service.sign_out_everywhere(page.db, page.user, keep_secret=session_token(page.request))
    return page.redirect(PATH, flash="account.signed_out_everywhere")
