"""A statement as CSV: one line per settlement, then a ``total`` line equal to the statement's totals."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from zhongcao.finance.models import Settlement
from zhongcao.finance.service import AMOUNTS, Totals

COLUMNS = ("order_id", "status", "completed_at", "settled_at", *AMOUNTS)
MEDIA_TYPE = "text/csv; charset=utf-8"


def filename(shop_id: int, start: date, end: date) -> str:
    return f"statement-{shop_id}-{start.isoformat()}-{end.isoformat()}.csv"


def statement_csv(rows: Sequence[Settlement], totals: Totals) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.order_id,
                row.status.value,
                row.completed_at.isoformat(),
                row.settled_at.isoformat() if row.settled_at else "",
                *(getattr(row, name) for name in AMOUNTS),
            ]
        )
    writer.writerow(["total", "", "", "", *(getattr(totals, name) for name in AMOUNTS)])
    # A byte-order mark, so that spreadsheet programs open the UTF-8 file as UTF-8.
    return "\ufeff" + out.getvalue()
