from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends

from zhongcao import fulfilment_flows
from zhongcao.aftersales import service
from zhongcao.aftersales.models import AfterSale, AfterSaleStatus
from zhongcao.aftersales.schemas import (
    AfterSaleCreate,
    AfterSaleOut,
    ArbitrateRequest,
    EvidenceCreate,
    EvidenceOut,
    RejectRequest,
    ReturnShipped,
)
from zhongcao.deps import DbSession, MerchantCtx, OperatorUser, ShopManagerCtx, ShopperUser
from zhongcao.fields import IdPath
from zhongcao.media.service import Uploader
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter(tags=["after-sales"])

# Ids are BIGINT: anything outside is refused as input rather than overflowing in the database.
PathId = IdPath


def _page(rows: Sequence[AfterSale], next_cursor: str | None) -> Page[AfterSaleOut]:
    return Page[AfterSaleOut](items=[AfterSaleOut.model_validate(r) for r in rows], next_cursor=next_cursor)


# --- buyer -------------------------------------------------------------------------------------


@router.post("/api/orders/{order_id}/after-sales", status_code=201, response_model=AfterSaleOut)
def open_case(order_id: PathId, body: AfterSaleCreate, user: ShopperUser, db: DbSession) -> AfterSaleOut:
    case = service.open_case(
        db,
        user.id,
        order_id,
        order_item_id=body.order_item_id,
        kind=body.kind,
        reason=body.reason,
        description=body.description,
        quantity=body.quantity,
        amount_fen=body.amount_fen,
    )
    return AfterSaleOut.model_validate(case)


@router.get("/api/after-sales", response_model=Page[AfterSaleOut])
def my_cases(
    user: ShopperUser,
    db: DbSession,
    status: AfterSaleStatus | None = None,
    params: PageParams = Depends(page_params),
) -> Page[AfterSaleOut]:
    return _page(*service.list_for_buyer(db, user.id, params, status=status))


@router.get("/api/after-sales/{case_id}", response_model=AfterSaleOut)
def my_case(case_id: PathId, user: ShopperUser, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.get_for_buyer(db, user.id, case_id))


@router.post("/api/after-sales/{case_id}/return-shipped", response_model=AfterSaleOut)
def return_shipped(case_id: PathId, body: ReturnShipped, user: ShopperUser, db: DbSession) -> AfterSaleOut:
    case = service.mark_return_shipped(
        db, user.id, case_id, tracking_number=body.tracking_number, carrier_name=body.carrier_name
    )
    return AfterSaleOut.model_validate(case)


@router.post("/api/after-sales/{case_id}/escalate", response_model=AfterSaleOut)
def escalate(case_id: PathId, user: ShopperUser, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.escalate(db, user.id, case_id))


@router.post("/api/after-sales/{case_id}/cancel", response_model=AfterSaleOut)
def cancel(case_id: PathId, user: ShopperUser, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.cancel(db, user.id, case_id))


# --- merchant (every shop role handles after-sales) --------------------------------------------


@router.get("/api/merchant/after-sales", response_model=Page[AfterSaleOut], tags=["merchant"])
def shop_cases(
    ctx: MerchantCtx,
    db: DbSession,
    status: AfterSaleStatus | None = None,
    params: PageParams = Depends(page_params),
) -> Page[AfterSaleOut]:
    return _page(*service.list_for_shop(db, ctx.shop_id, params, status=status))


@router.get("/api/merchant/after-sales/{case_id}", response_model=AfterSaleOut, tags=["merchant"])
def shop_case(case_id: PathId, ctx: MerchantCtx, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.get_for_shop(db, ctx.shop_id, case_id))


@router.post("/api/merchant/after-sales/{case_id}/approve", response_model=AfterSaleOut, tags=["merchant"])
def approve(case_id: PathId, ctx: ShopManagerCtx, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.approve(db, ctx.shop_id, case_id))


@router.post("/api/merchant/after-sales/{case_id}/reject", response_model=AfterSaleOut, tags=["merchant"])
def reject(case_id: PathId, body: RejectRequest, ctx: ShopManagerCtx, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.reject(db, ctx.shop_id, case_id, note=body.note))


@router.post(
    "/api/merchant/after-sales/{case_id}/receive-return", response_model=AfterSaleOut, tags=["merchant"]
)
def receive_return(case_id: PathId, ctx: ShopManagerCtx, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(fulfilment_flows.receive_return_as_shop(db, ctx.shop_id, case_id))


# --- platform operator -------------------------------------------------------------------------


@router.get("/api/ops/after-sales", response_model=Page[AfterSaleOut], tags=["ops"])
def ops_cases(
    _: OperatorUser,
    db: DbSession,
    status: AfterSaleStatus | None = None,
    params: PageParams = Depends(page_params),
) -> Page[AfterSaleOut]:
    return _page(*service.list_all(db, params, status=status))


@router.get("/api/ops/after-sales/{case_id}", response_model=AfterSaleOut, tags=["ops"])
def ops_case(case_id: PathId, _: OperatorUser, db: DbSession) -> AfterSaleOut:
    return AfterSaleOut.model_validate(service.get_case(db, case_id))


@router.post("/api/ops/after-sales/{case_id}/arbitrate", response_model=AfterSaleOut, tags=["ops"])
def arbitrate(case_id: PathId, body: ArbitrateRequest, user: OperatorUser, db: DbSession) -> AfterSaleOut:
    """Refund or not, the reason (required: ``reason_required``), and whether the merchant was at
    fault (it then counts in the shop's experience score); written to the audit log."""
    case = service.arbitrate(
        db,
        case_id,
        merchant_at_fault=body.merchant_at_fault,
        refund=body.refund,
        note=body.reason if body.reason is not None else body.note,
        actor_user_id=user.id,
    )
    return AfterSaleOut.model_validate(case)


@router.get("/api/ops/after-sales/{case_id}/evidence", response_model=list[EvidenceOut], tags=["ops"])
def ops_evidence(case_id: PathId, _: OperatorUser, db: DbSession) -> list[EvidenceOut]:
    service.get_case(db, case_id)
    return [EvidenceOut.model_validate(row) for row in service.evidence_for(db, case_id)]


# --- evidence images, one side each ------------------------------------------------------------


@router.post("/api/after-sales/{case_id}/evidence", status_code=201, response_model=EvidenceOut)
def buyer_evidence(case_id: PathId, body: EvidenceCreate, user: ShopperUser, db: DbSession) -> EvidenceOut:
    """Attach one of your uploaded images to your open case (at most 9)."""
    return EvidenceOut.model_validate(service.add_buyer_evidence(db, user.id, case_id, body.media_id))


@router.post(
    "/api/merchant/after-sales/{case_id}/evidence",
    status_code=201,
    response_model=EvidenceOut,
    tags=["merchant"],
)
def merchant_evidence(
    case_id: PathId, body: EvidenceCreate, ctx: ShopManagerCtx, db: DbSession
) -> EvidenceOut:
    """Attach one of the shop's uploaded images to an open case about the shop (at most 9)."""
    uploader = Uploader(user_id=ctx.user.id, shop_id=ctx.shop_id, shop_role=ctx.staff_role)
    return EvidenceOut.model_validate(service.add_merchant_evidence(db, uploader, case_id, body.media_id))
