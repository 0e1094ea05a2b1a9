"""Users, login, sessions and API tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.config import get_settings
from zhongcao.db import core, insert_rows_returning_ids, is_read_only
from zhongcao.errors import Conflict, InvalidInput, NotFound, Unauthorized
from zhongcao.users import security
from zhongcao.users.models import AuthToken, DemoLogin, Role, TokenKind, TokenScope, User
from zhongcao.users.throttle import LoginThrottle


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


def active_user_ids_with_role(db: Session, role: Role) -> list[int]:
    """Ids of the active accounts of one role (the operators, who hear of escalated after-sales)."""
    return list(
        db.scalars(select(User.id).where(User.role == role, User.is_active.is_(True)).order_by(User.id))
    )


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
    """Create a user. Raises ``Conflict(email_taken)`` when the email is in use and
    ``InvalidInput(weak_password)`` when the password is common or guessable."""
    email = normalise_email(email)
    if get_by_email(db, email) is not None:
        raise Conflict("a user with this email already exists", code="email_taken", field="email")
    check_new_password(password, email=email, display_name=display_name)
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


def check_new_password(password: str, *, email: str, display_name: str, field: str = "password") -> None:
    """Refuse a common or guessable password (``password``, ``12345678``, the user's own email or name)
    with 422 ``weak_password`` naming the field; zxcvbn's advice (English) goes in the details."""
    verdict = security.judge_password(password, [email, display_name])
    if not verdict.ok:
        raise InvalidInput(
            "this password is too easy to guess: use a longer one, a few uncommon words, not a common "
            "password or your name or email",
            code="weak_password",
            field=field,
            details={
                "score": verdict.score,
                "min_score": security.MIN_PASSWORD_SCORE,
                "warning": verdict.warning,
                "suggestions": verdict.suggestions,
            },
        )


def login(db: Session, throttle: LoginThrottle, email: str, password: str, address: str | None) -> User:
    """:func:`authenticate`, throttled per account and per client address (``users.throttle``): a
    locked account or address gets 429 before any hash is computed; a wrong password counts against
    both; success clears the account's count."""
    throttle.check(email, address)
    try:
        user = authenticate(db, email, password)
    except Unauthorized as exc:
        if exc.code == "invalid_credentials":
            throttle.failed(email, address)
        raise
    throttle.succeeded(email)
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
    scope: TokenScope = TokenScope.full,
    commit: bool = True,
) -> tuple[str, AuthToken]:
    """Create a session or API token. Returns the secret (shown once) and its row. Sessions are
    always ``full``; an API token may be ``read`` (GET, HEAD and OPTIONS only)."""
    if kind is TokenKind.session:
        scope = TokenScope.full
    if kind is TokenKind.session and ttl is None:
        ttl = timedelta(hours=get_settings().session_ttl_hours)
    secret = security.new_token()
    row = AuthToken(
        user_id=user.id,
        kind=kind,
        token_hash=security.token_digest(secret),
        name=name,
        expires_at=clock.now() + ttl if ttl else None,
        scope=scope,
    )
    db.add(row)
    db.flush()
    if commit:
        db.commit()
    return secret, row


def user_for_token(db: Session, secret: str) -> User | None:
    """The active user behind a token, or None when it is unknown, expired or revoked."""
    found = credentials_for_token(db, secret)
    return found[0] if found is not None else None


def credentials_for_token(
    db: Session, secret: str, *, record_use: Callable[[int, datetime], bool] | None = None
) -> tuple[User, AuthToken] | None:
    """The active user behind a token and the token's row (its kind and scope), or None when the
    token is unknown, expired or revoked, or its user is disabled. ``record_use``: where the token's
    last use goes instead of a write of its own (``token_use``: Redis, moved by a job); it answers
    False when it could not, and the use is then written here."""
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
    if stale and not is_read_only(db) and not (record_use is not None and record_use(row.id, now)):
        db.execute(update(AuthToken).where(AuthToken.id == row.id).values(last_used_at=now))
        db.commit()
    return user, row


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


def change_password(
    db: Session,
    throttle: LoginThrottle,
    user: User,
    *,
    current_password: str,
    new_password: str,
    address: str | None,
    keep_secret: str | None,
) -> int:
    """Set a new password after checking the current one, and sign out the user's other sessions
    (a stolen session must not outlive the password change). API tokens are kept: "sign out
    everywhere" revokes those. The current password is throttled like a login (a session must not be
    a free guessing oracle). Returns how many sessions were revoked."""
    throttle.check(user.email, address)
    if not security.verify_password(user.password_hash, current_password):
        throttle.failed(user.email, address)
        raise InvalidInput("the current password is wrong", code="wrong_password", field="current_password")
    throttle.succeeded(user.email)
    check_new_password(new_password, email=user.email, display_name=user.display_name, field="new_password")
    user.password_hash = security.hash_password(new_password)
    revoked = _revoke_all(db, user, keep_secret, kinds=(TokenKind.session,))
    db.commit()
    return revoked


def sign_out_everywhere(db: Session, user: User, *, keep_secret: str | None) -> int:
    """Revoke every session and API token of ``user`` except the one making the request; returns how
    many were revoked."""
    revoked = _revoke_all(db, user, keep_secret, kinds=(TokenKind.session, TokenKind.api))
    db.commit()
    return revoked


def revoke_every_token(db: Session, user: User) -> int:
    """Revoke all of ``user``'s sessions and API tokens (flushed, not committed); returns how many."""
    return _revoke_all(db, user, None, kinds=(TokenKind.session, TokenKind.api))


def _revoke_all(db: Session, user: User, keep_secret: str | None, *, kinds: tuple[TokenKind, ...]) -> int:
    stmt = update(AuthToken).where(
        AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None), AuthToken.kind.in_(kinds)
    )
    if keep_secret:
        stmt = stmt.where(AuthToken.token_hash != security.token_digest(keep_secret))
    result = db.execute(stmt.values(revoked_at=clock.now()))
    return int(getattr(result, "rowcount", 0) or 0)


def list_tokens(db: Session, user: User) -> list[AuthToken]:
    """The user's live sessions and API tokens (neither revoked nor expired), newest first."""
    now = clock.now()
    return list(
        db.scalars(
            select(AuthToken)
            .where(
                AuthToken.user_id == user.id,
                AuthToken.revoked_at.is_(None),
                or_(AuthToken.expires_at.is_(None), AuthToken.expires_at > now),
            )
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


def set_role(db: Session, user: User, role: Role) -> User:
    """Change a user's role (a shopper whose shop application is approved becomes a merchant); flushes
    only, so the change commits with whatever made it."""
    user.role = role
    db.flush()
    return user


# --- the demo world's logins ---------------------------------------------------------------------

DEMO_LOGIN_KINDS = ("shopper", "good_shop", "poor_shop", "creator", "operator")


@dataclass(frozen=True)
class DemoLoginShown:
    kind: str
    email: str
    password: str


def record_demo_logins(db: Session, logins: Sequence[tuple[int, str, str]]) -> None:
    """Mark ``(user id, kind, password)`` as the demo world's logins (the world build only); flushes."""
    for user_id, kind, password in logins:
        if kind not in DEMO_LOGIN_KINDS:
            raise InvalidInput(f"unknown demo login kind {kind!r}", field="kind")
        db.add(DemoLogin(user_id=user_id, kind=kind, password=password, created_at=clock.now()))
    db.flush()


def demo_logins(db: Session) -> list[DemoLoginShown]:
    """The demo world's logins in the order they were recorded: none unless the demo world is loaded."""
    rows = db.execute(
        select(DemoLogin.kind, User.email, DemoLogin.password)
        .join(User, User.id == DemoLogin.user_id)
        .where(User.is_active.is_(True))
        .order_by(DemoLogin.id)
    )
    return [DemoLoginShown(kind, email, password) for kind, email, password in rows]
