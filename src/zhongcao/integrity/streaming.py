"""The streaming layer: a per-account velocity check on the event ingestion path (issue #19).

A person scrolling fast likes a few videos a minute, follows fewer; a script likes hundreds. Each
``POST /api/events`` batch adds its likes, follows, comments and plays to the caller's per-minute
counters (one counter per action, in the ``limits`` library's storage like the event budget's: Redis
when configured, so every API worker counts against the same minute, else this process's memory).
An account past the limit of an action is flagged at once: a ``velocity`` case with the account as
its only flagged member (the targets are cited in the evidence, not flagged, so nobody can demote a
rival by liking their videos from a script), and the flag set is published again so every reader
stops counting the account's events. The events themselves are stored as usual: nothing is dropped.

It stays cheap: one counter increment per action type present in the batch; the database is touched
only on a breach, once per account and minute in this process. The batch layer's rules (part A's
velocity detectors) see the same events later and reconcile; limits are
``ZHONGCAO_INTEGRITY_VELOCITY_PER_MINUTE`` (``like=120,follow=60,comment=30,play=600``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import Storage
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.config import Settings
from zhongcao.counters import counter_storage
from zhongcao.integrity import published
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
from zhongcao.integrity.models import Detector

log = logging.getLogger("zhongcao.integrity")

DEFAULT_LIMITS = {"like": 120, "follow": 60, "comment": 30, "play": 600}
# Which column of an event names its target, per checked action.
TARGET = {"like": "content_id", "comment": "content_id", "play": "content_id", "follow": "account_id"}
MAX_CITED_TARGETS = 50


def parse_limits(text: str | None) -> dict[str, int]:
    """``"like=120,follow=60"`` -> ``{"like": 120, "follow": 60}``; unknown actions or bad numbers
    raise ``ValueError`` (settings fail fast)."""
    if not text:
        return dict(DEFAULT_LIMITS)
    out: dict[str, int] = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip()
        if name not in TARGET:
            raise ValueError(f"unknown action {name!r} (one of {', '.join(sorted(TARGET))})")
        limit = int(value)
        if limit < 1:
            raise ValueError(f"the limit of {name} must be at least 1")
        out[name] = limit
    return out


@dataclass(frozen=True)
class Breach:
    """An account past the limit of one action in the current minute."""

    action: str
    count: int  # the action's count so far this minute
    limit: int
    targets: list[int]  # the batch's targets of that action (at most MAX_CITED_TARGETS)
    first: bool  # the first breach of this account and action this minute, in this process


class VelocityCheck:
    """Per-account, per-action counters for the current minute."""

    def __init__(self, storage: Storage, limits: Mapping[str, int]) -> None:
        self.storage = storage
        self.items = {action: RateLimitItemPerMinute(n) for action, n in limits.items()}
        self._flagged: dict[tuple[int, str], float] = {}  # (user, action) -> until (monotonic)
        self._lock = threading.Lock()

    def check(
        self, user_id: int, kinds: Iterable[str], targets_of: Callable[[str], list[int]] | None = None
    ) -> list[Breach]:
        """Count a batch's event types for the user; returns the actions past their limit. The targets
        of a breached action are asked of ``targets_of`` only then (a breach is rare; counting is
        what every batch pays, so it is a ``Counter`` over the types and one increment per action)."""
        counts = Counter(kinds)
        breaches = []
        for action, n in counts.items():
            item = self.items.get(action)
            if item is None:
                continue
            try:  # a fixed one-minute window per account and action: one increment
                used = int(
                    self.storage.incr(
                        item.key_for("velocity", action, str(user_id)), item.get_expiry(), amount=n
                    )
                )
            except StorageError:
                log.exception("velocity counters unreachable: not checking this batch")
                return []
            if used > item.amount:
                first = self._first_in_minute(user_id, action)
                cited = targets_of(action)[:MAX_CITED_TARGETS] if first and targets_of is not None else []
                breaches.append(Breach(action, used, item.amount, cited, first))
        return breaches

    def _first_in_minute(self, user_id: int, action: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._flagged.get((user_id, action), 0.0) > now:
                return False
            if len(self._flagged) > 100_000:  # forget expired marks now and then
                self._flagged = {k: v for k, v in self._flagged.items() if v > now}
            self._flagged[(user_id, action)] = now + 60.0
            return True


def velocity_block(
    user_id: int, action: str, count: int, limit: int, targets: list[int], now: datetime
) -> Block:
    """One account's burst as a block: the account alone; the targets cited in the evidence."""
    start = now.replace(second=0, microsecond=0)
    over = max(0, count - limit) / limit
    return Block(
        kind=BlockKind.velocity,
        target_kind=TargetKind.account if action == "follow" else TargetKind.content,
        accounts=np.asarray([user_id], dtype=np.int64),
        targets=np.zeros(0, dtype=np.int64),
        start=start,
        end=max(now, start + timedelta(seconds=1)),
        events=int(count),
        density=1.0,
        score=float(min(1.0, 0.5 + 0.5 * over)),
        evidence={
            "action": action,
            "per_minute": int(count),
            "limit_per_minute": int(limit),
            "targets": sorted(set(targets))[:MAX_CITED_TARGETS],
        },
    )


def record_breaches(db: Session, settings: Settings, user_id: int, breaches: Sequence[Breach]) -> int:
    """Flag the account for each first breach: a velocity case and flag, committed on ``db`` (the
    request's own session: on SQLite a second writer would wait for the request's lock), then the
    flag set published, so readers stop counting the account within seconds. Never raises: ingestion
    must not fail because a flag could not be written. Returns the breaches recorded."""
    first = [b for b in breaches if b.first]
    if not first:
        return 0
    now = clock.now().astimezone(UTC)
    blocks = [velocity_block(user_id, b.action, b.count, b.limit, b.targets, now) for b in first]
    try:
        integrity_service.record_blocks(db, blocks, detector=Detector.streaming, now=now)
        published.publish(integrity_service.active_flags(db), settings.models_dir)
        db.commit()
    except Exception:
        db.rollback()
        log.exception("could not record the velocity flag of user %s", user_id)
        return 0
    return len(first)


def from_settings(settings: Settings) -> VelocityCheck:
    return VelocityCheck(
        counter_storage(settings, "velocity"), parse_limits(settings.integrity_velocity_per_minute)
    )
