"""No input may cause a 500 (issue #14, item 4): every request body of the API uses the validated
types of ``zhongcao.fields`` — text refuses control characters and is bounded, ids fit BIGINT, and
integers are strict — and a body, path or query value a client can send that breaks them is a 422
naming the field, never a 500 (on PostgreSQL, which refuses NUL in text and overflows past BIGINT)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing

import pytest
from pydantic import BaseModel

import zhongcao
from tests.factories import auth, make_product, make_shop, make_user

# Request fields allowed to be plain for a stated reason.
EXEMPT: dict[tuple[str, str], str] = {}


def _request_models(app) -> set[type[BaseModel]]:  # type: ignore[no-untyped-def]
    names = set()
    for operations in app.openapi()["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref")
                if ref:
                    names.add(ref.rsplit("/", 1)[1])
    by_name: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(zhongcao.__path__, "zhongcao."):
        if info.name.endswith("__main__") or ".cli" in info.name or "bench" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                by_name.setdefault(name, obj)
    found: set[type[BaseModel]] = set()

    def walk(tp: object) -> None:
        if inspect.isclass(tp) and issubclass(tp, BaseModel):
            if tp in found:
                return
            found.add(tp)
            for field in tp.model_fields.values():
                walk(field.annotation)
        for arg in typing.get_args(tp):
            walk(arg)

    for name in names:
        if name in by_name:
            walk(by_name[name])
    return found


def _plain(tp: object) -> object:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return _plain(args[0])
    return tp


def test_every_request_field_is_validated(app) -> None:  # type: ignore[no-untyped-def]
    loose = []
    for model in _request_models(app):
        for name, field in model.model_fields.items():
            if (model.__name__, name) in EXEMPT:
                continue
            tp, meta = _plain(field.annotation), field.metadata
            if tp is int and not any(getattr(m, "strict", None) for m in meta):
                loose.append(f"{model.__module__}.{model.__name__}.{name}: int, not strict")
            if tp is str:
                checked = any(type(m).__name__ == "AfterValidator" for m in meta) or any(
                    getattr(m, "pattern", None) for m in meta
                )
                bounded = any(getattr(m, "max_length", None) for m in meta) or any(
                    getattr(m, "pattern", None) for m in meta
                )
                if not (checked and bounded):
                    loose.append(
                        f"{model.__module__}.{model.__name__}.{name}: str, not a validated bounded text"
                    )
    assert loose == [], "\n".join(sorted(loose))


NUL = "a\x00b"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/support/conversations", {"shop_id": 1, "message": NUL}),
        ("post", "/api/complaints", {"shop_id": 1, "reason": "other", "text": NUL}),
        ("post", "/api/merchant/accounts", {"kind": "shop", "handle": "shop_x", "name": NUL}),
        ("post", "/api/events", {"events": [{"type": "search", "query": NUL}]}),
        ("post", "/api/events", {"events": [{"type": "like", "content_id": 1, "extra": {"k": NUL}}]}),
        ("post", "/api/events", {"events": [{"type": "like", "content_id": 1, "event_id": NUL}]}),
        ("post", "/api/events", {"events": [{"type": "like", "content_id": 2**63}]}),
        ("post", "/api/events", '{"events": [{"type": "search", "query": "\\ud800"}]}'),
        ("post", "/api/cart/items", {"sku_id": 1, "quantity": "1"}),
        ("post", "/api/cart/items", {"sku_id": 1, "quantity": 1.0}),
        ("post", "/api/cart/items", {"sku_id": 1, "quantity": True}),
        ("post", "/api/support/conversations", {"shop_id": True, "message": "hi"}),
        ("post", "/api/feed/feedback", {"content_id": 2**63, "action": "like"}),
        ("get", "/api/content/9223372036854775808", None),
        ("get", "/api/accounts/9223372036854775808", None),
        ("get", "/api/merchant/affiliate/plans?product_id=9223372036854775808", None),
        ("get", "/api/merchant/affiliate/applications?plan_id=9223372036854775808", None),
        ("get", "/api/merchant/content?account_id=9223372036854775808", None),
        ("get", "/api/creator/plaza?product_id=9223372036854775808", None),
        ("get", "/api/me/coupons?cursor=%25%25%25", None),
        ("get", "/api/me/coupons?cursor=MTAwMDAwMDAwMDAwMDAwMDAwMDAwMA", None),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, db, method, path, body) -> None:  # type: ignore[no-untyped-def]
    shop = make_shop(db)
    make_product(db, shop.shop)
    headers = auth(db, shop.owner) if "/merchant/" in path else auth(db, make_user(db))
    db.commit()
    if isinstance(body, str):  # raw JSON text (a lone surrogate cannot be encoded by the client)
        headers = {**headers, "Content-Type": "application/json"}
        response = client.request(method.upper(), path, content=body.encode(), headers=headers)
    else:
        response = client.request(method.upper(), path, json=body, headers=headers)
    assert response.status_code in (403, 422), response.text  # a shopper on /api/creator: 403 first
    if response.status_code == 422:
        assert response.json()["error"]["details"].get("field"), response.text


def test_clients_may_not_post_orders_or_values(client, db) -> None:  # type: ignore[no-untyped-def]
    headers = auth(db, make_user(db))
    db.commit()
    order = {"type": "order", "product_id": 1, "value_fen": 10**12}
    response = client.post("/api/events", json={"events": [order]}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "event_type_not_allowed"
    assert response.json()["error"]["details"]["field"] == "events[0].type"
    priced = {"type": "product_view", "product_id": 1, "value_fen": 5}
    response = client.post("/api/events", json={"events": [priced]}, headers=headers)
    assert (
        response.status_code == 422 and response.json()["error"]["details"]["field"] == "events[0].value_fen"
    )


def test_a_user_posting_too_many_events_gets_429_with_retry_after(client, app, db) -> None:  # type: ignore[no-untyped-def]
    from zhongcao.config import Settings
    from zhongcao.events.rate_limit import EventBudget

    app.state.event_budget = EventBudget.from_settings(Settings(events_per_user_per_minute=5, redis_url=None))
    headers, other = auth(db, make_user(db)), auth(db, make_user(db))
    db.commit()
    batch = {"events": [{"type": "like", "content_id": 1}] * 3}
    assert client.post("/api/events", json=batch, headers=headers).status_code == 202
    refused = client.post("/api/events", json=batch, headers=headers)  # 6 > 5
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_events"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.post("/api/events", json=batch, headers=other).status_code == 202  # per user
