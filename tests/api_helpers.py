"""Helpers every API test may use: the error shape, database snapshots and counts, cursor walks.

To move time for the server too (the TestClient serves requests from another thread), use
``with clock.travel(moment):`` from :mod:`zhongcao.clock`.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import URL, Response
from sqlalchemy import text
from sqlalchemy.orm import Session


def assert_error(response: Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is the one error shape with this status and code (and ``details.field``)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    if field is not None:
        assert error["details"].get("field") == field, body
    return error


def error(response: Response) -> dict[str, Any]:
    """The ``error`` object of an error response, whatever its status."""
    return response.json()["error"]


def snapshot(db: Session, tables: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables``, read on a connection of its own (the test session stays idle).

    Comparing snapshots taken before and after a refused request proves it changed nothing. The
    test session's transaction is ended first: on SQLite it would hold the single write lock.
    """
    db.commit()
    with db.get_bind().connect() as conn:
        out = {
            name: [tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}" ORDER BY id'))]
            for name in tables
        }
        conn.rollback()
    return out


def count(db: Session, table: str, where: str = "", **params: Any) -> int:
    """Rows of ``table`` (optionally matching a SQL condition), on a connection of its own."""
    sql = f'SELECT COUNT(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
    db.commit()
    with db.get_bind().connect() as conn:
        value = conn.execute(text(sql), params).scalar_one()
        conn.rollback()
    return int(value)


def walk_items(
    client: TestClient, url: str, headers: dict[str, str] | None = None, limit: int = 2, **params: Any
) -> list[dict[str, Any]]:
    """Follow ``next_cursor`` from the first page to the last, ``limit`` items at a time; return
    every item in the order served. ``params`` add to any query string already in ``url``."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        query: dict[str, Any] = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        # Merged into the URL: httpx drops a query string already in it when given ``params``.
        r = client.get(str(URL(url).copy_merge_params(query)), headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit, page
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def walk(
    client: TestClient, url: str, headers: dict[str, str] | None = None, limit: int = 2, **params: Any
) -> list[int]:
    """:func:`walk_items`, keeping only the ids."""
    return [item["id"] for item in walk_items(client, url, headers, limit, **params)]
