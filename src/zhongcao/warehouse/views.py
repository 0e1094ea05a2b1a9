"""The platform warehouse over the API: the warehouses (anyone), a shop's warehouse stock, inbound
shipments and fulfilment tasks (``/api/merchant/warehouse/...``), the delivery promise of SKUs
(anyone), and the operators' receiving queue (``/api/ops/warehouse/...``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from zhongcao.catalog import lookup as catalog_lookup
from zhongcao.deps import DbSession, MerchantCtx, OperatorUser, ShopManagerCtx
from zhongcao.errors import InvalidInput
from zhongcao.fields import MAX_ID, IdPath
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.warehouse import service
from zhongcao.warehouse.models import InboundStatus
from zhongcao.warehouse.schemas import (
    WarehouseDispatchIn,
    WarehouseFulfilmentOut,
    WarehouseInboundIn,
    WarehouseInboundOut,
    WarehouseOut,
    WarehousePromiseOut,
    WarehouseReceiveIn,
    WarehouseStockOut,
)

router = APIRouter(tags=["warehouse"])
StatusQuery = Annotated[InboundStatus | None, Query(alias="status")]


@router.get("/api/warehouses", response_model=list[WarehouseOut])
def list_warehouses() -> list[WarehouseOut]:
    """The platform's regional warehouses (云仓) a shop can send stock to."""
    return [WarehouseOut(**vars(w)) for w in service.warehouses()]


@router.get("/api/warehouse/promises", response_model=list[WarehousePromiseOut])
def promises(
    db: DbSession,
    sku_id: Annotated[list[int], Query(min_length=1, max_length=100, description="SKU ids")],
) -> list[WarehousePromiseOut]:
    """The SKUs among ``sku_id`` that ship from a platform warehouse, with the faster delivery
    promise (shown to shoppers when ``in_stock``)."""
    ids = [s for s in sku_id if 1 <= s <= MAX_ID]
    found = service.promised_skus(db, ids)
    infos = catalog_lookup.skus_by_ids(db, list(found))
    low, high = service.PROMISE_DAYS
    return [
        WarehousePromiseOut(
            sku_id=s,
            warehouse=w.code,
            in_stock=s in infos and infos[s].stock > 0 and infos[s].for_sale,
            days_min=low,
            days_max=high,
        )
        for s, w in sorted(found.items())
    ]


# --- the merchant's ------------------------------------------------------------------------------


@router.get("/api/merchant/warehouse/stock", response_model=list[WarehouseStockOut], tags=["merchant"])
def shop_stock(ctx: MerchantCtx, db: DbSession) -> list[WarehouseStockOut]:
    """The shop's SKUs in platform warehouses: on the shelves, on sale, reserved, on the way in."""
    out = []
    for line in service.shop_stock(db, ctx.shop_id):
        sku = line.sku
        out.append(
            WarehouseStockOut(
                sku_id=line.row.sku_id,
                product_id=line.row.product_id,
                warehouse=line.row.warehouse,
                title_zh=sku.title_zh if sku else "",
                title_en=sku.title_en if sku else "",
                sku_code=sku.code if sku else "",
                attributes=sku.attributes if sku else {},
                on_hand=line.row.on_hand,
                sellable=line.sellable,
                reserved=line.reserved,
                in_transit=line.in_transit,
                received_total=line.row.received_total,
                withdrawn_at_enrolment=line.row.withdrawn_at_enrolment,
                enrolled_at=line.row.enrolled_at,
            )
        )
    return out


@router.get("/api/merchant/warehouse/inbounds", response_model=Page[WarehouseInboundOut], tags=["merchant"])
def shop_inbounds(
    ctx: MerchantCtx,
    db: DbSession,
    status_filter: StatusQuery = None,
    params: PageParams = Depends(page_params),
) -> Page[WarehouseInboundOut]:
    rows, cursor = service.list_shop_inbounds(db, ctx.shop_id, params, status=status_filter)
    return Page(items=[WarehouseInboundOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post(
    "/api/merchant/warehouse/inbounds",
    status_code=201,
    response_model=WarehouseInboundOut,
    tags=["merchant"],
)
def create_inbound(body: WarehouseInboundIn, ctx: ShopManagerCtx, db: DbSession) -> WarehouseInboundOut:
    """Send SKUs' stock to a platform warehouse: a draft, or in transit at once with ``dispatch``."""
    inbound = service.create_inbound(
        db,
        ctx.shop_id,
        ctx.user.id,
        warehouse_code=body.warehouse,
        lines=[service.NewLine(line.sku_id, line.quantity) for line in body.lines],
        note=body.note,
        carrier_name=body.carrier_name,
        tracking_number=body.tracking_number,
        dispatch=body.dispatch,
    )
    return WarehouseInboundOut.model_validate(inbound)


@router.get(
    "/api/merchant/warehouse/inbounds/{inbound_id}", response_model=WarehouseInboundOut, tags=["merchant"]
)
def shop_inbound(inbound_id: IdPath, ctx: MerchantCtx, db: DbSession) -> WarehouseInboundOut:
    return WarehouseInboundOut.model_validate(service.get_inbound_for_shop(db, ctx.shop_id, inbound_id))


@router.post(
    "/api/merchant/warehouse/inbounds/{inbound_id}/dispatch",
    response_model=WarehouseInboundOut,
    tags=["merchant"],
)
def dispatch_inbound(
    inbound_id: IdPath, body: WarehouseDispatchIn, ctx: ShopManagerCtx, db: DbSession
) -> WarehouseInboundOut:
    """Send a draft: ``draft -> in_transit`` with the shop's carrier and tracking number."""
    inbound = service.dispatch_inbound(
        db, ctx.shop_id, inbound_id, carrier_name=body.carrier_name, tracking_number=body.tracking_number
    )
    return WarehouseInboundOut.model_validate(inbound)


@router.post(
    "/api/merchant/warehouse/inbounds/{inbound_id}/cancel",
    response_model=WarehouseInboundOut,
    tags=["merchant"],
)
def cancel_inbound(inbound_id: IdPath, ctx: ShopManagerCtx, db: DbSession) -> WarehouseInboundOut:
    """Call off a draft or an in-transit inbound (no stock moves)."""
    return WarehouseInboundOut.model_validate(service.cancel_inbound(db, ctx.shop_id, inbound_id))


@router.get(
    "/api/merchant/warehouse/fulfilments", response_model=Page[WarehouseFulfilmentOut], tags=["merchant"]
)
def shop_fulfilments(
    ctx: MerchantCtx, db: DbSession, params: PageParams = Depends(page_params)
) -> Page[WarehouseFulfilmentOut]:
    """The warehouse's work on the shop's orders: queued, picked, packed, handed over (or short)."""
    rows, cursor = service.list_shop_fulfilments(db, ctx.shop_id, params)
    return Page(items=[WarehouseFulfilmentOut.model_validate(r) for r in rows], next_cursor=cursor)


# --- the operators' ------------------------------------------------------------------------------


@router.get("/api/ops/warehouse/inbounds", response_model=Page[WarehouseInboundOut], tags=["ops"])
def ops_inbounds(
    _: OperatorUser,
    db: DbSession,
    status_filter: Annotated[InboundStatus, Query(alias="status")] = InboundStatus.in_transit,
    params: PageParams = Depends(page_params),
) -> Page[WarehouseInboundOut]:
    """Every shop's inbounds, newest first; by default the receiving queue (in transit)."""
    rows, cursor = service.list_inbounds(db, params, status=status_filter)
    return Page(items=[WarehouseInboundOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/api/ops/warehouse/inbounds/{inbound_id}", response_model=WarehouseInboundOut, tags=["ops"])
def ops_inbound(inbound_id: IdPath, _: OperatorUser, db: DbSession) -> WarehouseInboundOut:
    return WarehouseInboundOut.model_validate(service.get_inbound(db, inbound_id))


@router.post(
    "/api/ops/warehouse/inbounds/{inbound_id}/receive", response_model=WarehouseInboundOut, tags=["ops"]
)
def receive_inbound(
    inbound_id: IdPath, body: WarehouseReceiveIn, operator: OperatorUser, db: DbSession
) -> WarehouseInboundOut:
    """Count an in-transit inbound in (per line; a line left out counts as sent). Its units go on the
    shelves and on sale. A second receipt is refused (409 ``inbound_not_in_transit``)."""
    counted: dict[int, int] = {}
    for i, line in enumerate(body.lines):
        if line.line_id in counted:
            raise InvalidInput("each line once", code="duplicate_line", field=f"lines[{i}].line_id")
        counted[line.line_id] = line.received_quantity
    inbound = service.receive_inbound(db, inbound_id, counted=counted, operator_user_id=operator.id)
    return WarehouseInboundOut.model_validate(inbound)
