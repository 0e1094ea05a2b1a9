"""The pages' router: sign-in and sign-out, the language switch, and every page module's routes.

Page modules (``shopper.py``; the merchant, creator and operator consoles next) each define a
``router`` that is included here, so ``api.py`` registers the web app with one call
(``zhongcao.web.install``). Pages call the domain services directly; they never call the JSON API.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.deps import client_address
from zhongcao.errors import TooManyRequests, Unauthorized
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, TokenKind
from zhongcao.web import (
    account,
    consoles,
    i18n,
    integrity_sanctions,
    invitations,
    notifications,
    onboarding,
    shopper,
)
from zhongcao.web.context import CSRF_COOKIE, YEAR, FormData, Page, safe_next, session_token
from zhongcao.web.forms import Form

router = APIRouter(include_in_schema=False)
router.include_router(notifications.router)  # every role's notification centre and its stream
router.include_router(shopper.router)
router.include_router(consoles.router)  # merchant, creator and operator consoles
router.include_router(integrity_sanctions.router)  # a sanctioned shop's or creator's integrity page
router.include_router(account.router)  # password change, sign out everywhere (every kind of account)
router.include_router(onboarding.router)  # sign-up, shop applications and their review
router.include_router(invitations.router)  # a staff invitation's link, and the invitations waiting for me

# Where each kind of account lands after signing in when no page was asked for.
HOME_BY_ROLE = {Role.shopper: "/", **consoles.HOMES}


@router.get("/login")
def login_page(page: Page, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    if page.user is not None:
        return page.redirect(safe_next(next, HOME_BY_ROLE.get(page.user.role, "/")))
    return page.render(
        "auth/login.html", form=None, next=safe_next(next, ""), demo=users_service.demo_logins(page.db)
    )


@router.post("/login")
def login_submit(page: Page, data: FormData) -> Response:
    form = Form(data, page.t)
    email = form.text("email", required=True, max_length=320)
    password = data.get("password") if isinstance(data.get("password"), str) else ""
    if not password:
        form.error("password", page.t("form.required"))
    next_url = safe_next(form.text("next"), "")
    retry_after: int | None = None
    if form.ok:
        try:
            user = users_service.login(
                page.db,
                page.request.app.state.login_throttle,
                email,
                str(password),
                client_address(page.request),
            )
        except TooManyRequests as exc:
            retry_after = exc.retry_after
            form.message = account.throttled_message(page, retry_after)
        except Unauthorized as exc:
            form.message = page.t("auth.disabled" if exc.code == "account_disabled" else "auth.invalid")
        else:
            token, _ = users_service.issue_token(page.db, user, kind=TokenKind.session)
            settings = page.request.app.state.settings
            page.cookies[settings.session_cookie_name] = (token, settings.session_ttl_hours * 3600)
            # Form tokens now follow the new session cookie; the anonymous value they followed before
            # is replaced too, so a token planted or seen before sign-in is worth nothing after.
            page.cookies[CSRF_COOKIE] = (secrets.token_urlsafe(32), YEAR)
            if i18n.LOCALE_COOKIE not in page.request.cookies:
                language = (user.locale or "").split("-")[0].lower()
                if language in i18n.LOCALES:
                    page.cookies[i18n.LOCALE_COOKIE] = (language, YEAR)
            return page.redirect(next_url or HOME_BY_ROLE.get(user.role, "/"), flash="auth.welcome_back")
    if retry_after is not None:
        response = page.render(
            "auth/login.html",
            status_code=429,
            form=form,
            next=next_url,
            demo=users_service.demo_logins(page.db),
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
    return page.render(
        "auth/login.html",
        status_code=422 if form.errors else 401,
        form=form,
        next=next_url,
        demo=users_service.demo_logins(page.db),
    )


@router.post("/logout")
def logout(page: Page, data: FormData) -> Response:
    """Sign out; a ``next`` field (a path here) is where to go afterwards (an invitation's page
    offers to switch accounts this way)."""
    token = session_token(page.request)
    if token:
        users_service.revoke_token(page.db, token)
    raw = data.get("next")
    response = page.redirect(safe_next(raw if isinstance(raw, str) else None, "/"), flash="auth.logged_out")
    response.delete_cookie(page.request.app.state.settings.session_cookie_name, path="/")
    return response


@router.get("/locale")
def switch_locale(
    page: Page,
    to: Annotated[str, Query(max_length=5)],
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """The language switch: remember the choice in a cookie and go back to the page."""
    if to in i18n.LOCALES:
        page.cookies[i18n.LOCALE_COOKIE] = (to, YEAR)
    return page.redirect(safe_next(next))
