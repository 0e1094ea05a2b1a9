"""Integrity workflows across domains (issue #19, part B): what the detectors read, the scan that turns
their blocks into cases and flags, an operator's decision with its consequences, and what a case
discounted for the shops and creators it benefited.

Beside :mod:`zhongcao.flows` in the flows layer: it reads the event store (engagement), commerce
(orders) and reviews through their services and writes through the integrity service, so no domain
reads another's tables. The detector itself is a parameter (``Callable[[IntegrityInputs],
list[Block]]``): ``zhongcao.integrity.detect.detect_blocks`` is the platform's default;
:func:`set_detector` installs another (tests plant their own).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.commerce import service as commerce_service
from zhongcao.config import Settings
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.db import Database
from zhongcao.events.store import EventStore
from zhongcao.integrity import holds as integrity_holds
from zhongcao.integrity import published as integrity_published
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import Block
from zhongcao.integrity.brushing import HOLD_SECONDS, held_orders
from zhongcao.integrity.detect import detect_blocks
from zhongcao.integrity.inputs import UNKNOWN, Action, Engagement, IntegrityInputs, Orders, Reviews
from zhongcao.integrity.models import (
    CaseStatus,
    FlagKind,
    IntegrityCase,
    IntegritySanction,
    SanctionLevel,
    SanctionSubject,
)
from zhongcao.notifications import service as notifications_service
from zhongcao.notifications.models import NotificationKind
from zhongcao.reviews import service as reviews_service
from zhongcao.shops import sanctions as shop_sanctions
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import ShopStatus

log = logging.getLogger("zhongcao.integrity")

Detector = Callable[[IntegrityInputs], list[Block]]
# How far back one scan looks: a farm's burst or a brushing ring's week of orders.
SCAN_WINDOW = timedelta(days=7)
# Event type in the store -> the detectors' action. A "view" is a play: the feed's impressions are
# what the platform served, not what an account chose to do.
EVENT_ACTIONS = {"play": Action.view, "like": Action.like, "comment": Action.comment, "follow": Action.follow}

_detector: Detector | None = detect_blocks


def set_detector(detector: Detector | None) -> None:
    """Install the batch detector the ``integrity_scan`` job runs (default: every detector of
    :func:`zhongcao.integrity.detect.detect_blocks`; None: the job records nothing)."""
    global _detector
    _detector = detector


def detector() -> Detector | None:
    return _detector


# --- inputs ----------------------------------------------------------------------------------------


def _key(text: str) -> int:
    """A stable non-negative int64 hash (never UNKNOWN)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") & (2**63 - 1)


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def address_key(address: dict[str, Any] | None) -> int:
    """Hash of the normalised delivery address (province, city, district, street line): full-width
    forms folded (NFKC), case, spaces and punctuation removed, so "1号楼 2单元" and "1号楼2单元" match.
    The recipient's name and phone are not part of it: a brushing ring ships to a few addresses under
    many names. UNKNOWN when there is no address."""
    parts = [str((address or {}).get(k) or "") for k in ("province", "city", "district", "line")]
    text = _PUNCT.sub("", unicodedata.normalize("NFKC", "".join(parts)).casefold())
    return _key(text) if text else UNKNOWN


def _seconds(when: datetime) -> int:
    return int(when.timestamp())


def load_engagement(store: EventStore, since: datetime, until: datetime) -> Engagement:
    """Plays, likes, comments and follows with ``since <= ts < until``, every one of them (flagged
    accounts included: a case must see its whole block again to stay current)."""
    types = ", ".join(repr(t) for t in EVENT_ACTIONS)
    con = store.connect(since, until)
    try:
        table = con.sql(
            "SELECT epoch_ms(ts) // 1000 AS ts, type, user_id, "
            "CASE WHEN type = 'follow' THEN account_id ELSE content_id END AS target "
            f"FROM events_all WHERE type IN ({types}) ORDER BY ts, user_id"
        ).to_arrow_table()
    finally:
        con.close()
    table = table.filter(pa.compute.is_valid(table["target"]))
    kinds = table["type"].to_pylist()
    action = np.asarray([int(EVENT_ACTIONS[k]) for k in kinds], dtype=np.int8)
    n = table.num_rows
    return Engagement(
        action=action,
        user_id=table["user_id"].to_numpy().astype(np.int64),
        target_id=table["target"].to_numpy().astype(np.int64),
        ts=table["ts"].to_numpy().astype(np.int64),
        device=np.full(n, UNKNOWN, dtype=np.int64),
        ip=np.full(n, UNKNOWN, dtype=np.int64),
    )


def load_orders(db: Session, since: datetime, until: datetime) -> Orders:
    """Orders paid in the window, with their delivery address's and paying device's keys. The payment
    instrument is UNKNOWN: the built-in simulated provider has none to fingerprint (a real provider's
    card or wallet fingerprint would go here)."""
    rows = commerce_service.paid_order_rows(db, since, until)
    n = len(rows)

    def col(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64).reshape(n)

    return Orders(
        order_id=col([r.order_id for r in rows]),
        buyer_id=col([r.user_id for r in rows]),
        shop_id=col([r.shop_id for r in rows]),
        product_id=col([r.product_id for r in rows]),
        ts=col([_seconds(r.paid_at) for r in rows]),
        paid_fen=col([r.paid_fen for r in rows]),
        address_key=col([address_key(r.shipping_address) for r in rows]),
        device=col([UNKNOWN if r.device_key is None else r.device_key for r in rows]),
        payment_key=np.full(n, UNKNOWN, dtype=np.int64),
        confirm_seconds=col(
            [int((r.completed_at - r.paid_at).total_seconds()) if r.completed_at else UNKNOWN for r in rows]
        ),
        refunded=np.asarray([r.refunded_fen > 0 for r in rows], dtype=bool).reshape(n),
    )


def load_reviews(db: Session, since: datetime, until: datetime) -> Reviews:
    rows = reviews_service.review_rows(db, since, until)
    n = len(rows)
    return Reviews(
        review_id=np.asarray([r.review_id for r in rows], dtype=np.int64).reshape(n),
        user_id=np.asarray([r.user_id for r in rows], dtype=np.int64).reshape(n),
        shop_id=np.asarray([r.shop_id for r in rows], dtype=np.int64).reshape(n),
        order_id=np.asarray([r.order_id for r in rows], dtype=np.int64).reshape(n),
        ts=np.asarray([_seconds(r.created_at) for r in rows], dtype=np.int64).reshape(n),
        rating=np.asarray([r.rating for r in rows], dtype=np.int8).reshape(n),
        text=tuple(r.text for r in rows),
    )


def load_inputs(
    db: Session, store: EventStore, now: datetime, window: timedelta = SCAN_WINDOW
) -> IntegrityInputs:
    """Everything one detection run looks at: the window ending at ``now``."""
    since = now - window
    return IntegrityInputs(
        now=now,
        engagement=load_engagement(store, since, now),
        orders=load_orders(db, since, now),
        reviews=load_reviews(db, since, now),
    )


# --- the scan --------------------------------------------------------------------------------------


def held_sales(db: Session, now: datetime, flags: integrity_published.FlagSet) -> list[int]:
    """Orders of the last week whose sales wait for their evidence (:func:`brushing.held_orders`: paid
    with an address shared with another buyer of the same shop, by a flagged account, or by a new
    customer of a shop where such buyers are many), less those an operator cleared."""
    since = now - timedelta(seconds=HOLD_SECONDS)
    orders = load_orders(db, since, now)
    returning = commerce_service.returning_customers(db, orders.buyer_id.tolist(), since)
    held = held_orders(
        orders, _seconds(now), flagged_buyers=flags.of_kind(FlagKind.user), returning=returning
    ).tolist()
    return sorted(set(held) - integrity_service.cleared_orders(db, held))


def publish_flags(
    db: Session, settings: Settings, now: datetime | None = None
) -> integrity_published.FlagSet:
    """Publish the active flag set for every process that discounts (API workers, the event store's
    readers) and, beside it, the units per SKU the catalog's shown and ranked sales leave out: brushed
    orders', and those held until their evidence is in; commits, returns the set."""
    flags = integrity_service.active_flags(db)
    held = held_sales(db, now or clock.now(), flags)
    uncounted = set(flags.of_kind(FlagKind.order).tolist()) | set(held)
    integrity_service.replace_flagged_sales(db, commerce_service.sold_units_by_sku(db, sorted(uncounted)))
    integrity_holds.replace_held_orders(db, held)
    db.commit()
    integrity_published.publish(flags, settings.models_dir)
    return flags


def run_scan(
    database: Database,
    settings: Settings,
    store: EventStore,
    *,
    now: datetime | None = None,
    detect: Detector | None = None,
    window: timedelta = SCAN_WINDOW,
) -> dict[str, int]:
    """Load the window's inputs, run the detector, record its blocks as cases and flags, publish the
    flag set. Idempotent: the same window again adds nothing."""
    now = now or clock.now()
    detect = detect or _detector
    counts: dict[str, int] = {"integrity_blocks": 0}
    with database.session() as db:
        if detect is not None:
            inputs = load_inputs(db, store, now, window)
            blocks = detect(inputs)
            counts["integrity_blocks"] = len(blocks)
            counts |= integrity_service.record_blocks(db, blocks, now=now).counts()
        flags = publish_flags(db, settings, now)
    counts["integrity_flags_active"] = len(flags)
    return counts


def decide_case(
    db: Session,
    settings: Settings,
    case_id: int,
    decision: str,
    *,
    reason: str | None,
    actor_user_id: int | None,
) -> IntegrityCase:
    """An operator confirms or dismisses a case: the decision (audited), the escalation of the shops
    and creators a confirmed case benefited, and the flag set published again; committed."""
    case = integrity_service.decide(db, case_id, decision, reason=reason, actor_user_id=actor_user_id)
    if case.status is CaseStatus.confirmed:
        escalate_for_case(db, case, actor_user_id=actor_user_id)
    db.commit()
    publish_flags(db, settings)
    return case


# --- effects: what a case discounted ---------------------------------------------------------------


@dataclass
class Effect:
    subject: str  # "shop" or "account"
    subject_id: int
    name: str
    likes_discounted: int = 0
    follows_discounted: int = 0
    orders_discounted: int = 0
    sales_discounted_fen: int = 0


def case_effects(db: Session, store: EventStore, case: IntegrityCase) -> list[Effect]:
    """For each shop and creator account the case's block benefited: the likes on its content and the
    follows of it by the case's accounts, and the case's orders of it, that are (or, once dismissed,
    were) discounted."""
    members = integrity_service.members_by_kind(db, case.id)
    users = members.get(FlagKind.user, [])
    effects: dict[tuple[str, int], Effect] = {}

    def effect(subject: str, subject_id: int) -> Effect:
        key = (subject, subject_id)
        if key not in effects:
            if subject == "shop":
                shop = shops_service.get_shop(db, subject_id)
                name = shop.name_zh
            else:
                brief = content_reads.account_briefs(db, [subject_id]).get(subject_id)
                name = brief.name if brief else str(subject_id)
            effects[key] = Effect(subject, subject_id, name)
        return effects[key]

    contents = members.get(FlagKind.content, [])
    if contents and users:
        owners = content_reads.content_owner_accounts(db, contents)
        likes = _engagement_counts(store, case, "like", "content_id", users, contents)
        for content_id, n in likes.items():
            account_id = owners.get(content_id)
            if account_id is not None:
                effect("account", account_id).likes_discounted += n
    followed = members.get(FlagKind.account, [])
    if followed and users:
        for account_id, n in content_reads.follow_counts_from(db, followed, users).items():
            effect("account", account_id).follows_discounted += n
    orders = members.get(FlagKind.order, [])
    for _order_id, shop_id, fen in commerce_service.order_sales(db, orders):
        e = effect("shop", shop_id)
        e.orders_discounted += 1
        e.sales_discounted_fen += fen
    for shop_id in members.get(FlagKind.shop, []):
        effect("shop", shop_id)
    return sorted(effects.values(), key=lambda e: (e.subject, e.subject_id))


def _engagement_counts(
    store: EventStore, case: IntegrityCase, event_type: str, column: str, users: list[int], targets: list[int]
) -> dict[int, int]:
    con = store.connect()
    try:
        con.register("case_users", pa.table({"user_id": pa.array(users, pa.int64())}))
        con.register("case_targets", pa.table({"target": pa.array(targets, pa.int64())}))
        rows = con.sql(
            f"SELECT {column} AS target, count(*) AS n FROM events_all WHERE type = ? "
            f"AND user_id IN (SELECT user_id FROM case_users) AND {column} IN (SELECT target FROM case_targets) "
            "GROUP BY 1",
            params=[event_type],
        ).fetchall()
    finally:
        con.close()
    return {int(t): int(n) for t, n in rows}


# --- escalation of repeat offenders ----------------------------------------------------------------
# A confirmed case is an offence of every shop and creator its block benefited: the shops it names
# (brushing), the followed accounts and the publishers of the liked content (bought engagement). Each
# offence is the next step of a ladder (integrity_service.level_for): a warning, then the loss of
# campaign registration (shops, through the operator's shop actions) or of the product plaza
# (creators), then suspension (shops: the operator's suspend action; creators: their content demoted
# in the feed and the plaza closed, their sign-in kept so that they can appeal). Each step tells the
# shop's staff or the creator why (a notification) and can be appealed once; a granted appeal
# reverses the case (its flags lifted) and undoes the step.

SHOP_ACTION = {
    SanctionLevel.warning: "warn",
    SanctionLevel.eligibility: "suspend_campaigns",
    SanctionLevel.suspension: "suspend",
}
CONSOLE = {SanctionSubject.shop: "/merchant/integrity", SanctionSubject.creator: "/creator/integrity"}


def beneficiaries(db: Session, case: IntegrityCase) -> list[tuple[SanctionSubject, int, str]]:
    """The shops and creator accounts the case's block promoted, with their names."""
    members = integrity_service.members_by_kind(db, case.id)
    accounts = set(members.get(FlagKind.account, []))
    accounts |= set(content_reads.content_owner_accounts(db, members.get(FlagKind.content, [])).values())
    shops = set(members.get(FlagKind.shop, []))
    creators: dict[int, str] = {}
    for account_id, brief in content_reads.account_briefs(db, accounts).items():
        if brief.is_shop and brief.shop_id is not None:
            shops.add(brief.shop_id)
        else:
            creators[account_id] = brief.name
    out: list[tuple[SanctionSubject, int, str]] = []
    for shop_id in sorted(shops):
        out.append((SanctionSubject.shop, shop_id, shops_service.get_shop(db, shop_id).name_zh))
    out += [(SanctionSubject.creator, a, creators[a]) for a in sorted(creators)]
    return out


def _recipients(db: Session, subject: SanctionSubject, subject_id: int) -> list[int]:
    if subject is SanctionSubject.shop:
        return shops_service.staff_user_ids(db, subject_id)
    owner = content_service.get_account(db, subject_id).user_id
    return [owner] if owner is not None else []


def escalate_for_case(
    db: Session, case: IntegrityCase, *, actor_user_id: int | None
) -> list[IntegritySanction]:
    """Sanction every beneficiary of a confirmed case one step further (flushed; shop actions commit)."""
    made: list[IntegritySanction] = []
    reason = case.reason or ""
    for subject, subject_id, name in beneficiaries(db, case):
        row = integrity_service.add_sanction(
            db, subject, subject_id, case, reason=reason, actor_user_id=actor_user_id, name=name
        )
        if row is None:
            continue
        text = f"[integrity case #{case.id}, offence {row.offences}] {reason}"
        if subject is SanctionSubject.shop:
            _shop_action(db, subject_id, SHOP_ACTION[row.level], text, actor_user_id)
        elif row.level is SanctionLevel.suspension:
            # A creator's suspension: every video of the account is demoted while it lasts.
            integrity_service.flag_subject(db, FlagKind.account, subject_id, case.id)
        notifications_service.notify(
            db,
            _recipients(db, subject, subject_id),
            NotificationKind.integrity_sanction,
            {
                "level": row.level.value,
                "reason": reason,
                "case_id": case.id,
                "sanction_id": row.id,
                "offences": row.offences,
                "name_zh": name,
                "name_en": name,
            },
            CONSOLE[subject],
        )
        made.append(row)
    return made


def _shop_action(db: Session, shop_id: int, action: str, reason: str, actor_user_id: int | None) -> bool:
    """The operator's shop action (audited, its reason on the merchant's console; it commits), unless
    the shop is already in that state (the step is recorded all the same)."""
    shop = shops_service.get_shop(db, shop_id)
    suspended = shop.status is ShopStatus.suspended
    if (
        (action == "suspend" and suspended)
        or (action == "suspend_campaigns" and (suspended or shop.campaign_registration_suspended))
        or (action == "restore" and not suspended and not shop.campaign_registration_suspended)
    ):
        return False
    shop_sanctions.act(db, shop_id, action, reason=reason, actor_user_id=actor_user_id)
    return True


def _settle_shop(db: Session, shop_id: int, reason: str, actor_user_id: int | None) -> None:
    """Bring the shop back to the highest step of its escalation still in force, after one was undone."""
    levels = {s.level for s in integrity_service.active_sanctions(db, SanctionSubject.shop, shop_id)}
    shop = shops_service.get_shop(db, shop_id)
    if SanctionLevel.suspension in levels:
        return
    if shop.status is ShopStatus.suspended or (
        shop.campaign_registration_suspended and SanctionLevel.eligibility not in levels
    ):
        _shop_action(db, shop_id, "restore", reason, actor_user_id)
    if SanctionLevel.eligibility in levels:
        _shop_action(db, shop_id, "suspend_campaigns", reason, actor_user_id)


def may_appeal(
    db: Session, sanction: IntegritySanction, *, shop_id: int | None = None, account_id: int | None = None
) -> bool:
    if sanction.subject is SanctionSubject.shop:
        return shop_id is not None and sanction.subject_id == shop_id
    return account_id is not None and sanction.subject_id == account_id


def decide_appeal(
    db: Session,
    settings: Settings,
    sanction_id: int,
    grant: bool,
    *,
    reason: str | None,
    actor_user_id: int | None,
) -> IntegritySanction:
    """An operator grants (the case is reversed, its flags lifted, the step undone) or upholds an
    appeal, with a reason the appellant is told; committed, flag set published."""
    from zhongcao.audit import service as audit_service

    text = audit_service.require_reason(reason)
    row = integrity_service.get_sanction(db, sanction_id)
    integrity_service.close_appeal(db, row, grant, reason=text, actor_user_id=actor_user_id)
    if grant:
        case = integrity_service.get_case(db, row.case_id)
        if case.status is CaseStatus.confirmed:
            integrity_service.reverse_confirmed(db, case.id, reason=text, actor_user_id=actor_user_id)
        if row.subject is SanctionSubject.shop and row.level is not SanctionLevel.warning:
            _settle_shop(db, row.subject_id, text, actor_user_id)
    notifications_service.notify(
        db,
        [row.appealed_by_user_id]
        if row.appealed_by_user_id
        else _recipients(db, row.subject, row.subject_id),
        NotificationKind.integrity_appeal_decided,
        {
            "granted": grant,
            "reason": text,
            "sanction_id": row.id,
            "case_id": row.case_id,
            "name_zh": row.subject_name,
            "name_en": row.subject_name,
        },
        CONSOLE[row.subject],
    )
    db.commit()
    publish_flags(db, settings)
    return row


# --- evidence drawn: accounts x targets, accounts x time ---------------------------------------------

MAX_MATRIX_ROWS = 40
MAX_MATRIX_COLUMNS = 40


@dataclass
class Evidence:
    """A case's block as matrices: rows are the case's accounts, columns its targets (``by_target``)
    or the minutes of its window (``by_minute``); each cell counts actions (orders for brushing)."""

    accounts: list[int]
    targets: list[int]
    minutes: list[str]
    by_target: list[list[int]]
    by_minute: list[list[int]]
    truncated: bool


def case_evidence(db: Session, store: EventStore, case: IntegrityCase) -> Evidence:
    members = integrity_service.members_by_kind(db, case.id)
    users = members.get(FlagKind.user, [])
    truncated = len(users) > MAX_MATRIX_ROWS
    users = users[:MAX_MATRIX_ROWS]
    rows: list[tuple[int, int, int]] = []  # (user, target, epoch second)
    if case.target_kind.value == "shop" or members.get(FlagKind.order):
        orders = load_orders(
            db, case.window_start - timedelta(seconds=1), case.window_end + timedelta(seconds=1)
        )
        wanted = set(members.get(FlagKind.order, []))
        for i in range(len(orders)):
            if int(orders.order_id[i]) in wanted and int(orders.buyer_id[i]) in users:
                rows.append((int(orders.buyer_id[i]), int(orders.shop_id[i]), int(orders.ts[i])))
    elif users:
        since = case.window_start - timedelta(seconds=1)
        until = case.window_end + timedelta(seconds=1)
        con = store.connect(since, until)
        try:
            con.register("case_users", pa.table({"user_id": pa.array(users, pa.int64())}))
            types = ", ".join(repr(t) for t in EVENT_ACTIONS)
            found = con.sql(
                "SELECT user_id, CASE WHEN type = 'follow' THEN account_id ELSE content_id END AS target, "
                f"epoch_ms(ts) // 1000 AS ts FROM events_all WHERE type IN ({types}) "
                "AND user_id IN (SELECT user_id FROM case_users)"
            ).fetchall()
        finally:
            con.close()
        case_targets = set(members.get(integrity_service.TARGET_FLAG[case.target_kind], []))
        rows = [
            (int(u), int(t), int(s))
            for u, t, s in found
            if t is not None and (not case_targets or int(t) in case_targets)
        ]
    targets = sorted({t for _, t, _ in rows})
    truncated = truncated or len(targets) > MAX_MATRIX_COLUMNS
    targets = targets[:MAX_MATRIX_COLUMNS]
    start = int(case.window_start.timestamp()) // 60
    end = int(case.window_end.timestamp()) // 60
    step = max(1, (end - start + 1 + MAX_MATRIX_COLUMNS - 1) // MAX_MATRIX_COLUMNS)
    n_minutes = (end - start) // step + 1
    minutes = [
        datetime.fromtimestamp((start + i * step) * 60, tz=clock.BUSINESS_TZ).strftime("%m-%d %H:%M")
        for i in range(n_minutes)
    ]
    by_target = [[0] * len(targets) for _ in users]
    by_minute = [[0] * n_minutes for _ in users]
    row_of = {u: i for i, u in enumerate(users)}
    col_of = {t: j for j, t in enumerate(targets)}
    for user, target, second in rows:
        row = row_of.get(user)
        if row is None:
            continue
        if target in col_of:
            by_target[row][col_of[target]] += 1
        k = (second // 60 - start) // step
        if 0 <= k < n_minutes:
            by_minute[row][k] += 1
    return Evidence(users, targets, minutes, by_target, by_minute, truncated)
