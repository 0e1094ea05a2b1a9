"""Merchant finance: settlements, the statement of a period and its CSV export."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from zhongcao.config import get_settings
from zhongcao.deps import DbSession, MerchantContext, merchant_with
from zhongcao.finance import export, service
from zhongcao.finance.models import SettlementStatus
from zhongcao.finance.schemas import SettlementOut, StatementOut
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops.models import StaffRole

router = APIRouter()

# Money paid out is for the people who run the shop, not its service agents.
FinanceViewer = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]
Params = Annotated[PageParams, Depends(page_params)]
From = Annotated[
    date | None, Query(alias="from", description="First day (UTC); default: the 1st of the month")
]
To = Annotated[date | None, Query(alias="to", description="Last day (UTC), inclusive; default: today")]
StatusFilter = Annotated[SettlementStatus | None, Query(alias="status")]


def statement_out(db: DbSession, shop_id: int, start: date | None, end: date | None) -> StatementOut:
    first, last = service.period_bounds(start, end)
    result = service.statement(db, shop_id, first, last)
    return StatementOut.model_validate(
        {
            "start": result.start,
            "end": result.end,
            "settlement_days": get_settings().settlement_days,
            "total": result.total,
            "pending": result.pending,
            "settled": result.settled,
        }
    )


@router.get("/api/merchant/finance/settlements", response_model=Page[SettlementOut], tags=["merchant"])
def list_settlements(
    ctx: FinanceViewer,
    db: DbSession,
    params: Params,
    start: From = None,
    end: To = None,
    status: StatusFilter = None,
) -> Page[SettlementOut]:
    first, last = service.period_bounds(start, end)
    rows, cursor = service.settlements_page(db, ctx.shop_id, params, start=first, end=last, status=status)
    return Page[SettlementOut](items=[SettlementOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/api/merchant/finance/statement", response_model=StatementOut, tags=["merchant"])
def get_statement(ctx: FinanceViewer, db: DbSession, start: From = None, end: To = None) -> StatementOut:
    return statement_out(db, ctx.shop_id, start, end)


def statement_csv(db: DbSession, shop_id: int, start: date | None, end: date | None) -> Response:
    first, last = service.period_bounds(start, end)
    rows = service.settlements_in_period(db, shop_id, first, last)
    totals = service.statement(db, shop_id, first, last).total
    return Response(
        content=export.statement_csv(rows, totals),
        media_type=export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{export.filename(shop_id, first, last)}"'},
    )


@router.get(
    "/api/merchant/finance/statement.csv",
    response_class=Response,
    tags=["merchant"],
    responses={200: {"content": {"text/csv": {}}, "description": "The statement's settlements as CSV"}},
)
def get_statement_csv(ctx: FinanceViewer, db: DbSession, start: From = None, end: To = None) -> Response:
    return statement_csv(db, ctx.shop_id, start, end)
