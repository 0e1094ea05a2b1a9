"""Helpers for the integrity platform tests: blocks built by hand, and a detector that returns them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from tests.factories import make_user
from zhongcao import integrity_flows
from zhongcao.integrity import published
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
from zhongcao.integrity.inputs import IntegrityInputs
from zhongcao.integrity.models import IntegrityCase
from zhongcao.users.models import Role

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def block(
    accounts: Sequence[int],
    targets: Sequence[int],
    *,
    kind: BlockKind = BlockKind.engagement,
    target_kind: TargetKind = TargetKind.content,
    orders: Sequence[int] = (),
    start: datetime = T0,
    minutes: int = 10,
    score: float = 0.9,
    evidence: dict | None = None,
) -> Block:
    events = len(accounts) * len(targets)
    return Block(
        kind=kind,
        target_kind=target_kind,
        accounts=np.asarray(sorted(accounts), dtype=np.int64),
        targets=np.asarray(sorted(targets), dtype=np.int64),
        start=start,
        end=start + timedelta(minutes=minutes),
        events=events,
        density=1.0,
        score=score,
        order_ids=np.asarray(sorted(orders), dtype=np.int64),
        evidence=evidence or {"action": "like"},
    )


class LockstepDetector:
    """A simple test detector: every group of at least ``min_accounts`` users who all liked the same
    ``min_targets`` or more contents is one engagement block (exact lockstep, no camouflage)."""

    def __init__(self, min_accounts: int = 3, min_targets: int = 3) -> None:
        self.min_accounts = min_accounts
        self.min_targets = min_targets
        self.seen: list[IntegrityInputs] = []

    def __call__(self, inputs: IntegrityInputs) -> list[Block]:
        self.seen.append(inputs)
        e = inputs.engagement
        likes = e.action == 1
        by_user: dict[int, set[int]] = {}
        for u, t in zip(e.user_id[likes].tolist(), e.target_id[likes].tolist(), strict=True):
            by_user.setdefault(u, set()).add(t)
        groups: dict[frozenset[int], list[int]] = {}
        for u, targets in by_user.items():
            if len(targets) >= self.min_targets:
                groups.setdefault(frozenset(targets), []).append(u)
        out = []
        for targets, users in groups.items():
            if len(users) < self.min_accounts:
                continue
            mask = likes & np.isin(e.user_id, users)
            ts = e.ts[mask]
            out.append(
                Block(
                    kind=BlockKind.engagement,
                    target_kind=TargetKind.content,
                    accounts=np.asarray(sorted(users), dtype=np.int64),
                    targets=np.asarray(sorted(targets), dtype=np.int64),
                    start=datetime.fromtimestamp(int(ts.min()), UTC),
                    end=datetime.fromtimestamp(int(ts.max()), UTC),
                    events=int(mask.sum()),
                    density=1.0,
                    score=0.95,
                    evidence={"action": "like"},
                )
            )
        return out


def flag(db, settings, b: Block) -> int:
    """Record ``b`` as a case (its members flagged), publish the flag set and answer the case's id."""
    integrity_service.record_blocks(db, [b])
    integrity_flows.publish_flags(db, settings)
    published.forget()
    return db.scalars(select(IntegrityCase.id).order_by(IntegrityCase.id.desc())).first()


def dismiss(db, settings, case_id: int) -> None:
    """An operator dismisses the case: its flags are lifted and the set published again."""
    operator = make_user(db, Role.operator)
    integrity_flows.decide_case(
        db, settings, case_id, "dismiss", reason="organic after all", actor_user_id=operator.id
    )
    published.forget()
