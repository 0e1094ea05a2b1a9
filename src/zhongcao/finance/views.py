"""Merchant finance: settlements, the statement of a period and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from zhongcao.config import get_settings
from zhongcao.deps import DbSession, MerchantContext, merchant_with
from zhongcao.finance import service
from zhongcao.finance.models import Settlement, SettlementStatus
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

CSV_COLUMNS = (
    "order_id",
    "status",
    "completed_at",
    "settled_at",
    "paid_fen",
    "subsidy_fen",
    "platform_fee_fen",
    "commission_fen",
    "refunded_fen",
    "settlement_fen",
)


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


def _csv_row(row: Settlement) -> list[object]:
    return [
        row.order_id,
        row.status.value,
        row.completed_at.isoformat(),
        row.settled_at.isoformat() if row.settled_at else "",
        *(getattr(row, name) for name in service.AMOUNTS),
    ]


def statement_csv(db: DbSession, shop_id: int, start: date | None, end: date | None) -> Response:
    """One line per settlement, then a ``total`` line equal to the statement's totals."""
    first, last = service.period_bounds(start, end)
    rows = service.settlements_in_period(db, shop_id, first, last)
    totals = service.statement(db, shop_id, first, last).total
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(r) for r in rows)
    writer.writerow(["total", "", "", "", *(getattr(totals, name) for name in service.AMOUNTS)])
    filename = f"statement-{shop_id}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        # A BOM, so that spreadsheet programs open the UTF-8 file as UTF-8.
        content="\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/api/merchant/finance/statement.csv",
    response_class=Response,
    tags=["merchant"],
    responses={200: {"content": {"text/csv": {}}, "description": "The statement's settlements as CSV"}},
)
def get_statement_csv(ctx: FinanceViewer, db: DbSession, start: From = None, end: To = None) -> Response:
    return statement_csv(db, ctx.shop_id, start, end)
