"""The creator's data and commission statement: per content item and per product, what the creator's
sales carried over 7, 30 or 90 days (Compass's analytics snapshot), and every commission entry of a
period with its state -- pending until the order is settled, settled with the order's settlement by the
finance job, reversed by a refund after completion -- with the period's totals and a CSV download.

The same code as the JSON API (``GET /api/creator/data``, ``/api/creator/statement`` and
``/api/creator/statement.csv``): :func:`zhongcao.creator_flows.creator_data` and
:func:`zhongcao.creator_flows.creator_statement`. Scoped to the caller's own account; no account id in a URL.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import creator_flows
from zhongcao.affiliate.views import statement_csv_response
from zhongcao.errors import DomainError
from zhongcao.web.console import WINDOWS, Console, CreatorConsole, DaysQuery, compass_engine, window
from zhongcao.web.forms import error_message

router = APIRouter(prefix="/creator")

STATEMENT_STATES = [s.value for s in creator_flows.EntryState]
SHOWN_LINES = 200  # the page shows the newest lines; the CSV has them all
DateText = Annotated[str | None, Query(max_length=10)]


@router.get("/data")
def data(console: CreatorConsole, days: DaysQuery = 30) -> Response:
    assert console.account_id is not None
    span = window(days)
    result = creator_flows.creator_data(
        compass_engine(console), console.db, console.account_id, span.first, span.last
    )
    return console.render(
        "creator/data.html", "data", span=span, windows=WINDOWS, data=result, top=result.content[:100]
    )


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _period(
    console: Console, raw_from: str | None, raw_to: str | None
) -> tuple[date | None, date | None, str]:
    """The typed days; a day that does not read as one is the error to show (the default period then)."""
    start, end = _day(raw_from), _day(raw_to)
    bad = (raw_from and start is None) or (raw_to and end is None)
    return start, end, console.t("creator.statement.bad_day") if bad else ""


@router.get("/statement")
def statement(
    console: CreatorConsole,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    assert console.account_id is not None
    first, last, message = _period(console, start, end)
    status_code = 200 if not message else 422
    try:
        result = creator_flows.creator_statement(console.db, console.account_id, first, last)
    except DomainError as exc:  # a period that ends before it starts, or is longer than a year
        message, status_code = error_message(console.t, exc), exc.status_code
        result = creator_flows.creator_statement(console.db, console.account_id)
    wanted = state if state in STATEMENT_STATES else ""
    lines = [line for line in result.lines if not wanted or line.state.value == wanted]
    return console.render(
        "creator/statement.html",
        "statement",
        status_code=status_code,
        statement=result,
        lines=list(reversed(lines))[:SHOWN_LINES],
        hidden_lines=max(0, len(lines) - SHOWN_LINES),
        state=wanted,
        states=STATEMENT_STATES,
        message=message,
        typed_from=start or result.start.isoformat(),
        typed_to=end or result.end.isoformat(),
    )


@router.get("/statement.csv")
def statement_csv(
    console: CreatorConsole,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    assert console.account_id is not None
    first, last, message = _period(console, start, end)
    if message:
        return console.redirect("/creator/statement", flash="creator.statement.bad_day")
    try:
        result = creator_flows.creator_statement(console.db, console.account_id, first, last)
    except DomainError:
        return console.redirect("/creator/statement", flash="creator.statement.bad_period")
    return statement_csv_response(result, console.account_id, console.page.locale)
