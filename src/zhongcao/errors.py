"""One error shape for every client: ``{"error": {"code", "message", "details"}}``.

Services raise :class:`DomainError` subclasses with a machine-readable ``code``; the API turns them
into responses. Nothing else (no traceback, no driver message) ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("zhongcao")


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    # Response headers that go with the error (``Retry-After`` on a 409 for a request in progress).
    headers: dict[str, str] | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = dict(details or {})
        if field is not None:
            self.details.setdefault("field", field)


class InvalidInput(DomainError):
    """The request is well-formed but breaks a rule about its values (422)."""

    status_code = 422
    code = "invalid_input"


class Unauthorized(DomainError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    """Also used for "exists but belongs to someone else", so ids of other tenants leak nothing."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state forbids it (illegal transition, sold out...)."""

    status_code = 409
    code = "conflict"


class PaymentFailed(DomainError):
    status_code = 402
    code = "payment_failed"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(DomainError):
    """Too many attempts: the client must wait ``retry_after`` seconds (sent as ``Retry-After``)."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, code=code, **kwargs)
        self.retry_after = max(1, int(retry_after))
        self.details.setdefault("retry_after", self.retry_after)
        self.headers = {"Retry-After": str(self.retry_after)}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "items", 0, "quantity") -> "items[0].quantity"; the location kind stays in "in".
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header", "cookie"} else list(loc)
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = err.get("loc", ())
            errors.append(
                {
                    "field": _field_path(loc),
                    "in": loc[0] if loc else None,
                    "type": err.get("type"),
                    "message": err.get("msg"),
                }
            )
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        message = f"{first['field'] or 'request'}: {first['message']}"
        return JSONResponse(
            error_body("validation_error", message, {"field": first["field"], "errors": errors}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "bad_request",
            401: "not_authenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "payload_too_large",
            415: "unsupported_media_type",
            429: "too_many_requests",
        }
        code = codes.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.exception_handler(PoolTimeout)
    async def _overloaded(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every database connection stayed busy for the pool's timeout: the worker is overloaded. Say
        # so (a client or load balancer retries elsewhere or later) instead of a bare 500.
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("overloaded", "the server is busy: try again shortly"),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)
