"""Liveness and readiness for load balancers, and the plain-words health report used by `zhongcao check`."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from zhongcao import migrate
from zhongcao.config import Settings
from zhongcao.db import Database
from zhongcao.realtime.service import redis_health

router = APIRouter(tags=["health"])


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


def database_checks(database: Database) -> list[CheckResult]:
    results: list[CheckResult] = []
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        results.append(CheckResult("database", True, f"{database.dialect} database reachable"))
    except Exception as exc:  # report any driver error in plain words
        results.append(
            CheckResult("database", False, f"cannot connect: {type(exc).__name__}: {exc}".splitlines()[0])
        )
        return results
    try:
        current, head = migrate.current_revision(database.engine), migrate.head_revision()
        if current == head:
            results.append(CheckResult("migrations", True, f"schema is up to date (revision {current})"))
        elif current is None:
            results.append(CheckResult("migrations", False, "no schema yet: run `zhongcao db upgrade`"))
        else:
            results.append(
                CheckResult(
                    "migrations",
                    False,
                    f"schema at {current}, code expects {head}: run `zhongcao db upgrade`",
                )
            )
    except Exception as exc:
        results.append(
            CheckResult("migrations", False, f"cannot read the schema revision: {exc}".splitlines()[0])
        )
    return results


def realtime_check(settings: Settings) -> CheckResult:
    """The real-time bus: in-process (always fine) or the configured Redis, which must answer."""
    ok, detail = redis_health(settings)
    return CheckResult("redis" if settings.redis_url else "real-time bus", ok, detail)


def _writable(name: str, folder: Path) -> CheckResult:
    """``folder`` exists (or can be made) and a file can be created in it, as the process that checks."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".zhongcao-check-"):
            pass
    except OSError as exc:
        return CheckResult(name, False, f"{folder} is not writable: {exc.strerror or exc}")
    return CheckResult(name, True, f"{folder} is writable")


def storage_checks(settings: Settings) -> list[CheckResult]:
    """The folders this process writes: the embedded event store (events are acknowledged only once
    they are on disk there) and the analytics snapshots (Compass, like counts)."""
    results = []
    segments = settings.events_backend == "segments" or (
        settings.events_backend == "auto" and settings.is_sqlite
    )
    if segments:
        results.append(_writable("events store", Path(settings.events_dir)))
    results.append(_writable("analytics", Path(settings.analytics_dir)))
    return results


@router.get("/api/health/live")
def live() -> dict[str, str]:
    return {"status": "ok"}


class FeedStatus(Protocol):
    """What the readiness check reads of the feed service (the core layer cannot import the feed)."""

    @property
    def ready(self) -> bool: ...
    @property
    def has_model(self) -> bool: ...
    @property
    def last_error(self) -> str | None: ...


def feed_check(feed: FeedStatus) -> CheckResult:
    """Ready when the feed's model and catalogue are loaded, or when there is no model to load."""
    if feed.ready:  # a failed background pass is reported, but the worker keeps serving what it has
        problem = f"; last background pass: {feed.last_error}" if feed.last_error else ""
        return CheckResult("feed", True, "feed model and catalogue loaded" + problem)
    if not feed.has_model:
        return CheckResult("feed", True, "no feed model trained yet (`zhongcao train feed`)")
    return CheckResult("feed", False, feed.last_error or "feed model loading")


@router.get("/api/health/ready")
def ready(request: Request) -> JSONResponse:
    results = database_checks(request.app.state.database)
    results.extend(storage_checks(request.app.state.settings))
    feed = getattr(request.app.state, "feed_service", None)
    if feed is not None:
        results.append(feed_check(feed))
    ok = all(r.ok for r in results)
    body = {"status": "ok" if ok else "unavailable", "checks": [r.__dict__ for r in results]}
    return JSONResponse(body, status_code=200 if ok else 503)
