"""Content moderation: an operator takes a short video down or ends a live with a reason; the owner sees
why and may appeal once; an operator decides the appeal (restore or uphold, with a reason).

Rules kept here:

* Every operator action needs a reason (``audit.service.require_reason``) and writes an audit entry
  in the same transaction as the change (``content.take_down``, ``content.end_live``,
  ``content.restore``, ``content.uphold_takedown``).
* A take-down sets the content's status to ``removed`` by a conditional UPDATE on the status it was
  read with, so two operators (or an operator and the host ending the live) cannot both win; a live on
  air is ended at the same time, its pin dropped, and its open rooms are told at once on the room's
  real-time channel (``status: removed``: the page closes the room).
* Removed content leaves every feed, search result and account page within a second: the feed checks
  the ids of every page it serves against the database before answering (``content.reads.
  removed_among``) and marks the catalogue for its next refresh; search drops removed hits at serve
  time; account pages read only content that is not removed.
* One appeal per take-down, by the owner (the shop's staff for a shop account, the creator for a
  creator account; the caller checks ownership before calling), with a statement of 1–1000
  characters; a second appeal is refused with ``appeal_already_made``.
* Restoring puts the content back where it was: a short video is published again; a live that was
  on air or over comes back as ended (its stream is over), a scheduled one as scheduled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.audit import service as audit_service
from zhongcao.content import reports
from zhongcao.content.models import (
    Account,
    AppealStatus,
    Content,
    ContentKind,
    ContentStatus,
    ContentTakedown,
)
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.fields import multi_line
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import live_channel

MAX_STATEMENT = 1000
TARGET = "content"


class Outcome:
    restore = "restore"
    uphold = "uphold"


OUTCOMES = (Outcome.restore, Outcome.uphold)


def _content(db: Session, content_id: int) -> Content:
    content = db.get(Content, content_id)
    if content is None:
        raise NotFound("content not found", code="content_not_found")
    return content


def _facts(content: Content) -> dict[str, Any]:
    return {"status": content.status, "kind": content.kind, "title": content.title_zh}


def take_down(db: Session, content_id: int, *, operator_user_id: int, reason: str | None) -> ContentTakedown:
    """Take a short video down or end a live (any status but removed), with a reason the owner sees.
    409 ``already_removed`` when it is removed already."""
    text = audit_service.require_reason(reason)
    content = _content(db, content_id)
    previous = content.status
    if previous is ContentStatus.removed:
        raise Conflict(
            "this content is removed already", code="already_removed", details={"status": previous.value}
        )
    before = _facts(content)
    now = clock.now()
    values: dict[str, Any] = {"status": ContentStatus.removed}
    on_air = content.kind is ContentKind.live and previous is ContentStatus.live
    if content.kind is ContentKind.live:
        values["pinned_product_id"] = None
        if on_air:
            values["ended_at"] = now
    changed = rows_changed(
        db.execute(
            update(Content).where(Content.id == content_id, Content.status == previous).values(**values)
        )
    )
    if changed != 1:  # the owner or another operator moved it first: read it again and say so
        db.rollback()
        db.refresh(content)
        raise Conflict(
            "the content changed meanwhile; look again",
            code="content_changed",
            details={"status": content.status.value},
        )
    row = ContentTakedown(
        content_id=content_id,
        operator_user_id=operator_user_id,
        reason=text,
        previous_status=previous,
        appeal_status=AppealStatus.none,
    )
    db.add(row)
    db.flush()
    actioned = reports.close_for_takedown(db, content_id, operator_user_id, text)
    audit_service.record(
        db,
        actor_user_id=operator_user_id,
        action="content.end_live" if on_air else "content.take_down",
        target_kind=TARGET,
        target_id=content_id,
        reason=text,
        before=before,
        after={"status": ContentStatus.removed, "takedown_id": row.id, "reports_actioned": actioned},
    )
    if content.kind is ContentKind.live:  # open rooms close at once (web/live.py, live.js)
        publish_after_commit(db, live_channel(content_id), {"type": "status", "status": "removed"})
    _tell_owner(db, content, "taken_down", text)
    db.commit()
    db.refresh(row)
    return row


def _tell_owner(db: Session, content: Content, event: str, reason: str) -> None:
    """``content_moderated``: flows tells the owner (the shop's staff or the creator) in the same
    transaction, so a notice exists exactly when the decision does."""
    signals.emit(
        db,
        "content_moderated",
        event=event,
        content_id=content.id,
        account_id=content.account_id,
        kind=content.kind.value,
        title_zh=content.title_zh,
        title_en=content.title_en,
        reason=reason,
    )


def _statement(statement: str | None) -> str:
    text = (statement or "").strip()
    if not text:
        raise InvalidInput(
            "say why the content should come back", code="statement_required", field="statement"
        )
    if len(text) > MAX_STATEMENT:
        raise InvalidInput(
            f"the statement is longer than {MAX_STATEMENT} characters",
            code="statement_too_long",
            field="statement",
            details={"max_length": MAX_STATEMENT},
        )
    try:
        multi_line(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="statement_invalid", field="statement") from exc
    return text


def latest_takedown(db: Session, content_id: int) -> ContentTakedown | None:
    return db.scalar(
        select(ContentTakedown)
        .where(ContentTakedown.content_id == content_id)
        .order_by(ContentTakedown.id.desc())
        .limit(1)
    )


def latest_takedowns(db: Session, content_ids: Sequence[int]) -> dict[int, ContentTakedown]:
    """The newest take-down of each content id that has one (an owner's list, the operators' list)."""
    ids = sorted(set(content_ids))
    if not ids:
        return {}
    out: dict[int, ContentTakedown] = {}
    rows = db.scalars(
        select(ContentTakedown).where(ContentTakedown.content_id.in_(ids)).order_by(ContentTakedown.id)
    )
    for row in rows:
        out[row.content_id] = row  # ascending ids: the newest wins
    return out


def history(db: Session, content_id: int) -> list[ContentTakedown]:
    """Every take-down of one content item, oldest first."""
    return list(
        db.scalars(
            select(ContentTakedown)
            .where(ContentTakedown.content_id == content_id)
            .order_by(ContentTakedown.id)
        )
    )


def appeal(db: Session, content_id: int, *, user_id: int, statement: str | None) -> ContentTakedown:
    """The owner's one appeal against the content's current take-down (the caller has checked that
    ``user_id`` may act for the content's account). 409 ``not_taken_down`` when the content is not
    down by an operator, ``appeal_already_made`` on a second appeal."""
    text = _statement(statement)
    content = _content(db, content_id)
    row = latest_takedown(db, content_id)
    if row is None or content.status is not ContentStatus.removed:
        raise Conflict("this content was not taken down by an operator", code="not_taken_down")
    if row.appeal_status is not AppealStatus.none:
        raise Conflict(
            "an appeal was made already: each take-down may be appealed once",
            code="appeal_already_made",
            details={"appeal_status": row.appeal_status.value},
        )
    changed = rows_changed(
        db.execute(
            update(ContentTakedown)
            .where(ContentTakedown.id == row.id, ContentTakedown.appeal_status == AppealStatus.none)
            .values(
                appeal_status=AppealStatus.pending,
                appeal_statement=text,
                appealed_by_user_id=user_id,
                appealed_at=clock.now(),
            )
        )
    )
    if changed != 1:  # a concurrent appeal won
        db.rollback()
        raise Conflict(
            "an appeal was made already: each take-down may be appealed once", code="appeal_already_made"
        )
    db.commit()
    db.refresh(row)
    return row


def get_takedown(db: Session, takedown_id: int) -> ContentTakedown:
    row = db.get(ContentTakedown, takedown_id)
    if row is None:
        raise NotFound("take-down not found", code="takedown_not_found")
    return row


def _restored_status(content: Content, previous: ContentStatus) -> ContentStatus:
    if content.kind is ContentKind.short_video:
        return ContentStatus.published
    return ContentStatus.scheduled if previous is ContentStatus.scheduled else ContentStatus.ended


def decide_appeal(
    db: Session, takedown_id: int, *, operator_user_id: int, outcome: str, reason: str | None
) -> ContentTakedown:
    """Restore the content or keep it down, with a reason the owner sees. 409 ``appeal_not_pending``
    when there is no appeal waiting (none made, or decided already)."""
    if outcome not in OUTCOMES:
        raise InvalidInput("choose restore or uphold", code="invalid_outcome", field="outcome")
    text = audit_service.require_reason(reason)
    row = get_takedown(db, takedown_id)
    if row.appeal_status is not AppealStatus.pending:
        raise Conflict(
            "there is no appeal waiting for a decision",
            code="appeal_not_pending",
            details={"appeal_status": row.appeal_status.value},
        )
    content = _content(db, row.content_id)
    before = _facts(content)
    now = clock.now()
    decided = AppealStatus.restored if outcome == Outcome.restore else AppealStatus.upheld
    changed = rows_changed(
        db.execute(
            update(ContentTakedown)
            .where(ContentTakedown.id == row.id, ContentTakedown.appeal_status == AppealStatus.pending)
            .values(
                appeal_status=decided,
                decided_by_user_id=operator_user_id,
                decision_reason=text,
                decided_at=now,
            )
        )
    )
    if changed != 1:
        db.rollback()
        raise Conflict("another operator decided this appeal first", code="appeal_not_pending")
    after: dict[str, Any] = {"appeal_status": decided, "status": content.status}
    if decided is AppealStatus.restored:
        status = _restored_status(content, row.previous_status)
        moved = rows_changed(
            db.execute(
                update(Content)
                .where(Content.id == content.id, Content.status == ContentStatus.removed)
                .values(status=status)
            )
        )
        if moved != 1:
            db.rollback()
            raise Conflict("the content changed meanwhile; look again", code="content_changed")
        after["status"] = status
    audit_service.record(
        db,
        actor_user_id=operator_user_id,
        action="content.restore" if decided is AppealStatus.restored else "content.uphold_takedown",
        target_kind=TARGET,
        target_id=content.id,
        reason=text,
        before={**before, "appeal_status": AppealStatus.pending, "takedown_id": row.id},
        after=after,
    )
    _tell_owner(db, content, "restored" if decided is AppealStatus.restored else "upheld", text)
    db.commit()
    db.refresh(row)
    return row


# --- the operators' lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModerationRow:
    content: Content
    account: Account
    takedown: ContentTakedown | None


SHOW = ("all", "videos", "lives", "removed")


def _search(stmt: Select[Any], q: str | None) -> Select[Any]:
    text = (q or "").strip()
    if not text:
        return stmt
    like = f"%{text}%"
    conditions: list[Any] = [
        Content.title_zh.ilike(like),
        Content.title_en.ilike(like),
        Account.name.ilike(like),
        Account.handle.ilike(f"%{text.lstrip('@')}%"),
    ]
    digits = text.lstrip("#")
    if digits.isdigit() and len(digits) <= 18:
        conditions += [Content.id == int(digits), Account.id == int(digits)]
    return stmt.where(or_(*conditions))


def content_page(
    db: Session, params: PageParams, *, q: str | None = None, show: str = "all"
) -> tuple[list[ModerationRow], str | None]:
    """Content newest first for the operators, searched by id, title, account name, handle or id;
    ``show``: all, videos, lives, removed."""
    stmt = select(Content).join(Account, Account.id == Content.account_id)
    stmt = _search(stmt, q)
    if show == "videos":
        stmt = stmt.where(Content.kind == ContentKind.short_video)
    elif show == "lives":
        stmt = stmt.where(Content.kind == ContentKind.live)
    elif show == "removed":
        stmt = stmt.where(Content.status == ContentStatus.removed)
    rows, cursor = paginate_by_id(db, stmt, Content.id, params)
    return _rows(db, rows), cursor


def _rows(db: Session, contents: Sequence[Content]) -> list[ModerationRow]:
    accounts = {
        a.id: a
        for a in db.scalars(select(Account).where(Account.id.in_(sorted({c.account_id for c in contents}))))
    }
    downs = latest_takedowns(db, [c.id for c in contents])
    return [ModerationRow(c, accounts[c.account_id], downs.get(c.id)) for c in contents]


def moderation_row(db: Session, content_id: int) -> ModerationRow:
    return _rows(db, [_content(db, content_id)])[0]


def appeals_page(
    db: Session, params: PageParams, *, status: AppealStatus | None = AppealStatus.pending
) -> tuple[list[tuple[ContentTakedown, ModerationRow]], str | None]:
    """Take-downs with an appeal, newest first; ``status`` pending by default (the queue)."""
    stmt = select(ContentTakedown).where(ContentTakedown.appeal_status != AppealStatus.none)
    if status is not None:
        stmt = stmt.where(ContentTakedown.appeal_status == status)
    rows, cursor = paginate_by_id(db, stmt, ContentTakedown.id, params)
    contents = {
        c.id: c
        for c in db.scalars(select(Content).where(Content.id.in_(sorted({r.content_id for r in rows}))))
    }
    by_content = {m.content.id: m for m in _rows(db, list(contents.values()))}
    return [(r, by_content[r.content_id]) for r in rows], cursor


def pending_appeal_count(db: Session) -> int:
    return int(
        db.scalar(
            select(func.count(ContentTakedown.id)).where(
                ContentTakedown.appeal_status == AppealStatus.pending
            )
        )
        or 0
    )
