"""Helpers for the catalog and shops tests: database snapshots, error assertions, cursor walks."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

# Every table the catalog and shops endpoints may write.
TABLES = ("categories", "brands", "shops", "shop_staff", "products", "skus")


def snapshot(db: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the catalog and shop tables, read on a connection of its own.

    Comparing snapshots taken before and after a refused request proves it changed nothing.
    """
    # End the test session's own transaction first: on SQLite it would hold the one write lock.
    db.commit()
    engine = db.get_bind()
    with engine.connect() as conn:
        out = {
            name: [tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}" ORDER BY id'))]
            for name in TABLES
        }
        conn.rollback()
    return out


def assert_error(response: Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is the one error shape with this status and code (and ``details.field``)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    if field is not None:
        assert error["details"].get("field") == field, body
    return error


def walk(client: TestClient, url: str, headers: dict[str, str] | None = None, limit: int = 2) -> list[int]:
    """Follow ``next_cursor`` from the first page to the last; return every item id in order."""
    ids: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = client.get(url, params=params, headers=headers or {})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        pages += 1
        assert pages < 1000, "pagination does not end"
        if cursor is None:
            return ids
