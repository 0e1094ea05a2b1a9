"""Running a test's coroutine to completion from synchronous test code.

``asyncio.run`` refuses to start while an event loop runs in the calling thread, and Playwright's
synchronous API (the session-wide browser of the browser tests) keeps one running in the main thread
of an xdist worker for the rest of the session. So a test's coroutine runs on a fresh loop in a
thread of its own, whatever ran before it in the worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="test-event-loop")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
