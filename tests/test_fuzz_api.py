"""The API under schemathesis, per role (issue #14, item 8): generated requests for every operation
of the OpenAPI schema, signed in as a shopper, a merchant, a creator and an operator, on SQLite and
PostgreSQL. Fails on any 5xx, a stack trace in a body, a status the operation does not document, a
body that breaks its documented schema, or a wrong content type.

Bounded for CI: ``FUZZ_EXAMPLES`` generated requests per operation and role (default 4; raise it
locally, e.g. ``ZHONGCAO_FUZZ_EXAMPLES=50``, for a deeper run)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import auth, make_creator, make_product, make_shop, make_user
from zhongcao.users.models import Role

pytestmark = pytest.mark.slow

FUZZ_EXAMPLES = int(os.environ.get("ZHONGCAO_FUZZ_EXAMPLES", "4"))
# 503s that say a part is not ready yet, documented on their operations (a fresh install has no feed
# model until `zhongcao train feed`): not failures. Every other 5xx is.
NOT_READY = {"feed_model_not_ready"}


@schemathesis.check
def no_server_error(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code < 500:
        return
    try:
        code = response.json()["error"]["code"]
    except Exception:  # noqa: BLE001 (not our error shape: a failure in itself)
        code = None
    if response.status_code == 503 and code in NOT_READY:
        return
    raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")


CHECKS = [no_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
# Operations a generated request may not call: they end the fuzzing identity's own session.
SKIP = {("POST", "/api/auth/logout"), ("POST", "/api/me/sign-out-everywhere"), ("POST", "/api/me/password")}


def _identity(db, role: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    shop = make_shop(db)
    make_product(db, shop.shop)
    make_creator(db)
    if role == "merchant":
        return auth(db, shop.owner)
    if role == "creator":
        return auth(db, make_creator(db)[0])
    if role == "operator":
        return auth(db, make_user(db, Role.operator))
    return auth(db, make_user(db))


@pytest.mark.parametrize("role", ["shopper", "merchant", "creator", "operator"])
def test_no_operation_breaks_its_contract(app, db, role: str) -> None:
    headers = _identity(db, role)
    db.commit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIP:
            continue

        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            assert "Traceback" not in response.text, response.text[:500]

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's first failure, reported together
            db.rollback()
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            failures[f"{key[0]} {key[1]}"] = " | ".join(lines[1:8])[:600]
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in sorted(failures.items()))
