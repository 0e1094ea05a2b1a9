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

Beside it: ``content.bulk`` creates many accounts, follows and items at once under these rules, and
``content.reads`` holds the many-row reads (snapshots, the feed's catalogue, follower counts as shown).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
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
from zhongcao.db import core, rows_changed
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import live_channel
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
    # One guarded UPDATE … RETURNING: the row moves only from the expected state, and a concurrent
    # request that moved it first leaves nothing to return (then the row is read to say why).
    moved = db.scalars(
        update(Content)
        .where(Content.id == content_id, Content.kind == kind, Content.status == from_status)
        .values(**values)
        .returning(Content),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if moved is None:
        db.rollback()
        raise _illegal(get_content(db, content_id), action)
    if kind is ContentKind.live:  # the room's open pages show it going on air or ending at once
        publish_after_commit(
            db, live_channel(content_id), {"type": "status", "status": values["status"].value}
        )
    db.commit()
    return moved


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
