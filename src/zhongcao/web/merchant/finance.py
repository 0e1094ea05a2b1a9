"""The merchant console's Finance page: a period's statement (pending and settled totals), its
settlements with their status, and the CSV download (the API's export, which the session cookie
authenticates). Owners and operators only, as in the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.config import get_settings
from zhongcao.errors import InvalidInput
from zhongcao.finance import service as finance_service
from zhongcao.finance.models import SettlementStatus
from zhongcao.web.console import CursorQuery, MerchantConsole, page_of

router = APIRouter(prefix="/merchant")

STATUSES = [s.value for s in SettlementStatus]


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("not a date", code="invalid_date") from None


@router.get("/finance")
def finance(
    console: MerchantConsole,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    status: Annotated[SettlementStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    console.require_manager()
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    error = None
    try:
        first, last = finance_service.period_bounds(_date(start), _date(end))
    except InvalidInput:
        # A typed period that is not one shows this month instead, with the reason.
        error = console.t("merchant.finance.bad_period")
        first, last = finance_service.period_bounds(None, None)
    statement = finance_service.statement(db, shop_id, first, last)
    rows, next_cursor = page_of(
        lambda p: finance_service.settlements_page(db, shop_id, p, start=first, end=last, status=status),
        cursor,
    )
    period = {"from": first.isoformat(), "to": last.isoformat()}
    query = urlencode(period)
    return console.render(
        "merchant/finance.html",
        "finance",
        status_code=422 if error else 200,
        statement=statement,
        rows=rows,
        period=period,
        error=error,
        status=status.value if status else "",
        statuses=STATUSES,
        base=f"/merchant/finance?{query}",
        csv_url=f"/api/merchant/finance/statement.csv?{query}",
        settlement_days=get_settings().settlement_days,
        next_cursor=next_cursor,
    )
