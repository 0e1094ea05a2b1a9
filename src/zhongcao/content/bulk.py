"""Creating accounts, follows and content many at a time (the demo world, imports).

Each call takes a whole batch under the rules of the one-at-a-time functions in ``content.service``
(handles, roles, kind fields, anchor lists, what an account may anchor), checks every row before it
writes anything, writes with multi-row INSERTs in chunks and only flushes: the caller commits.
Kept apart from ``service`` because it is another way in to the same rules, used by the world's
generator and simulation rather than by requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.content import service
from zhongcao.content.models import (
    Account,
    AccountKind,
    Content,
    ContentAnchor,
    ContentKind,
    ContentStatus,
    Follow,
)
from zhongcao.db import insert_rows, insert_rows_returning_ids
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.shops import service as shops_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

_BULK_CHUNK = 5000
# Rows per INSERT call: SQLAlchemy sends this many as one multi-row statement, where larger calls
# split into pages whose RETURNING rows are re-joined at a cost that grows with the square of the pages.


@dataclass(frozen=True)
class NewAccount:
    """One account for :func:`create_accounts_bulk`: a shop's (``shop_id``) or a creator's (``user_id``)."""

    kind: AccountKind
    handle: str
    name: str
    shop_id: int | None = None
    user_id: int | None = None
    niche: str | None = None
    is_top_kol: bool = False


def create_accounts_bulk(db: Session, rows: Sequence[NewAccount]) -> list[int]:
    """Create many accounts with the rules of :func:`service.create_shop_account`,
    :func:`service.create_creator_account` and :func:`service.set_top_kol`, all checked before anything
    is written. Flushes only; ids in input order."""
    if not rows:
        return []
    handles: dict[str, int] = {}
    creator_users: dict[int, int] = {}
    for i, row in enumerate(rows):
        service._check_handle(row.handle)
        if row.handle in handles:
            raise Conflict(
                f"handle {row.handle!r} appears twice", code="handle_taken", field=f"accounts[{i}].handle"
            )
        handles[row.handle] = i
        if row.kind == AccountKind.shop:
            if row.shop_id is None or row.user_id is not None:
                raise InvalidInput("a shop account names its shop only", field=f"accounts[{i}].shop_id")
            if row.is_top_kol:
                raise InvalidInput(
                    "only creator accounts can be Top-KOL accounts",
                    code="not_a_creator_account",
                    field=f"accounts[{i}].is_top_kol",
                )
        else:
            if row.user_id is None or row.shop_id is not None:
                raise InvalidInput("a creator account names its user only", field=f"accounts[{i}].user_id")
            if row.user_id in creator_users:
                raise Conflict("this creator already has an account", code="creator_account_exists")
            creator_users[row.user_id] = i
    names = list(handles)
    for start in range(0, len(names), _BULK_CHUNK):
        if db.scalar(
            select(Account.id).where(Account.handle.in_(names[start : start + _BULK_CHUNK])).limit(1)
        ):
            raise service._handle_taken()
    users = users_service.users_by_ids(db, creator_users)
    for user_id, i in creator_users.items():
        user = users.get(user_id)
        if user is None:
            raise NotFound("user not found", code="user_not_found", field=f"accounts[{i}].user_id")
        if user.role != Role.creator:
            raise Forbidden("only creators have a creator account", code="wrong_role")
    user_ids = sorted(creator_users)
    for start in range(0, len(user_ids), _BULK_CHUNK):
        chunk = user_ids[start : start + _BULK_CHUNK]
        if db.scalar(select(Account.id).where(Account.user_id.in_(chunk)).limit(1)) is not None:
            raise Conflict("this creator already has an account", code="creator_account_exists")
    shop_ids = {row.shop_id for row in rows if row.shop_id is not None}
    missing = shop_ids - set(shops_service.shops_by_ids(db, shop_ids))
    if missing:
        raise NotFound("shop not found", code="shop_not_found", details={"shop_ids": sorted(missing)})
    now = clock.now()
    values = [
        {
            "kind": row.kind,
            "shop_id": row.shop_id,
            "user_id": row.user_id,
            "handle": row.handle,
            "name": row.name,
            "niche": row.niche,
            "is_top_kol": row.is_top_kol,
            "follower_count": 0,
            "created_at": now,
        }
        for row in rows
    ]
    ids = insert_rows_returning_ids(db, Account.__table__, values)
    return ids


def follow_bulk(db: Session, pairs: Sequence[tuple[int, int]]) -> int:
    """Make each ``(user_id, account_id)`` follow, keeping ``follower_count`` exact; flushes only.

    Pairs already following (or repeated) are skipped, as :func:`service.follow_account` would. Returns the
    number of new follows.
    """
    wanted = sorted(set(pairs))
    if not wanted:
        return 0
    user_ids = sorted({u for u, _ in wanted})
    existing: set[tuple[int, int]] = set()
    for start in range(0, len(user_ids), _BULK_CHUNK):
        chunk = user_ids[start : start + _BULK_CHUNK]
        existing.update(
            (u, a)
            for u, a in db.execute(select(Follow.user_id, Follow.account_id).where(Follow.user_id.in_(chunk)))
        )
    new = [pair for pair in wanted if pair not in existing]
    now = clock.now()
    rows = [{"user_id": u, "account_id": a, "created_at": now} for u, a in new]
    insert_rows(db, Follow.__table__, rows)
    gained: dict[int, int] = {}
    for _, account_id in new:
        gained[account_id] = gained.get(account_id, 0) + 1
    table = Account.__table__
    assert isinstance(table, Table)  # declared as any FromClause; a mapped class's own table is a Table
    if gained:
        db.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(follower_count=table.c.follower_count + bindparam("b_n")),
            [{"b_id": a, "b_n": n} for a, n in sorted(gained.items())],
        )
    return len(new)


@dataclass(frozen=True)
class NewContent:
    """One short video or live session for :func:`publish_content_bulk` (no product sets)."""

    account_id: int
    kind: ContentKind
    title_zh: str
    title_en: str
    topic: str | None = None
    duration_seconds: int | None = None
    scheduled_at: datetime | None = None
    anchors: Sequence[int] = ()
    # When it was published (a back catalogue brought in at once); None: now. Never in the future.
    published_at: datetime | None = None


def publish_content_bulk(
    db: Session,
    items: Sequence[NewContent],
    *,
    promotable_pairs: service.PromotablePairs = service._nothing_promotable,
) -> list[int]:
    """Publish many items under :func:`service.publish_content`'s rules, each checked before anything is
    written: kind fields, anchor lists, and that each account may anchor its products (a shop its own
    on-sale products; a creator what an active affiliate plan lets it promote: ``promotable_pairs``
    answers for ``(account id, product id)`` pairs, see :func:`zhongcao.flows.publish_content_bulk`).
    Flushes only."""
    if not items:
        return []
    now = clock.now()
    accounts: dict[int, Account] = {}
    account_ids = sorted({item.account_id for item in items})
    for start in range(0, len(account_ids), _BULK_CHUNK):
        accounts.update(service.accounts_by_ids(db, account_ids[start : start + _BULK_CHUNK]))
    for i, item in enumerate(items):
        if item.account_id not in accounts:
            raise NotFound("account not found", code="account_not_found", field=f"items[{i}].account_id")
        _check_text_field(item.title_zh, f"items[{i}].title_zh", 120)
        _check_text_field(item.title_en, f"items[{i}].title_en", 200)
        service._check_kind_fields(item.kind, item.duration_seconds, item.scheduled_at, ())
        service._check_anchor_list(item.anchors, ())
        if item.published_at is not None and item.published_at > now:
            raise InvalidInput("content cannot be published in the future", field=f"items[{i}].published_at")
    shop_pairs = [
        (i, accounts[item.account_id], pid)
        for i, item in enumerate(items)
        if accounts[item.account_id].kind == AccountKind.shop
        for pid in item.anchors
    ]
    # (shop id, category id, on sale) per product: columns only, as this runs over many rows.
    placements = catalog_service.product_placements(db, {pid for _, _, pid in shop_pairs})
    for i, account, pid in shop_pairs:
        placement = placements.get(pid)
        if placement is None or placement[0] != account.shop_id:
            raise InvalidInput(
                "a shop account anchors only its own shop's products",
                code="product_not_found",
                field=f"items[{i}].anchors",
            )
        if not placement[2]:
            raise InvalidInput(
                "this product is not on sale", code="product_not_on_sale", field=f"items[{i}].anchors"
            )
    creator_pairs = [
        (i, item.account_id, pid)
        for i, item in enumerate(items)
        if accounts[item.account_id].kind == AccountKind.creator
        for pid in item.anchors
    ]
    allowed = set(promotable_pairs([(a, p) for _, a, p in creator_pairs])) if creator_pairs else set()
    for i, account_id, pid in creator_pairs:
        if (account_id, pid) not in allowed:
            raise InvalidInput(
                "no active affiliate plan lets this creator promote this product",
                code="product_not_promotable",
                field=f"items[{i}].anchors",
            )
    values = [
        {
            "account_id": item.account_id,
            "kind": item.kind,
            "status": ContentStatus.published
            if item.kind == ContentKind.short_video
            else ContentStatus.scheduled,
            "title_zh": item.title_zh,
            "title_en": item.title_en,
            "topic": item.topic,
            "duration_seconds": item.duration_seconds,
            "scheduled_at": item.scheduled_at,
            "created_at": item.published_at or now,
        }
        for item in items
    ]
    ids = insert_rows_returning_ids(db, Content.__table__, values)
    anchors = [
        {"content_id": content_id, "product_id": pid, "position": position, "product_set_id": None}
        for content_id, item in zip(ids, items, strict=True)
        for position, pid in enumerate(item.anchors)
    ]
    insert_rows(db, ContentAnchor.__table__, anchors)
    return ids


def _check_text_field(value: str, field_name: str, max_length: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(f"{field_name} must be text of at most {max_length} characters", field=field_name)
