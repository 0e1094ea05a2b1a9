"""Velocity rules: an account acting faster than a person can (the streaming layer, issue #19).

A rule counts an account's actions of one kind within a sliding window (or, with ``same_target``, its
actions on one target: the same video played again and again); more than ``max_events`` flags the
account. The rules are pure and cheap (a sort and a binary search per batch), so they run both on the
ingestion path, batch by batch (:func:`velocity_update` with a small :class:`VelocityState` that keeps
only the last window's events), and in the batch job (:func:`velocity_blocks`).

The defaults sit well above what a person does on the feed (a session shows at most 20 items, about
25 seconds apart, and never the same item twice on a page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from zhongcao.integrity.blocks import Block, BlockKind
from zhongcao.integrity.inputs import ACTION_TARGET, Action, Engagement


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
