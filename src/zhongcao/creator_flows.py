"""A creator's money and numbers, read across domains: earnings (pending, settled, reversed), the
commission statement and its CSV, and the data per content item and product (issue #16, items 1b and 5).
The ledger (affiliate) says what was earned, finance whether the order was settled to the shop, and
commerce which product and content each entry came from; the creator reads the three as one. Views
and the world call these; no domain service imports this module."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.affiliate import ledger as affiliate_ledger
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import CommissionKind
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import checkout as commerce_checkout
from zhongcao.compass import service as compass_service
from zhongcao.content import service as content_service
from zhongcao.content.models import Content
from zhongcao.finance import service as finance_service
from zhongcao.pagination import MAX_LIMIT, PageParams


@dataclass(frozen=True)
class CreatorEarnings:
    pending_fen: int  # net commission of orders whose settlement is not settled yet
    settled_fen: int
    reversed_fen: int  # taken back by refunds after completion


EARNINGS_CHUNK = 1000  # order ids per IN list


def creator_earnings(db: Session, account_id: int) -> CreatorEarnings:
    """A creator account's commission split by its orders' settlement (pending + settled = balance)."""
    by_order = affiliate_service.commission_by_order(db, account_id)
    ids = sorted(by_order)
    settled_ids: set[int] = set()
    for i in range(0, len(ids), EARNINGS_CHUNK):
        settled_ids |= finance_service.settled_order_ids(db, ids[i : i + EARNINGS_CHUNK])
    settled = sum(net for order_id, (net, _) in by_order.items() if order_id in settled_ids)
    pending = sum(net for order_id, (net, _) in by_order.items() if order_id not in settled_ids)
    return CreatorEarnings(
        pending_fen=pending, settled_fen=settled, reversed_fen=sum(back for _, back in by_order.values())
    )


# --- a creator's commission statement and data (issue #16, items 1b and 5) --------------------------
# The ledger (affiliate) says what was earned, finance whether the order was settled to the shop, and
# commerce which product and content each entry came from; the creator reads the three as one.


class EntryState(StrEnum):
    pending = "pending"  # accrued; the order is not settled yet
    settled = "settled"  # accrued; settled with the order's settlement by the finance job
    reversed = "reversed"  # taken back by a refund after completion


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    created_at: datetime
    order_id: int
    order_item_id: int
    product_id: int | None
    product_title_zh: str
    product_title_en: str
    content_id: int | None
    content_title_zh: str
    content_title_en: str
    kind: str  # accrual | reversal
    state: EntryState
    amount_fen: int


@dataclass(frozen=True)
class CreatorStatement:
    start: date
    end: date
    lines: list[StatementLine]

    def total(self, state: EntryState) -> int:
        """What the period's lines in ``state`` add up to (reversals are negative)."""
        return sum(line.amount_fen for line in self.lines if line.state is state)

    @property
    def pending_fen(self) -> int:
        return self.total(EntryState.pending)

    @property
    def settled_fen(self) -> int:
        return self.total(EntryState.settled)

    @property
    def reversed_fen(self) -> int:  # positive: what refunds took back
        return -self.total(EntryState.reversed)

    @property
    def net_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def creator_statement(
    db: Session, account_id: int, start: date | None = None, end: date | None = None
) -> CreatorStatement:
    """Every commission entry of the creator posted in the period (business days in UTC+8, both inclusive; the
    current month by default, at most a year: ``finance.service.period_bounds``), oldest first, each
    with its state, its order's product and the content that sold it."""
    start, end = finance_service.period_bounds(start, end)
    since, until = clock.business_days(start, end)
    entries = affiliate_ledger.entries_in_period(db, account_id, since, until)
    order_ids = sorted({e.order_id for e in entries})
    settled: set[int] = set()
    for i in range(0, len(order_ids), EARNINGS_CHUNK):
        settled |= finance_service.settled_order_ids(db, order_ids[i : i + EARNINGS_CHUNK])
    items = {}
    for i in range(0, len(order_ids), EARNINGS_CHUNK):
        items.update({it.id: it for it in commerce_checkout.items_of(db, order_ids[i : i + EARNINGS_CHUNK])})
    titles = content_service.content_titles(
        db, [it.content_id for it in items.values() if it.content_id is not None]
    )
    lines = []
    for entry in entries:
        item = items.get(entry.order_item_id)
        content_id = item.content_id if item is not None else None
        if entry.kind is CommissionKind.reversal:
            state = EntryState.reversed
        else:
            state = EntryState.settled if entry.order_id in settled else EntryState.pending
        content_zh, content_en = titles.get(content_id, ("", "")) if content_id is not None else ("", "")
        lines.append(
            StatementLine(
                entry_id=entry.id,
                created_at=entry.created_at,
                order_id=entry.order_id,
                order_item_id=entry.order_item_id,
                product_id=item.product_id if item is not None else None,
                product_title_zh=item.title_zh if item is not None else "",
                product_title_en=item.title_en if item is not None else "",
                content_id=content_id,
                content_title_zh=content_zh,
                content_title_en=content_en,
                kind=entry.kind.value,
                state=state,
                amount_fen=entry.amount_fen,
            )
        )
    return CreatorStatement(start=start, end=end, lines=lines)


STATEMENT_COLUMNS = (
    "date",
    "order_id",
    "product_id",
    "product",
    "content_id",
    "content",
    "kind",
    "state",
    "amount_yuan",
    "amount_fen",
)


def _yuan(fen: int) -> str:
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def creator_statement_csv(statement: CreatorStatement, locale: str = "zh") -> str:
    """One line per entry (titles in ``locale``), then a ``total`` line of the net; UTF-8 with a BOM
    so that spreadsheet programs read it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(STATEMENT_COLUMNS)
    en = locale == "en"
    for line in statement.lines:
        writer.writerow(
            [
                line.created_at.astimezone(clock.BUSINESS_TZ).date().isoformat(),
                line.order_id,
                line.product_id or "",
                (line.product_title_en or line.product_title_zh) if en else line.product_title_zh,
                line.content_id or "",
                (line.content_title_en or line.content_title_zh) if en else line.content_title_zh,
                line.kind,
                line.state.value,
                _yuan(line.amount_fen),
                line.amount_fen,
            ]
        )
    writer.writerow(["total", "", "", "", "", "", "", "", _yuan(statement.net_fen), statement.net_fen])
    return "\ufeff" + out.getvalue()


@dataclass(frozen=True)
class CreatorDataRow:
    """One content item or product of a creator over a window: what it sold through the creator."""

    id: int
    title_zh: str
    title_en: str
    kind: str | None  # a content item's kind; None for a product
    impressions: int
    plays: int
    orders: int
    gmv_fen: int
    commission_fen: int


@dataclass(frozen=True)
class CreatorData:
    first: date
    last: date
    orders: int
    gmv_fen: int
    commission_fen: int
    content: list[CreatorDataRow]
    products: list[CreatorDataRow]


CREATOR_DATA_MAX_PAGES = 50  # pages of MAX_LIMIT content items: the newest 5,000 are reported


def _by_sales(row: CreatorDataRow) -> tuple[int, int, int, int]:
    return (-row.gmv_fen, -row.orders, -row.plays, -row.id)


def creator_data(engine: Any, db: Session, account_id: int, first: date, last: date) -> CreatorData:
    """Per content item and per product, the orders, GMV (paid) and commission the creator carried in
    ``[first, last]`` (Compass's analytics snapshot: ``engine``), with each content item's impressions
    and plays; best sellers first."""
    contents: dict[int, Content] = {}
    params = PageParams(limit=MAX_LIMIT)
    for _ in range(CREATOR_DATA_MAX_PAGES):  # the account's content, newest first
        rows, cursor = content_service.account_content_page(db, account_id, params)
        contents.update((c.id, c) for c in rows)
        if cursor is None:
            break
        params = PageParams(limit=MAX_LIMIT, cursor=cursor)
    content_rows = compass_service.account_content(engine, account_id, sorted(contents), first, last)
    product_rows = compass_service.account_products(engine, account_id, first, last)
    briefs = catalog_service.product_briefs(db, list(product_rows))
    content = [
        CreatorDataRow(
            id=cid,
            title_zh=contents[cid].title_zh,
            title_en=contents[cid].title_en,
            kind=contents[cid].kind.value,
            impressions=r["impressions"],
            plays=r["plays"],
            orders=r["orders"],
            gmv_fen=r["gmv_fen"],
            commission_fen=r["commission_fen"],
        )
        for cid, r in content_rows.items()
        if cid in contents
    ]
    products = [
        CreatorDataRow(
            id=pid,
            title_zh=briefs[pid].title_zh if pid in briefs else "",
            title_en=briefs[pid].title_en if pid in briefs else "",
            kind=None,
            impressions=0,
            plays=0,
            orders=r["orders"],
            gmv_fen=r["gmv_fen"],
            commission_fen=r["commission_fen"],
        )
        for pid, r in product_rows.items()
    ]
    days = compass_service.account_sales(engine, account_id, first, last)
    return CreatorData(
        first,
        last,
        orders=sum(int(d.get("orders") or 0) for d in days),
        gmv_fen=sum(int(d.get("gmv_fen") or 0) for d in days),
        commission_fen=sum(int(d.get("commission_fen") or 0) for d in days),
        content=sorted(content, key=_by_sales),
        products=sorted(products, key=_by_sales),
    )
