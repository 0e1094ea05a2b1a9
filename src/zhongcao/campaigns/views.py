from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from zhongcao import flows
from zhongcao.campaigns import coupons, service
from zhongcao.campaigns.models import CampaignStatus, CouponFunder, UserCouponStatus
from zhongcao.campaigns.schemas import (
    CampaignCreate,
    CampaignDetailOut,
    CampaignOut,
    CampaignUpdate,
    CategoryRef,
    CouponCreate,
    CouponOut,
    RegistrationCreate,
    RegistrationOut,
    ShopCouponOut,
    UserCouponOut,
)
from zhongcao.deps import (
    CurrentUser,
    DbSession,
    MerchantContext,
    MerchantCtx,
    OperatorUser,
    ShopperUser,
    merchant_with,
)
from zhongcao.fields import MAX_ID, IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops.models import StaffRole

router = APIRouter(tags=["campaigns"])

# Campaign registrations and coupons are commercial decisions: owners and shop operators only.
ShopManager = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]


def _detail(db: Session, campaign_id: int) -> CampaignDetailOut:
    campaign = service.get_campaign(db, campaign_id)
    base = CampaignOut.of(campaign).model_dump()
    return CampaignDetailOut(
        **base,
        categories=[CategoryRef.model_validate(c) for c in service.campaign_categories(db, campaign_id)],
        eligible_category_ids=sorted(service.eligible_category_ids(db, campaign_id)),
    )


# --- operator ------------------------------------------------------------------------------------


@router.post(
    "/api/ops/campaigns", status_code=status.HTTP_201_CREATED, response_model=CampaignDetailOut, tags=["ops"]
)
def ops_create_campaign(body: CampaignCreate, _: OperatorUser, db: DbSession) -> CampaignDetailOut:
    campaign = service.create_campaign(db, **body.model_dump())
    return _detail(db, campaign.id)


@router.get("/api/ops/campaigns", response_model=Page[CampaignOut], tags=["ops"])
def ops_list_campaigns(
    _: OperatorUser,
    db: DbSession,
    status_: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    params: PageParams = Depends(page_params),
) -> Page[CampaignOut]:
    rows, cursor = service.list_campaigns(db, params, status=status_)
    return Page(items=[CampaignOut.of(c) for c in rows], next_cursor=cursor)


@router.get("/api/ops/campaigns/{campaign_id}", response_model=CampaignDetailOut, tags=["ops"])
def ops_get_campaign(campaign_id: IdPath, _: OperatorUser, db: DbSession) -> CampaignDetailOut:
    return _detail(db, campaign_id)


@router.patch("/api/ops/campaigns/{campaign_id}", response_model=CampaignDetailOut, tags=["ops"])
def ops_update_campaign(
    campaign_id: IdPath, body: CampaignUpdate, _: OperatorUser, db: DbSession
) -> CampaignDetailOut:
    """Change the budget (never below spent_fen), extend ends_at, or cancel with status=cancelled."""
    service.update_campaign(
        db,
        campaign_id,
        budget_fen=body.budget_fen,
        ends_at=body.ends_at,
        cancel=body.status == "cancelled",
    )
    return _detail(db, campaign_id)


@router.post("/api/ops/coupons", status_code=status.HTTP_201_CREATED, response_model=CouponOut, tags=["ops"])
def ops_create_coupon(body: CouponCreate, _: OperatorUser, db: DbSession) -> CouponOut:
    """A platform-funded coupon, usable in any shop."""
    coupon = coupons.create_coupon(db, funded_by=CouponFunder.platform, shop_id=None, **body.model_dump())
    return CouponOut.of(coupon)


@router.get("/api/ops/coupons", response_model=Page[CouponOut], tags=["ops"])
def ops_list_coupons(
    _: OperatorUser, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[CouponOut]:
    rows, cursor = coupons.list_platform_coupons(db, params)
    return Page(items=[CouponOut.of(c) for c in rows], next_cursor=cursor)


# --- public and shopper --------------------------------------------------------------------------


@router.get("/api/campaigns", response_model=Page[CampaignOut])
def list_open_campaigns(db: DbSession, params: PageParams = Depends(page_params)) -> Page[CampaignOut]:
    """Campaigns running now."""
    rows, cursor = service.list_open_campaigns(db, params)
    return Page(items=[CampaignOut.of(c) for c in rows], next_cursor=cursor)


@router.get("/api/campaigns/{campaign_id}", response_model=CampaignDetailOut)
def get_campaign(campaign_id: IdPath, db: DbSession) -> CampaignDetailOut:
    return _detail(db, campaign_id)


@router.get("/api/coupons", response_model=Page[CouponOut])
def list_claimable_coupons(
    db: DbSession,
    shop_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="This shop's coupons; without it, platform coupons")
    ] = None,
    params: PageParams = Depends(page_params),
) -> Page[CouponOut]:
    """Coupons that can be claimed now (inside their window, not sold out)."""
    rows, cursor = coupons.list_claimable_coupons(db, params, shop_id=shop_id)
    return Page(items=[CouponOut.of(c) for c in rows], next_cursor=cursor)


@router.post(
    "/api/coupons/{coupon_id}/claim", status_code=status.HTTP_201_CREATED, response_model=UserCouponOut
)
def claim_coupon(coupon_id: IdPath, user: ShopperUser, db: DbSession) -> UserCouponOut:
    """Claim one copy. A members-only coupon needs membership of the shop's programme: 403
    ``members_only`` otherwise, with ``join_url`` (the shop's membership page) in the details."""
    user_coupon = flows.claim_coupon(db, user.id, coupon_id)
    return UserCouponOut.of(user_coupon, coupons.get_coupon(db, user_coupon.coupon_id))


@router.get("/api/me/coupons", response_model=Page[UserCouponOut])
def my_coupons(
    user: CurrentUser,
    db: DbSession,
    status_: Annotated[UserCouponStatus | None, Query(alias="status")] = None,
    params: PageParams = Depends(page_params),
) -> Page[UserCouponOut]:
    rows, cursor = coupons.list_user_coupons(db, user.id, params, status=status_)
    return Page(items=[UserCouponOut.of(uc, c) for uc, c in rows], next_cursor=cursor)


# --- merchant ------------------------------------------------------------------------------------


@router.post(
    "/api/merchant/campaigns/{campaign_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationOut,
    tags=["merchant"],
)
def register_product(
    campaign_id: IdPath, body: RegistrationCreate, ctx: ShopManager, db: DbSession
) -> RegistrationOut:
    registration = service.register_product(db, ctx.shop_id, campaign_id, body.product_id)
    return RegistrationOut.model_validate(registration)


@router.get("/api/merchant/campaigns/registrations", response_model=Page[RegistrationOut], tags=["merchant"])
def list_registrations(
    ctx: MerchantCtx,
    db: DbSession,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    include_withdrawn: bool = True,
    params: PageParams = Depends(page_params),
) -> Page[RegistrationOut]:
    rows, cursor = service.list_shop_registrations(
        db, ctx.shop_id, params, campaign_id=campaign_id, include_withdrawn=include_withdrawn
    )
    return Page(items=[RegistrationOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.delete(
    "/api/merchant/campaigns/{campaign_id}/registrations/{product_id}",
    response_model=RegistrationOut,
    tags=["merchant"],
)
def withdraw_registration(
    campaign_id: IdPath, product_id: IdPath, ctx: ShopManager, db: DbSession
) -> RegistrationOut:
    registration = service.withdraw_registration(db, ctx.shop_id, campaign_id, product_id)
    return RegistrationOut.model_validate(registration)


@router.post(
    "/api/merchant/coupons", status_code=status.HTTP_201_CREATED, response_model=CouponOut, tags=["merchant"]
)
def merchant_create_coupon(body: CouponCreate, ctx: ShopManager, db: DbSession) -> CouponOut:
    """A coupon funded by the caller's shop."""
    coupon = coupons.create_coupon(db, funded_by=CouponFunder.shop, shop_id=ctx.shop_id, **body.model_dump())
    return CouponOut.of(coupon)


@router.get("/api/merchant/coupons", response_model=Page[ShopCouponOut], tags=["merchant"])
def merchant_list_coupons(
    ctx: MerchantCtx,
    db: DbSession,
    state: Annotated[coupons.CouponState | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=80, description="Part of the coupon's name")] = None,
    params: PageParams = Depends(page_params),
) -> Page[ShopCouponOut]:
    rows, cursor = coupons.list_shop_coupons(db, ctx.shop_id, params, state=state, query=(q or "").strip())
    used = coupons.used_counts(db, [c.id for c in rows])
    return Page(items=[ShopCouponOut.with_usage(c, used[c.id]) for c in rows], next_cursor=cursor)


@router.get("/api/merchant/coupons/{coupon_id}", response_model=ShopCouponOut, tags=["merchant"])
def merchant_get_coupon(coupon_id: IdPath, ctx: MerchantCtx, db: DbSession) -> ShopCouponOut:
    coupon = coupons.get_shop_coupon(db, ctx.shop_id, coupon_id)
    return ShopCouponOut.with_usage(coupon, coupons.used_counts(db, [coupon.id])[coupon.id])


@router.put("/api/merchant/coupons/{coupon_id}", response_model=ShopCouponOut, tags=["merchant"])
def merchant_update_coupon(
    coupon_id: IdPath, body: CouponCreate, ctx: ShopManager, db: DbSession
) -> ShopCouponOut:
    """Replace the coupon's terms. Once claimed, threshold, amount, percentage and start are fixed
    (409 ``coupon_terms_locked``) and the quantity cannot go below what is claimed."""
    coupon = coupons.update_shop_coupon(db, ctx.shop_id, coupon_id, **body.model_dump())
    return ShopCouponOut.with_usage(coupon, coupons.used_counts(db, [coupon.id])[coupon.id])


@router.post("/api/merchant/coupons/{coupon_id}/end", response_model=ShopCouponOut, tags=["merchant"])
def merchant_end_coupon(coupon_id: IdPath, ctx: ShopManager, db: DbSession) -> ShopCouponOut:
    """Stop handing the coupon out; copies already claimed stay usable until they expire."""
    coupon = coupons.end_shop_coupon(db, ctx.shop_id, coupon_id)
    return ShopCouponOut.with_usage(coupon, coupons.used_counts(db, [coupon.id])[coupon.id])
