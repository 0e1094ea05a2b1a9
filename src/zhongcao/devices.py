"""The device a request comes from, as integrity's order detectors read it (issue #19).

A browser gets a random, long-lived ``zc_device`` cookie the first time it loads a page
(:class:`zhongcao.web.context.WebContext` sets it); an API client names its installation in the
``X-Device-Id`` header. Neither identifies a person: only its hash (:func:`device_key`) is stored, on
the payment, so that buyers paying from one phone link the way buyers shipping to one address do
(``integrity.brushing``: a ring pays from a few devices under many accounts). A missing or malformed
id is simply unknown: it never blocks a purchase.
"""

from __future__ import annotations

import hashlib
import re

DEVICE_COOKIE = "zc_device"
DEVICE_HEADER = "X-Device-Id"
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_VALID = re.compile(DEVICE_ID_PATTERN)
TWO_YEARS = 2 * 365 * 86_400


def valid_device_id(value: str | None) -> str | None:
    """``value`` when it is a well-formed device id (16 to 64 URL-safe characters), else None."""
    return value if value is not None and _VALID.match(value) else None


def device_key(value: str | None) -> int | None:
    """The stored form of a device id: a stable non-negative int64 hash, None when unknown."""
    valid = valid_device_id(value)
    if valid is None:
        return None
    return int.from_bytes(hashlib.blake2b(b"device:" + valid.encode(), digest_size=8).digest(), "big") & (
        2**63 - 1
    )
