"""Coupons: shop-funded and platform-funded, claimed by shoppers, spent at checkout.

A coupon is *amount off* (``discount_fen`` off once the goods reach ``threshold_fen``) or
*percentage off* (``percent_off`` % of the goods, never more than ``discount_fen``). It can be
claimed inside ``[starts_at, ends_at)`` until the shop ends it (``ended_at``) or it is sold out;
a claimed copy stays usable until ``ends_at`` even after the shop ends the coupon.

Coupon claims lock the coupon row, count the user's claims under that lock and then raise
``claimed_count`` with a conditional UPDATE, so neither ``total_quantity`` nor ``per_user_limit``
can be exceeded by concurrent claims.

A *members-only* shop coupon (``members_only``) can be claimed only by members of the shop's
membership programme; campaigns does not read membership, so ``flows.claim_coupon`` asks it first.

Edits: a coupon nobody has claimed yet may change everything; once claimed, what a shopper
holds (threshold, amount, percentage, window start) stays, and only the name, limits, quantity
(never below what is claimed) and the end (never in the past) change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.campaigns.models import Coupon, CouponFunder, UserCoupon, UserCouponStatus
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from zhongcao.pagination import PageParams, decode_id_cursor, encode_cursor, paginate_by_id
from zhongcao.shops import service as shops_service

MAX_PER_USER_LIMIT = 1000


class CouponState(enum.StrEnum):
    """Where a coupon is in its life, as the merchant console shows it."""

    scheduled = "scheduled"  # before starts_at
    running = "running"  # claimable now
    sold_out = "sold_out"  # inside its window, nothing left to claim
    ended = "ended"  # ended by the shop, or past ends_at


def coupon_state(coupon: Coupon, now: datetime | None = None) -> CouponState:
    now = now or clock.now()
    if coupon.ended_at is not None or now >= coupon.ends_at:
        return CouponState.ended
    if now < coupon.starts_at:
        return CouponState.scheduled
    if coupon.total_quantity is not None and coupon.claimed_count >= coupon.total_quantity:
        return CouponState.sold_out
    return CouponState.running


def discount_for(threshold_fen: int, discount_fen: int, percent_off: int | None, goods_fen: int) -> int:
    """What the coupon takes off ``goods_fen`` of goods: 0 below the threshold, never more than the goods."""
    if goods_fen <= 0 or goods_fen < threshold_fen:
        return 0
    if percent_off is None:
        return min(discount_fen, goods_fen)
    return min(discount_fen, goods_fen * percent_off // 100)


def coupon_discount(coupon: Coupon, goods_fen: int) -> int:
    return discount_for(coupon.threshold_fen, coupon.discount_fen, coupon.percent_off, goods_fen)


# --- creating, editing and ending ---------------------------------------------------------------


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at", code="invalid_window", field="ends_at")
    if ends_at <= clock.now():
        raise InvalidInput("ends_at is in the past", code="window_in_past", field="ends_at")


def _check_terms(
    name: str,
    threshold_fen: int,
    discount_fen: int,
    percent_off: int | None,
    per_user_limit: int,
    total_quantity: int | None,
) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise InvalidInput("name must be 1 to 80 characters", code="invalid_name", field="name")
    if threshold_fen < 0:
        raise InvalidInput("threshold cannot be negative", code="invalid_amount", field="threshold_fen")
    if discount_fen <= 0:
        raise InvalidInput("discount must be positive", code="invalid_amount", field="discount_fen")
    if percent_off is not None and not 1 <= percent_off <= 99:
        raise InvalidInput("percent_off must be 1 to 99", code="invalid_percent", field="percent_off")
    if percent_off is None and threshold_fen > 0 and discount_fen >= threshold_fen:
        raise InvalidInput(
            "the discount must be smaller than the threshold",
            code="discount_not_below_threshold",
            field="discount_fen",
            details={"threshold_fen": threshold_fen, "discount_fen": discount_fen},
        )
    if not 1 <= per_user_limit <= MAX_PER_USER_LIMIT:
        raise InvalidInput("per_user_limit must be at least 1", code="invalid_limit", field="per_user_limit")
    if total_quantity is not None and total_quantity < 1:
        raise InvalidInput(
            "total_quantity must be at least 1", code="invalid_quantity", field="total_quantity"
        )
    return name


def create_coupon(
    db: Session,
    *,
    funded_by: CouponFunder,
    shop_id: int | None,
    name: str,
    threshold_fen: int,
    discount_fen: int,
    percent_off: int | None = None,
    per_user_limit: int = 1,
    total_quantity: int | None = None,
    starts_at: datetime,
    ends_at: datetime,
    members_only: bool = False,
) -> Coupon:
    """A shop-funded coupon (``shop_id`` set) or a platform-funded one (``shop_id`` None)."""
    if (funded_by == CouponFunder.shop) != (shop_id is not None):
        raise InvalidInput("shop coupons need a shop; platform coupons have none", code="funder_mismatch")
    if members_only and shop_id is None:
        raise InvalidInput(
            "only a shop's coupons can be for its members",
            code="members_only_needs_shop",
            field="members_only",
        )
    if shop_id is not None:
        shops_service.get_shop(db, shop_id)
    name = _check_terms(name, threshold_fen, discount_fen, percent_off, per_user_limit, total_quantity)
    _check_window(starts_at, ends_at)
    coupon = Coupon(
        funded_by=funded_by,
        shop_id=shop_id,
        name=name,
        threshold_fen=threshold_fen,
        discount_fen=discount_fen,
        percent_off=percent_off,
        per_user_limit=per_user_limit,
        total_quantity=total_quantity,
        claimed_count=0,
        starts_at=starts_at,
        ends_at=ends_at,
        members_only=members_only,
    )
    db.add(coupon)
    db.commit()
    return coupon


def _lock_shop_coupon(db: Session, shop_id: int, coupon_id: int) -> Coupon:
    coupon = db.scalar(
        select(Coupon)
        .where(Coupon.id == coupon_id, Coupon.shop_id == shop_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if coupon is None:
        raise NotFound("coupon not found", code="coupon_not_found")
    return coupon


def update_shop_coupon(
    db: Session,
    shop_id: int,
    coupon_id: int,
    *,
    name: str,
    threshold_fen: int,
    discount_fen: int,
    percent_off: int | None,
    per_user_limit: int,
    total_quantity: int | None,
    starts_at: datetime,
    ends_at: datetime,
    members_only: bool = False,
) -> Coupon:
    """Replace the terms of one of the shop's coupons (the rules are in the module docstring).
    ``members_only`` may change at any time: it decides who can claim from now on, and copies
    already claimed stay with their holders."""
    try:
        coupon = _lock_shop_coupon(db, shop_id, coupon_id)
        if coupon_state(coupon) is CouponState.ended:
            raise Conflict("an ended coupon cannot change", code="coupon_ended")
        name = _check_terms(name, threshold_fen, discount_fen, percent_off, per_user_limit, total_quantity)
        if ends_at <= starts_at:
            raise InvalidInput("ends_at must be after starts_at", code="invalid_window", field="ends_at")
        if ends_at <= clock.now():
            raise InvalidInput("ends_at is in the past", code="window_in_past", field="ends_at")
        if coupon.claimed_count > 0:
            held = {
                "threshold_fen": (coupon.threshold_fen, threshold_fen),
                "discount_fen": (coupon.discount_fen, discount_fen),
                "percent_off": (coupon.percent_off, percent_off),
                "starts_at": (coupon.starts_at, starts_at),
            }
            for field, (was, wanted) in held.items():
                if was != wanted:
                    raise Conflict(
                        "shoppers hold this coupon: its terms cannot change",
                        code="coupon_terms_locked",
                        field=field,
                        details={"claimed_count": coupon.claimed_count},
                    )
            if total_quantity is not None and total_quantity < coupon.claimed_count:
                raise InvalidInput(
                    "the quantity cannot go below what is already claimed",
                    code="quantity_below_claimed",
                    field="total_quantity",
                    details={"claimed_count": coupon.claimed_count},
                )
        coupon.name = name
        coupon.threshold_fen = threshold_fen
        coupon.discount_fen = discount_fen
        coupon.percent_off = percent_off
        coupon.per_user_limit = per_user_limit
        coupon.total_quantity = total_quantity
        coupon.starts_at = starts_at
        coupon.ends_at = ends_at
        coupon.members_only = members_only
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return coupon


def end_shop_coupon(db: Session, shop_id: int, coupon_id: int) -> Coupon:
    """Stop handing the coupon out now; copies already claimed stay usable until their end."""
    try:
        coupon = _lock_shop_coupon(db, shop_id, coupon_id)
        if coupon_state(coupon) is CouponState.ended:
            raise Conflict("this coupon has already ended", code="coupon_ended")
        coupon.ended_at = clock.now()
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return coupon


# --- reading -------------------------------------------------------------------------------------


def get_coupon(db: Session, coupon_id: int) -> Coupon:
    coupon = db.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound("coupon not found", code="coupon_not_found")
    return coupon


def get_shop_coupon(db: Session, shop_id: int, coupon_id: int) -> Coupon:
    coupon = db.get(Coupon, coupon_id)
    if coupon is None or coupon.shop_id != shop_id:
        raise NotFound("coupon not found", code="coupon_not_found")
    return coupon


def remaining_quantity(coupon: Coupon) -> int | None:
    return None if coupon.total_quantity is None else coupon.total_quantity - coupon.claimed_count


def list_shop_coupons(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    state: CouponState | None = None,
    query: str | None = None,
    now: datetime | None = None,
) -> tuple[Sequence[Coupon], str | None]:
    """The shop's coupons, newest first, optionally in one state or with ``query`` in the name."""
    now = now or clock.now()
    stmt = select(Coupon).where(Coupon.shop_id == shop_id)
    not_ended = (Coupon.ended_at.is_(None), Coupon.ends_at > now)
    left = or_(Coupon.total_quantity.is_(None), Coupon.claimed_count < Coupon.total_quantity)
    if state is CouponState.ended:
        stmt = stmt.where(or_(Coupon.ended_at.is_not(None), Coupon.ends_at <= now))
    elif state is CouponState.scheduled:
        stmt = stmt.where(*not_ended, Coupon.starts_at > now)
    elif state is CouponState.sold_out:
        stmt = stmt.where(*not_ended, Coupon.starts_at <= now, ~left)
    elif state is CouponState.running:
        stmt = stmt.where(*not_ended, Coupon.starts_at <= now, left)
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Coupon.name.ilike(f"%{escaped}%", escape="\\"))
    return paginate_by_id(db, stmt, Coupon.id, params)


def used_counts(db: Session, coupon_ids: Iterable[int]) -> dict[int, int]:
    """How many claimed copies of each coupon were spent on a paid checkout (every asked id is a key)."""
    ids = sorted(set(coupon_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = db.execute(
            select(UserCoupon.coupon_id, func.count())
            .where(UserCoupon.coupon_id.in_(ids), UserCoupon.status == UserCouponStatus.used)
            .group_by(UserCoupon.coupon_id)
        ).all()
        counts.update({int(cid): int(n) for cid, n in rows})
    return counts


def coupons_ending_within(db: Session, shop_id: int, days: int, now: datetime | None = None) -> list[Coupon]:
    """The shop's coupons still running or scheduled that end within ``days`` days, soonest first
    (what a "your coupon ends soon" reminder lists)."""
    if days < 0:
        raise InvalidInput("days cannot be negative", code="invalid_days", field="days")
    now = now or clock.now()
    return list(
        db.scalars(
            select(Coupon)
            .where(
                Coupon.shop_id == shop_id,
                Coupon.ended_at.is_(None),
                Coupon.ends_at > now,
                Coupon.ends_at <= now + timedelta(days=days),
            )
            .order_by(Coupon.ends_at, Coupon.id)
        )
    )


def list_platform_coupons(db: Session, params: PageParams) -> tuple[Sequence[Coupon], str | None]:
    return paginate_by_id(db, select(Coupon).where(Coupon.shop_id.is_(None)), Coupon.id, params)


def _claimable_now(now: datetime) -> tuple:
    return (
        Coupon.starts_at <= now,
        Coupon.ends_at > now,
        Coupon.ended_at.is_(None),
        or_(Coupon.total_quantity.is_(None), Coupon.claimed_count < Coupon.total_quantity),
    )


def list_claimable_coupons(
    db: Session, params: PageParams, *, shop_id: int | None = None, now: datetime | None = None
) -> tuple[Sequence[Coupon], str | None]:
    """Coupons inside their window, not ended and not sold out: the shop's, or with no shop the platform's."""
    now = now or clock.now()
    if shop_id is not None:
        shops_service.get_shop(db, shop_id)  # an unknown shop is not found
        if not shops_service.is_shop_active(db, shop_id):
            return [], None  # a suspended shop hands out nothing
    stmt = select(Coupon).where(
        *_claimable_now(now),
        Coupon.shop_id == shop_id if shop_id is not None else Coupon.shop_id.is_(None),
    )
    return paginate_by_id(db, stmt, Coupon.id, params)


# --- shoppers: claiming, holding, choosing -------------------------------------------------------


def _funder_active(db: Session, coupon: Coupon) -> bool:
    """Platform coupons always; a shop's coupons only while the shop is not suspended."""
    return coupon.shop_id is None or shops_service.is_shop_active(db, coupon.shop_id)


def claim_coupon(
    db: Session,
    user_id: int,
    coupon_id: int,
    *,
    at: datetime | None = None,
    is_member: Callable[[int], bool] | None = None,
) -> UserCoupon:
    """Give the user one copy of the coupon, within its window, per-user limit and total quantity.

    A members-only coupon also needs ``is_member(shop_id)`` to say the user is a member of the
    shop's programme (``flows.claim_coupon`` passes membership's answer); without it, 403
    ``members_only``. It is asked under the coupon's row lock, so a coupon switched to members-only
    meanwhile is checked as it is now."""
    now = at or clock.now()
    try:
        coupon = db.scalar(
            select(Coupon)
            .where(Coupon.id == coupon_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if coupon is None:
            raise NotFound("coupon not found", code="coupon_not_found")
        if (
            not coupon.starts_at <= now < coupon.ends_at
            or coupon.ended_at is not None
            or not _funder_active(db, coupon)
        ):
            raise Conflict(
                "this coupon cannot be claimed now",
                code="coupon_not_active",
                details={"starts_at": coupon.starts_at.isoformat(), "ends_at": coupon.ends_at.isoformat()},
            )
        shop_id = coupon.shop_id
        if coupon.members_only and shop_id is not None and (is_member is None or not is_member(shop_id)):
            raise Forbidden(
                "only the shop's members can claim this coupon",
                code="members_only",
                details={"shop_id": shop_id, "join_url": f"/shops/{shop_id}/membership"},
            )
        held = db.scalar(
            select(func.count())
            .select_from(UserCoupon)
            .where(UserCoupon.coupon_id == coupon_id, UserCoupon.user_id == user_id)
        )
        if (held or 0) >= coupon.per_user_limit:
            raise Conflict(
                "you have claimed this coupon as often as allowed",
                code="coupon_limit_reached",
                details={"per_user_limit": coupon.per_user_limit},
            )
        # Conditional: the row lock above already serialises claims; the WHERE keeps the rule
        # in the statement that changes the count, so it holds whatever path reaches it.
        taken = db.execute(
            update(Coupon)
            .where(
                Coupon.id == coupon_id,
                or_(Coupon.total_quantity.is_(None), Coupon.claimed_count < Coupon.total_quantity),
            )
            .values(claimed_count=Coupon.claimed_count + 1)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(taken) != 1:
            raise Conflict("this coupon is sold out", code="coupon_sold_out")
        db.expire(coupon, ["claimed_count"])
        user_coupon = UserCoupon(
            coupon_id=coupon_id, user_id=user_id, status=UserCouponStatus.unused, claimed_at=now
        )
        db.add(user_coupon)
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return user_coupon


def list_user_coupons(
    db: Session, user_id: int, params: PageParams, *, status: UserCouponStatus | None = None
) -> tuple[list[tuple[UserCoupon, Coupon]], str | None]:
    """The user's claimed coupons, newest claim first, each with its coupon."""
    stmt = select(UserCoupon, Coupon).join(Coupon, Coupon.id == UserCoupon.coupon_id)
    stmt = stmt.where(UserCoupon.user_id == user_id)
    if status is not None:
        stmt = stmt.where(UserCoupon.status == status)
    if params.cursor:
        stmt = stmt.where(UserCoupon.id < decode_id_cursor(params.cursor))
    rows = [
        (uc, c) for uc, c in db.execute(stmt.order_by(UserCoupon.id.desc()).limit(params.limit + 1)).all()
    ]
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(rows[-1][0].id)
    return rows, next_cursor


@dataclass(frozen=True)
class CouponOffer:
    """A coupon a shopper could claim here, and how many copies they already hold."""

    coupon: Coupon
    held: int

    @property
    def can_claim(self) -> bool:
        return self.held < self.coupon.per_user_limit


# Coupons shown on one product page: the shop's and the platform's, at most this many of each.
OFFERS_SHOWN = 10


def offers_for_shop(
    db: Session, user_id: int | None, shop_id: int, now: datetime | None = None
) -> list[CouponOffer]:
    """The shop's and the platform's coupons claimable now (shop first, biggest discount first), each
    with how many copies the user holds (0 for nobody signed in)."""
    now = now or clock.now()
    shop_rows: Sequence[Coupon] = []
    if shops_service.is_shop_active(db, shop_id):
        shop_rows = db.scalars(
            select(Coupon)
            .where(*_claimable_now(now), Coupon.shop_id == shop_id)
            .order_by(Coupon.discount_fen.desc(), Coupon.id)
            .limit(OFFERS_SHOWN)
        ).all()
    platform_rows = db.scalars(
        select(Coupon)
        .where(*_claimable_now(now), Coupon.shop_id.is_(None))
        .order_by(Coupon.discount_fen.desc(), Coupon.id)
        .limit(OFFERS_SHOWN)
    ).all()
    coupons = [*shop_rows, *platform_rows]
    held: dict[int, int] = {}
    if user_id is not None and coupons:
        held = {
            int(cid): int(n)
            for cid, n in db.execute(
                select(UserCoupon.coupon_id, func.count())
                .where(UserCoupon.user_id == user_id, UserCoupon.coupon_id.in_([c.id for c in coupons]))
                .group_by(UserCoupon.coupon_id)
            ).all()
        }
    return [CouponOffer(c, held.get(c.id, 0)) for c in coupons]


@dataclass(frozen=True)
class HeldCoupon:
    """One unused copy the shopper holds, valid now."""

    user_coupon_id: int
    coupon: Coupon


def usable_user_coupons(db: Session, user_id: int, now: datetime | None = None) -> list[HeldCoupon]:
    """The user's unused copies that are valid now, one per coupon (the one claimed first)."""
    now = now or clock.now()
    rows = db.execute(
        select(UserCoupon.id, Coupon)
        .join(Coupon, Coupon.id == UserCoupon.coupon_id)
        .where(
            UserCoupon.user_id == user_id,
            UserCoupon.status == UserCouponStatus.unused,
            Coupon.starts_at <= now,
            Coupon.ends_at > now,
        )
        .order_by(UserCoupon.id)
    ).all()
    seen: set[int] = set()
    out = []
    for uc_id, coupon in rows:
        if coupon.id in seen or not _funder_active(db, coupon):
            continue
        seen.add(coupon.id)
        out.append(HeldCoupon(int(uc_id), coupon))
    return out


def best_coupon(held: Iterable[HeldCoupon], goods_fen: int) -> HeldCoupon | None:
    """The copy that takes the most off ``goods_fen`` (ties: the one ending first); None if none applies."""
    scored = [(coupon_discount(h.coupon, goods_fen), h) for h in held]
    scored = [(amount, h) for amount, h in scored if amount > 0]
    if not scored:
        return None
    return min(scored, key=lambda pair: (-pair[0], pair[1].coupon.ends_at, pair[1].user_coupon_id))[1]


def shop_coupons_ending(db: Session, now: datetime, within: timedelta) -> list[Coupon]:
    """Every shop's coupons that have started, were not ended early, and end within ``within`` of
    ``now`` (the ``coupon_endings`` job's reminders)."""
    return list(
        db.scalars(
            select(Coupon)
            .where(
                Coupon.shop_id.is_not(None),
                Coupon.ended_at.is_(None),
                Coupon.starts_at <= now,
                Coupon.ends_at > now,
                Coupon.ends_at <= now + within,
            )
            .order_by(Coupon.id)
        )
    )
