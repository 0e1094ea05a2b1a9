"""Browser-facing protections shared by the JSON API and the pages (docs/security.md):

* :class:`SecurityHeadersMiddleware` puts a strict Content-Security-Policy, ``X-Frame-Options``,
  ``nosniff``, a Referrer-Policy, a Permissions-Policy and (with Secure cookies) HSTS on every
  response, and marks every cookie Secure when ``ZHONGCAO_COOKIE_SECURE`` is on.
* :func:`csrf_token` is the one same-origin token: the pages' forms carry it in a hidden field and
  their scripts send it as ``X-CSRF-Token``; it is an HMAC keyed by the session cookie (or, before
  sign-in, by a random per-browser cookie), so it is bound to that session and worthless in another.
* :func:`check_cookie_write` refuses a cookie-authenticated write that comes from another site or
  lacks the token (403 ``csrf_failed``). Bearer-token clients never get here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhongcao.config import Settings
from zhongcao.errors import Forbidden

CSRF_HEADER = "X-CSRF-Token"
# A different message per purpose would make a token from one use useless in another; there is one.
_CSRF_MESSAGE = b"zhongcao csrf v1"
# Sec-Fetch-Site values a write may carry: the page's own origin, or no site at all (the user's own
# action, e.g. a bookmark). "same-site" is refused too: a sibling subdomain is another application.
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
# Swagger UI and ReDoc (served from local files) inject their own <style> elements and ReDoc runs a
# blob: worker; only those two pages get that much, and they show no user data.
DOCS_PATHS = frozenset({"/docs", "/redoc"})
HSTS = "max-age=31536000"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)


class CsrfFailed(Forbidden):
    """A cookie-authenticated write without the same-origin proof (a forgery, or an old tab)."""

    code = "csrf_failed"


def csrf_token(binding: str) -> str:
    """The token for the browser whose secret cookie value is ``binding`` (its session token, or
    the anonymous ``zc_csrf`` value before sign-in): 43 URL-safe characters."""
    digest = hmac.new(binding.encode(), _CSRF_MESSAGE, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_matches(sent: object, binding: str | None) -> bool:
    if not isinstance(sent, str) or not binding:
        return False
    return hmac.compare_digest(sent.encode(), csrf_token(binding).encode())


def cross_site(headers: Mapping[str, str]) -> bool:
    """True when the browser says the request comes from another origin. Browsers send
    ``Sec-Fetch-Site`` on every request (Chromium, Firefox, Safari 16.4+); older ones still send
    ``Origin`` on a cross-origin POST, compared with ``Host`` (host and port: a TLS-terminating proxy
    makes the scheme unreliable). A client that sends neither is not a browser; the token still
    decides."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site.lower() not in _ALLOWED_FETCH_SITES
    origin = headers.get("origin")
    if origin is None:
        return False
    if origin == "null":  # sandboxed frames, data: pages, some redirects: never our own page
        return True
    return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def check_cookie_write(headers: Mapping[str, str], session_cookie: str) -> None:
    """Raise :class:`CsrfFailed` unless a write authenticated by ``session_cookie`` comes from our
    own pages: same origin, and ``X-CSRF-Token`` equal to the session's token."""
    if cross_site(headers):
        raise CsrfFailed(
            "a cross-site request cannot use the session cookie; use an Authorization: Bearer token",
            details={"reason": "cross_site"},
        )
    sent = headers.get(CSRF_HEADER.lower())
    if sent is None:
        raise CsrfFailed(
            f"a write authenticated by the session cookie needs the {CSRF_HEADER} header"
            " (or use an Authorization: Bearer token)",
            details={"reason": "missing_token", "header": CSRF_HEADER},
        )
    if not token_matches(sent, session_cookie):
        raise CsrfFailed(
            f"the {CSRF_HEADER} header does not belong to this session; reload the page",
            details={"reason": "bad_token", "header": CSRF_HEADER},
        )


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def media_sources(settings: Settings) -> list[str]:
    """Where pages may load images and video from besides this server: object storage's public URL,
    or (presigned URLs) its endpoint, or AWS S3 itself."""
    if settings.media_backend != "s3":
        return []
    origin = _origin(settings.media_public_base_url) or _origin(settings.media_s3_endpoint_url)
    return [origin] if origin else ["https://*.amazonaws.com"]


def content_security_policy(settings: Settings, *, docs: bool = False) -> str:
    """No inline script or style, nothing from another site (pages ship every file they use), no
    plugins, no framing, forms post only here. The API docs pages relax styles and workers only."""
    media = " ".join(["'self'", *media_sources(settings)])
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'" if docs else "'self'",
        "img-src": media + (" data:" if docs else ""),
        "media-src": media,
        "font-src": "'self'",
        "connect-src": "'self'",
        "worker-src": "'self' blob:" if docs else "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _header_list(settings: Settings, *, docs: bool) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": content_security_policy(settings, docs=docs),
        "x-frame-options": "DENY",  # for browsers that predate frame-ancestors
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",  # page URLs (order ids, searches) never leave the site
        "permissions-policy": PERMISSIONS_POLICY,
        "cross-origin-opener-policy": "same-origin",
    }
    if settings.cookie_secure:  # Secure cookies mean the site is served over HTTPS
        headers["strict-transport-security"] = HSTS
    return [(name.encode(), value.encode()) for name, value in headers.items()]


def _secure_cookie(value: bytes) -> bytes:
    attributes = {part.strip().lower() for part in value.split(b";")[1:]}
    return value if b"secure" in attributes else value + b"; Secure"


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (a header a response set itself is kept),
    and with ``cookie_secure`` adds ``Secure`` to every ``Set-Cookie`` that lacks it, so no cookie,
    however it was set, travels over plain HTTP."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.secure_cookies = settings.cookie_secure
        self.page_headers = _header_list(settings, docs=False)
        self.docs_headers = _header_list(settings, docs=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope.get("path") in DOCS_PATHS else self.page_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                if self.secure_cookies:
                    headers = [
                        (name, _secure_cookie(value) if name.lower() == b"set-cookie" else value)
                        for name, value in headers
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
