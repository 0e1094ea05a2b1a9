"""Publishing accounts, follows, short videos and live sessions.

Rules kept here:

* A handle is unique, 3–40 characters of ``[a-z0-9_]``. A shop may have several accounts of its own
  (FACT "Field"); a creator user has at most one account (FACT "Alliance").
* ``follower_count`` is exact: it only ever changes by an atomic ``UPDATE ... SET n = n ± 1`` in the
  same transaction as the insert or delete of the follow row, and only when that insert or delete
  actually changed a row. Repeated or concurrent follows/unfollows therefore cannot drift it.
* What may be anchored: a shop account anchors its own shop's products that are on sale; a creator
  anchors only products an affiliate plan lets them promote (``affiliate.service``).
* Lifecycles: short videos are ``published -> removed``; live sessions ``scheduled -> live -> ended``.
  Every transition is a conditional UPDATE on the expected status, so of two concurrent requests
  only one wins and the other gets ``illegal_transition``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.service import ProductBrief
from zhongcao.content.models import (
    Account,
    AccountKind,
    Content,
    ContentAnchor,
    ContentKind,
    ContentStatus,
    ContentVideo,
    Follow,
    LiveProductSet,
)
from zhongcao.db import core, insert_rows, insert_rows_returning_ids, rows_changed
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import FlagKind
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import live_channel
from zhongcao.shops import service as shops_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

HANDLE_RE = re.compile(r"^[a-z0-9_]{3,40}$")
MAX_ANCHORS = 50
MAX_PRODUCT_SETS = 20


# --- accounts ------------------------------------------------------------------------------------


def creator_account_for_user(db: Session, user_id: int) -> Account | None:
    return db.scalar(select(Account).where(Account.kind == AccountKind.creator, Account.user_id == user_id))


def get_account(db: Session, account_id: int) -> Account:
    account = db.get(Account, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    return account


def accounts_by_ids(db: Session, account_ids: Sequence[int]) -> dict[int, Account]:
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    return {a.id: a for a in db.scalars(select(Account).where(Account.id.in_(ids)))}


def shop_account(db: Session, shop_id: int, account_id: int) -> Account | None:
    """The account if it is one of ``shop_id``'s own accounts, else None."""
    return db.scalar(
        select(Account).where(
            Account.id == account_id, Account.kind == AccountKind.shop, Account.shop_id == shop_id
        )
    )


def shop_account_ids(db: Session, shop_id: int) -> list[int]:
    return list(
        db.scalars(
            select(Account.id)
            .where(Account.kind == AccountKind.shop, Account.shop_id == shop_id)
            .order_by(Account.id)
        )
    )


def shop_accounts_page(db: Session, shop_id: int, params: PageParams) -> tuple[Sequence[Account], str | None]:
    stmt = select(Account).where(Account.kind == AccountKind.shop, Account.shop_id == shop_id)
    return paginate_by_id(db, stmt, Account.id, params)


def _check_handle(handle: str) -> None:
    if not HANDLE_RE.fullmatch(handle):
        raise InvalidInput(
            "a handle is 3 to 40 characters of a-z, 0-9 and _", code="invalid_handle", field="handle"
        )


def _handle_taken() -> Conflict:
    return Conflict("this handle is taken", code="handle_taken", field="handle")


def _insert_account(db: Session, account: Account) -> Account:
    _check_handle(account.handle)
    if db.scalar(select(Account.id).where(Account.handle == account.handle)) is not None:
        raise _handle_taken()
    db.add(account)
    try:
        db.flush()
    except IntegrityError as exc:  # a concurrent request took the same handle
        db.rollback()
        raise _handle_taken() from exc
    return account


def create_shop_account(
    db: Session, shop_id: int, *, handle: str, name: str, niche: str | None = None
) -> Account:
    account = _insert_account(
        db, Account(kind=AccountKind.shop, shop_id=shop_id, handle=handle, name=name, niche=niche)
    )
    db.commit()
    return account


def create_creator_account(
    db: Session, user_id: int, *, handle: str, name: str, niche: str | None = None, commit: bool = True
) -> Account:
    user = users_service.get_user(db, user_id)
    if user.role != Role.creator:
        raise Forbidden("only creators have a creator account", code="wrong_role")
    if creator_account_for_user(db, user_id) is not None:
        raise Conflict("this creator already has an account", code="creator_account_exists")
    account = _insert_account(
        db, Account(kind=AccountKind.creator, user_id=user_id, handle=handle, name=name, niche=niche)
    )
    if commit:
        db.commit()
    return account


def set_top_kol(db: Session, account_id: int, is_top_kol: bool) -> Account:
    """Mark a creator account as Top-KOL (FACT "K"); shop accounts are Field, never KOLs."""
    account = get_account(db, account_id)
    if account.kind != AccountKind.creator:
        raise InvalidInput(
            "only creator accounts can be Top-KOL accounts", code="not_a_creator_account", field="is_top_kol"
        )
    account.is_top_kol = is_top_kol
    db.commit()
    return account


# --- follows -------------------------------------------------------------------------------------


def _insert_follow_if_absent(db: Session, user_id: int, account_id: int) -> bool:
    """Insert the follow row unless it exists; True when this call inserted it.

    ON CONFLICT DO NOTHING makes two concurrent follows of the same pair safe: one inserts, the other
    sees a conflict (after waiting for the first to commit on PostgreSQL) and inserts nothing.
    """
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = Follow.__table__
    stmt = (
        dialect.insert(table)
        .values(user_id=user_id, account_id=account_id, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.account_id])
        .returning(table.c.id)
    )
    return db.execute(stmt).first() is not None


def _bump_follower_count(db: Session, account_id: int, delta: int) -> None:
    db.execute(
        update(Account).where(Account.id == account_id).values(follower_count=Account.follower_count + delta)
    )


def follow_account(db: Session, user_id: int, account_id: int) -> Account:
    """Follow ``account_id``; following an account already followed changes nothing."""
    account = get_account(db, account_id)
    if _insert_follow_if_absent(db, user_id, account_id):
        _bump_follower_count(db, account_id, +1)
    db.commit()
    db.refresh(account)
    return account


def unfollow_account(db: Session, user_id: int, account_id: int) -> Account:
    """Stop following ``account_id``; unfollowing an account not followed changes nothing."""
    account = get_account(db, account_id)
    deleted = rows_changed(
        db.execute(delete(Follow).where(Follow.user_id == user_id, Follow.account_id == account_id))
    )
    if deleted:
        _bump_follower_count(db, account_id, -deleted)
    db.commit()
    db.refresh(account)
    return account


def follows(db: Session, user_id: int, account_id: int) -> bool:
    return (
        db.scalar(select(Follow.id).where(Follow.user_id == user_id, Follow.account_id == account_id))
        is not None
    )


# Prebuilt Core statements for what every feed request reads: a third of the ORM's cost per query.
_FOLLOWED_BY_USER = (
    select(Follow.account_id).where(Follow.user_id == bindparam("user_id")).order_by(Follow.id)
)
_TITLES_BY_ID = select(Content.id, Content.title_zh, Content.title_en).where(
    Content.id.in_(bindparam("ids", expanding=True))
)


def followed_account_ids(db: Session, user_id: int) -> list[int]:
    return list(core(db).execute(_FOLLOWED_BY_USER, {"user_id": user_id}).scalars())


def follows_page(
    db: Session, user_id: int, params: PageParams
) -> tuple[list[tuple[Follow, Account]], str | None]:
    """The user's follows, newest first, each with its account."""
    rows, cursor = paginate_by_id(db, select(Follow).where(Follow.user_id == user_id), Follow.id, params)
    accounts = accounts_by_ids(db, [f.account_id for f in rows])
    return [(f, accounts[f.account_id]) for f in rows], cursor


# --- content -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoSpec:
    """A short video's uploaded video and chosen poster (``media`` ids the caller has checked are the
    publisher's own: :func:`zhongcao.flows.publish_content`)."""

    media_id: int
    poster_media_id: int | None = None


@dataclass(frozen=True)
class ProductSetSpec:
    name: str
    product_ids: Sequence[int]


def _check_kind_fields(
    kind: ContentKind,
    duration_seconds: int | None,
    scheduled_at: datetime | None,
    product_sets: Sequence[ProductSetSpec],
) -> None:
    if kind == ContentKind.short_video:
        if scheduled_at is not None:
            raise InvalidInput(
                "short videos are published at once; only live sessions are scheduled",
                code="not_for_short_video",
                field="scheduled_at",
            )
        if product_sets:
            raise InvalidInput(
                "product sets belong to live sessions", code="not_for_short_video", field="product_sets"
            )
    else:
        if duration_seconds is not None:
            raise InvalidInput(
                "a live session's duration is known when it ends",
                code="not_for_live",
                field="duration_seconds",
            )
        if scheduled_at is not None and scheduled_at <= clock.now():
            raise InvalidInput(
                "a live session must be scheduled in the future",
                code="scheduled_at_not_in_future",
                field="scheduled_at",
            )


def _check_anchor_list(anchors: Sequence[int], product_sets: Sequence[ProductSetSpec]) -> dict[int, int]:
    """Check the anchors and sets fit together; return product id -> index of its set."""
    if len(anchors) > MAX_ANCHORS:
        raise InvalidInput(f"at most {MAX_ANCHORS} anchors", code="too_many_anchors", field="anchors")
    seen: set[int] = set()
    for i, product_id in enumerate(anchors):
        if product_id in seen:
            raise InvalidInput(
                "a product is anchored at most once", code="duplicate_anchor", field=f"anchors[{i}]"
            )
        seen.add(product_id)
    if len(product_sets) > MAX_PRODUCT_SETS:
        raise InvalidInput(
            f"at most {MAX_PRODUCT_SETS} product sets", code="too_many_product_sets", field="product_sets"
        )
    set_of_product: dict[int, int] = {}
    names: set[str] = set()
    for s, product_set in enumerate(product_sets):
        if product_set.name in names:
            raise InvalidInput(
                "product set names must differ",
                code="duplicate_product_set_name",
                field=f"product_sets[{s}].name",
            )
        names.add(product_set.name)
        for j, product_id in enumerate(product_set.product_ids):
            where = f"product_sets[{s}].product_ids[{j}]"
            if product_id not in seen:
                raise InvalidInput(
                    "a product set may only hold anchored products", code="product_not_anchored", field=where
                )
            if product_id in set_of_product:
                raise InvalidInput(
                    "a product belongs to at most one product set",
                    code="product_already_in_a_set",
                    field=where,
                )
            set_of_product[product_id] = s
    return set_of_product


# Which products a creator account may anchor is affiliate's answer, asked by zhongcao.flows and
# handed in: affiliate reads content (creator accounts), so content does not import affiliate.
PromotableProducts = Callable[[Sequence[int]], Collection[int]]
PromotablePairs = Callable[[Sequence[tuple[int, int]]], Collection[tuple[int, int]]]


def _nothing_promotable(asked: Sequence[Any]) -> Collection[Any]:
    return ()


def _check_anchorable(
    db: Session, account: Account, anchors: Sequence[int], promotable: PromotableProducts
) -> None:
    if not anchors:
        return
    if account.kind == AccountKind.shop:
        briefs = catalog_service.product_briefs(db, anchors)
        for i, product_id in enumerate(anchors):
            brief = briefs.get(product_id)
            # Another shop's product reads exactly like a missing one.
            if brief is None or brief.shop_id != account.shop_id:
                raise InvalidInput(
                    "a shop account anchors only its own shop's products",
                    code="product_not_found",
                    field=f"anchors[{i}]",
                )
            if not brief.on_sale:
                raise InvalidInput(
                    "this product is not on sale", code="product_not_on_sale", field=f"anchors[{i}]"
                )
        return
    allowed = set(promotable(anchors))
    for i, product_id in enumerate(anchors):
        if product_id not in allowed:
            raise InvalidInput(
                "no active affiliate plan lets this creator promote this product",
                code="product_not_promotable",
                field=f"anchors[{i}]",
            )


def publish_content(
    db: Session,
    account_id: int,
    *,
    kind: ContentKind,
    title_zh: str,
    title_en: str,
    topic: str | None = None,
    duration_seconds: int | None = None,
    scheduled_at: datetime | None = None,
    anchors: Sequence[int] = (),
    product_sets: Sequence[ProductSetSpec] = (),
    promotable: PromotableProducts = _nothing_promotable,
    video: VideoSpec | None = None,
) -> Content:
    """Create a short video (published at once) or a live session (scheduled) with its anchors.

    ``promotable`` answers which of a creator's anchors an active affiliate plan allows (see
    :func:`zhongcao.flows.publish_content`); without it a creator may anchor nothing."""
    account = get_account(db, account_id)
    _check_kind_fields(kind, duration_seconds, scheduled_at, product_sets)
    set_of_product = _check_anchor_list(anchors, product_sets)
    _check_anchorable(db, account, anchors, promotable)
    if video is not None and kind is not ContentKind.short_video:
        raise InvalidInput(
            "only a short video plays an uploaded video", code="video_not_allowed", field="video"
        )

    content = Content(
        account_id=account.id,
        kind=kind,
        status=ContentStatus.published if kind == ContentKind.short_video else ContentStatus.scheduled,
        title_zh=title_zh,
        title_en=title_en,
        topic=topic,
        duration_seconds=duration_seconds,
        scheduled_at=scheduled_at,
    )
    db.add(content)
    db.flush()
    set_rows = [
        LiveProductSet(content_id=content.id, name=s.name, position=i) for i, s in enumerate(product_sets)
    ]
    db.add_all(set_rows)
    db.flush()
    db.add_all(
        ContentAnchor(
            content_id=content.id,
            product_id=product_id,
            position=position,
            product_set_id=set_rows[set_of_product[product_id]].id if product_id in set_of_product else None,
        )
        for position, product_id in enumerate(anchors)
    )
    if video is not None:
        db.add(
            ContentVideo(
                content_id=content.id, media_id=video.media_id, poster_media_id=video.poster_media_id
            )
        )
    db.commit()
    return content


def get_content(db: Session, content_id: int) -> Content:
    """Any content by id, whatever its status."""
    content = db.get(Content, content_id)
    if content is None:
        raise NotFound("content not found", code="content_not_found")
    return content


def get_public_content(db: Session, content_id: int) -> Content:
    """Content anyone may see: everything except removed videos."""
    content = get_content(db, content_id)
    if content.status == ContentStatus.removed:
        raise NotFound("content not found", code="content_not_found")
    return content


def content_by_ids(db: Session, content_ids: Sequence[int]) -> dict[int, Content]:
    ids = sorted(set(content_ids))
    if not ids:
        return {}
    return {c.id: c for c in db.scalars(select(Content).where(Content.id.in_(ids)))}


def content_titles(db: Session, content_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(title_zh, title_en) per content id: the two columns a feed card needs, not whole rows."""
    ids = sorted(set(content_ids))
    if not ids:
        return {}
    rows = core(db).execute(_TITLES_BY_ID, {"ids": ids})
    return {cid: (zh, en) for cid, zh, en in rows}


def content_for_shop(db: Session, shop_id: int, content_id: int) -> Content:
    """Content published by one of the shop's own accounts; anything else is not found."""
    content = db.scalar(
        select(Content)
        .join(Account, Account.id == Content.account_id)
        .where(Content.id == content_id, Account.kind == AccountKind.shop, Account.shop_id == shop_id)
    )
    if content is None:
        raise NotFound("content not found", code="content_not_found")
    return content


def content_for_account(db: Session, account_id: int, content_id: int) -> Content:
    content = db.scalar(select(Content).where(Content.id == content_id, Content.account_id == account_id))
    if content is None:
        raise NotFound("content not found", code="content_not_found")
    return content


def anchored_product_ids(db: Session, content_id: int) -> list[int]:
    """The content's anchored products in display order."""
    return list(
        db.scalars(
            select(ContentAnchor.product_id)
            .where(ContentAnchor.content_id == content_id)
            .order_by(ContentAnchor.position)
        )
    )


def anchored_product_ids_by_content(db: Session, content_ids: Sequence[int]) -> dict[int, list[int]]:
    ids = sorted(set(content_ids))
    out: dict[int, list[int]] = {cid: [] for cid in ids}
    if not ids:
        return out
    rows = db.execute(
        select(ContentAnchor.content_id, ContentAnchor.product_id)
        .where(ContentAnchor.content_id.in_(ids))
        .order_by(ContentAnchor.content_id, ContentAnchor.position)
    )
    for content_id, product_id in rows:
        out[content_id].append(product_id)
    return out


def _content_page(
    db: Session,
    stmt: Any,
    params: PageParams,
    kind: ContentKind | None,
    status: ContentStatus | None,
) -> tuple[Sequence[Content], str | None]:
    if kind is not None:
        stmt = stmt.where(Content.kind == kind)
    if status is not None:
        stmt = stmt.where(Content.status == status)
    return paginate_by_id(db, stmt, Content.id, params)


def shop_content_page(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    account_id: int | None = None,
    kind: ContentKind | None = None,
    status: ContentStatus | None = None,
) -> tuple[Sequence[Content], str | None]:
    """Everything the shop's own accounts published, removed content included."""
    stmt = select(Content).where(
        Content.account_id.in_(
            select(Account.id).where(Account.kind == AccountKind.shop, Account.shop_id == shop_id)
        )
    )
    if account_id is not None:
        stmt = stmt.where(Content.account_id == account_id)
    return _content_page(db, stmt, params, kind, status)


def account_content_page(
    db: Session,
    account_id: int,
    params: PageParams,
    *,
    kind: ContentKind | None = None,
    status: ContentStatus | None = None,
) -> tuple[Sequence[Content], str | None]:
    """Everything one account published, removed content included (for its owner)."""
    return _content_page(db, select(Content).where(Content.account_id == account_id), params, kind, status)


def public_content_page(
    db: Session,
    params: PageParams,
    *,
    account_ids: Sequence[int] | None = None,
    kind: ContentKind | None = None,
) -> tuple[Sequence[Content], str | None]:
    """Content anyone may see (not removed), newest first, optionally of some accounts only."""
    stmt = select(Content).where(Content.status != ContentStatus.removed)
    if account_ids is not None:
        stmt = stmt.where(Content.account_id.in_(list(account_ids)))
    return _content_page(db, stmt, params, kind, None)


def watchable_content_page(db: Session, params: PageParams) -> tuple[Sequence[Content], str | None]:
    """What can be watched right now, newest first: published short videos and live rooms on air
    (the web feed's list when there is no trained feed model or nobody is signed in)."""
    stmt = select(Content).where(Content.status.in_([ContentStatus.published, ContentStatus.live]))
    return paginate_by_id(db, stmt, Content.id, params)


@dataclass
class ContentView:
    """A piece of content with what a viewer sees around it."""

    content: Content
    account: Account
    anchors: list[tuple[ContentAnchor, ProductBrief | None]] = field(default_factory=list)
    product_sets: list[tuple[LiveProductSet, list[int]]] = field(default_factory=list)


def content_view(db: Session, content: Content) -> ContentView:
    anchors = list(
        db.scalars(
            select(ContentAnchor)
            .where(ContentAnchor.content_id == content.id)
            .order_by(ContentAnchor.position)
        )
    )
    sets = list(
        db.scalars(
            select(LiveProductSet)
            .where(LiveProductSet.content_id == content.id)
            .order_by(LiveProductSet.position)
        )
    )
    briefs = catalog_service.product_briefs(db, [a.product_id for a in anchors])
    members: dict[int, list[int]] = {s.id: [] for s in sets}
    for anchor in anchors:
        if anchor.product_set_id is not None:
            members[anchor.product_set_id].append(anchor.product_id)
    return ContentView(
        content=content,
        account=get_account(db, content.account_id),
        anchors=[(a, briefs.get(a.product_id)) for a in anchors],
        product_sets=[(s, members[s.id]) for s in sets],
    )


def _illegal(content: Content, action: str) -> Conflict:
    return Conflict(
        f"cannot {action} {content.kind.value} content that is {content.status.value}",
        code="illegal_transition",
        details={"kind": content.kind.value, "status": content.status.value, "action": action},
    )


def _transition(
    db: Session,
    content_id: int,
    *,
    action: str,
    kind: ContentKind,
    from_status: ContentStatus,
    values: dict[str, Any],
) -> Content:
    content = get_content(db, content_id)
    if content.kind != kind or content.status != from_status:
        raise _illegal(content, action)
    changed = rows_changed(
        db.execute(
            update(Content).where(Content.id == content_id, Content.status == from_status).values(**values)
        )
    )
    if changed != 1:  # a concurrent request moved it first
        db.rollback()
        db.refresh(content)
        raise _illegal(content, action)
    if kind is ContentKind.live:  # the room's open pages show it going on air or ending at once
        publish_after_commit(
            db, live_channel(content_id), {"type": "status", "status": values["status"].value}
        )
    db.commit()
    db.refresh(content)
    return content


def start_live(db: Session, content_id: int) -> Content:
    """scheduled -> live. A host may go live before the announced time."""
    return _transition(
        db,
        content_id,
        action="start",
        kind=ContentKind.live,
        from_status=ContentStatus.scheduled,
        values={"status": ContentStatus.live, "started_at": clock.now()},
    )


def end_live(db: Session, content_id: int) -> Content:
    """live -> ended; the pin goes with the session."""
    return _transition(
        db,
        content_id,
        action="end",
        kind=ContentKind.live,
        from_status=ContentStatus.live,
        values={"status": ContentStatus.ended, "ended_at": clock.now(), "pinned_product_id": None},
    )


def remove_content(db: Session, content_id: int) -> Content:
    """published -> removed (short videos)."""
    return _transition(
        db,
        content_id,
        action="remove",
        kind=ContentKind.short_video,
        from_status=ContentStatus.published,
        values={"status": ContentStatus.removed},
    )


def _not_live(content: Content) -> Conflict:
    return Conflict(
        "products are pinned only while the session is live",
        code="content_not_live",
        details={"kind": content.kind.value, "status": content.status.value},
    )


def _set_pin(db: Session, content: Content, product_id: int | None) -> Content:
    changed = rows_changed(
        db.execute(
            update(Content)
            .where(Content.id == content.id, Content.status == ContentStatus.live)
            .values(pinned_product_id=product_id)
        )
    )
    if changed != 1:  # the session ended meanwhile
        db.rollback()
        db.refresh(content)
        raise _not_live(content)
    # Every open room shows the pinned card at once (web/live.py reads the product's card).
    publish_after_commit(db, live_channel(content.id), {"type": "pin", "product_id": product_id})
    db.commit()
    db.refresh(content)
    return content


def pin_product(db: Session, content_id: int, product_id: int) -> Content:
    """Pin one of a live session's anchored, on-sale products (replacing any earlier pin)."""
    content = get_content(db, content_id)
    if content.kind != ContentKind.live or content.status != ContentStatus.live:
        raise _not_live(content)
    if product_id not in anchored_product_ids(db, content_id):
        raise InvalidInput(
            "only an anchored product can be pinned", code="product_not_anchored", field="product_id"
        )
    brief = catalog_service.product_briefs(db, [product_id]).get(product_id)
    if brief is None or not brief.on_sale:
        raise InvalidInput("this product is not on sale", code="product_not_on_sale", field="product_id")
    return _set_pin(db, content, product_id)


def unpin_product(db: Session, content_id: int) -> Content:
    content = get_content(db, content_id)
    if content.kind != ContentKind.live or content.status != ContentStatus.live:
        raise _not_live(content)
    return _set_pin(db, content, None)


# --- bulk creation (demo world, imports) ---------------------------------------------------------

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
    """Create many accounts with the rules of :func:`create_shop_account`, :func:`create_creator_account`
    and :func:`set_top_kol`, all checked before anything is written. Flushes only; ids in input order."""
    if not rows:
        return []
    handles: dict[str, int] = {}
    creator_users: dict[int, int] = {}
    for i, row in enumerate(rows):
        _check_handle(row.handle)
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
            raise _handle_taken()
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

    Pairs already following (or repeated) are skipped, as :func:`follow_account` would. Returns the
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
    db: Session, items: Sequence[NewContent], *, promotable_pairs: PromotablePairs = _nothing_promotable
) -> list[int]:
    """Publish many items under :func:`publish_content`'s rules, each checked before anything is
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
        accounts.update(accounts_by_ids(db, account_ids[start : start + _BULK_CHUNK]))
    for i, item in enumerate(items):
        if item.account_id not in accounts:
            raise NotFound("account not found", code="account_not_found", field=f"items[{i}].account_id")
        _check_text_field(item.title_zh, f"items[{i}].title_zh", 120)
        _check_text_field(item.title_en, f"items[{i}].title_en", 200)
        _check_kind_fields(item.kind, item.duration_seconds, item.scheduled_at, ())
        _check_anchor_list(item.anchors, ())
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


# Whole-platform snapshots for batch engines (feed policies, the market simulation) ----------------


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
