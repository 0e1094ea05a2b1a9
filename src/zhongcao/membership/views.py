"""Memberships: the merchant's programme and members (``/api/merchant/membership``, ``/members``),
a shopper's own membership of a shop (``/api/shops/{shop_id}/membership``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from zhongcao import flows
from zhongcao.commerce import buyers as commerce_buyers
from zhongcao.deps import DbSession, MerchantContext, MerchantCtx, OptionalUser, ShopperUser, merchant_with
from zhongcao.fields import IdPath
from zhongcao.membership import service
from zhongcao.membership.schemas import (
    AnalyticsOut,
    JoinIn,
    MemberOut,
    MyMembershipOut,
    ProgramIn,
    ProgramOut,
    TierOut,
)
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import StaffRole

router = APIRouter(tags=["membership"])
ProgramManager = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]


def _tier(t: Any) -> TierOut:
    return TierOut(name_zh=t.name_zh, name_en=t.name_en, threshold_fen=t.threshold_fen)


def _program(db: Any, shop_id: int) -> ProgramOut:
    program = service.get_program(db, shop_id)
    return ProgramOut(
        shop_id=shop_id,
        enabled=bool(program and program.enabled),
        tiers=[_tier(t) for t in service.tiers_of(program)],
        member_discount_bps=program.member_discount_bps if program else 0,
    )


@router.get("/api/merchant/membership", response_model=ProgramOut, tags=["merchant"])
def get_program(merchant: MerchantCtx, db: DbSession) -> ProgramOut:
    """The shop's programme (the default tiers, off, until the merchant saves one)."""
    return _program(db, merchant.shop_id)


@router.put("/api/merchant/membership", response_model=ProgramOut, tags=["merchant"])
def put_program(body: ProgramIn, merchant: ProgramManager, db: DbSession) -> ProgramOut:
    service.configure(
        db,
        merchant.shop_id,
        enabled=body.enabled,
        tiers=[t.model_dump() for t in body.tiers],
        discount_bps=body.member_discount_bps,
    )
    return _program(db, merchant.shop_id)


@router.get("/api/merchant/members", response_model=Page[MemberOut], tags=["merchant"])
def list_members(
    merchant: MerchantCtx, db: DbSession, params: Annotated[PageParams, Depends(page_params)]
) -> Page[MemberOut]:
    rows, next_cursor = service.list_members(db, merchant.shop_id, params)
    totals = commerce_buyers.buyer_totals_for_shop(db, merchant.shop_id, [m.user_id for m in rows])
    program = service.get_program(db, merchant.shop_id)
    items = []
    for m in rows:
        orders, spend = totals.get(m.user_id, (0, 0))
        tier = _tier(service.tier_for(program, spend))
        items.append(
            MemberOut(user_id=m.user_id, joined_at=m.joined_at, orders=orders, spend_fen=spend, tier=tier)
        )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/api/merchant/members/analytics", response_model=AnalyticsOut, tags=["merchant"])
def analytics(merchant: MerchantCtx, db: DbSession) -> AnalyticsOut:
    a = flows.member_analytics(db, merchant.shop_id)
    return AnalyticsOut(
        members=a.members,
        member_buyers=a.member_buyers,
        member_gmv_fen=a.member_gmv_fen,
        gmv_fen=a.gmv_fen,
        member_gmv_share=a.member_share,
        member_repurchase_rate=a.member_repurchase,
        other_repurchase_rate=a.other_repurchase,
        tiers=[(_tier(t), n) for t, n in a.tier_counts],
    )


def _mine(db: Any, shop_id: int, user_id: int | None) -> MyMembershipOut:
    shops_service.get_active_shop(db, shop_id)  # 404 for shops that do not exist or are closed
    status = flows.member_status(db, shop_id, user_id)
    member = status.member
    return MyMembershipOut(
        shop_id=shop_id,
        enabled=bool(status.program and status.program.enabled),
        tiers=[_tier(t) for t in service.tiers_of(status.program)],
        member_discount_bps=status.program.member_discount_bps if status.program else 0,
        member=member is not None,
        joined_at=member.joined_at if member else None,
        spend_fen=status.spend_fen if member else 0,
        tier=_tier(status.tier) if member else None,
        next_tier=_tier(status.next_tier) if member and status.next_tier else None,
    )


@router.get("/api/shops/{shop_id}/membership", response_model=MyMembershipOut)
def my_membership(shop_id: IdPath, user: OptionalUser, db: DbSession) -> MyMembershipOut:
    return _mine(db, shop_id, user.id if user is not None else None)


@router.post("/api/shops/{shop_id}/membership", response_model=MyMembershipOut)
def join(shop_id: IdPath, body: JoinIn, user: ShopperUser, db: DbSession) -> MyMembershipOut:
    shops_service.get_active_shop(db, shop_id)
    service.join(db, shop_id, user.id, consent=body.consent, phone=body.phone)
    return _mine(db, shop_id, user.id)
