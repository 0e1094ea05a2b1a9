from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status

from zhongcao import flows
from zhongcao.audit.schemas import ReasonIn
from zhongcao.deps import CurrentUser, DbSession, OperatorUser, client_address, request_token
from zhongcao.errors import InvalidInput
from zhongcao.fields import IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.users import addresses, divisions, sanctions, security, service
from zhongcao.users.models import Role, TokenKind
from zhongcao.users.schemas import (
    AddressIn,
    AddressOut,
    DivisionOut,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    PasswordChanged,
    SignedOutEverywhere,
    TokenCreate,
    TokenInfo,
    TokenOut,
    UserCreate,
    UserOut,
)

router = APIRouter(tags=["auth"])


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


@router.post("/api/auth/register", status_code=status.HTTP_201_CREATED, response_model=LoginResponse)
def register(body: UserCreate, request: Request, response: Response, db: DbSession) -> LoginResponse:
    """Self sign-up as a shopper or a creator (``role``; a creator gets a creator account too). The
    password must not be easy to guess (422 ``weak_password`` with advice; docs/security.md). Merchants
    come through shop applications (/api/shop-applications); operators are created by operators."""
    user = flows.register(
        db,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        role=body.role,
        locale=body.locale,
    )
    token, row = service.issue_token(db, user, kind=TokenKind.session)
    _set_session_cookie(request, response, token)
    return LoginResponse(user=UserOut.model_validate(user), token=token, expires_at=row.expires_at)


@router.post("/api/auth/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, db: DbSession) -> LoginResponse:
    """Sign in. Throttled per account and per client address: after a few wrong passwords each
    further one locks the account and the address for a backoff that doubles up to 15 minutes; while
    locked the answer is 429 ``too_many_login_attempts`` with ``Retry-After`` (docs/security.md)."""
    user = service.login(
        db, request.app.state.login_throttle, body.email, body.password, client_address(request)
    )
    token, row = service.issue_token(db, user, kind=TokenKind.session)
    _set_session_cookie(request, response, token)
    return LoginResponse(user=UserOut.model_validate(user), token=token, expires_at=row.expires_at)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, user: CurrentUser, db: DbSession) -> None:
    settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() or request.cookies.get(settings.session_cookie_name)
    if token:
        service.revoke_token(db, token)
    response.delete_cookie(settings.session_cookie_name, path="/")


@router.get("/api/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.post("/api/me/password", response_model=PasswordChanged)
def change_password(
    body: PasswordChange, request: Request, user: CurrentUser, db: DbSession
) -> PasswordChanged:
    """Change the password (the current one is required, and throttled like a login). The user's other
    sessions are signed out; this one and the API tokens are kept."""
    revoked = service.change_password(
        db,
        request.app.state.login_throttle,
        user,
        current_password=body.current_password,
        new_password=body.new_password,
        address=client_address(request),
        keep_secret=request_token(request),
    )
    return PasswordChanged(revoked_sessions=revoked)


@router.post("/api/me/sign-out-everywhere", response_model=SignedOutEverywhere)
def sign_out_everywhere(request: Request, user: CurrentUser, db: DbSession) -> SignedOutEverywhere:
    """Revoke every other session and every API token of the caller; the credential making this
    request stays valid."""
    return SignedOutEverywhere(
        revoked=service.sign_out_everywhere(db, user, keep_secret=request_token(request))
    )


@router.get("/api/me/tokens", response_model=list[TokenInfo])
def list_api_tokens(request: Request, user: CurrentUser, db: DbSession) -> list[TokenInfo]:
    """The caller's live sessions and API tokens (never their secrets), newest first."""
    secret = request_token(request)
    digest = security.token_digest(secret) if secret else None
    return [
        TokenInfo.model_validate(row).model_copy(update={"current": row.token_hash == digest})
        for row in service.list_tokens(db, user)
    ]


@router.post("/api/me/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenOut)
def create_api_token(
    request: Request, user: CurrentUser, db: DbSession, body: Annotated[TokenCreate, Body()] = TokenCreate()
) -> TokenOut:
    """Mint an API token: it expires after ``expires_in_days`` (default 90, at most 365) and is
    ``full`` or ``read`` (read-only: 403 on anything but GET, HEAD and OPTIONS)."""
    settings = request.app.state.settings
    days = body.expires_in_days or settings.api_token_default_days
    if days > settings.api_token_max_days:
        raise InvalidInput(
            f"an API token may live at most {settings.api_token_max_days} days",
            code="token_lifetime_too_long",
            field="expires_in_days",
            details={"max": settings.api_token_max_days},
        )
    token, row = service.issue_token(
        db, user, kind=TokenKind.api, name=body.name, ttl=timedelta(days=days), scope=body.scope
    )
    return TokenOut(token=token, token_id=row.id, expires_at=row.expires_at, scope=row.scope)


@router.delete("/api/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_token(token_id: IdPath, user: CurrentUser, db: DbSession) -> None:
    service.revoke_token_id(db, user, token_id)


class OperatorUserCreate(UserCreate):
    role: Role


@router.post("/api/ops/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["ops"])
def ops_create_user(body: OperatorUserCreate, _: OperatorUser, db: DbSession) -> UserOut:
    """Create a user of any role (merchant staff are then attached to a shop via /api/ops/shops)."""
    user = service.create_user(
        db,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        role=body.role,
        locale=body.locale,
    )
    return UserOut.model_validate(user)


class OpsUserOut(UserOut):
    is_active: bool


class UserDisabled(OpsUserOut):
    sessions_revoked: int


@router.get("/api/ops/users", response_model=Page[OpsUserOut], tags=["ops"])
def ops_search_users(
    _: OperatorUser,
    db: DbSession,
    q: Annotated[str | None, Query(max_length=254, description="Email, display name or id")] = None,
    role: Role | None = None,
    disabled: bool | None = None,
    params: PageParams = Depends(page_params),
) -> Page[OpsUserOut]:
    rows, cursor = sanctions.search_users(db, params, q=q, role=role, disabled=disabled)
    return Page(items=[OpsUserOut.model_validate(u) for u in rows], next_cursor=cursor)


@router.post("/api/ops/users/{user_id}/disable", response_model=UserDisabled, tags=["ops"])
def ops_disable_user(user_id: IdPath, body: ReasonIn, operator: OperatorUser, db: DbSession) -> UserDisabled:
    """Disable an account: its sessions and tokens end now and sign-in is refused (``account_disabled``).
    The reason is required (``reason_required``) and goes to the audit log."""
    user, revoked = sanctions.set_active(db, user_id, False, reason=body.reason, actor_user_id=operator.id)
    return UserDisabled.model_validate(
        {**OpsUserOut.model_validate(user).model_dump(), "sessions_revoked": revoked}
    )


@router.post("/api/ops/users/{user_id}/restore", response_model=OpsUserOut, tags=["ops"])
def ops_restore_user(user_id: IdPath, body: ReasonIn, operator: OperatorUser, db: DbSession) -> OpsUserOut:
    """Let a disabled account sign in again (with a reason, in the audit log)."""
    user, _ = sanctions.set_active(db, user_id, True, reason=body.reason, actor_user_id=operator.id)
    return OpsUserOut.model_validate(user)


# --- the address book (docs/web.md, "Address book") -----------------------------------------------


@router.get("/api/divisions", response_model=list[DivisionOut], tags=["addresses"])
def list_divisions(
    parent: Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="a province or city code")] = None,
) -> list[DivisionOut]:
    """Mainland China's provinces (no ``parent``), a province's cities or a city's districts (GB/T 2260
    codes; an unknown parent gives an empty list)."""
    rows = divisions.children(parent) if parent else divisions.provinces()
    return [DivisionOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en) for d in rows]


@router.get("/api/me/addresses", response_model=list[AddressOut], tags=["addresses"])
def list_my_addresses(user: CurrentUser, db: DbSession) -> list[AddressOut]:
    """The signed-in user's saved addresses, the default first."""
    return [addresses.to_out(a) for a in addresses.list_addresses(db, user.id)]


@router.post(
    "/api/me/addresses", response_model=AddressOut, status_code=status.HTTP_201_CREATED, tags=["addresses"]
)
def create_my_address(body: AddressIn, user: CurrentUser, db: DbSession) -> AddressOut:
    """Save an address (the first one becomes the default). 422 ``unknown_division`` or
    ``division_mismatch`` with the field; 409 ``too_many_addresses`` past 20."""
    return addresses.to_out(addresses.create_address(db, user.id, body))


@router.get("/api/me/addresses/{address_id}", response_model=AddressOut, tags=["addresses"])
def get_my_address(address_id: IdPath, user: CurrentUser, db: DbSession) -> AddressOut:
    return addresses.to_out(addresses.get_address(db, user.id, address_id))


@router.put("/api/me/addresses/{address_id}", response_model=AddressOut, tags=["addresses"])
def update_my_address(address_id: IdPath, body: AddressIn, user: CurrentUser, db: DbSession) -> AddressOut:
    """Replace an address (``is_default: true`` makes it the default; false leaves the default as is)."""
    return addresses.to_out(addresses.update_address(db, user.id, address_id, body))


@router.post("/api/me/addresses/{address_id}/default", response_model=AddressOut, tags=["addresses"])
def set_my_default_address(address_id: IdPath, user: CurrentUser, db: DbSession) -> AddressOut:
    return addresses.to_out(addresses.set_default(db, user.id, address_id))


@router.delete("/api/me/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["addresses"])
def delete_my_address(address_id: IdPath, user: CurrentUser, db: DbSession) -> Response:
    """Delete an address; if it was the default, the newest remaining one becomes the default."""
    addresses.delete_address(db, user.id, address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
