from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response, status

from zhongcao.deps import CurrentUser, DbSession, OperatorUser
from zhongcao.fields import IdPath
from zhongcao.users import service
from zhongcao.users.models import Role, TokenKind
from zhongcao.users.schemas import LoginRequest, LoginResponse, TokenCreate, TokenOut, UserCreate, UserOut

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
    """Shopper self sign-up. Merchant staff, creators and operators are created by operators or the CLI."""
    user = service.create_user(
        db,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        locale=body.locale,
        commit=False,
    )
    token, row = service.issue_token(db, user, kind=TokenKind.session)
    _set_session_cookie(request, response, token)
    return LoginResponse(user=UserOut.model_validate(user), token=token, expires_at=row.expires_at)


@router.post("/api/auth/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, db: DbSession) -> LoginResponse:
    user = service.authenticate(db, body.email, body.password)
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


@router.post("/api/me/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenOut)
def create_api_token(
    user: CurrentUser, db: DbSession, body: Annotated[TokenCreate, Body()] = TokenCreate()
) -> TokenOut:
    from datetime import timedelta

    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, row = service.issue_token(db, user, kind=TokenKind.api, name=body.name, ttl=ttl)
    return TokenOut(token=token, token_id=row.id, expires_at=row.expires_at)


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
