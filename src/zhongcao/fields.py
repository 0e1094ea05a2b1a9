"""The validated types every request uses for user text, ids and counts (issue #14, item 4).

No input may cause a 500: text with a NUL (which PostgreSQL refuses in ``text``) or other control
characters is refused with 422 naming the field, every length is bounded, every id fits the
database's BIGINT, and counts are strict integers (``"1"``, ``1.0`` and ``true`` are not 1).

Use them in request models (``Annotated[UserLine, Field(max_length=80)]`` for a bounded name) and as
path and query parameters (``IdPath``, ``IdQuery``). ``tests/test_input_types.py`` checks that every
request body of the API uses them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**63 - 1  # PostgreSQL BIGINT; SQLite's INTEGER holds the same range


def _unicode(value: str) -> str:
    # A lone surrogate (JSON "\ud800") is not text: no database or encoder can store it.
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("must be valid Unicode text")
    return value


def single_line(value: str) -> str:
    """No control characters at all: names, titles, codes."""
    _unicode(value)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def multi_line(value: str) -> str:
    """Line breaks and tabs allowed, no other control character: descriptions, messages, notes."""
    _unicode(value)
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


def no_nul(value: str) -> str:
    """Only NUL refused (secrets such as passwords are compared, never displayed or trimmed)."""
    _unicode(value)
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Text a person typed. Bound the length where used: Annotated[UserLine, Field(max_length=80)].
UserLine = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(single_line)]
UserText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(multi_line)]
Secret = Annotated[str, AfterValidator(no_nul)]

# Ids in bodies, paths and queries: 1 .. BIGINT, integers only.
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]

# A count or amount in a body: an integer, never a string, a float or a boolean.
StrictInt = Annotated[int, Field(strict=True)]
