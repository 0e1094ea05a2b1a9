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
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zhongcao.content import service as content_service
from zhongcao.db import Database
from zhongcao.errors import Forbidden, Unauthorized
from zhongcao.security import check_cookie_write
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import StaffRole
from zhongcao.users import service as users_service
from zhongcao.users import token_use
from zhongcao.users.models import AuthToken, Role, TokenScope, User


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
    """The caller's token: ``Authorization: Bearer``, else the session cookie. A write (any method
    but GET, HEAD, OPTIONS) authenticated by the cookie must prove it comes from our own pages, since
    a browser attaches the cookie to requests that other sites make it send (403 ``csrf_failed``,
    ``zhongcao.security.check_cookie_write``); a bearer token is never sent by a browser on its own."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized(
                "Authorization header must be 'Bearer <token>'", code="invalid_authorization_header"
            )
        return value.strip()
    cookie = request.cookies.get(request.app.state.settings.session_cookie_name)
    if cookie and request.method not in READ_METHODS:
        check_cookie_write(request.headers, cookie)
    return cookie


def _user_allowed(request: Request, found: tuple[User, AuthToken]) -> User:
    user, token = found
    # A read-only API token may look but not touch: any method that may write is refused.
    if token.scope is TokenScope.read and request.method not in READ_METHODS:
        raise Forbidden(
            "this API token is read-only: create a full token to make changes",
            code="read_only_token",
        )
    return user


def has_credentials(request: Request) -> bool:
    """Whether the request carries a token (header or session cookie), valid or not: an endpoint
    that serves anonymous callers without the database opens a session only then."""
    return "authorization" in request.headers or (
        request.app.state.settings.session_cookie_name in request.cookies
    )


def token_use_recorder(app: Any) -> Callable[[int, datetime], bool] | None:
    """Where this app records a token's last use off the request path (``users.token_use``: Redis),
    made once per process; None on the embedded default (the request writes it)."""
    if not hasattr(app.state, "token_use"):
        app.state.token_use = token_use.recorder(app.state.settings)
    recorder: Callable[[int, datetime], bool] | None = app.state.token_use
    return recorder


def optional_user(request: Request, db: DbSession) -> User | None:
    token = _token_from_request(request)
    if not token:
        return None
    found = users_service.credentials_for_token(db, token, record_use=token_use_recorder(request.app))
    return _user_allowed(request, found) if found is not None else None


def current_user(request: Request, db: DbSession) -> User:
    token = _token_from_request(request)
    if not token:
        raise Unauthorized("sign in first", code="not_authenticated")
    found = users_service.credentials_for_token(db, token, record_use=token_use_recorder(request.app))
    if found is None:
        raise Unauthorized("the session or token is invalid or has expired", code="invalid_token")
    return _user_allowed(request, found)


def request_token(request: Request) -> str | None:
    """The credential this request was made with (bearer token or session cookie)."""
    return _token_from_request(request)


def client_address(request: Request) -> str | None:
    """The client's address, as the server sees it (behind a proxy, run uvicorn with
    ``--proxy-headers`` and ``--forwarded-allow-ips`` so that this is the real client)."""
    return request.client.host if request.client else None


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
    def check_role(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(
                f"this needs the role {' or '.join(r.value for r in roles)}",
                code="wrong_role",
                details={"required": [r.value for r in roles], "role": user.role.value},
            )
        return user

    return check_role


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
    membership = shops_service.membership_for_user(db, user.id)
    if membership is None:
        raise Forbidden("this merchant account belongs to no shop", code="no_shop")
    return MerchantContext(user=user, shop_id=membership.shop_id, staff_role=membership.role)


MerchantCtx = Annotated[MerchantContext, Depends(current_merchant)]


def merchant_with(*roles: StaffRole) -> Callable[[MerchantContext], MerchantContext]:
    """A merchant context that also requires one of the given shop roles."""

    def check_staff_role(ctx: MerchantCtx) -> MerchantContext:
        ctx.require(*roles)
        return ctx

    return check_staff_role


# Who may do what in a shop (docs/security.md, "Shop roles"): owners and operators run the shop
# (catalog, prices and stock, shipping, after-sales decisions, finance, coupons, content); only owners
# manage staff and ownership; service agents read orders and serve customers in the inbox.
SHOP_MANAGERS = (StaffRole.owner, StaffRole.operator)
ShopManagerCtx = Annotated[MerchantContext, Depends(merchant_with(*SHOP_MANAGERS))]
ShopOwnerCtx = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner))]


@dataclass(frozen=True)
class CreatorContext:
    user: User
    account_id: int


def current_creator(
    user: Annotated[User, Depends(require_role(Role.creator))], db: DbSession
) -> CreatorContext:
    account = content_service.creator_account_for_user(db, user.id)
    if account is None:
        raise Forbidden("this creator has no publishing account yet", code="no_creator_account")
    return CreatorContext(user=user, account_id=account.id)


CreatorCtx = Annotated[CreatorContext, Depends(current_creator)]
