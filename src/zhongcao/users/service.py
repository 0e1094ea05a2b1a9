"""Users, login, sessions and API tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.config import get_settings
from zhongcao.db import core, insert_rows_returning_ids, is_read_only
from zhongcao.errors import Conflict, NotFound, Unauthorized
from zhongcao.users import security
from zhongcao.users.models import AuthToken, Role, TokenKind, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("user not found", code="user_not_found")
    return user


def users_by_ids(db: Session, user_ids: Iterable[int]) -> dict[int, User]:
    """Many users in one query; unknown ids are simply absent."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return {user.id: user for user in db.scalars(select(User).where(User.id.in_(ids)))}


def get_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    db: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.shopper,
    locale: str = "zh-CN",
    commit: bool = True,
) -> User:
    """Create a user. Raises ``Conflict(email_taken)`` when the email is in use."""
    email = normalise_email(email)
    if get_by_email(db, email) is not None:
        raise Conflict("a user with this email already exists", code="email_taken", field="email")
    user = User(
        email=email,
        display_name=display_name,
        password_hash=security.hash_password(password),
        role=role,
        locale=locale,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same email
        db.rollback()
        raise Conflict("a user with this email already exists", code="email_taken", field="email") from exc
    if commit:
        db.commit()
    return user


def authenticate(db: Session, email: str, password: str) -> User:
    user = get_by_email(db, email)
    if user is None:
        security.verify_password(security.dummy_hash(), password)
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    if not security.verify_password(user.password_hash, password):
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    if not user.is_active:
        raise Unauthorized("this account is disabled", code="account_disabled")
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    return user


def issue_token(
    db: Session,
    user: User,
    *,
    kind: TokenKind,
    name: str | None = None,
    ttl: timedelta | None = None,
    commit: bool = True,
) -> tuple[str, AuthToken]:
    """Create a session or API token. Returns the secret (shown once) and its row."""
    if kind is TokenKind.session and ttl is None:
        ttl = timedelta(hours=get_settings().session_ttl_hours)
    secret = security.new_token()
    row = AuthToken(
        user_id=user.id,
        kind=kind,
        token_hash=security.token_digest(secret),
        name=name,
        expires_at=clock.now() + ttl if ttl else None,
    )
    db.add(row)
    db.flush()
    if commit:
        db.commit()
    return secret, row


def user_for_token(db: Session, secret: str) -> User | None:
    """The active user behind a token, or None when it is unknown, expired or revoked."""
    if not secret.startswith(security.TOKEN_PREFIX) or len(secret) > 200:
        return None
    # One round trip for the token and its user: every authenticated request pays for this.
    found = db.execute(
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == security.token_digest(secret))
    ).first()
    if found is None:
        return None
    row, user = found
    now = clock.now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if not user.is_active:
        return None
    # Write last_used_at at most once a minute, and only from sessions that may write: a GET runs in
    # a read-only session, and a token's last use is not worth a write lock.
    stale = row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1)
    if stale and not is_read_only(db):
        db.execute(update(AuthToken).where(AuthToken.id == row.id).values(last_used_at=now))
        db.commit()
    return user


@dataclass(frozen=True)
class Caller:
    """Who a token belongs to, as a read-only hot path needs it: no ORM row, nothing to lazy-load."""

    user_id: int
    role: Role


# A prebuilt Core statement: about a third of the ORM's cost for the same row (measured in
# benchmarks/RESULTS.md, "Feed serving"), for the one lookup every feed request makes.
_CALLER_BY_DIGEST = (
    select(AuthToken.user_id, User.role, AuthToken.expires_at, AuthToken.revoked_at, User.is_active)
    .join(User, User.id == AuthToken.user_id)
    .where(AuthToken.token_hash == bindparam("digest"))
)


def caller_for_token(db: Session, secret: str) -> Caller | None:
    """:func:`user_for_token` for the busiest read endpoint (the feed): the caller's id and role, or
    None when the token is unknown, expired or revoked, or its user is disabled. No ORM row is loaded
    (and no last-use time written: the feed reads in read-only sessions)."""
    if not secret.startswith(security.TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = core(db).execute(_CALLER_BY_DIGEST, {"digest": security.token_digest(secret)}).first()
    if row is None or row.revoked_at is not None or not row.is_active:
        return None
    if row.expires_at is not None and row.expires_at <= clock.now():
        return None
    return Caller(int(row.user_id), Role(row.role))


def revoke_token(db: Session, secret: str) -> None:
    db.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == security.token_digest(secret), AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    db.commit()


def revoke_token_id(db: Session, user: User, token_id: int) -> None:
    row = db.get(AuthToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("token not found", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    db.commit()


def list_tokens(db: Session, user: User) -> list[AuthToken]:
    return list(
        db.scalars(
            select(AuthToken)
            .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
            .order_by(AuthToken.id.desc())
        )
    )


def token_expiry(row: AuthToken) -> datetime | None:
    return row.expires_at


# --- bulk creation (demo world, imports) ---------------------------------------------------------


@dataclass(frozen=True)
class NewUser:
    """One user for :func:`create_users_bulk`."""

    email: str
    display_name: str
    role: Role = Role.shopper
    locale: str = "zh-CN"


def create_users_bulk(db: Session, rows: Sequence[NewUser], password_hash: str) -> list[int]:
    """Create many users sharing one already computed password hash; flushes only; returns ids in order.

    Hashing is deliberately slow (argon2), so generators and importers hash their one password once
    and pass the hash. Emails are normalised; one that repeats within ``rows`` or is already in use is
    refused with ``Conflict(email_taken)`` naming the row, before anything is written.
    """
    if not rows:
        return []
    emails = [normalise_email(row.email) for row in rows]
    seen: dict[str, int] = {}
    for i, email in enumerate(emails):
        if email in seen:
            raise Conflict(
                f"email {email!r} appears twice (rows {seen[email]} and {i})",
                code="email_taken",
                field="email",
            )
        seen[email] = i
    for start in range(0, len(emails), _BULK_CHUNK):
        chunk = emails[start : start + _BULK_CHUNK]
        taken = db.scalar(select(User.email).where(User.email.in_(chunk)).limit(1))
        if taken is not None:
            raise Conflict(
                f"a user with the email {taken!r} already exists", code="email_taken", field="email"
            )
    now = clock.now()
    values = [
        {
            "email": email,
            "display_name": row.display_name,
            "password_hash": password_hash,
            "role": row.role,
            "locale": row.locale,
            "is_active": True,
            "created_at": now,
        }
        for email, row in zip(emails, rows, strict=True)
    ]
    ids = insert_rows_returning_ids(db, User.__table__, values)
    return ids


_BULK_CHUNK = 5000
# Rows per INSERT call: SQLAlchemy sends this many as one multi-row statement, where larger calls
# split into pages whose RETURNING rows are re-joined at a cost that grows with the square of the pages.


# Bulk import -------------------------------------------------------------------------------------

IMPORT_EMAIL_DOMAIN = "import.zhongcao.local"
# Not an argon2 hash, so no password ever verifies against it: imported people cannot sign in
# until they set a password, and importing 30,000 of them hashes nothing.
UNUSABLE_PASSWORD_HASH = "!unusable"


def import_email(external_id: str) -> str:
    """The deterministic email that maps an imported person to their id in the source file."""
    return normalise_email(f"u{external_id}@{IMPORT_EMAIL_DOMAIN}")


def create_import_users(
    db: Session, external_ids: Iterable[str], *, role: Role = Role.shopper, chunk: int = 5000
) -> dict[str, int]:
    """Users for imported external ids, in bulk; existing ones (same mapped email) are reused.

    Returns external id -> user id. Only flushes: the caller commits the whole import at once.
    """
    wanted = {str(x): import_email(str(x)) for x in dict.fromkeys(external_ids)}
    emails = list(wanted.values())
    found: dict[str, int] = {}
    for i in range(0, len(emails), chunk):
        part = emails[i : i + chunk]
        found.update(db.execute(select(User.email, User.id).where(User.email.in_(part))).all())
    missing = [
        NewUser(email=email, display_name=f"imported {ext}"[:80], role=role, locale="en")
        for ext, email in wanted.items()
        if email not in found
    ]
    ids = create_users_bulk(db, missing, UNUSABLE_PASSWORD_HASH)
    found.update(zip((row.email for row in missing), ids, strict=True))
    return {ext: found[email] for ext, email in wanted.items()}
