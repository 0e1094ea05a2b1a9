"""What viewers do in a live room (comments, likes) and which uploaded video a short video plays.

Rules kept here:

* Comments and likes are taken only while the room is on air (``content_not_live`` otherwise); a
  comment is one line of 1–200 characters, kept as written (pages escape it).
* Every comment and every batch of likes is published on the room's channel once its transaction has
  committed, carrying what viewers show (docs/realtime.md): comments are written once and shown as
  written, so the message holds the text; likes carry the room's new total.
* The like count only changes by an atomic ``UPDATE ... SET like_count = like_count + n`` on a row
  made once per room, so concurrent taps never lose a like.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao.content.models import Content, ContentKind, ContentStatus, ContentVideo, LiveComment, LiveLikes
from zhongcao.content.service import get_public_content
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, InvalidInput
from zhongcao.fields import single_line
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import live_channel
from zhongcao.users import service as users_service

MAX_COMMENT = 200
MAX_LIKES_PER_TAP = 50  # a burst of taps is sent as one request


def _room_on_air(db: Session, content_id: int) -> Content:
    content = get_public_content(db, content_id)
    if content.kind is not ContentKind.live or content.status is not ContentStatus.live:
        raise Conflict(
            "comments and likes are taken only while the room is live",
            code="content_not_live",
            details={"kind": content.kind.value, "status": content.status.value},
        )
    return content


@dataclass(frozen=True)
class CommentView:
    id: int
    content_id: int
    user_id: int
    body: str
    created_at: datetime


def _view(row: LiveComment) -> CommentView:
    return CommentView(row.id, row.content_id, row.user_id, row.body, row.created_at)


def mask_name(name: str) -> str:
    """People in a room's public lists (buyers, commenters) are shown by a masked name: 张** / A***."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * min(max(len(name) - 1, 2), 3)


def authors(db: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """The masked names of commenters, by user id."""
    return {
        uid: mask_name(u.display_name) for uid, u in users_service.users_by_ids(db, set(user_ids)).items()
    }


def post_comment(db: Session, content_id: int, user_id: int, body: str) -> CommentView:
    """A viewer's comment, shown to every viewer under the viewer's masked name."""
    text = body.strip()
    if not text:
        raise InvalidInput("write something first", code="comment_empty", field="body")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(
            f"a comment is at most {MAX_COMMENT} characters",
            code="comment_too_long",
            field="body",
            details={"max_length": MAX_COMMENT},
        )
    try:
        single_line(text)
    except ValueError as exc:
        raise InvalidInput("a comment is one line", code="comment_invalid", field="body") from exc
    _room_on_air(db, content_id)
    row = LiveComment(content_id=content_id, user_id=user_id, body=text)
    db.add(row)
    db.flush()
    view = _view(row)
    publish_after_commit(
        db,
        live_channel(content_id),
        {
            "type": "comment",
            "id": view.id,
            "who": authors(db, [user_id]).get(user_id, ""),
            "body": view.body,
            "at": view.created_at.isoformat(),
        },
    )
    db.commit()
    return view


def recent_comments(db: Session, content_id: int, limit: int = 30) -> list[CommentView]:
    """The room's newest comments, oldest first (as a chat reads)."""
    rows = db.scalars(
        select(LiveComment)
        .where(LiveComment.content_id == content_id)
        .order_by(LiveComment.id.desc())
        .limit(limit)
    )
    return [_view(r) for r in reversed(list(rows))]


def comments_page(
    db: Session, content_id: int, params: PageParams
) -> tuple[Sequence[LiveComment], str | None]:
    """Every comment of a room, newest first, a page at a time."""
    return paginate_by_id(
        db, select(LiveComment).where(LiveComment.content_id == content_id), LiveComment.id, params
    )


def comment_count(db: Session, content_id: int) -> int:
    return int(db.scalar(select(func.count(LiveComment.id)).where(LiveComment.content_id == content_id)) or 0)


def add_likes(db: Session, content_id: int, taps: int) -> int:
    """Add ``taps`` likes to a room on air; answers the room's new total."""
    if not 1 <= taps <= MAX_LIKES_PER_TAP:
        raise InvalidInput(
            f"between 1 and {MAX_LIKES_PER_TAP} likes at a time",
            code="invalid_like_count",
            field="count",
            details={"max": MAX_LIKES_PER_TAP},
        )
    _room_on_air(db, content_id)
    bump = update(LiveLikes).where(LiveLikes.content_id == content_id)
    if rows_changed(db.execute(bump.values(like_count=LiveLikes.like_count + taps))) == 0:
        try:
            with db.begin_nested():
                db.add(LiveLikes(content_id=content_id, like_count=taps))
        except IntegrityError:  # another request made the row first: count on it
            db.execute(bump.values(like_count=LiveLikes.like_count + taps))
    total = like_count(db, content_id)
    publish_after_commit(db, live_channel(content_id), {"type": "likes", "total": total})
    db.commit()
    return total


def like_count(db: Session, content_id: int) -> int:
    return int(db.scalar(select(LiveLikes.like_count).where(LiveLikes.content_id == content_id)) or 0)


# --- short videos' uploaded videos ----------------------------------------------------------------


def videos_by_content(db: Session, content_ids: Sequence[int]) -> dict[int, ContentVideo]:
    ids = sorted(set(content_ids))
    if not ids:
        return {}
    return {v.content_id: v for v in db.scalars(select(ContentVideo).where(ContentVideo.content_id.in_(ids)))}


def attach_videos_bulk(db: Session, pairs: Sequence[tuple[int, int]]) -> int:
    """Link short videos to uploaded videos, ``(content_id, media_id)``, for the demo world: flushes
    only. Content that is not a short video, or already has a video, is skipped."""
    if not pairs:
        return 0
    ids = [c for c, _ in pairs]
    kinds = {
        cid: kind for cid, kind in db.execute(select(Content.id, Content.kind).where(Content.id.in_(ids)))
    }
    taken = set(videos_by_content(db, ids))
    rows = [
        ContentVideo(content_id=c, media_id=m)
        for c, m in pairs
        if kinds.get(c) is ContentKind.short_video and c not in taken
    ]
    db.add_all(rows)
    db.flush()
    return len(rows)
