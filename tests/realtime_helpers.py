"""Real-time test helpers: Redis for the bus tests, both bus implementations as one fixture, and an SSE
reader.

Redis comes from ``ZHONGCAO_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0). The server is shared
(by other test runs, other checkouts), so every test gets its own channel and key prefix and deletes
its keys afterwards. Where Redis cannot be reached its tests are skipped, unless
``ZHONGCAO_REQUIRE_REDIS=1`` (CI), which makes them fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from zhongcao.config import Settings
from zhongcao.realtime.service import Realtime, connect

REDIS_URL = os.environ.get("ZHONGCAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("ZHONGCAO_REQUIRE_REDIS") == "1"


def _reach_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if REQUIRE_REDIS:
            pytest.fail(message + " (ZHONGCAO_REQUIRE_REDIS=1 makes this a failure)", pytrace=False)
        pytest.skip(message)
    finally:
        client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A prefix of this test's own on the shared Redis (its keys are deleted afterwards)."""
    _reach_redis()
    prefix = f"zc-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def redis_settings(prefix: str) -> Settings:
    return Settings(redis_url=REDIS_URL, redis_prefix=prefix)


@pytest.fixture(params=["in-process", "redis"])
def realtime(request: pytest.FixtureRequest) -> Iterator[Realtime]:
    """The bus and presence, once in-process and once on Redis."""
    if request.param == "redis":
        made = connect(redis_settings(request.getfixturevalue("redis_prefix")))
    else:
        made = connect(Settings(redis_url=None))
    yield made
    made.close()


# --- Server-Sent Events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: float  # time.monotonic() when it arrived
    event: str
    data: Any


class SSEReader:
    """Reads one SSE stream in a thread; ``next(kind, until)`` waits for the next event of a kind."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.events: queue.Queue[Event] = queue.Queue()
        self._stop = threading.Event()
        self._open = threading.Event()
        self._client: httpx.Client | None = None
        self._socket: socket.socket | None = None
        self.thread = threading.Thread(target=self._read, name="sse-reader", daemon=True)

    def __enter__(self) -> SSEReader:
        self.thread.start()
        if not self._open.wait(15):
            raise RuntimeError(f"the stream {self.url} did not open")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        # Closing the client from this thread does not wake the reader blocked in recv() (the join
        # then waited its full ten seconds); shutting the socket down does, at once.
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        if self._client is not None:
            self._client.close()
        self.thread.join(timeout=10)

    def _read(self) -> None:
        self._client = httpx.Client(timeout=httpx.Timeout(15, read=60), headers=self.headers)
        try:
            with self._client.stream("GET", self.url) as response:
                response.raise_for_status()
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                self._open.set()
                kind, data = "message", ""
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data = line[5:].strip()
                    elif line == "" and data:
                        self.events.put(Event(time.monotonic(), kind, json.loads(data)))
                        kind, data = "message", ""
        except Exception:
            if not self._stop.is_set():
                raise

    def next_with(self, kind: str, data: object, timeout: float = 10.0) -> Event:
        """The first ``kind`` event whose data is ``data``, skipping earlier ones of that kind (a count a
        worker broadcast before another worker's change reached it); AssertionError if none in time."""
        deadline = time.monotonic() + timeout
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.next(kind, timeout=left)
            except AssertionError:
                break
            if event.data == data:
                return event
            seen.append(event.data)
        raise AssertionError(f"no {kind!r} event with {data!r} within {timeout} s on {self.url}; saw {seen}")

    def next(self, kind: str, timeout: float = 10.0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} event within {timeout} s on {self.url}")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event.event == kind:
                return event
