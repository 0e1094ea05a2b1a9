"""The jobs: plain functions with a schedule, registered by name.

A job function takes a :class:`JobContext` and returns counts (``{"expired_checkouts": 3}``), shown to
operators as the run's result. It must be idempotent: the runner retries a failed run, and the
domain functions behind each job lock and re-check their rows before acting, so a retry or a second
runner never does the work twice. Register a job with :func:`job`; the definitions live in
:mod:`zhongcao.jobs.definitions`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhongcao.config import Settings
from zhongcao.db import Database

Counts = dict[str, int]


@dataclass
class JobContext:
    """What a job run gets: the database, the settings, and ``now`` (None: the clock's; the market
    simulation passes its own). ``cache`` is per runner process (e.g. the event store it opened)."""

    database: Database
    settings: Settings
    now: datetime | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def event_store(self) -> Any:
        from zhongcao.events import service as events_service

        store = self.cache.get("event_store")
        if store is None:
            store = self.cache["event_store"] = events_service.get_store(self.settings, self.database)
        return store


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], Counts | None]
    every_s: float  # the schedule: due this long after the previous run started
    # Retries: a failed run is due again after retry_base_s, doubling per failure in a row, at most
    # retry_max_s (and never later than its schedule would have it).
    retry_base_s: float = 5.0
    retry_max_s: float = 600.0
    # A claim older than this is abandoned (its runner died) and may be taken over.
    lease_s: float = 600.0
    # Run by the one-shot ``zhongcao jobs run`` and the market simulation's end of day (the
    # business rules); the others (snapshots, catch-ups, counters) only by ``zhongcao worker``.
    business: bool = False
    description: str = ""

    def retry_delay(self, failures: int) -> float:
        delay = self.retry_base_s * 2 ** max(failures - 1, 0)
        return min(delay, self.retry_max_s, max(self.every_s, self.retry_base_s))


_REGISTRY: dict[str, Job] = {}
_lock = threading.Lock()


def job(
    name: str,
    *,
    every_s: float,
    business: bool = False,
    retry_base_s: float = 5.0,
    retry_max_s: float = 600.0,
    lease_s: float = 600.0,
) -> Callable[[Callable[[JobContext], Counts | None]], Callable[[JobContext], Counts | None]]:
    """Register the decorated function as the job ``name`` (re-registering a name replaces it)."""

    def register(func: Callable[[JobContext], Counts | None]) -> Callable[[JobContext], Counts | None]:
        doc = (func.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        add(Job(name, func, every_s, retry_base_s, retry_max_s, lease_s, business, doc))
        return func

    return register


def add(entry: Job) -> None:
    with _lock:
        _REGISTRY[entry.name] = entry


def remove(name: str) -> None:
    with _lock:
        _REGISTRY.pop(name, None)


def registered() -> dict[str, Job]:
    """Every registered job, by name (``zhongcao.jobs.definitions`` registers the platform's on import;
    the runner and the status import it)."""
    with _lock:
        return dict(_REGISTRY)
