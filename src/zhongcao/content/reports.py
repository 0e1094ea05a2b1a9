"""Shoppers report videos and live rooms; operators act on the reports.

Rules kept here:

* Anyone signed in may report content they can see (not removed), once per item: a second report of the
  same item is refused with 409 ``already_reported`` (the first is still open or was decided). A
  creator, or a shop's staff, cannot report their own account's content (422 ``own_content``).
* A report names a reason (:class:`ReportReason`) and may add up to 500 characters of details; "other"
  needs details (422 ``details_required``).
* The operators' queue lists the items with open reports, the most recently reported first, with how
  many people reported each and why. Taking the item down (``moderation.take_down``) closes its open
  reports as ``actioned``; an operator who finds nothing wrong dismisses them with a reason, written to
  the audit log (``content.dismiss_reports``) like every operator action.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.audit import service as audit_service
from zhongcao.content.models import Account, Content, ContentReport, ContentStatus, ReportReason, ReportStatus
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.fields import multi_line
from zhongcao.pagination import PageParams, decode_id_cursor, encode_cursor
from zhongcao.shops import service as shops_service

MAX_DETAILS = 500
TARGET = "content"


def _reportable(db: Session, content_id: int) -> Content:
    content = db.get(Content, content_id)
    if content is None or content.status is ContentStatus.removed:
        raise NotFound("content not found", code="content_not_found")
    return content


def report(
    db: Session, content_id: int, *, user_id: int, reason: ReportReason | str, details: str | None = None
) -> ContentReport:
    """File a report of a video or live room (see the module's rules for the refusals)."""
    try:
        why = ReportReason(reason)
    except ValueError:
        raise InvalidInput("choose a reason from the list", code="invalid_reason", field="reason") from None
    text = multi_line(details or "").strip()
    if len(text) > MAX_DETAILS:
        raise InvalidInput(
            f"details are at most {MAX_DETAILS} characters", code="details_too_long", field="details"
        )
    if why is ReportReason.other and not text:
        raise InvalidInput("say what is wrong", code="details_required", field="details")
    content = _reportable(db, content_id)
    account = db.get(Account, content.account_id)
    if account is not None and (
        account.user_id == user_id
        or (account.shop_id is not None and user_id in shops_service.staff_user_ids(db, account.shop_id))
    ):
        raise InvalidInput("you cannot report your own content", code="own_content", field="content_id")
    row = ContentReport(content_id=content_id, reporter_user_id=user_id, reason=why, details=text)
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict("you have reported this already", code="already_reported") from None
    db.refresh(row)
    return row


def my_report(db: Session, content_id: int, user_id: int) -> ContentReport | None:
    return db.scalar(
        select(ContentReport).where(
            ContentReport.content_id == content_id, ContentReport.reporter_user_id == user_id
        )
    )


def open_reports(db: Session, content_id: int) -> list[ContentReport]:
    """The item's open reports, oldest first (the operator's item page)."""
    return list(
        db.scalars(
            select(ContentReport)
            .where(ContentReport.content_id == content_id, ContentReport.status == ReportStatus.open)
            .order_by(ContentReport.id)
        )
    )


def open_report_count(db: Session) -> int:
    """How many items wait with open reports (the workbench's queue count)."""
    return int(
        db.scalar(
            select(func.count(func.distinct(ContentReport.content_id))).where(
                ContentReport.status == ReportStatus.open
            )
        )
        or 0
    )


@dataclass(frozen=True)
class ReportedItem:
    content: Content
    account: Account
    open_reports: int
    reasons: list[tuple[ReportReason, int]]  # most frequent first
    last_reported_at: datetime
    marker: int  # the newest open report's id: the queue's order and cursor


def queue_page(
    db: Session, params: PageParams, *, reason: ReportReason | None = None
) -> tuple[list[ReportedItem], str | None]:
    """Items with open reports, the most recently reported first; with ``reason``, only the items
    someone reported for it (their counts still cover every open report)."""
    newest = func.max(ContentReport.id)
    stmt = (
        select(ContentReport.content_id, newest.label("marker"), func.count().label("n"))
        .where(ContentReport.status == ReportStatus.open)
        .group_by(ContentReport.content_id)
    )
    if reason is not None:
        stmt = stmt.where(
            ContentReport.content_id.in_(
                select(ContentReport.content_id).where(
                    ContentReport.status == ReportStatus.open, ContentReport.reason == reason
                )
            )
        )
    if params.cursor:
        stmt = stmt.having(newest < decode_id_cursor(params.cursor))
    groups = db.execute(stmt.order_by(newest.desc()).limit(params.limit + 1)).all()
    next_cursor = encode_cursor(groups[params.limit - 1].marker) if len(groups) > params.limit else None
    groups = groups[: params.limit]
    ids = [g.content_id for g in groups]
    if not ids:
        return [], None
    contents = {c.id: c for c in db.scalars(select(Content).where(Content.id.in_(ids)))}
    accounts = {
        a.id: a
        for a in db.scalars(select(Account).where(Account.id.in_({c.account_id for c in contents.values()})))
    }
    reports = db.execute(
        select(ContentReport.content_id, ContentReport.reason, ContentReport.created_at).where(
            ContentReport.content_id.in_(ids), ContentReport.status == ReportStatus.open
        )
    ).all()
    reasons: dict[int, Counter[ReportReason]] = {i: Counter() for i in ids}
    last: dict[int, datetime] = {}
    for content_id, reason, at in reports:
        reasons[content_id][reason] += 1
        last[content_id] = max(last.get(content_id, at), at)
    items = [
        ReportedItem(
            content=contents[g.content_id],
            account=accounts[contents[g.content_id].account_id],
            open_reports=int(g.n),
            reasons=reasons[g.content_id].most_common(),
            last_reported_at=last[g.content_id],
            marker=int(g.marker),
        )
        for g in groups
    ]
    return items, next_cursor


def _close_open(db: Session, content_id: int, status: ReportStatus, operator_user_id: int, note: str) -> int:
    return rows_changed(
        db.execute(
            update(ContentReport)
            .where(ContentReport.content_id == content_id, ContentReport.status == ReportStatus.open)
            .values(
                status=status, resolved_by_user_id=operator_user_id, resolution=note, resolved_at=clock.now()
            )
            .execution_options(synchronize_session=False)
        )
    )


def close_for_takedown(db: Session, content_id: int, operator_user_id: int, reason: str) -> int:
    """A take-down acts on every open report of the item (called in the take-down's transaction)."""
    return _close_open(db, content_id, ReportStatus.actioned, operator_user_id, reason)


def dismiss(db: Session, content_id: int, *, operator_user_id: int, reason: str | None) -> int:
    """Close the item's open reports without acting on the content, saying why (422
    ``reason_required``); 409 ``no_open_reports`` when none is open. Returns how many were closed."""
    text = audit_service.require_reason(reason)
    content = db.get(Content, content_id)
    if content is None:
        raise NotFound("content not found", code="content_not_found")
    waiting = open_reports(db, content_id)
    if not waiting:
        raise Conflict("this content has no open reports", code="no_open_reports")
    closed = _close_open(db, content_id, ReportStatus.dismissed, operator_user_id, text)
    audit_service.record(
        db,
        actor_user_id=operator_user_id,
        action="content.dismiss_reports",
        target_kind=TARGET,
        target_id=content_id,
        reason=text,
        before={"open_reports": len(waiting), "reasons": sorted({r.reason.value for r in waiting})},
        after={"open_reports": 0, "dismissed": closed},
    )
    db.commit()
    return closed


def counts_by_reason(rows: Sequence[ContentReport]) -> list[tuple[ReportReason, int]]:
    return Counter(r.reason for r in rows).most_common()
