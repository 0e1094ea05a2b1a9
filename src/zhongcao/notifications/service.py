"""Notifications: write them for people, list them, mark them read, count the unread.

Producers live in :mod:`zhongcao.flows` (who should hear of a paid order is the shops domain's
knowledge, what happened is commerce's): they call :func:`notify` inside the transaction of the change
that caused it. Once that transaction commits, each recipient's ``user:<id>`` channel on the real-time
bus hears ``{"type": "notification"}``, which the badge and the notification centre's stream turn into
a fresh unread count without a reload (docs/notifications.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.db import rows_changed
from zhongcao.errors import NotFound
from zhongcao.notifications.models import Notification, NotificationKind
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import ChannelKind, channel

# The unread badge stops counting here ("99+"): a count over the whole table is not worth its cost.
BADGE_CAP = 99


def user_channel(user_id: int) -> str:
    return channel(ChannelKind.user, user_id)


def notify(
    db: Session,
    user_ids: Iterable[int],
    kind: NotificationKind,
    params: dict[str, Any],
    link: str,
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> int:
    """Write one notification per recipient (flushed, not committed: it commits with the caller's
    change). With ``dedupe_key``, a recipient who already has that key gets nothing new, so a producer
    that runs again (a job) notifies once. Returns how many were written."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return 0
    if dedupe_key is not None:
        had = set(
            db.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key == dedupe_key, Notification.user_id.in_(recipients)
                )
            )
        )
        recipients = [u for u in recipients if u not in had]
    at = now or clock.now()
    for user_id in recipients:
        db.add(
            Notification(
                user_id=user_id, kind=kind, params=params, link=link, dedupe_key=dedupe_key, created_at=at
            )
        )
        publish_after_commit(db, user_channel(user_id), {"type": "notification", "kind": kind.value})
    db.flush()
    return len(recipients)


def list_for_user(
    db: Session,
    user_id: int,
    params: PageParams,
    *,
    unread_only: bool = False,
    kind: NotificationKind | None = None,
) -> tuple[Sequence[Notification], str | None]:
    """A person's notifications, newest first."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return paginate_by_id(db, stmt, Notification.id, params)


def unread_count(db: Session, user_id: int, *, cap: int = BADGE_CAP) -> int:
    """Unread notifications, counted up to ``cap + 1`` (enough to show "99+")."""
    unread = (
        select(Notification.id)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .limit(cap + 1)
        .subquery()
    )
    return int(db.scalar(select(func.count()).select_from(unread)) or 0)


def get_for_user(db: Session, user_id: int, notification_id: int) -> Notification:
    row = db.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    )
    if row is None:  # someone else's is "not found" too
        raise NotFound("notification not found", code="notification_not_found", field="notification_id")
    return row


def mark_read(db: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the person's notifications read (again: no change). Commits."""
    row = get_for_user(db, user_id, notification_id)
    if row.read_at is None:
        row.read_at = clock.now()
        publish_after_commit(db, user_channel(user_id), {"type": "read"})
    db.commit()
    return row


def mark_all_read(db: Session, user_id: int, *, kind: NotificationKind | None = None) -> int:
    """Mark every unread notification of the person read (of one kind if given). Commits; returns
    how many changed."""
    stmt = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    changed = rows_changed(db.execute(stmt))
    if changed:
        publish_after_commit(db, user_channel(user_id), {"type": "read"})
    db.commit()
    return changed
