"""Memberships: a merchant runs a programme (on/off, tiers by spend); a shopper joins with consent
(phone optional). Spend lives in commerce, so tiers and analytics are joined in :mod:`zhongcao.flows`;
this module keeps the programme's rules and the member list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.errors import Conflict, InvalidInput
from zhongcao.membership.models import MembershipProgram, ShopMember
from zhongcao.pagination import PageParams, paginate_by_id

MAX_TIERS = 5
MAX_DISCOUNT_BPS = 3000  # at most 30% off (7折)
MAX_THRESHOLD_FEN = 100_000_000  # ¥1,000,000
PHONE = re.compile(r"^1[3-9]\d{9}$")  # a mainland mobile number
DEFAULT_TIERS: list[dict[str, Any]] = [
    {"name_zh": "普通会员", "name_en": "Member", "threshold_fen": 0},
    {"name_zh": "银卡会员", "name_en": "Silver", "threshold_fen": 50_000},
    {"name_zh": "金卡会员", "name_en": "Gold", "threshold_fen": 200_000},
]


@dataclass(frozen=True)
class Tier:
    index: int
    name_zh: str
    name_en: str
    threshold_fen: int


def get_program(db: Session, shop_id: int) -> MembershipProgram | None:
    return db.scalar(select(MembershipProgram).where(MembershipProgram.shop_id == shop_id))


def tiers_of(program: MembershipProgram | None) -> list[Tier]:
    rows = program.tiers if program is not None else DEFAULT_TIERS
    return [Tier(i, t["name_zh"], t["name_en"], int(t["threshold_fen"])) for i, t in enumerate(rows)]


def tier_for(program: MembershipProgram | None, spend_fen: int) -> Tier:
    """The highest tier whose threshold the spend reaches (the first tier starts at 0)."""
    tiers = tiers_of(program)
    reached = [t for t in tiers if spend_fen >= t.threshold_fen]
    return reached[-1] if reached else tiers[0]


def _check_tiers(tiers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not 1 <= len(tiers) <= MAX_TIERS:
        raise InvalidInput(f"a programme has 1 to {MAX_TIERS} tiers", code="invalid_tiers", field="tiers")
    clean: list[dict[str, Any]] = []
    for i, tier in enumerate(tiers):
        name_zh = str(tier.get("name_zh", "")).strip()
        name_en = str(tier.get("name_en", "")).strip()
        threshold = tier.get("threshold_fen")
        if not name_zh or not name_en or len(name_zh) > 20 or len(name_en) > 40:
            raise InvalidInput(
                "every tier needs a name in both languages", code="tier_name", field=f"tiers.{i}"
            )
        if type(threshold) is not int or not 0 <= threshold <= MAX_THRESHOLD_FEN:
            raise InvalidInput(
                "a threshold is whole fen, 0 or more", code="tier_threshold", field=f"tiers.{i}"
            )
        if i == 0 and threshold != 0:
            raise InvalidInput("the first tier starts at 0", code="tier_threshold", field="tiers.0")
        if i > 0 and threshold <= clean[-1]["threshold_fen"]:
            raise InvalidInput("thresholds must go up tier by tier", code="tier_order", field=f"tiers.{i}")
        clean.append({"name_zh": name_zh, "name_en": name_en, "threshold_fen": threshold})
    return clean


def configure(
    db: Session, shop_id: int, *, enabled: bool, tiers: Sequence[dict[str, Any]], discount_bps: int = 0
) -> MembershipProgram:
    """Turn the shop's programme on or off, set its tiers and the members' discount (validated: 422
    naming the tier or ``discount_bps``). Commits."""
    clean = _check_tiers(tiers)
    if type(discount_bps) is not int or not 0 <= discount_bps <= MAX_DISCOUNT_BPS:
        raise InvalidInput("a member discount is 0 to 30%", code="invalid_discount", field="discount_bps")
    program = get_program(db, shop_id)
    if program is None:
        program = MembershipProgram(
            shop_id=shop_id,
            enabled=enabled,
            tiers=clean,
            member_discount_bps=discount_bps,
            updated_at=clock.now(),
        )
        db.add(program)
    else:
        program.enabled, program.tiers, program.updated_at = enabled, clean, clock.now()
        program.member_discount_bps = discount_bps
    db.commit()
    return program


def check_phone(phone: str | None) -> str | None:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if not phone:
        return None
    if not PHONE.match(phone):
        raise InvalidInput(
            "a mobile number is 11 digits starting with 1", code="invalid_phone", field="phone"
        )
    return phone


def join(db: Session, shop_id: int, user_id: int, *, consent: bool, phone: str | None = None) -> ShopMember:
    """Join the shop's programme (again: the existing membership). 409 ``membership_closed`` when
    the shop runs none; 422 ``consent_required`` without consent; 422 ``invalid_phone``. Commits."""
    program = get_program(db, shop_id)
    if program is None or not program.enabled:
        raise Conflict("this shop runs no membership", code="membership_closed")
    if not consent:
        raise InvalidInput("agree to the membership terms to join", code="consent_required", field="consent")
    clean_phone = check_phone(phone)
    existing = membership_of(db, shop_id, user_id)
    if existing is not None:
        return existing
    now = clock.now()
    member = ShopMember(shop_id=shop_id, user_id=user_id, phone=clean_phone, consented_at=now, joined_at=now)
    db.add(member)
    try:
        db.commit()
    except IntegrityError:  # joined twice at once: the first stands
        db.rollback()
        found = membership_of(db, shop_id, user_id)
        assert found is not None
        return found
    return member


def membership_of(db: Session, shop_id: int, user_id: int) -> ShopMember | None:
    return db.scalar(select(ShopMember).where(ShopMember.shop_id == shop_id, ShopMember.user_id == user_id))


def is_member(db: Session, shop_id: int, user_id: int) -> bool:
    """Whether the user is a member of the shop's programme while it runs (what members-only
    coupons ask; a paused programme's members keep their membership but not its perks)."""
    return (
        db.scalar(
            select(ShopMember.id)
            .join(MembershipProgram, MembershipProgram.shop_id == ShopMember.shop_id)
            .where(
                ShopMember.shop_id == shop_id,
                ShopMember.user_id == user_id,
                MembershipProgram.enabled.is_(True),
            )
        )
        is not None
    )


def member_discount_rates(db: Session, user_id: int, shop_ids: Sequence[int]) -> dict[int, int]:
    """Of these shops, those where the user is a member of a running programme with a member
    discount: shop id -> discount in basis points (checkout applies them)."""
    if not shop_ids:
        return {}
    rows = db.execute(
        select(MembershipProgram.shop_id, MembershipProgram.member_discount_bps)
        .join(ShopMember, ShopMember.shop_id == MembershipProgram.shop_id)
        .where(
            ShopMember.user_id == user_id,
            MembershipProgram.shop_id.in_(list(shop_ids)),
            MembershipProgram.enabled.is_(True),
            MembershipProgram.member_discount_bps > 0,
        )
    )
    return {int(shop): int(bps) for shop, bps in rows}


def member_user_ids(db: Session, shop_id: int) -> set[int]:
    return set(db.scalars(select(ShopMember.user_id).where(ShopMember.shop_id == shop_id)))


def list_members(
    db: Session, shop_id: int, params: PageParams, *, user_ids: Sequence[int] | None = None
) -> tuple[Sequence[ShopMember], str | None]:
    """The shop's members, newest first (only ``user_ids`` when given: a tier's members)."""
    stmt = select(ShopMember).where(ShopMember.shop_id == shop_id)
    if user_ids is not None:
        stmt = stmt.where(ShopMember.user_id.in_(list(user_ids)))
    return paginate_by_id(db, stmt, ShopMember.id, params)
