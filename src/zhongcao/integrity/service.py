"""Cases and flags: turning detected blocks into cases, reviewing them, and the active flag set.

* :func:`record_blocks` is idempotent. A block whose accounts (or orders) overlap an open case of the
  same kind joins it (new members and flags are added, the window widened, the score raised); a block
  an operator already decided (every member already in a confirmed or dismissed case) is left alone,
  so a dismissed case is not raised again by the next scan over the same window; anything else opens
  a new case. Every member of an open or confirmed case carries an active flag.
* :func:`decide` confirms (flags stay; the case counts as an offence of the shops and creators it
  benefited) or dismisses (flags lifted: everything they discounted is counted again), with a reason,
  written to the audit log in the same transaction. Decisions are the detectors' labels
  (:func:`labels`).
* :func:`active_flags` is the set every discounting counter reads (directly in jobs, through
  :mod:`zhongcao.integrity.published` elsewhere).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.audit import service as audit_service
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, NotFound
from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
from zhongcao.integrity.models import (
    AppealStatus,
    CaseStatus,
    Detector,
    FlagKind,
    IntegrityCase,
    IntegrityCaseMember,
    IntegrityFlag,
    IntegrityFlaggedSales,
    IntegritySanction,
    SanctionLevel,
    SanctionSubject,
)
from zhongcao.integrity.published import FlagSet
from zhongcao.pagination import PageParams, paginate_by_id

TARGET_FLAG: dict[TargetKind, FlagKind] = {
    TargetKind.content: FlagKind.content,
    TargetKind.account: FlagKind.account,
    TargetKind.product: FlagKind.product,
    TargetKind.shop: FlagKind.shop,
}
DECISIONS = ("confirm", "dismiss")
CHUNK = 500  # ids per IN (...) list: SQLite's parameter limit


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(values), CHUNK):
        yield list(values[i : i + CHUNK])


def _ids(array: np.ndarray) -> list[int]:
    return sorted({int(x) for x in np.asarray(array, dtype=np.int64).tolist()})


def block_members(block: Block) -> list[tuple[FlagKind, int]]:
    """The block's accounts (as users), targets and orders as ``(kind, id)``."""
    members = [(FlagKind.user, i) for i in _ids(block.accounts)]
    members += [(TARGET_FLAG[block.target_kind], i) for i in _ids(block.targets)]
    members += [(FlagKind.order, i) for i in _ids(block.order_ids)]
    return members


@dataclass
class Recorded:
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already decided by an operator (or already wholly in the open case)
    flags_added: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "integrity_cases_created": self.created,
            "integrity_cases_updated": self.updated,
            "integrity_blocks_already_decided": self.unchanged,
            "integrity_flags_added": self.flags_added,
        }


def _cases_touching(db: Session, members: list[tuple[FlagKind, int]]) -> dict[int, set[tuple[FlagKind, int]]]:
    """case id -> the given members it already holds (accounts and orders are what identify a ring)."""
    found: dict[int, set[tuple[FlagKind, int]]] = defaultdict(set)
    for kind in (FlagKind.user, FlagKind.order):
        ids = [i for k, i in members if k is kind]
        for chunk in _chunks(ids):
            rows = db.execute(
                select(IntegrityCaseMember.case_id, IntegrityCaseMember.subject_id).where(
                    IntegrityCaseMember.kind == kind, IntegrityCaseMember.subject_id.in_(chunk)
                )
            )
            for case_id, subject_id in rows:
                found[case_id].add((kind, subject_id))
    return found


def _member_set(db: Session, case_id: int) -> set[tuple[FlagKind, int]]:
    rows = db.execute(
        select(IntegrityCaseMember.kind, IntegrityCaseMember.subject_id).where(
            IntegrityCaseMember.case_id == case_id
        )
    )
    return {(k, i) for k, i in rows}


def _add_members(
    db: Session, case: IntegrityCase, members: list[tuple[FlagKind, int]], block: Block, now: datetime
) -> int:
    """Add the members the case lacks, each with an active flag; returns the flags added."""
    have = _member_set(db, case.id)
    new = [m for m in members if m not in have]
    seen = {"first_seen": block.start.isoformat(), "last_seen": block.end.isoformat(), "score": block.score}
    for kind, subject_id in new:
        db.add(IntegrityCaseMember(case_id=case.id, kind=kind, subject_id=subject_id, evidence=seen))
        db.add(IntegrityFlag(kind=kind, subject_id=subject_id, case_id=case.id, created_at=now))
    db.flush()
    return len(new)


def record_block(
    db: Session, block: Block, *, detector: Detector, now: datetime, out: Recorded
) -> int | None:
    """Record one block (see the module's rules); returns the id of the case it went to, or None when
    it was already decided."""
    members = block_members(block)
    if not members:
        return None
    touching = _cases_touching(db, members)
    cases = (
        list(
            db.scalars(
                select(IntegrityCase)
                .where(
                    IntegrityCase.id.in_(list(touching)),
                    IntegrityCase.kind == block.kind,
                    IntegrityCase.target_kind == block.target_kind,
                )
                .order_by(IntegrityCase.id)
                .with_for_update()
            )
        )
        if touching
        else []
    )
    open_case = next((c for c in cases if c.status is CaseStatus.open), None)
    if open_case is None:
        wanted = set(members)
        if any(wanted <= _member_set(db, c.id) for c in cases):
            out.unchanged += 1
            return None
        case = IntegrityCase(
            kind=block.kind,
            target_kind=block.target_kind,
            detector=detector,
            status=CaseStatus.open,
            score=float(block.score),
            window_start=block.start,
            window_end=block.end,
            events=int(block.events),
            density=float(block.density),
            evidence=dict(block.evidence),
            detections=1,
            created_at=now,
            updated_at=now,
        )
        db.add(case)
        db.flush()
        out.created += 1
        out.flags_added += _add_members(db, case, members, block, now)
        return case.id
    added = _add_members(db, open_case, members, block, now)
    open_case.window_start = min(open_case.window_start, block.start)
    open_case.window_end = max(open_case.window_end, block.end)
    open_case.score = max(open_case.score, float(block.score))
    open_case.events = max(open_case.events, int(block.events))
    open_case.density = float(block.density)
    open_case.evidence = {**(open_case.evidence or {}), **dict(block.evidence)}
    open_case.detections += 1
    open_case.updated_at = now
    db.flush()
    if added:
        out.updated += 1
        out.flags_added += added
    else:
        out.unchanged += 1
    return open_case.id


def record_blocks(
    db: Session, blocks: Sequence[Block], *, detector: Detector = Detector.batch, now: datetime | None = None
) -> Recorded:
    """Record every block (committed); idempotent for the same blocks."""
    out = Recorded()
    now = now or clock.now()
    for block in sorted(blocks, key=lambda b: (-b.score, b.start)):
        record_block(db, block, detector=detector, now=now, out=out)
    db.commit()
    return out


# --- reading ---------------------------------------------------------------------------------------


def get_case(db: Session, case_id: int, *, for_update: bool = False) -> IntegrityCase:
    """The case (404 ``integrity_case_not_found``); ``for_update``: its row locked and re-read."""
    case = db.get(IntegrityCase, case_id, with_for_update=for_update, populate_existing=for_update)
    if case is None:
        raise NotFound("no such integrity case", code="integrity_case_not_found")
    return case


def members_of(db: Session, case_id: int) -> list[IntegrityCaseMember]:
    return list(
        db.scalars(
            select(IntegrityCaseMember)
            .where(IntegrityCaseMember.case_id == case_id)
            .order_by(IntegrityCaseMember.kind, IntegrityCaseMember.subject_id)
        )
    )


def members_by_kind(db: Session, case_id: int) -> dict[FlagKind, list[int]]:
    out: dict[FlagKind, list[int]] = defaultdict(list)
    for m in members_of(db, case_id):
        out[m.kind].append(m.subject_id)
    return dict(out)


def _cases_query(
    *,
    status: CaseStatus | None,
    kind: BlockKind | None,
    min_score: float | None,
    member: tuple[FlagKind, int] | None,
) -> Select[Any]:
    stmt = select(IntegrityCase)
    if status is not None:
        stmt = stmt.where(IntegrityCase.status == status)
    if kind is not None:
        stmt = stmt.where(IntegrityCase.kind == kind)
    if min_score is not None:
        stmt = stmt.where(IntegrityCase.score >= min_score)
    if member is not None:
        stmt = stmt.where(
            IntegrityCase.id.in_(
                select(IntegrityCaseMember.case_id).where(
                    IntegrityCaseMember.kind == member[0], IntegrityCaseMember.subject_id == member[1]
                )
            )
        )
    return stmt


def cases_page(
    db: Session,
    params: PageParams,
    *,
    status: CaseStatus | None = None,
    kind: BlockKind | None = None,
    min_score: float | None = None,
    member: tuple[FlagKind, int] | None = None,
) -> tuple[Sequence[IntegrityCase], str | None]:
    """Cases newest first, filtered."""
    stmt = _cases_query(status=status, kind=kind, min_score=min_score, member=member)
    return paginate_by_id(db, stmt, IntegrityCase.id, params)


def member_counts(db: Session, case_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """case id -> members per kind (the desk's list shows the block's size)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if not case_ids:
        return {}
    rows = db.execute(
        select(IntegrityCaseMember.case_id, IntegrityCaseMember.kind, func.count())
        .where(IntegrityCaseMember.case_id.in_(list(case_ids)))
        .group_by(IntegrityCaseMember.case_id, IntegrityCaseMember.kind)
    )
    for case_id, kind, n in rows:
        out[case_id][kind.value] = int(n)
    return dict(out)


def open_case_count(db: Session) -> int:
    """The workbench's queue: cases waiting for an operator."""
    return int(db.scalar(select(func.count()).where(IntegrityCase.status == CaseStatus.open)) or 0)


def active_flags(db: Session) -> FlagSet:
    """Every subject flagged by an open or confirmed case."""
    ids: dict[FlagKind, set[int]] = defaultdict(set)
    for kind, subject_id in db.execute(
        select(IntegrityFlag.kind, IntegrityFlag.subject_id).where(IntegrityFlag.lifted_at.is_(None))
    ):
        ids[kind].add(subject_id)
    return FlagSet.of(ids)


def cleared_orders(db: Session, order_ids: Iterable[int]) -> set[int]:
    """Of ``order_ids``, those an operator cleared: flagged once, every flag lifted (a dismissed case
    or a granted appeal). Nothing holds their sales any more."""
    ids = sorted(set(order_ids))
    if not ids:
        return set()
    lifted: set[int] = set()
    active: set[int] = set()
    for chunk in _chunks(ids):
        for subject_id, lifted_at in db.execute(
            select(IntegrityFlag.subject_id, IntegrityFlag.lifted_at).where(
                IntegrityFlag.kind == FlagKind.order, IntegrityFlag.subject_id.in_(chunk)
            )
        ):
            (active if lifted_at is None else lifted).add(int(subject_id))
    return lifted - active


def flagged_ids_query(kind: FlagKind) -> Select[int]:
    """A sub-select of the ids flagged now as ``kind``, for other domains' counters that leave them
    out in their own SQL (``x.in_(...)``)."""
    return select(IntegrityFlag.subject_id).where(
        IntegrityFlag.lifted_at.is_(None), IntegrityFlag.kind == kind
    )


def flagged_sales_query() -> Select[int, int, int]:
    """``sku_id, product_id, units``: the units of brushed orders per SKU (a row only for a SKU a ring
    bought), for the catalog to subtract in its own SQL from the sales it shows and ranks."""
    return select(IntegrityFlaggedSales.sku_id, IntegrityFlaggedSales.product_id, IntegrityFlaggedSales.units)


def replace_flagged_sales(db: Session, units: Mapping[int, tuple[int, int]]) -> int:
    """Make ``integrity_flagged_sales`` hold exactly ``units`` (``sku id -> (product id, units)``);
    flushes only and answers how many rows changed. Rows are upserted, so two publishers at once (the
    scan and an operator's decision) cannot collide: the later one's set stands."""
    current = {int(sku): (int(p), int(n)) for sku, p, n in db.execute(flagged_sales_query())}
    gone = sorted(set(current) - set(units))
    for chunk in _chunks(gone):
        db.execute(delete(IntegrityFlaggedSales).where(IntegrityFlaggedSales.sku_id.in_(chunk)))
    changed = [
        {"sku_id": sku, "product_id": product_id, "units": n}
        for sku, (product_id, n) in sorted(units.items())
        if current.get(sku) != (product_id, n)
    ]
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = IntegrityFlaggedSales.__table__
    for start in range(0, len(changed), CHUNK // 3):  # three parameters a row
        stmt = dialect.insert(table).values(changed[start : start + CHUNK // 3])
        db.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.sku_id],
                set_={"product_id": stmt.excluded.product_id, "units": stmt.excluded.units},
            )
        )
    db.flush()
    return len(gone) + len(changed)


def flagged_ids(db: Session, kind: FlagKind, among: Sequence[int] | None = None) -> set[int]:
    """The active flags of one kind (only among ``among`` when given)."""
    stmt = select(IntegrityFlag.subject_id).where(
        IntegrityFlag.lifted_at.is_(None), IntegrityFlag.kind == kind
    )
    if among is None:
        return set(db.scalars(stmt))
    out: set[int] = set()
    for chunk in _chunks(sorted(set(among))):
        out |= set(db.scalars(stmt.where(IntegrityFlag.subject_id.in_(chunk))))
    return out


def flags_of(db: Session, case_id: int) -> list[IntegrityFlag]:
    return list(
        db.scalars(select(IntegrityFlag).where(IntegrityFlag.case_id == case_id).order_by(IntegrityFlag.id))
    )


def confirmed_offences(db: Session, kind: FlagKind, subject_id: int) -> list[int]:
    """Ids of the confirmed cases that count against a subject (a shop, a followed account, content)."""
    return list(
        db.scalars(
            select(IntegrityCase.id)
            .join(IntegrityCaseMember, IntegrityCaseMember.case_id == IntegrityCase.id)
            .where(
                IntegrityCase.status == CaseStatus.confirmed,
                IntegrityCaseMember.kind == kind,
                IntegrityCaseMember.subject_id == subject_id,
            )
            .order_by(IntegrityCase.id)
        )
    )


def labels(db: Session, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """The operators' decisions as labels for the detectors: one row per decided case member."""
    stmt = (
        select(
            IntegrityCase.id,
            IntegrityCase.kind,
            IntegrityCase.status,
            IntegrityCase.decided_at,
            IntegrityCaseMember.kind,
            IntegrityCaseMember.subject_id,
        )
        .join(IntegrityCaseMember, IntegrityCaseMember.case_id == IntegrityCase.id)
        .where(IntegrityCase.status != CaseStatus.open)
        .order_by(IntegrityCase.id, IntegrityCaseMember.kind, IntegrityCaseMember.subject_id)
    )
    if since is not None:
        stmt = stmt.where(IntegrityCase.decided_at >= since)
    return [
        {
            "case_id": case_id,
            "block_kind": block_kind.value,
            "member_kind": member_kind.value,
            "subject_id": subject_id,
            "label": "fraud" if status is CaseStatus.confirmed else "organic",
            "decided_at": decided_at,
        }
        for case_id, block_kind, status, decided_at, member_kind, subject_id in db.execute(stmt)
    ]


# --- deciding --------------------------------------------------------------------------------------


def _state(case: IntegrityCase) -> dict[str, Any]:
    return {"status": case.status, "reviewer_user_id": case.reviewer_user_id}


def decide(
    db: Session, case_id: int, decision: str, *, reason: str | None, actor_user_id: int | None
) -> IntegrityCase:
    """Confirm or dismiss an open case with a reason (audited; flushed, the caller commits).
    409 ``case_already_decided`` when it is not open."""
    text = audit_service.require_reason(reason)
    if decision not in DECISIONS:
        raise ValueError(decision)
    case = get_case(db, case_id, for_update=True)
    if case.status is not CaseStatus.open:
        raise Conflict(
            "this case was decided already",
            code="case_already_decided",
            details={"status": case.status.value},
        )
    before = _state(case)
    now = clock.now()
    case.status = CaseStatus.confirmed if decision == "confirm" else CaseStatus.dismissed
    case.reviewer_user_id = actor_user_id
    case.reason = text
    case.decided_at = now
    case.updated_at = now
    lifted = lift_flags(db, case.id, now) if case.status is CaseStatus.dismissed else 0
    db.flush()
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action=f"integrity.{decision}",
        target_kind="integrity_case",
        target_id=case.id,
        reason=text,
        before=before,
        after={**_state(case), "flags_lifted": lifted},
    )
    return case


def lift_flags(db: Session, case_id: int, now: datetime) -> int:
    return rows_changed(
        db.execute(
            update(IntegrityFlag)
            .where(IntegrityFlag.case_id == case_id, IntegrityFlag.lifted_at.is_(None))
            .values(lifted_at=now)
        )
    )


def reverse_confirmed(db: Session, case_id: int, *, reason: str, actor_user_id: int | None) -> IntegrityCase:
    """A granted appeal: the confirmed case becomes dismissed and its flags are lifted (audited)."""
    case = get_case(db, case_id)
    if case.status is not CaseStatus.confirmed:
        raise Conflict("only a confirmed case can be reversed", code="case_not_confirmed")
    before = _state(case)
    now = clock.now()
    case.status = CaseStatus.dismissed
    case.reason = reason
    case.decided_at = case.updated_at = now
    lifted = lift_flags(db, case.id, now)
    db.flush()
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action="integrity.reverse",
        target_kind="integrity_case",
        target_id=case.id,
        reason=reason,
        before=before,
        after={**_state(case), "flags_lifted": lifted},
    )
    return case


# --- sanctions of repeat offenders and their appeals ------------------------------------------------

LEVELS = (SanctionLevel.warning, SanctionLevel.eligibility, SanctionLevel.suspension)


def level_for(offences: int) -> SanctionLevel:
    """The escalation ladder: the first confirmed case a warning, the second the loss of campaign
    (shops) or plaza (creators) eligibility, the third and later suspension."""
    return LEVELS[min(max(offences, 1), len(LEVELS)) - 1]


def active_sanctions(db: Session, subject: SanctionSubject, subject_id: int) -> list[IntegritySanction]:
    return list(
        db.scalars(
            select(IntegritySanction)
            .where(
                IntegritySanction.subject == subject,
                IntegritySanction.subject_id == subject_id,
                IntegritySanction.lifted_at.is_(None),
            )
            .order_by(IntegritySanction.id)
        )
    )


def sanctions_for(db: Session, subject: SanctionSubject, subject_id: int) -> list[IntegritySanction]:
    """Every sanction of one shop or creator, newest first (what their console shows)."""
    return list(
        db.scalars(
            select(IntegritySanction)
            .where(IntegritySanction.subject == subject, IntegritySanction.subject_id == subject_id)
            .order_by(IntegritySanction.id.desc())
        )
    )


def sanctions_of_case(db: Session, case_id: int) -> list[IntegritySanction]:
    return list(
        db.scalars(
            select(IntegritySanction)
            .where(IntegritySanction.case_id == case_id)
            .order_by(IntegritySanction.id)
        )
    )


def add_sanction(
    db: Session,
    subject: SanctionSubject,
    subject_id: int,
    case: IntegrityCase,
    *,
    reason: str,
    actor_user_id: int | None,
    name: str,
) -> IntegritySanction | None:
    """The next step of the subject's escalation for a confirmed case (None if this case already
    sanctioned it); flushed."""
    exists = db.scalar(
        select(IntegritySanction.id).where(
            IntegritySanction.subject == subject,
            IntegritySanction.subject_id == subject_id,
            IntegritySanction.case_id == case.id,
        )
    )
    if exists is not None:
        return None
    offences = len(active_sanctions(db, subject, subject_id)) + 1
    row = IntegritySanction(
        subject=subject,
        subject_id=subject_id,
        level=level_for(offences),
        case_id=case.id,
        offences=offences,
        reason=reason,
        actor_user_id=actor_user_id,
        subject_name=name[:120],
        appeal_status=AppealStatus.none,
        created_at=clock.now(),
    )
    db.add(row)
    db.flush()
    return row


def get_sanction(db: Session, sanction_id: int, *, for_update: bool = False) -> IntegritySanction:
    """The sanction (404 ``sanction_not_found``); ``for_update``: its row locked and re-read."""
    row = db.get(IntegritySanction, sanction_id, with_for_update=for_update, populate_existing=for_update)
    if row is None:
        raise NotFound("no such sanction", code="sanction_not_found")
    return row


def appeal(db: Session, sanction_id: int, *, user_id: int, statement: str | None) -> IntegritySanction:
    """The sanctioned merchant's or creator's one appeal (the caller checked they may);
    ``appeal_already_made`` (409) on a second one, ``sanction_lifted`` when nothing is in force."""
    text = audit_service.require_reason(statement, field="statement")
    row = get_sanction(db, sanction_id, for_update=True)
    if row.appeal_status is not AppealStatus.none:
        raise Conflict(
            "an appeal was made already: each sanction may be appealed once",
            code="appeal_already_made",
            details={"appeal_status": row.appeal_status.value},
        )
    if row.lifted_at is not None:
        raise Conflict("this sanction was lifted already", code="sanction_lifted")
    row.appeal_status = AppealStatus.pending
    row.appeal_statement = text
    row.appealed_by_user_id = user_id
    row.appealed_at = clock.now()
    db.flush()
    return row


def pending_appeal_count(db: Session) -> int:
    return int(
        db.scalar(select(func.count()).where(IntegritySanction.appeal_status == AppealStatus.pending)) or 0
    )


def pending_appeals(db: Session, limit: int = 100) -> list[IntegritySanction]:
    return list(
        db.scalars(
            select(IntegritySanction)
            .where(IntegritySanction.appeal_status == AppealStatus.pending)
            .order_by(IntegritySanction.appealed_at, IntegritySanction.id)
            .limit(limit)
        )
    )


def close_appeal(
    db: Session, row: IntegritySanction, granted: bool, *, reason: str, actor_user_id: int | None
) -> IntegritySanction:
    """Record the operator's decision on a pending appeal (the caller undoes the sanction when granted)."""
    if row.appeal_status is not AppealStatus.pending:
        raise Conflict(
            "there is no appeal waiting for a decision",
            code="appeal_not_pending",
            details={"appeal_status": row.appeal_status.value},
        )
    now = clock.now()
    row.appeal_status = AppealStatus.granted if granted else AppealStatus.upheld
    row.decided_by_user_id = actor_user_id
    row.decision_reason = reason
    row.decided_at = now
    if granted:
        row.lifted_at = now
    db.flush()
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action=f"integrity.appeal_{'grant' if granted else 'uphold'}",
        target_kind="integrity_sanction",
        target_id=row.id,
        reason=reason,
        before={"appeal_status": AppealStatus.pending},
        after={"appeal_status": row.appeal_status, "case_id": row.case_id},
    )
    return row


def plaza_refusal(db: Session, creator_account_id: int) -> Conflict | None:
    """The refusal the product plaza gives a creator whose escalation reached the loss of eligibility."""
    for row in active_sanctions(db, SanctionSubject.creator, creator_account_id):
        if row.level is not SanctionLevel.warning:
            return Conflict(
                "the platform has suspended this creator's product plaza eligibility for bought engagement",
                code="plaza_eligibility_suspended",
                details={"reason": row.reason, "sanction_id": row.id},
            )
    return None


def flag_subject(db: Session, kind: FlagKind, subject_id: int, case_id: int) -> bool:
    """Flag one more subject for a case (a creator's suspension flags the account); False if it was."""
    exists = db.scalar(
        select(IntegrityFlag.id).where(
            IntegrityFlag.kind == kind,
            IntegrityFlag.subject_id == subject_id,
            IntegrityFlag.case_id == case_id,
        )
    )
    if exists is not None:
        return False
    db.add(IntegrityFlag(kind=kind, subject_id=subject_id, case_id=case_id, created_at=clock.now()))
    db.flush()
    return True
