"""FastAPI dependencies shared by every router: the database session and who is calling.

Roles are enforced here, as dependencies, so a view cannot forget them:

* ``CurrentUser``     any signed-in user
* ``ShopperUser``     role shopper
* ``MerchantCtx``     merchant staff; carries the caller's shop id. Merchant endpoints take the shop
                      from here, never from the URL, so another shop's ids are simply not found.
* ``CreatorCtx``      a creator; carries the caller's creator account id.
* ``OperatorUser``    platform operator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zhongcao.db import Database
from zhongcao.errors import Forbidden, Unauthorized
from zhongcao.shops.models import StaffRole
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User


def get_database(request: Request) -> Database:
    return request.app.state.database


# Requests that only read run in read-only sessions (see Database.session); the rest may write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    session = request.app.state.database.session(read_only=request.method in READ_METHODS)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db)]


def _token_from_request(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized(
                "Authorization header must be 'Bearer <token>'", code="invalid_authorization_header"
            )
        return value.strip()
    return request.cookies.get(request.app.state.settings.session_cookie_name)


def has_credentials(request: Request) -> bool:
    """Whether the request carries a token (header or session cookie), valid or not: an endpoint
    that serves anonymous callers without the database opens a session only then."""
    return "authorization" in request.headers or (
        request.app.state.settings.session_cookie_name in request.cookies
    )


def optional_user(request: Request, db: DbSession) -> User | None:
    token = _token_from_request(request)
    if not token:
        return None
    return users_service.user_for_token(db, token)


def current_user(request: Request, db: DbSession) -> User:
    token = _token_from_request(request)
    if not token:
        raise Unauthorized("sign in first", code="not_authenticated")
    user = users_service.user_for_token(db, token)
    if user is None:
        raise Unauthorized("the session or token is invalid or has expired", code="invalid_token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def caller_or_anonymous(request: Request, db: Session) -> users_service.Caller | None:
    """Who is calling the feed, or None when the request carries no credentials. A bad or expired
    token is still a 401 (the client thinks it is signed in and must be told), unlike
    :func:`optional_user`. Only the caller's id and role are read
    (``users_service.caller_for_token``), not a user row."""
    token = _token_from_request(request)
    if not token:
        return None
    caller = users_service.caller_for_token(db, token)
    if caller is None:
        raise Unauthorized("the session or token is invalid or has expired", code="invalid_token")
    return caller


def require_role(*roles: Role) -> Callable[[User], User]:
    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(
                f"this needs the role {' or '.join(r.value for r in roles)}",
                code="wrong_role",
                details={"required": [r.value for r in roles], "role": user.role.value},
            )
        return user

    return dependency


ShopperUser = Annotated[User, Depends(require_role(Role.shopper))]
OperatorUser = Annotated[User, Depends(require_role(Role.operator))]


@dataclass(frozen=True)
class MerchantContext:
    user: User
    shop_id: int
    staff_role: StaffRole

    def require(self, *roles: StaffRole) -> None:
        if self.staff_role not in roles:
            raise Forbidden(
                f"this needs the shop role {' or '.join(r.value for r in roles)}",
                code="wrong_shop_role",
                details={"required": [r.value for r in roles], "shop_role": self.staff_role.value},
            )


def current_merchant(
    user: Annotated[User, Depends(require_role(Role.merchant))], db: DbSession
) -> MerchantContext:
    from zhongcao.shops import service as shops_service

    membership = shops_service.membership_for_user(db, user.id)
    if membership is None:
        raise Forbidden("this merchant account belongs to no shop", code="no_shop")
    return MerchantContext(user=user, shop_id=membership.shop_id, staff_role=membership.role)


MerchantCtx = Annotated[MerchantContext, Depends(current_merchant)]


def merchant_with(*roles: StaffRole) -> Callable[[MerchantContext], MerchantContext]:
    """A merchant context that also requires one of the given shop roles."""

    def dependency(ctx: MerchantCtx) -> MerchantContext:
        ctx.require(*roles)
        return ctx

    return dependency


@dataclass(frozen=True)
class CreatorContext:
    user: User
    account_id: int


def current_creator(
    user: Annotated[User, Depends(require_role(Role.creator))], db: DbSession
) -> CreatorContext:
    from zhongcao.content import service as content_service

    account = content_service.creator_account_for_user(db, user.id)
    if account is None:
        raise Forbidden("this creator has no publishing account yet", code="no_creator_account")
    return CreatorContext(user=user, account_id=account.id)


CreatorCtx = Annotated[CreatorContext, Depends(current_creator)]
