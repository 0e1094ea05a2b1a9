"""Lockstep engagement: groups of accounts acting on the same targets in the same short bursts.

CopyCatch (Beutel, Xu, Guruswami, Palow, Faloutsos, WWW 2013) calls a group suspicious when at least
``n`` accounts acted on at least ``m`` common targets, each within ``Δt`` of that target's moment. Here
the candidates come from FRAUDAR's dense blocks (:mod:`zhongcao.integrity.dense_block`) over the
account × target matrix of one action in one time window; lockstep then keeps the targets that drew a
burst (far more actions within ``±Δt`` than the target's own rate over the window explains) and the
accounts that took part in bursts on at least ``min_hits`` (target, burst) pairs, searching the whole
window for them, so an account the peeling left out is still found. Density alone would also return
heavy organic users on popular items; they act at their own times, so lockstep drops them, and the
farm's camouflage on popular items falls away the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp

from zhongcao.integrity.blocks import Block, BlockKind
from zhongcao.integrity.dense_block import dense_blocks
from zhongcao.integrity.inputs import ACTION_TARGET, Action, Engagement


@dataclass(frozen=True)
class LockstepConfig:
    window_hours: int = 24  # the account × target matrices are built per window and action
    lookback_hours: int = 24  # how far back from ``now`` windows are taken
    actions: tuple[Action, ...] = (Action.view, Action.like, Action.comment, Action.follow)
    max_blocks: int = 3  # dense blocks peeled per matrix
    burst_seconds: int = 1_800  # Δt: an action is in a burst with those within ±Δt on the same target
    burst_ratio: float = 6.0  # ... when they are this many times the target's own rate over the window
    min_group: int = 5  # ... and at least this many
    min_hits: int = 3  # an account takes part in bursts on at least this many (target, burst) pairs
    min_accounts: int = 5  # a block has at least this many such accounts


def _windows(engagement: Engagement, now: datetime, config: LockstepConfig) -> list[tuple[int, int]]:
    end = int(now.timestamp())
    width = config.window_hours * 3_600
    starts = range(end - config.lookback_hours * 3_600, end, width)
    return [(s, min(s + width, end)) for s in starts if s < end]


def _bursting(target: np.ndarray, ts: np.ndarray, span: int, config: LockstepConfig) -> np.ndarray:
    """For each action, whether it lies in a burst on its target."""
    order = np.lexsort((ts, target))
    t, s = target[order], ts[order]
    base = s.min() if len(s) else 0
    width = int(s.max() - base) + 2 * config.burst_seconds + 1 if len(s) else 1
    _, group = np.unique(t, return_inverse=True)
    composite = group.astype(np.int64) * width + (s - base)
    lo = np.searchsorted(composite, composite - config.burst_seconds, side="left")
    hi = np.searchsorted(composite, composite + config.burst_seconds, side="right")
    near = hi - lo
    per_target = np.bincount(group)[group]
    expected = per_target * (2 * config.burst_seconds) / max(span, 1)
    out = np.zeros(len(order), dtype=bool)
    out[order] = (near >= config.min_group) & (near >= config.burst_ratio * expected)
    return out


def lockstep_group(
    user: np.ndarray,
    target: np.ndarray,
    ts: np.ndarray,
    candidates: np.ndarray,
    span: int,
    config: LockstepConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(accounts, targets, in-burst mask over the rows) of the lockstep group on ``candidates``."""
    on = np.isin(target, candidates)
    burst = np.zeros(len(user), dtype=bool)
    if not on.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), burst
    burst[on] = _bursting(target[on], ts[on], span, config)
    slot = ts // (3 * config.burst_seconds)

    def members(rows: np.ndarray) -> np.ndarray:
        pairs = np.unique(np.stack([user[rows], target[rows], slot[rows]], axis=1), axis=0)
        accounts, hits = np.unique(pairs[:, 0], return_counts=True)
        return accounts[hits >= config.min_hits]

    rows = np.flatnonzero(burst)
    accounts = members(rows)
    # The group's targets: those with a burst of at least min_group of the group's accounts.
    in_group = rows[np.isin(user[rows], accounts)]
    pairs = np.unique(np.stack([target[in_group], user[in_group]], axis=1), axis=0)
    tids, n = np.unique(pairs[:, 0], return_counts=True) if len(pairs) else (np.zeros(0, np.int64), [])
    targets = tids[np.asarray(n) >= config.min_group] if len(tids) else tids
    # Members again on the group's targets alone (camouflage bursts do not count).
    rows = rows[np.isin(target[rows], targets)]
    accounts = members(rows) if len(rows) else np.zeros(0, dtype=np.int64)
    return accounts.astype(np.int64), targets.astype(np.int64), burst


def engagement_blocks(
    engagement: Engagement, now: datetime, config: LockstepConfig | None = None
) -> list[Block]:
    """Lockstep blocks per action and window over the last ``lookback_hours``."""
    config = config or LockstepConfig()
    out: list[Block] = []
    for start, end in _windows(engagement, now, config):
        for action in config.actions:
            rows = np.flatnonzero(
                (engagement.action == int(action)) & (engagement.ts >= start) & (engagement.ts < end)
            )
            if len(rows) < config.min_accounts * config.min_hits:
                continue
            out += _window_blocks(engagement, rows, action, start, end, config)
    return out


def _window_blocks(
    engagement: Engagement, rows: np.ndarray, action: Action, start: int, end: int, config: LockstepConfig
) -> list[Block]:
    user, target, ts = engagement.user_id[rows], engagement.target_id[rows], engagement.ts[rows]
    accounts, ai = np.unique(user, return_inverse=True)
    targets, ti = np.unique(target, return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(rows)), (ai.ravel(), ti.ravel())), shape=(len(accounts), len(targets))
    )
    candidates = [
        targets[b.cols]
        for b in dense_blocks(matrix, max_blocks=config.max_blocks, min_rows=config.min_accounts)
    ]
    blocks: list[Block] = []
    taken: set[int] = set()
    for peeled in candidates:
        members, group_targets, burst = lockstep_group(user, target, ts, peeled, end - start, config)
        members = np.asarray([m for m in members.tolist() if m not in taken], dtype=np.int64)
        if len(members) < config.min_accounts or not len(group_targets):
            continue
        taken |= set(members.tolist())
        inside = np.isin(user, members) & np.isin(target, group_targets)
        cells = len(np.unique(np.stack([user[inside], target[inside]], axis=1), axis=0))
        density = cells / (len(members) * len(group_targets))
        in_burst = float(burst[inside].mean()) if inside.any() else 0.0
        # Devices the group shares (evidence only: the platform may not record them).
        dev = engagement.device[rows][inside]
        known = dev[dev >= 0]
        shared_devices = int((np.unique(known, return_counts=True)[1] >= 2).sum()) if len(known) else 0
        # Share of the targets' actions in the window that came from the group.
        on_targets = np.isin(target, group_targets)
        share = float(inside.sum() / max(1, on_targets.sum()))
        score = float(np.clip(in_burst * min(1.0, density / 0.5), 0.0, 1.0))
        bursts = _burst_summary(user[inside & burst], target[inside & burst], ts[inside & burst], config)
        first, last = int(ts[inside].min()), int(ts[inside].max())
        blocks.append(
            Block(
                kind=BlockKind.engagement,
                target_kind=ACTION_TARGET[action],
                accounts=np.sort(members),
                targets=np.sort(group_targets),
                start=datetime.fromtimestamp(first, UTC),
                end=datetime.fromtimestamp(last, UTC),
                events=int(inside.sum()),
                density=float(density),
                score=score,
                evidence={
                    "action": action.name,
                    "window_start": datetime.fromtimestamp(start, UTC).isoformat(),
                    "window_end": datetime.fromtimestamp(end, UTC).isoformat(),
                    "in_burst_share": round(in_burst, 3),
                    "group_share_of_target_actions": round(share, 3),
                    "burst_seconds": config.burst_seconds,
                    "bursts": bursts,
                    "shared_devices": shared_devices,
                    "peeled_accounts": int(len(np.unique(user[np.isin(target, peeled)]))),
                },
            )
        )
    return blocks


def _burst_summary(
    user: np.ndarray, target: np.ndarray, ts: np.ndarray, config: LockstepConfig
) -> list[dict[str, int]]:
    """Up to ten bursts: target, start (Unix s), accounts."""
    if not len(user):
        return []
    slot = ts // (3 * config.burst_seconds)
    keys, inverse = np.unique(np.stack([target, slot], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    out = []
    for k in range(len(keys)):
        rows = inverse == k
        out.append(
            {
                "target": int(keys[k, 0]),
                "start": int(ts[rows].min()),
                "accounts": int(len(np.unique(user[rows]))),
            }
        )
    out.sort(key=lambda b: -b["accounts"])
    return out[:10]
