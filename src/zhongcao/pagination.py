"""Cursor pagination: stable under inserts, O(limit) per page, no OFFSET scans.

A cursor is the opaque, url-safe encoding of the last row's sort key. Lists are ordered by id
descending (newest first) unless a service says otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from zhongcao.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int = 20
    cursor: str | None = None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="From a previous page's next_cursor")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor") from exc


def decode_id_cursor(cursor: str) -> int:
    """The id a keyset cursor carries: an integer id within BIGINT, else 422 ``invalid_cursor``."""
    last_id = decode_cursor(cursor)
    # bool is an int subclass, and ids beyond BIGINT would overflow the database driver.
    if type(last_id) is not int or not 1 <= last_id < 2**63:
        raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor")
    return last_id


def paginate_by_id(
    db: Session, stmt: Select[Any], id_column: Any, params: PageParams
) -> tuple[Sequence[Any], str | None]:
    """Run ``stmt`` newest-first by ``id_column``; return rows and the cursor of the next page."""
    if params.cursor:
        stmt = stmt.where(id_column < decode_id_cursor(params.cursor))
    rows = db.scalars(stmt.order_by(id_column.desc()).limit(params.limit + 1)).all()
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(rows[-1].id)
    return rows, next_cursor
