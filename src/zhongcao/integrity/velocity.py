"""Velocity rules: an account acting faster than a person can (issue #19), in both layers.

**The rules over arrays** (the batch job and the simulation). A rule counts an account's actions of
one kind within a sliding window (or, with ``same_target``, its actions on one target: the same video
played again and again); more than ``max_events`` flags the account. The rules are pure and cheap (a
sort and a binary search per batch), so they run batch by batch (:func:`velocity_update` with a small
:class:`VelocityState` that keeps only the last window's events) and over a whole window
(:func:`velocity_blocks`). The defaults sit well above what a person does on the feed (a session
shows at most 20 items, about 25 seconds apart, and never the same item twice on a page).

**The check on the platform's ingestion path** (:class:`VelocityCheck`, :func:`record_breaches`). A
person scrolling fast likes a few videos a minute, follows fewer; a script likes hundreds. Each
``POST /api/events`` batch adds its likes, follows, comments and plays to the caller's per-minute
counters (one counter per action, in the ``limits`` library's storage like the event budget's: Redis
when configured, so every API worker counts against the same minute, else this process's memory).
An account past the limit of an action is flagged at once: a ``velocity`` case with the account as
its only flagged member (the targets are cited in the evidence, not flagged, so nobody can demote a
rival by liking their videos from a script), and the flag set is published again so every reader
stops counting the account's events. The events themselves are stored as usual: nothing is dropped.
It stays cheap: one counter increment per action type present in the batch; the database is touched
only on a breach, once per account and minute in this process. The batch job's rules above see the
same events later and reconcile; limits are ``ZHONGCAO_INTEGRITY_VELOCITY_PER_MINUTE``
(``like=120,follow=60,comment=30,play=600``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
from zhongcao.integrity.inputs import ACTION_TARGET, Action, Engagement
from zhongcao.integrity.models import Detector


@dataclass(frozen=True)
class VelocityRule:
    action: Action
    window_seconds: int
    max_events: int  # more than this within the window flags the account
    same_target: bool = False  # count per (account, target) instead of per account

    @property
    def name(self) -> str:
        per = "same_target" if self.same_target else "any_target"
        return f"{self.action.name}_{per}_{self.window_seconds}s"


@dataclass(frozen=True)
class VelocityConfig:
    rules: tuple[VelocityRule, ...] = (
        VelocityRule(Action.view, 600, 40),
        VelocityRule(Action.view, 3_600, 5, same_target=True),
        VelocityRule(Action.like, 600, 30),
        VelocityRule(Action.comment, 600, 15),
        VelocityRule(Action.follow, 600, 20),
    )

    @property
    def horizon_seconds(self) -> int:
        return max((r.window_seconds for r in self.rules), default=0)


@dataclass(frozen=True)
class VelocityHit:
    account: int
    rule: VelocityRule
    ts: int  # the action that broke the rule (Unix seconds)
    count: int  # actions within the window ending there
    target: int  # the target counted (same_target rules), else the last action's target


@dataclass
class VelocityState:
    """The events of the last ``horizon`` seconds (all the rules need of the past) and the accounts
    already flagged (a flagged account is reported once)."""

    action: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    user_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    target_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    flagged: dict[int, int] = field(default_factory=dict)  # account -> when first flagged


def _rule_hits(
    action: np.ndarray,
    user: np.ndarray,
    target: np.ndarray,
    ts: np.ndarray,
    new_from: int,
    rule: VelocityRule,
) -> list[VelocityHit]:
    """Hits among rows ``new_from:`` (the rows before are the state's tail, counted but not reported)."""
    rows = np.flatnonzero(action == int(rule.action))
    if len(rows) <= rule.max_events:
        return []
    u, t, s = user[rows], target[rows], ts[rows]
    key = np.stack([u, t], axis=1) if rule.same_target else u[:, None]
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.lexsort((s, group))
    g, ss = group[order], s[order] - s.min()
    span = int(ss.max()) + rule.window_seconds + 1
    composite = g.astype(np.int64) * span + ss
    first = np.searchsorted(composite, composite - rule.window_seconds, side="left")
    count = np.arange(len(order)) - first + 1
    over = (count > rule.max_events) & (rows[order] >= new_from)
    hits: dict[int, VelocityHit] = {}
    for i in np.flatnonzero(over).tolist():
        account = int(u[order[i]])
        if account not in hits:
            hits[account] = VelocityHit(account, rule, int(s[order[i]]), int(count[i]), int(t[order[i]]))
    return list(hits.values())


def velocity_update(
    state: VelocityState, batch: Engagement, config: VelocityConfig | None = None
) -> tuple[VelocityState, list[VelocityHit]]:
    """Feed one batch (any order within it; batches in time order): the new state and the accounts it
    flags for the first time. What the ingestion path calls."""
    config = config or VelocityConfig()
    action = np.concatenate([state.action, batch.action.astype(np.int8)])
    user = np.concatenate([state.user_id, batch.user_id.astype(np.int64)])
    target = np.concatenate([state.target_id, batch.target_id.astype(np.int64)])
    ts = np.concatenate([state.ts, batch.ts.astype(np.int64)])
    new_from = len(state.ts)
    hits: list[VelocityHit] = []
    flagged = dict(state.flagged)
    if len(batch):
        # Each account is reported once, at the earliest action that broke any rule.
        found = [h for rule in config.rules for h in _rule_hits(action, user, target, ts, new_from, rule)]
        for hit in sorted(found, key=lambda h: h.ts):
            if hit.account not in flagged:
                flagged[hit.account] = hit.ts
                hits.append(hit)
        cutoff = int(ts.max()) - config.horizon_seconds
        keep = ts >= cutoff
        action, user, target, ts = action[keep], user[keep], target[keep], ts[keep]
    return VelocityState(action, user, target, ts, flagged), hits


def velocity_blocks(engagement: Engagement, config: VelocityConfig | None = None) -> list[Block]:
    """One block per flagged account: the rule it broke, when, and what it acted on in that window."""
    config = config or VelocityConfig()
    if not len(engagement):
        return []
    _, hits = velocity_update(VelocityState(), engagement, config)
    blocks = []
    for hit in hits:
        rule = hit.rule
        mine = (
            (engagement.user_id == hit.account)
            & (engagement.action == int(rule.action))
            & (engagement.ts > hit.ts - rule.window_seconds)
            & (engagement.ts <= hit.ts)
        )
        if rule.same_target:
            mine &= engagement.target_id == hit.target
        targets = np.unique(engagement.target_id[mine])
        start = int(engagement.ts[mine].min())
        blocks.append(
            Block(
                kind=BlockKind.velocity,
                target_kind=ACTION_TARGET[rule.action],
                accounts=np.asarray([hit.account], dtype=np.int64),
                targets=targets.astype(np.int64),
                start=datetime.fromtimestamp(start, UTC),
                end=datetime.fromtimestamp(hit.ts, UTC),
                events=int(mine.sum()),
                density=float(mine.sum()) / max(1, len(targets)),
                score=min(1.0, 0.5 + 0.5 * (hit.count - rule.max_events) / max(1, rule.max_events)),
                evidence={
                    "rule": rule.name,
                    "action": rule.action.name,
                    "count": hit.count,
                    "limit": rule.max_events,
                    "window_seconds": rule.window_seconds,
                    "same_target": rule.same_target,
                },
            )
        )
    return blocks


# --- the check on the ingestion path ------------------------------------------------------------

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
