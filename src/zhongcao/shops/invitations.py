"""Staff invitations: a shop owner invites a person by email with a shop role; the person opens the
single-use link, signs in or registers with that email, accepts, and is staff of the shop.

* No email is sent: :func:`invite` returns the link's secret once and keeps only its digest, so the
  owner copies the link and sends it themselves. Inviting the same email again while an invitation
  waits gives that invitation a fresh secret, role and expiry (the old link stops working), which is
  also how an owner who lost a link gets a new one.
* Accepting needs the secret *and* a signed-in account with the invited email: a forwarded link is
  no use to anyone else. A shopper who accepts becomes a merchant (as an approved shop applicant
  does); a merchant must belong to no shop; creators and operators cannot join a shop.
* An invitation is accepted once (the row is locked while it is accepted), can be revoked while it
  waits, and expires after :data:`INVITATION_TTL`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops import service
from zhongcao.shops.models import InvitationStatus, Shop, ShopStaff, StaffInvitation, StaffRole
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User

INVITATION_TTL = timedelta(days=7)
ACCEPT_PATH = "/invitations/"
# Who may accept: a shopper becomes a merchant on accepting; a merchant must belong to no shop.
JOINING_ROLES = (Role.shopper, Role.merchant)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_expired(row: StaffInvitation, now: datetime | None = None) -> bool:
    return row.status is InvitationStatus.pending and row.expires_at <= (now or clock.now())


def state(row: StaffInvitation, now: datetime | None = None) -> str:
    """``pending``, ``expired``, ``accepted`` or ``revoked`` (expiry is computed, never stored)."""
    return "expired" if is_expired(row, now) else row.status.value


def invite(
    db: Session, shop_id: int, *, email: str, role: StaffRole, invited_by: int
) -> tuple[StaffInvitation, str]:
    """Invite ``email`` to the shop as ``role``; returns the invitation and the link's secret (shown
    once). 409 ``already_staff`` when that person already works for this shop."""
    service.get_shop(db, shop_id)
    email = users_service.normalise_email(email)
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput("enter an email address", code="invalid_email", field="email")
    existing = users_service.get_by_email(db, email)
    if existing is not None:
        membership = service.membership_for_user(db, existing.id)
        if membership is not None and membership.shop_id == shop_id:
            raise Conflict("this person already works for this shop", code="already_staff", field="email")
    secret = _new_secret()
    row = db.scalar(
        select(StaffInvitation)
        .where(
            StaffInvitation.shop_id == shop_id,
            StaffInvitation.email == email,
            StaffInvitation.status == InvitationStatus.pending,
        )
        .with_for_update()
    )
    if row is None:
        row = StaffInvitation(shop_id=shop_id, email=email, status=InvitationStatus.pending)
        db.add(row)
    row.role = role
    row.token_hash = _digest(secret)
    row.invited_by = invited_by
    row.expires_at = clock.now() + INVITATION_TTL
    db.commit()
    return row, secret


def renew(db: Session, shop_id: int, invitation_id: int, *, invited_by: int) -> tuple[StaffInvitation, str]:
    """A fresh link (and expiry) for a pending or expired invitation of the shop; the old link stops."""
    row = get_for_shop(db, shop_id, invitation_id)
    if row.status is not InvitationStatus.pending:
        raise Conflict("this invitation is no longer pending", code="invitation_closed")
    secret = _new_secret()
    row.token_hash = _digest(secret)
    row.invited_by = invited_by
    row.expires_at = clock.now() + INVITATION_TTL
    db.commit()
    return row, secret


def get_for_shop(db: Session, shop_id: int, invitation_id: int) -> StaffInvitation:
    """One of the shop's invitations; another shop's is not found."""
    row = db.get(StaffInvitation, invitation_id)
    if row is None or row.shop_id != shop_id:
        raise NotFound("invitation not found", code="invitation_not_found")
    return row


def list_for_shop(
    db: Session, shop_id: int, params: PageParams, *, pending_only: bool = True
) -> tuple[Sequence[StaffInvitation], str | None]:
    """The shop's invitations, newest first: by default only those still waiting (expired included,
    so the owner sees which links to renew)."""
    stmt = select(StaffInvitation).where(StaffInvitation.shop_id == shop_id)
    if pending_only:
        stmt = stmt.where(StaffInvitation.status == InvitationStatus.pending)
    return paginate_by_id(db, stmt, StaffInvitation.id, params)


def revoke(db: Session, shop_id: int, invitation_id: int) -> StaffInvitation:
    """Withdraw a waiting invitation; its link stops working. 409 ``invitation_closed`` once accepted."""
    row = get_for_shop(db, shop_id, invitation_id)
    if row.status is InvitationStatus.accepted:
        raise Conflict("this invitation has been accepted", code="invitation_closed")
    if row.status is InvitationStatus.pending:
        row.status = InvitationStatus.revoked
        row.decided_at = clock.now()
        db.commit()
    return row


def by_secret(db: Session, secret: str, *, lock: bool = False) -> StaffInvitation:
    """The invitation a link names, whatever its state; an unknown link is not found."""
    if not secret or len(secret) > 200:
        raise NotFound("invitation not found", code="invitation_not_found")
    stmt = select(StaffInvitation).where(StaffInvitation.token_hash == _digest(secret))
    row = db.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound("invitation not found", code="invitation_not_found")
    return row


def check_open(row: StaffInvitation) -> None:
    """410-like refusals for a link that cannot be used any more (409 with a code saying why)."""
    if row.status is InvitationStatus.accepted:
        raise Conflict("this invitation has already been used", code="invitation_used")
    if row.status is InvitationStatus.revoked:
        raise Conflict("this invitation was withdrawn", code="invitation_revoked")
    if is_expired(row):
        raise Conflict("this invitation has expired", code="invitation_expired")


def check_can_accept(db: Session, row: StaffInvitation, user: User) -> None:
    """Whether ``user`` may accept ``row`` now (the same checks :func:`accept` makes)."""
    check_open(row)
    if users_service.normalise_email(user.email) != row.email:
        raise Forbidden(
            "this invitation is for another email address", code="invitation_other_email", field="email"
        )
    if user.role not in JOINING_ROLES or not user.is_active:
        raise Conflict("this account cannot join a shop", code="cannot_join_shop")
    if service.membership_for_user(db, user.id) is not None:
        raise Conflict("this account already belongs to a shop", code="already_staff")


def accept(db: Session, secret: str, user: User) -> tuple[StaffInvitation, ShopStaff]:
    """``user`` accepts the invitation the link names and becomes staff of its shop with its role."""
    row = by_secret(db, secret, lock=True)
    try:
        check_can_accept(db, row, user)
    except (Conflict, Forbidden):
        db.rollback()
        raise
    if user.role is Role.shopper:
        users_service.set_role(db, user, Role.merchant)
    staff = service.attach_staff(db, shop_id=row.shop_id, user_id=user.id, role=row.role)
    row.status = InvitationStatus.accepted
    row.accepted_by = user.id
    row.decided_at = clock.now()
    db.commit()
    return row, staff


def pending_for_email(db: Session, email: str) -> list[tuple[StaffInvitation, Shop]]:
    """Invitations waiting for this email (not expired), newest first, each with its shop."""
    rows = list(
        db.scalars(
            select(StaffInvitation)
            .where(
                StaffInvitation.email == users_service.normalise_email(email),
                StaffInvitation.status == InvitationStatus.pending,
                StaffInvitation.expires_at > clock.now(),
            )
            .order_by(StaffInvitation.id.desc())
            .limit(50)
        )
    )
    shops = service.shops_by_ids(db, [row.shop_id for row in rows])
    return [(row, shops[row.shop_id]) for row in rows if row.shop_id in shops]
