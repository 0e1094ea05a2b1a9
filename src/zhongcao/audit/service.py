"""Write and search the operators' audit log. Every operator action calls ``record`` in the same
transaction as the change it describes, so a change is never without its entry, nor an entry without
its change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from zhongcao.audit.models import AuditEntry
from zhongcao.errors import InvalidInput
from zhongcao.pagination import PageParams, paginate_by_id

MAX_REASON = 500


def require_reason(reason: str | None, *, field: str = "reason") -> str:
    """An operator action must say why: the affected merchant, creator or user is shown this text."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("a reason is required for this action", code="reason_required", field=field)
    if len(text) > MAX_REASON:
        raise InvalidInput(
            f"the reason is longer than {MAX_REASON} characters", code="reason_too_long", field=field
        )
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def record(
    db: Session,
    *,
    actor_user_id: int | None,
    action: str,
    target_kind: str,
    target_id: int,
    reason: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (flushed, not committed: it commits with the caller's change)."""
    entry = AuditEntry(
        actor_user_id=actor_user_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        reason=reason,
        before=_plain(dict(before or {})),
        after=_plain(dict(after or {})),
    )
    db.add(entry)
    db.flush()
    return entry


def _filtered(
    *,
    q: str | None,
    action: str | None,
    target_kind: str | None,
    target_id: int | None,
    actor_user_ids: Sequence[int] | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(AuditEntry.reason.ilike(like), AuditEntry.action.ilike(like)))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if target_kind:
        stmt = stmt.where(AuditEntry.target_kind == target_kind)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if actor_user_ids is not None:
        stmt = stmt.where(AuditEntry.actor_user_id.in_(list(actor_user_ids)))
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


def entries_page(
    db: Session,
    params: PageParams,
    *,
    q: str | None = None,
    action: str | None = None,
    target_kind: str | None = None,
    target_id: int | None = None,
    actor_user_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Sequence[AuditEntry], str | None]:
    """Newest first, filtered; ``q`` matches the reason or the action text."""
    stmt = _filtered(
        q=q,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        actor_user_ids=actor_user_ids,
        since=since,
        until=until,
    )
    rows, cursor = paginate_by_id(db, stmt, AuditEntry.id, params)
    return rows, cursor


def entries_for(db: Session, target_kind: str, target_id: int) -> list[AuditEntry]:
    """Every entry about one thing, oldest first (the history shown beside a shop, a case, a video)."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.target_kind == target_kind, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.id)
    )
    return list(db.scalars(stmt))
