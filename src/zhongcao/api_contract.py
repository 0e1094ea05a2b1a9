"""The API's honest contract (issue #14, item 5): every operation in the OpenAPI schema lists the
statuses it can return, each with the one error shape, and a 405 names every method the path has.

FastAPI documents only the success status and a 422 in its own validation shape, which our handlers
never send. The statuses an operation can return follow from what it depends on and accepts:

* 401: it needs a signed-in caller; 403: it checks a role or shop membership (and, for a cookie-signed
  write, the same-origin proof);
* 404: it addresses something by id in its path; 409: it changes state (a conflict with the current
  state); 413: it takes a body (bodies over the limit are refused before parsing); 422: any input;
* 402: it takes a payment; 429: it is rate limited; 503: it uses the database (an exhausted
  connection pool answers 503 with Retry-After) or a service that may be down.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from zhongcao.errors import error_body

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Machine-readable, e.g. not_found"},
                "message": {"type": "string", "description": "For a person"},
                "details": {
                    "type": "object",
                    "description": "field: the input at fault (e.g. items[0].quantity); more per code",
                    "additionalProperties": True,
                },
            },
        }
    },
}

DESCRIPTIONS = {
    "401": "Not signed in, or the session or token expired",
    "402": "The payment was declined",
    "403": "Signed in, but not allowed (role, shop, scope or same-origin proof)",
    "404": "Not found (or belongs to someone else)",
    "409": "Conflicts with the current state (or a request with this Idempotency-Key is in progress)",
    "413": "The request body is too large",
    "422": "Invalid input: details.field names the field",
    "429": "Too many requests: wait for Retry-After seconds",
    "503": "Temporarily unavailable: retry after Retry-After seconds",
}

SIGNED_IN = {"current_user", "current_merchant", "current_creator", "check_role", "check_staff_role"}
ROLE_CHECKS = {"current_merchant", "current_creator", "check_role", "check_staff_role"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Rate-limited operations (path prefixes): sign-in and sign-up, client events, NPS answers.
RATE_LIMITED = ("/api/auth/", "/api/events", "/api/nps")
PAYMENTS = ("/pay",)


def api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from api_routes(original.routes)


def _calls(dependant: Dependant) -> set[str]:
    names = {getattr(dependant.call, "__name__", "")}
    for sub in dependant.dependencies:
        names |= _calls(sub)
    return names


def statuses(route: APIRoute, method: str) -> set[str]:
    calls = _calls(route.dependant)
    found = {"422"}
    if calls & SIGNED_IN:
        found.add("401")
    if calls & ROLE_CHECKS or (method in UNSAFE and calls & SIGNED_IN):
        found.add("403")
    if route.param_convertors or "{" in route.path:
        found.add("404")
    if method in UNSAFE:
        found |= {"409", "413"}
    if "get_db" in calls or "get_database" in calls:
        found.add("503")
    if route.path.startswith(RATE_LIMITED):
        found.add("429")
    if route.path.endswith(PAYMENTS):
        found.add("402")
    return found


def document_statuses(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that documents each operation's error statuses."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = plain()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        # FastAPI's own validation shapes are never sent: our handler answers 422 as an Error.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        ref = {"$ref": "#/components/schemas/Error"}
        for route in api_routes(app.routes):
            if not route.include_in_schema:
                continue
            operations = schema["paths"].get(route.path_format, {})
            for method in route.methods or ():
                operation = operations.get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for code in sorted(statuses(route, method)):
                    entry = {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
                    if code in ("429", "503"):
                        entry["headers"] = {
                            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}
                        }
                    responses[code] = entry
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def answer_405_with_allow(app: FastAPI) -> None:
    """A 405 in the error shape whose ``Allow`` lists every method of the path (Starlette's names
    only the methods of the first route that matched the path)."""

    async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        allow = ", ".join(allowed_methods(app, request.scope))
        return JSONResponse(
            error_body("method_not_allowed", f"{request.method} is not allowed here; use {allow}"),
            status_code=405,
            headers={"Allow": allow},
        )

    app.add_exception_handler(405, method_not_allowed)


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves at this request's path (a 405's ``Allow``), however many
    routers the path's operations are spread over."""
    methods: set[str] = set()
    for route in _all_routes(app.routes):
        match, _ = route.matches({**scope, "method": "__none__"})
        if match is Match.PARTIAL:  # the path matches; the method did not
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _all_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from _all_routes(original.routes)
        else:
            yield route
