"""Reads of many rows at once for batch engines and the feed, and follower counts as shown.

* Whole-platform snapshots (every content item, follow and anchor) for the feed's policies, the
  matching engine, search indexing and the market simulation.
* The feed catalogue's reads, as plain rows and small records rather than ORM objects.
* Follower counts as shown and ranked (issue #19): the exact count less the follows of flagged users,
  and the account reads that rank or show it.

Kept apart from ``content.service`` (one account or item at a time, with its rules and transitions)
because these only read, over any number of ids, chunked under the database's bound-parameter cap.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, case, func, select
from sqlalchemy.orm import Session

from zhongcao.content.models import (
    Account,
    AccountKind,
    Content,
    ContentAnchor,
    ContentKind,
    ContentStatus,
    Follow,
)
from zhongcao.db import core
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import FlagKind

# --- whole-platform snapshots for batch engines (feed policies, the market simulation) -----------


@dataclass(frozen=True)
class ContentSnapshot:
    """Every content item that is not removed, as aligned columns sorted by id."""

    content_ids: list[int]
    account_ids: list[int]
    kinds: list[ContentKind]
    statuses: list[ContentStatus]
    topics: list[str | None]
    scheduled_at: list[datetime | None]


def content_snapshot(db: Session) -> ContentSnapshot:
    rows = db.execute(
        select(
            Content.id, Content.account_id, Content.kind, Content.status, Content.topic, Content.scheduled_at
        )
        .where(Content.status != ContentStatus.removed)
        .order_by(Content.id)
    ).all()
    return ContentSnapshot(
        content_ids=[r[0] for r in rows],
        account_ids=[r[1] for r in rows],
        kinds=[r[2] for r in rows],
        statuses=[r[3] for r in rows],
        topics=[r[4] for r in rows],
        scheduled_at=[r[5] for r in rows],
    )


def follow_pairs(db: Session) -> tuple[list[int], list[int]]:
    """Every current follow as ``(user ids, account ids)``, ordered by user then account."""
    rows = db.execute(
        select(Follow.user_id, Follow.account_id).order_by(Follow.user_id, Follow.account_id)
    ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def account_shop_ids(db: Session, account_ids: Sequence[int]) -> dict[int, int | None]:
    """``account id -> shop id`` (``None`` for creators) for many accounts."""
    ids = sorted(set(account_ids))
    out: dict[int, int | None] = {}
    for start in range(0, len(ids), 5000):
        out.update(
            db.execute(
                select(Account.id, Account.shop_id).where(Account.id.in_(ids[start : start + 5000]))
            ).all()
        )
    return out


def content_created_after(db: Session, after_id: int) -> list[Content]:
    """Content with an id above ``after_id``, by id: what was published since a reader last looked
    (ids only grow, so this is one primary-key range probe; the search index polls it every second)."""
    return list(db.scalars(select(Content).where(Content.id > after_id).order_by(Content.id)))


def follow_pairs_until(db: Session, until: datetime | None = None) -> list[tuple[int, int]]:
    """``(user id, account id)`` of follows made before ``until`` (all when ``None``), by user then account."""
    stmt = select(Follow.user_id, Follow.account_id)
    if until is not None:
        stmt = stmt.where(Follow.created_at < until)
    return [(int(u), int(a)) for u, a in db.execute(stmt.order_by(Follow.user_id, Follow.account_id))]


def anchor_pairs(db: Session) -> list[tuple[int, int]]:
    """Every product anchor as ``(content id, product id)`` (analytics: which shops a video sells for)."""
    return [
        (int(c), int(p)) for c, p in db.execute(select(ContentAnchor.content_id, ContentAnchor.product_id))
    ]


# --- bulk reads for the feed's catalog ----------------------------------------------------------------
# Plain rows and small records rather than ORM objects: the feed reads every content item (100k+) at
# once, and loading them as ``Content`` objects would take several times as long.

_READ_CHUNK = 5000  # ids per IN list (SQLite caps bound parameters per statement)


def content_rows_after(
    db: Session, after_id: int = 0
) -> Sequence[Row[int, int, ContentKind, ContentStatus, datetime]]:
    """``(id, account id, kind, status, created at)`` of every content item with an id above ``after_id``
    (removed ones too), by id."""
    return db.execute(
        select(Content.id, Content.account_id, Content.kind, Content.status, Content.created_at)
        .where(Content.id > after_id)
        .order_by(Content.id)
    ).all()


_LIVE_ON_AIR = select(Content.id).where(
    Content.kind == ContentKind.live, Content.status == ContentStatus.live
)
_REMOVED = select(Content.id).where(Content.status == ContentStatus.removed)


def live_rooms_on_air(db: Session) -> list[int]:
    """Ids of the live rooms on air now, in one indexed query on status: cheap enough to re-read every
    few seconds (ended rooms, which only grow in number, are left out)."""
    return list(core(db).execute(_LIVE_ON_AIR).scalars())


def removed_content_ids(db: Session) -> list[int]:
    return list(core(db).execute(_REMOVED).scalars())


_REMOVED_AMONG = select(Content.id).where(
    Content.id.in_(bindparam("ids", expanding=True)), Content.status == ContentStatus.removed
)


def removed_among(db: Session, content_ids: Collection[int]) -> set[int]:
    """Which of a page's content ids are removed now: one primary-key read of at most a page, so a
    page served from a catalogue read a few seconds ago never shows what was taken down since."""
    if not content_ids:
        return set()
    return set(core(db).execute(_REMOVED_AMONG, {"ids": sorted(set(content_ids))}).scalars())


@dataclass(frozen=True, slots=True)
class AccountBrief:
    """What other domains show of a publishing account beside its content."""

    id: int
    is_shop: bool
    shop_id: int | None  # the shop of a shop account; None for a creator
    name: str
    follower_count: int


def account_briefs(db: Session, account_ids: Iterable[int]) -> dict[int, AccountBrief]:
    """Briefs of many accounts (chunked, so any number of ids); unknown ids are simply absent. The
    follower count is the one shown (:func:`shown_follower_counts`): the feed ranks on it."""
    ids = sorted(set(account_ids))
    out: dict[int, AccountBrief] = {}
    flagged = _flagged_follows()
    for start in range(0, len(ids), _READ_CHUNK):
        rows = db.execute(
            select(Account.id, Account.kind, Account.shop_id, Account.name, _shown_followers(flagged))
            .outerjoin(flagged, flagged.c.account_id == Account.id)
            .where(Account.id.in_(ids[start : start + _READ_CHUNK]))
        )
        for aid, kind, shop_id, name, followers in rows:
            out[aid] = AccountBrief(aid, kind is AccountKind.shop, shop_id, name, followers)
    return out


def find_creator_accounts(db: Session, query: str, *, limit: int = 20) -> list[Account]:
    """Creator accounts whose handle or name contains ``query`` (any case), most followed first (as
    shown: bought follows do not rank): how a merchant picks the creators to invite to a plan."""
    from sqlalchemy import or_

    needle = (query or "").strip().lower()
    if not needle:
        return []
    flagged = _flagged_follows()
    stmt = (
        select(Account)
        .outerjoin(flagged, flagged.c.account_id == Account.id)
        .where(
            Account.kind == AccountKind.creator,
            or_(
                func.lower(Account.handle).contains(needle, autoescape=True),
                func.lower(Account.name).contains(needle, autoescape=True),
            ),
        )
        .order_by(_shown_followers(flagged).desc(), Account.id)
        .limit(limit)
    )
    return list(db.scalars(stmt))


def creator_account_rows(db: Session) -> list[tuple[int, int]]:
    """Every creator account as ``(account id, follower count as shown)``, in id order (the matching
    engine's creators: bought follows must not match a creator to more products)."""
    flagged = _flagged_follows()
    rows = db.execute(
        select(Account.id, _shown_followers(flagged))
        .outerjoin(flagged, flagged.c.account_id == Account.id)
        .where(Account.kind == AccountKind.creator)
        .order_by(Account.id)
    )
    return [(int(a), int(n)) for a, n in rows]


def follow_counts_from(db: Session, account_ids: Iterable[int], user_ids: Iterable[int]) -> dict[int, int]:
    """``account id -> how many of user_ids follow it`` (accounts none of them follow are absent): the
    follows a case's flagged accounts gave each account it benefited (the operator's desk, issue #19)."""
    accounts = sorted(set(account_ids))
    users = sorted(set(user_ids))
    out: dict[int, int] = {}
    if not accounts or not users:
        return out
    for a in range(0, len(accounts), _READ_CHUNK):
        for u in range(0, len(users), _READ_CHUNK):
            rows = db.execute(
                select(Follow.account_id, func.count())
                .where(
                    Follow.account_id.in_(accounts[a : a + _READ_CHUNK]),
                    Follow.user_id.in_(users[u : u + _READ_CHUNK]),
                )
                .group_by(Follow.account_id)
            )
            for account_id, n in rows:
                out[int(account_id)] = out.get(int(account_id), 0) + int(n)
    return out


def content_owner_accounts(db: Session, content_ids: Iterable[int]) -> dict[int, int]:
    """``content id -> the account that published it``."""
    ids = sorted(set(content_ids))
    out: dict[int, int] = {}
    for start in range(0, len(ids), _READ_CHUNK):
        rows = db.execute(
            select(Content.id, Content.account_id).where(Content.id.in_(ids[start : start + _READ_CHUNK]))
        )
        out.update({int(c): int(a) for c, a in rows})
    return out


# --- follower counts as shown and ranked (issue #19) -------------------------------------------------
# ``accounts.follower_count`` is exact (every follow row counts). Wherever a follower count is shown
# or ranks anything (account and shop pages, feed cards and the feed's features, creator search and
# matching, the merchant's alliance pages, the account API), it is the exact count less the follows
# of users the integrity domain flags for bought engagement: their rows stay, and lifting the flag
# counts them again. Computed in the same SQL (an outer join on the flagged users' follows per
# account, a few rows), so no page pays another round trip for it.


def _flagged_follows() -> Any:
    """``account_id, n``: follows by the users flagged now."""
    return (
        select(Follow.account_id, func.count().label("n"))
        .where(Follow.user_id.in_(integrity_service.flagged_ids_query(FlagKind.user)))
        .group_by(Follow.account_id)
        .subquery("flagged_follows")
    )


def _shown_followers(flagged: Any) -> ColumnElement[int]:
    shown = Account.follower_count - func.coalesce(flagged.c.n, 0)
    return case((shown < 0, 0), else_=shown)


def shown_follower_counts(db: Session, account_ids: Iterable[int]) -> dict[int, int]:
    """``account id -> follower count as shown`` (unknown ids absent)."""
    ids = sorted(set(account_ids))
    out: dict[int, int] = {}
    flagged = _flagged_follows()
    for start in range(0, len(ids), _READ_CHUNK):
        rows = db.execute(
            select(Account.id, _shown_followers(flagged))
            .outerjoin(flagged, flagged.c.account_id == Account.id)
            .where(Account.id.in_(ids[start : start + _READ_CHUNK]))
        )
        out.update({int(a): int(n) for a, n in rows})
    return out
