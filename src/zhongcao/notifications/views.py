"""``/api/me/notifications``: the caller's own notifications, whatever their role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from zhongcao.deps import CurrentUser, DbSession
from zhongcao.fields import IdPath
from zhongcao.notifications import service
from zhongcao.notifications.models import NotificationKind
from zhongcao.notifications.schemas import MarkedOut, NotificationOut, UnreadOut
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter(tags=["notifications"])


@router.get("/api/me/notifications", response_model=Page[NotificationOut])
def list_notifications(
    user: CurrentUser,
    db: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
    kind: Annotated[NotificationKind | None, Query()] = None,
) -> Page[NotificationOut]:
    rows, next_cursor = service.list_for_user(db, user.id, params, unread_only=unread, kind=kind)
    return Page(items=[NotificationOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/api/me/notifications/unread", response_model=UnreadOut)
def unread_count(user: CurrentUser, db: DbSession) -> UnreadOut:
    return UnreadOut(unread=service.unread_count(db, user.id))


@router.post("/api/me/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: IdPath, user: CurrentUser, db: DbSession) -> NotificationOut:
    return NotificationOut.of(service.mark_read(db, user.id, notification_id))


@router.post("/api/me/notifications/read-all", response_model=MarkedOut)
def mark_all_read(
    user: CurrentUser, db: DbSession, kind: Annotated[NotificationKind | None, Query()] = None
) -> MarkedOut:
    return MarkedOut(marked=service.mark_all_read(db, user.id, kind=kind))
