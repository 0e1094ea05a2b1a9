"""Errors on page URLs become friendly HTML pages; the JSON API keeps its JSON errors.

``install`` wraps the app's existing handlers (``zhongcao.errors``): a request for a page (any path
outside the API and its docs) gets ``errors/error.html`` with the right status code, never a stack
trace; everything else goes to the JSON handler unchanged. A page that needs a signed-in user
redirects to the login page instead (:class:`~zhongcao.web.context.LoginRequired`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhongcao.errors import DomainError
from zhongcao.security import csrf_token
from zhongcao.web import i18n
from zhongcao.web.context import LoginRequired, WebContext, csrf_binding
from zhongcao.web.forms import error_message

log = logging.getLogger("zhongcao.web")

Handler = Callable[[Request, Exception], Any]
# Paths that belong to the JSON API and its documentation: their errors stay JSON.
API_PREFIXES = ("/api/", "/openapi.json", "/docs", "/redoc", "/static/api-docs/")
TITLES = {404: "error.404", 403: "error.403", 500: "error.500"}


def is_page_request(request: Request) -> bool:
    path = request.url.path
    if path == "/api" or path.startswith(API_PREFIXES):
        return False
    accept = request.headers.get("accept", "")
    return not (accept.startswith("application/json") and "text/html" not in accept)


def _context(request: Request) -> WebContext:
    existing = getattr(request.state, "web", None)
    if isinstance(existing, WebContext):
        return existing
    locale = i18n.negotiate(request.cookies.get(i18n.LOCALE_COOKIE), request.headers.get("accept-language"))
    csrf = csrf_token(csrf_binding(request) or secrets.token_urlsafe(32))
    return WebContext(request=request, db=None, user=None, locale=locale, csrf_token=csrf)  # type: ignore[arg-type]


def error_page(request: Request, status_code: int, message: str | None = None) -> HTMLResponse:
    """The error page: a title for the status, and ``message`` or the status's usual explanation."""
    page = _context(request)
    if page._unread is None:  # no database read here (on the event loop, maybe after a failure): the
        page._unread = 0  # badge starts hidden and the page's notification stream fills it in
    key = TITLES.get(status_code)
    title = page.t(f"{key}.title") if key else page.t("error.title")
    body = message or (page.t(f"{key}.body") if key else page.t("error.other.body"))
    return page.render(
        "errors/error.html", status_code=status_code, status=status_code, title=title, body=body
    )


def install(app: FastAPI) -> None:
    """Wrap every error handler the app has: page requests get the HTML page, the rest the handler's
    own answer. A handler added to ``zhongcao.errors`` later is wrapped too (its status code is kept)."""
    json_handlers: dict[Any, Handler] = dict(app.exception_handlers)

    async def delegate(kind: Any, request: Request, exc: Exception) -> Response:
        result = json_handlers[kind](request, exc)
        return await result if isinstance(result, Awaitable) else result

    def page_aware(kind: Any) -> Handler:
        async def handler(request: Request, exc: Exception) -> Response:
            if not is_page_request(request):
                return await delegate(kind, request, exc)
            try:
                return await page_error(kind, request, exc)
            except Exception:  # the error page itself failed: plain text, still no trace
                log.exception("the error page failed too")
                return HTMLResponse("<h1>500</h1>", status_code=500)

        return handler

    async def page_error(kind: Any, request: Request, exc: Exception) -> Response:
        if isinstance(exc, DomainError):
            if exc.status_code >= 500:
                log.warning("page %s failed: %s %s", request.url.path, exc.code, exc.message)
            page = _context(request)
            if exc.code == "csrf_failed":
                message: str | None = page.t("form.stale")
            elif exc.status_code in TITLES:  # not found, not allowed, broken: the page's own words
                message = None
            else:
                message = error_message(page.t, exc)
            return error_page(request, exc.status_code, message)
        if isinstance(exc, RequestValidationError):
            # A page URL with a malformed id or parameter is a page that does not exist.
            return error_page(request, 404)
        if isinstance(exc, StarletteHTTPException):
            return error_page(request, exc.status_code)
        if kind is Exception or kind == 500:
            log.exception("unhandled error on page %s %s", request.method, request.url.path, exc_info=exc)
            return error_page(request, 500)
        # Any other handler (e.g. 503 when the database pool is exhausted): its status, our page.
        answer = await delegate(kind, request, exc)
        response = error_page(request, answer.status_code)
        if "retry-after" in answer.headers:
            response.headers["Retry-After"] = answer.headers["retry-after"]
        return response

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(exc.next_url if exc.next_url.startswith("/login") else "/login", 303)

    for kind in json_handlers:
        app.add_exception_handler(kind, page_aware(kind))
    app.add_exception_handler(LoginRequired, on_login_required)
