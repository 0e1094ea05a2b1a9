"""Shops API: public shop pages, operators opening and suspending shops, owners running their staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from zhongcao import flows
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.schemas import ProductSummaryOut
from zhongcao.deps import CurrentUser, DbSession, MerchantContext, MerchantCtx, OperatorUser, merchant_with
from zhongcao.fields import MAX_ID
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops import applications, invitations, sanctions, service
from zhongcao.shops.models import ApplicationStatus, ShopStaff, ShopStatus, StaffInvitation, StaffRole
from zhongcao.shops.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationIssued,
    InvitationOut,
    MyInvitationOut,
    ShopAction,
    ShopApplicationCreate,
    ShopApplicationDecision,
    ShopApplicationOut,
    ShopCreate,
    ShopNoticeOut,
    ShopOut,
    ShopPublicOut,
    ShopStatusUpdate,
    ShopUpdate,
    StaffCreate,
    StaffOut,
    StaffUpdate,
)
from zhongcao.users.models import User

router = APIRouter()

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OwnerCtx = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner))]


def _staff_out(staff: ShopStaff, user: User) -> StaffOut:
    return StaffOut(
        id=staff.id,
        shop_id=staff.shop_id,
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=staff.role,
        created_at=staff.created_at,
    )


# Public ------------------------------------------------------------------------------------------


@router.get("/api/shops/{shop_id}", response_model=ShopPublicOut, tags=["shops"])
def get_shop(shop_id: IdPath, db: DbSession) -> ShopPublicOut:
    return ShopPublicOut.model_validate(service.get_active_shop(db, shop_id))


@router.get("/api/shops/{shop_id}/products", response_model=Page[ProductSummaryOut], tags=["shops"])
def list_shop_products(
    shop_id: IdPath, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[ProductSummaryOut]:
    service.get_active_shop(db, shop_id)
    rows, next_cursor = catalog_service.list_public_products(db, params, shop_id=shop_id)
    return Page(items=[ProductSummaryOut.of(row) for row in rows], next_cursor=next_cursor)


# Operators ---------------------------------------------------------------------------------------


@router.get("/api/ops/shops", response_model=Page[ShopOut], tags=["ops"])
def ops_list_shops(
    _: OperatorUser,
    db: DbSession,
    params: PageParams = Depends(page_params),
    status_filter: Annotated[ShopStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=80, description="A name (either language) or an id")] = None,
    campaigns_suspended: bool | None = None,
) -> Page[ShopOut]:
    rows, next_cursor = sanctions.search_shops(
        db, params, q=q, status=status_filter, campaigns_suspended=campaigns_suspended
    )
    return Page(items=[ShopOut.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.post("/api/ops/shops", status_code=status.HTTP_201_CREATED, response_model=ShopOut, tags=["ops"])
def ops_create_shop(body: ShopCreate, _: OperatorUser, db: DbSession) -> ShopOut:
    """Open a shop for an existing merchant user, who becomes its owner."""
    return ShopOut.model_validate(service.create_shop(db, **body.model_dump()))


@router.patch("/api/ops/shops/{shop_id}", response_model=ShopOut, tags=["ops"])
def ops_set_shop_status(
    shop_id: IdPath, body: ShopStatusUpdate, user: OperatorUser, db: DbSession
) -> ShopOut:
    """Suspend or reinstate a shop, with the reason the merchant sees (``reason_required``)."""
    shop = sanctions.set_status(db, shop_id, body.status, reason=body.reason, actor_user_id=user.id)
    return ShopOut.model_validate(shop)


@router.post("/api/ops/shops/{shop_id}/actions", response_model=ShopOut, tags=["ops"])
def ops_shop_action(shop_id: IdPath, body: ShopAction, user: OperatorUser, db: DbSession) -> ShopOut:
    """Warn the shop, suspend its campaign registration, suspend it, or restore it; the reason is
    required and the merchant sees it; written to the audit log with the status before and after."""
    shop = sanctions.act(db, shop_id, body.action, reason=body.reason, actor_user_id=user.id)
    return ShopOut.model_validate(shop)


# Merchants: the shop is always the caller's own --------------------------------------------------


@router.get("/api/merchant/shop", response_model=ShopOut, tags=["merchant"])
def merchant_get_shop(ctx: MerchantCtx, db: DbSession) -> ShopOut:
    return ShopOut.model_validate(service.get_shop(db, ctx.shop_id))


@router.get("/api/merchant/shop/notices", response_model=list[ShopNoticeOut], tags=["merchant"])
def merchant_shop_notices(ctx: MerchantCtx, db: DbSession) -> list[ShopNoticeOut]:
    """The platform's newest warnings, suspensions and restorations of the caller's shop, with why."""
    return [ShopNoticeOut.model_validate(n) for n in sanctions.notices_for(db, ctx.shop_id)]


@router.patch("/api/merchant/shop", response_model=ShopOut, tags=["merchant"])
def merchant_update_shop(body: ShopUpdate, ctx: OwnerCtx, db: DbSession) -> ShopOut:
    return ShopOut.model_validate(service.update_shop(db, ctx.shop_id, **body.model_dump(exclude_unset=True)))


@router.get("/api/merchant/staff", response_model=Page[StaffOut], tags=["merchant"])
def merchant_list_staff(
    ctx: OwnerCtx, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[StaffOut]:
    rows, next_cursor = service.list_staff(db, ctx.shop_id, params)
    return Page(items=[_staff_out(staff, user) for staff, user in rows], next_cursor=next_cursor)


@router.post(
    "/api/merchant/staff", status_code=status.HTTP_201_CREATED, response_model=StaffOut, tags=["merchant"]
)
def merchant_add_staff(body: StaffCreate, ctx: OwnerCtx, db: DbSession) -> StaffOut:
    """Add an existing merchant user who belongs to no shop, by email."""
    staff, user = service.add_staff_by_email(db, ctx.shop_id, email=body.email, role=StaffRole(body.role))
    return _staff_out(staff, user)


@router.patch("/api/merchant/staff/{staff_id}", response_model=StaffOut, tags=["merchant"])
def merchant_change_staff_role(staff_id: IdPath, body: StaffUpdate, ctx: OwnerCtx, db: DbSession) -> StaffOut:
    staff, user = service.change_staff_role(db, ctx.shop_id, staff_id, body.role)
    return _staff_out(staff, user)


@router.delete("/api/merchant/staff/{staff_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["merchant"])
def merchant_remove_staff(staff_id: IdPath, ctx: OwnerCtx, db: DbSession) -> None:
    service.remove_staff(db, ctx.shop_id, staff_id)


# Staff invitations (shops/invitations.py): owners invite, the invitee accepts with the link -------


def _invitation_out(row: StaffInvitation) -> InvitationOut:
    return InvitationOut(
        id=row.id,
        shop_id=row.shop_id,
        email=row.email,
        role=row.role,
        status=row.status,
        state=invitations.state(row),
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def _issued(request: Request, row: StaffInvitation, secret: str) -> InvitationIssued:
    url = str(request.base_url).rstrip("/") + invitations.ACCEPT_PATH + secret
    return InvitationIssued(**_invitation_out(row).model_dump(), accept_url=url)


@router.get("/api/merchant/staff/invitations", response_model=Page[InvitationOut], tags=["merchant"])
def merchant_list_invitations(
    ctx: OwnerCtx,
    db: DbSession,
    params: PageParams = Depends(page_params),
    include_closed: bool = False,
) -> Page[InvitationOut]:
    """The shop's waiting invitations (expired ones too), newest first; ``include_closed`` adds the
    accepted and revoked ones."""
    rows, next_cursor = invitations.list_for_shop(db, ctx.shop_id, params, pending_only=not include_closed)
    return Page(items=[_invitation_out(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/api/merchant/staff/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationIssued,
    tags=["merchant"],
)
def merchant_invite(
    body: InvitationCreate, request: Request, ctx: OwnerCtx, db: DbSession
) -> InvitationIssued:
    """Invite a person by email with a shop role. No email is sent: ``accept_url`` (shown only in this
    answer) is for the owner to send on. Inviting a waiting email again replaces its link."""
    row, secret = invitations.invite(
        db, ctx.shop_id, email=body.email, role=body.role, invited_by=ctx.user.id
    )
    return _issued(request, row, secret)


@router.post(
    "/api/merchant/staff/invitations/{invitation_id}/renew",
    response_model=InvitationIssued,
    tags=["merchant"],
)
def merchant_renew_invitation(
    invitation_id: IdPath, request: Request, ctx: OwnerCtx, db: DbSession
) -> InvitationIssued:
    """A fresh link and expiry for a waiting (or expired) invitation; the old link stops working."""
    row, secret = invitations.renew(db, ctx.shop_id, invitation_id, invited_by=ctx.user.id)
    return _issued(request, row, secret)


@router.delete(
    "/api/merchant/staff/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["merchant"],
)
def merchant_revoke_invitation(invitation_id: IdPath, ctx: OwnerCtx, db: DbSession) -> None:
    invitations.revoke(db, ctx.shop_id, invitation_id)


@router.get("/api/invitations", response_model=list[MyInvitationOut], tags=["shops"])
def my_invitations(user: CurrentUser, db: DbSession) -> list[MyInvitationOut]:
    """Invitations waiting for the caller's email. Accepting still needs the link the owner sent."""
    return [
        MyInvitationOut(
            id=row.id,
            shop_id=shop.id,
            shop_name_zh=shop.name_zh,
            shop_name_en=shop.name_en,
            role=row.role,
            expires_at=row.expires_at,
        )
        for row, shop in invitations.pending_for_email(db, user.email)
    ]


@router.post("/api/invitations/accept", response_model=StaffOut, tags=["shops"])
def accept_invitation(body: InvitationAccept, user: CurrentUser, db: DbSession) -> StaffOut:
    """Join the shop the link's ``token`` names. 404 ``invitation_not_found``; 409
    ``invitation_used`` / ``invitation_revoked`` / ``invitation_expired``; 403 ``invitation_other_email``
    when signed in with another email; 409 ``already_staff`` or ``cannot_join_shop``."""
    _, staff = invitations.accept(db, body.token, user)
    return _staff_out(staff, user)


# Shop applications -------------------------------------------------------------------------------


@router.post(
    "/api/shop-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ShopApplicationOut,
    tags=["shops"],
)
def apply_for_shop(body: ShopApplicationCreate, user: CurrentUser, db: DbSession) -> ShopApplicationOut:
    """A signed-in shopper applies to open a shop; an operator decides. 403 ``wrong_role`` for any
    other role, 409 ``application_pending`` while one waits, 404 naming ``category_id``, 422 naming
    ``credit_code`` when the code's length, characters or check character are wrong."""
    row = flows.apply_for_shop(db, user, **body.model_dump())
    return ShopApplicationOut.model_validate(row)


@router.get("/api/shop-applications", response_model=list[ShopApplicationOut], tags=["shops"])
def my_applications(user: CurrentUser, db: DbSession) -> list[ShopApplicationOut]:
    """The caller's applications, newest first, with their status and any rejection reason."""
    return [ShopApplicationOut.model_validate(row) for row in applications.applications_of(db, user.id)]


@router.get("/api/shop-applications/{application_id}", response_model=ShopApplicationOut, tags=["shops"])
def my_application(application_id: IdPath, user: CurrentUser, db: DbSession) -> ShopApplicationOut:
    return ShopApplicationOut.model_validate(applications.application_of(db, user.id, application_id))


@router.get("/api/ops/shop-applications", response_model=Page[ShopApplicationOut], tags=["ops"])
def ops_list_applications(
    _: OperatorUser,
    db: DbSession,
    params: PageParams = Depends(page_params),
    status_filter: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
) -> Page[ShopApplicationOut]:
    """Shop applications, newest first, optionally of one status (``pending`` to review)."""
    rows, next_cursor = applications.list_applications(db, params, status=status_filter)
    return Page(items=[ShopApplicationOut.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/api/ops/shop-applications/{application_id}", response_model=ShopApplicationOut, tags=["ops"])
def ops_get_application(application_id: IdPath, _: OperatorUser, db: DbSession) -> ShopApplicationOut:
    return ShopApplicationOut.model_validate(applications.get_application(db, application_id))


@router.post(
    "/api/ops/shop-applications/{application_id}/approve", response_model=ShopApplicationOut, tags=["ops"]
)
def ops_approve_application(
    application_id: IdPath, body: ShopApplicationDecision, operator: OperatorUser, db: DbSession
) -> ShopApplicationOut:
    """Open the shop with the applicant as owner (their role becomes merchant), saying what was
    checked in ``reason`` (the applicant reads it; the audit log keeps it). 409
    ``application_decided`` when already decided."""
    return ShopApplicationOut.model_validate(
        applications.approve(db, application_id, operator.id, reason=body.reason)
    )


@router.post(
    "/api/ops/shop-applications/{application_id}/reject", response_model=ShopApplicationOut, tags=["ops"]
)
def ops_reject_application(
    application_id: IdPath, body: ShopApplicationDecision, operator: OperatorUser, db: DbSession
) -> ShopApplicationOut:
    """Refuse with a reason the applicant sees. 409 ``application_decided`` when already decided."""
    return ShopApplicationOut.model_validate(
        applications.reject(db, application_id, operator.id, reason=body.reason)
    )
