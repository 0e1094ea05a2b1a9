"""Operators disable and restore user accounts. A disabled account's sessions and API tokens are
revoked at once and sign-in is refused with ``account_disabled`` (its tokens are refused too:
``credentials_for_token`` checks ``is_active``). Each needs a reason and writes an audit entry in the
same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from zhongcao.audit import service as audit_service
from zhongcao.errors import Conflict, Forbidden
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.users.models import Role, User
from zhongcao.users.service import get_user, revoke_every_token


def set_active(
    db: Session, user_id: int, active: bool, *, reason: str | None, actor_user_id: int | None
) -> tuple[User, int]:
    """Disable (``active=False``) or restore a user; returns the user and how many sessions and
    tokens were revoked. ``already_disabled`` / ``not_disabled`` (409) for a no-op; an operator may
    not disable their own account (``cannot_disable_self``, 403)."""
    text = audit_service.require_reason(reason)
    user = db.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if user is None:
        user = get_user(db, user_id)  # raises user_not_found
    if not active and user.id == actor_user_id:
        raise Forbidden("you cannot disable your own account", code="cannot_disable_self")
    if user.is_active == active:
        raise Conflict(
            "this account is already disabled" if not active else "this account is not disabled",
            code="already_disabled" if not active else "not_disabled",
        )
    revoked = 0
    user.is_active = active
    if not active:
        revoked = revoke_every_token(db, user)
    db.flush()
    audit_service.record(
        db,
        actor_user_id=actor_user_id,
        action="user.restore" if active else "user.disable",
        target_kind="user",
        target_id=user.id,
        reason=text,
        before={"is_active": not active},
        after={"is_active": active, "sessions_revoked": revoked},
    )
    db.commit()
    return user, revoked


def search_users(
    db: Session,
    params: PageParams,
    *,
    q: str | None = None,
    role: Role | None = None,
    disabled: bool | None = None,
) -> tuple[Sequence[User], str | None]:
    """Users by email, display name or id, newest first, optionally by role or disabled state."""
    stmt = select(User)
    text = (q or "").strip()
    if text:
        like = f"%{text.lower()}%"
        conditions: list[ColumnElement[bool]] = [
            func.lower(User.email).like(like),
            User.display_name.ilike(f"%{text}%"),
        ]
        if text.isdigit() and len(text) < 19:
            conditions.append(User.id == int(text))
        stmt = stmt.where(or_(*conditions))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if disabled is not None:
        stmt = stmt.where(User.is_active.is_(not disabled))
    return paginate_by_id(db, stmt, User.id, params)
