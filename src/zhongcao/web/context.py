"""What every page view gets: the request, a database session, who is signed in, the language,
the form guard, and ``render`` / ``redirect``.

Sessions: the login page issues a session token with ``users.service`` and stores it in the same
HttpOnly cookie the JSON API reads (``settings.session_cookie_name``), so a signed-in browser can
use both. Forms carry a token bound to the browser's session (``zhongcao.security.csrf_token``: an
HMAC keyed by the session cookie, or before sign-in by a random ``zc_csrf`` cookie) in a hidden
``csrf_token`` field; every POST must come from this site and carry the token of the session it is
sent with (``FormData`` dependency), so a token from one session is refused in another. The same
token is in ``<meta name="csrf-token">`` for scripts, which send it as ``X-CSRF-Token``.
One-shot notices ("Added to your cart") travel in the ``zc_flash`` cookie as a catalog key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData as StarletteFormData

from zhongcao.deps import READ_METHODS, get_db, token_use_recorder
from zhongcao.devices import DEVICE_COOKIE, TWO_YEARS, valid_device_id
from zhongcao.errors import DomainError
from zhongcao.notifications import service as notifications_service
from zhongcao.security import cross_site, csrf_token, token_matches
from zhongcao.support import chat as support_chat
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, TokenScope, User
from zhongcao.web import i18n
from zhongcao.web.templating import render_template

CSRF_COOKIE = "zc_csrf"
CSRF_FIELD = "csrf_token"
FLASH_COOKIE = "zc_flash"
YEAR = 365 * 24 * 3600


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page (see errors.py)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class WrongRole(DomainError):
    status_code = 403
    code = "wrong_role"


class ReadOnlyToken(DomainError):
    status_code = 403
    code = "read_only_token"


class StaleForm(DomainError):
    """The form's CSRF token is missing or not this session's, or the form was posted from another
    site (an old tab from before sign-in, or a forgery)."""

    status_code = 403
    code = "csrf_failed"


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirected to (no ``//evil.example`` or ``https://…``)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    parts = urlsplit(url)
    return url if not parts.scheme and not parts.netloc else default


def session_token(request: Request) -> str | None:
    return request.cookies.get(request.app.state.settings.session_cookie_name)


def csrf_binding(request: Request) -> str | None:
    """What the form token is bound to: the session cookie when there is one (valid or not: the
    token only has to match the cookie the form is posted with), else the anonymous ``zc_csrf``."""
    return session_token(request) or request.cookies.get(CSRF_COOKIE)


def unread_badge(request: Request, count: Callable[[Session], int]) -> int:
    """A badge count read on a short read-only session of its own: the layout may be rendered for
    an error page after the request's session has been closed (a query there would open a
    transaction nobody ends), and an error page still renders when the database does not answer."""
    try:
        with request.app.state.database.session(read_only=True) as db:
            return count(db)
    except SQLAlchemyError:
        return 0


@dataclass
class WebContext:
    request: Request
    db: Session
    user: User | None
    locale: str
    csrf_token: str
    # The random ``zc_csrf`` value the token is bound to before sign-in (set as a cookie when new).
    anonymous_csrf: str = ""
    device_id: str = ""  # this browser's zc_device cookie (zhongcao.devices), set when it had none
    _set_device: bool = False
    _set_csrf: bool = False
    flash: str | None = None
    cookies: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Copied from the user when the page starts, so an error page can still show who is signed in
    # after the request's session has been rolled back (which expires the ORM object).
    user_id: int | None = None
    user_name: str | None = None
    user_role: str | None = None
    _unread: int | None = None

    def __post_init__(self) -> None:
        if self.user is not None:
            self.user_id = self.user.id
            self.user_name = self.user.display_name
            self.user_role = self.user.role.value

    def t(self, key: str, **params: object) -> str:
        """The message ``key`` in the page language, ``%(name)s`` fields filled from ``params``."""
        return i18n.translate(self.locale, key, **params)

    def tn(self, key: str, plural_key: str, num: int, **params: object) -> str:
        """The plural message ``key`` for the count ``num`` (``tn("cart.count", "cart.count.plural", 3)``)."""
        return i18n.translate_plural(self.locale, key, plural_key, num, **params)

    @property
    def unread_notifications(self) -> int:
        """The badge's count (read once per page; the page's stream keeps it current)."""
        if self.user_id is None:
            return 0
        if self._unread is None:
            try:
                self._unread = notifications_service.unread_count(self.db, self.user_id)
            except Exception:  # an error page after a failed database must still render
                self._unread = 0
        return self._unread

    @property
    def is_shopper(self) -> bool:
        return self.user_role == Role.shopper.value

    @property
    def shopper_id(self) -> int | None:
        return self.user_id if self.is_shopper else None

    def chat_unread(self) -> int:
        """The shopper's unread messages from shops (the header badge)."""
        if self.user_id is None:
            return 0
        return unread_badge(
            self.request, lambda db: support_chat.customer_unread_total(db, self.user_id or 0)
        )

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = render_template(template, page=self, **context)
        response = HTMLResponse(html, status_code=status_code)
        self.finish(response)
        return response

    def redirect(self, url: str, *, flash: str | None = None) -> RedirectResponse:
        """303 See Other (a POST's answer becomes a GET), optionally with a one-shot notice."""
        response = RedirectResponse(url, status_code=303)
        if flash is not None:
            secure = self.request.app.state.settings.cookie_secure
            response.set_cookie(
                FLASH_COOKIE, flash, max_age=60, httponly=True, samesite="lax", secure=secure, path="/"
            )
        self.finish(response, keep_flash=flash is not None)
        return response

    def finish(self, response: Any, *, keep_flash: bool = False) -> None:
        secure = self.request.app.state.settings.cookie_secure
        cookies = dict(self.cookies)
        if self._set_csrf:
            cookies.setdefault(CSRF_COOKIE, (self.anonymous_csrf, YEAR))
        if self._set_device:
            cookies.setdefault(DEVICE_COOKIE, (self.device_id, TWO_YEARS))
        if self.flash is not None and not keep_flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        for name, (value, max_age) in cookies.items():
            response.set_cookie(
                name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
            )

    def login_url(self) -> str:
        path = self.request.url.path
        if self.request.url.query:
            path += "?" + self.request.url.query
        return "/login?next=" + quote(path, safe="")


def _web_context(request: Request, db: Session) -> WebContext:
    token = session_token(request)
    record_use = token_use_recorder(request.app)
    found = users_service.credentials_for_token(db, token, record_use=record_use) if token else None
    # A read-only API token planted in the session cookie must not write through the pages either.
    if found is not None and found[1].scope is TokenScope.read and request.method not in READ_METHODS:
        raise ReadOnlyToken("this API token is read-only: sign in to make changes")
    user = found[0] if found is not None else None
    locale = i18n.negotiate(request.cookies.get(i18n.LOCALE_COOKIE), request.headers.get("accept-language"))
    anonymous = request.cookies.get(CSRF_COOKIE)
    fresh = not anonymous or len(anonymous) != 43
    if fresh:
        anonymous = secrets.token_urlsafe(32)
    flash = request.cookies.get(FLASH_COOKIE)
    device = valid_device_id(request.cookies.get(DEVICE_COOKIE))
    context = WebContext(
        request=request,
        db=db,
        user=user,
        locale=locale,
        csrf_token=csrf_token(token or anonymous or ""),
        anonymous_csrf=anonymous or "",
        _set_csrf=fresh,
        device_id=device or secrets.token_urlsafe(16),
        _set_device=device is None,
        flash=flash if flash and i18n.has_message(flash) else None,
    )
    request.state.web = context  # the error pages render with it when a view fails
    return context


def web_context(request: Request, db: Annotated[Session, Depends(get_db)]) -> WebContext:
    return _web_context(request, db)


def signed_in(request: Request, db: Annotated[Session, Depends(get_db)]) -> WebContext:
    context = _web_context(request, db)
    if context.user is None:
        raise LoginRequired(context.login_url())
    return context


def require_page_role(*roles: Role) -> Callable[[WebContext], WebContext]:
    """A page dependency: signed in with one of ``roles`` (else the login page, or a 403 page)."""

    def dependency(context: Annotated[WebContext, Depends(signed_in)]) -> WebContext:
        assert context.user is not None
        if context.user.role not in roles:
            raise WrongRole("this page is for another kind of account")
        return context

    return dependency


Page = Annotated[WebContext, Depends(web_context)]
SignedInPage = Annotated[WebContext, Depends(signed_in)]
ShopperPage = Annotated[WebContext, Depends(require_page_role(Role.shopper))]


async def checked_form(request: Request) -> StarletteFormData:
    """The POSTed form, once it is known to come from this site's page for this session: not sent
    from another site, and its CSRF token is the one bound to the cookie it came with (else a 403
    page)."""
    if cross_site(request.headers):
        raise StaleForm("a form from another site cannot be posted here")
    form = await request.form()
    if not token_matches(form.get(CSRF_FIELD), csrf_binding(request)):
        raise StaleForm("the form's security token did not match; reload the page and try again")
    return form


FormData = Annotated[StarletteFormData, Depends(checked_form)]
