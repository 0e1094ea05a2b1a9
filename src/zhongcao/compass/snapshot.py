"""The analytics snapshot: the transactional facts Compass needs, as Parquet files with portable types.

Files are sorted by shop in small row groups (a shop's query skips the rest by the row groups'
min/max statistics). Every column is an integer or a string (timestamps as epoch microseconds, days as ``YYYY-MM-DD`` in
UTC), so that the same SQL reads them identically in DuckDB and in Spark. Files are written to a
temporary name and renamed, so a reader never sees half a file.

* ``sales.parquet``: one row per paid order line (shop, buyer, product, channel, FACT carrier, content,
  account, paid day and time, quantity, paid / refunded / commission fen, order status);
* ``visitors.parquet``: distinct (day, shop, user) of product views from the event log (the
  denominator of conversion);
* ``meta.json``: when it was written and the row counts.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.content import service as content_service
from zhongcao.events.store import EventStore

SALES = pa.schema(
    [
        ("order_id", pa.int64()),
        ("item_id", pa.int64()),
        ("shop_id", pa.int64()),
        ("user_id", pa.int64()),
        ("product_id", pa.int64()),
        ("channel", pa.string()),
        ("carrier", pa.string()),
        ("content_id", pa.int64()),
        ("account_id", pa.int64()),
        ("paid_day", pa.string()),
        ("paid_us", pa.int64()),
        ("quantity", pa.int64()),
        ("paid_fen", pa.int64()),
        ("refunded_fen", pa.int64()),
        ("commission_fen", pa.int64()),
        ("status", pa.string()),
    ]
)
ROW_GROUP = 32_768
CONTENT_DAILY = pa.schema(
    [
        ("day", pa.string()),
        ("content_id", pa.int64()),
        ("shop_id", pa.int64()),
        ("impressions", pa.int64()),
        ("plays", pa.int64()),
        ("watch_ms", pa.int64()),
        ("anchor_clicks", pa.int64()),
    ]
)
VISITORS = pa.schema([("day", pa.string()), ("shop_id", pa.int64()), ("user_id", pa.int64())])


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _write(table: pa.Table, path: Path) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    # Sorted by shop and in small row groups, so a query for one shop reads only that shop's groups.
    if "shop_id" in table.column_names:
        table = table.sort_by([("shop_id", "ascending")])
    pq.write_table(table, tmp, row_group_size=ROW_GROUP)
    tmp.replace(path)


def write_snapshot(db: Session, store: EventStore | None, out_dir: Path) -> dict[str, Any]:
    """Write the snapshot into ``out_dir``; returns its meta (row counts, time taken)."""
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = commerce_service.sales_rows(db)
    columns: dict[str, list[Any]] = {name: [] for name in SALES.names}
    for (
        order_id,
        item_id,
        shop_id,
        user_id,
        product_id,
        channel,
        carrier,
        content_id,
        account_id,
        paid_at,
        qty,
        paid,
        refunded,
        commission,
        status,
    ) in rows:
        paid_at = _utc(paid_at)
        for name, value in (
            ("order_id", order_id),
            ("item_id", item_id),
            ("shop_id", shop_id),
            ("user_id", user_id),
            ("product_id", product_id),
            ("channel", channel.value if hasattr(channel, "value") else channel),
            ("carrier", carrier.name if hasattr(carrier, "name") else carrier),
            ("content_id", content_id),
            ("account_id", account_id),
            ("paid_day", paid_at.astimezone(UTC).strftime("%Y-%m-%d")),
            ("paid_us", int(paid_at.timestamp() * 1_000_000)),
            ("quantity", qty),
            ("paid_fen", paid),
            ("refunded_fen", refunded),
            ("commission_fen", commission),
            ("status", status.value if hasattr(status, "value") else status),
        ):
            columns[name].append(value)
    _write(pa.table(columns, schema=SALES), out_dir / "sales.parquet")

    visitors = VISITORS.empty_table()
    if store is not None:
        products = catalog_service.product_shop_pairs(db)
        visitors = visitors_table(store, [p[0] for p in products], [p[1] for p in products])
    _write(visitors, out_dir / "visitors.parquet")
    content_daily = CONTENT_DAILY.empty_table()
    if store is not None:
        anchors = content_service.anchor_pairs(db)
        products = catalog_service.product_shop_pairs(db)
        content_daily = content_daily_table(store, anchors, products)
    _write(content_daily, out_dir / "content_daily.parquet")
    meta = {
        "written_at": clock.now().isoformat(),
        "sales_rows": len(rows),
        "visitor_rows": visitors.num_rows,
        "content_daily_rows": content_daily.num_rows,
        "seconds": round(time.perf_counter() - began, 3),
    }
    (out_dir / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def visitors_table(store: EventStore, product_ids: list[int], shop_ids: list[int]) -> pa.Table:
    """Distinct (UTC day, shop, user) of product views in the event log: the pre-aggregate that
    conversion needs, small enough to query per request however large the log grows."""
    con = store.connect()
    try:
        con.register("product_shops", pa.table({"product_id": product_ids, "shop_id": shop_ids}))
        table = con.sql(
            "SELECT DISTINCT strftime(timezone('UTC', e.ts), '%Y-%m-%d') AS day, p.shop_id, e.user_id "
            "FROM events e JOIN product_shops p ON p.product_id = e.product_id "
            "WHERE e.type = 'product_view' ORDER BY 2, 1, 3"
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(VISITORS)


def content_daily_table(
    store: EventStore, anchors: list[tuple[int, int]], products: list[tuple[int, int, int]]
) -> pa.Table:
    """Per UTC day, content item and each shop whose products it anchors: impressions, plays, watch
    time and anchor clicks (of that shop's products) from the event log."""
    con = store.connect()
    try:
        con.register(
            "anchors",
            pa.table({"content_id": [a[0] for a in anchors], "product_id": [a[1] for a in anchors]}),
        )
        con.register(
            "product_shops",
            pa.table({"product_id": [p[0] for p in products], "shop_id": [p[1] for p in products]}),
        )
        table = con.sql(
            """
            WITH content_shops AS (
                SELECT DISTINCT a.content_id, p.shop_id FROM anchors a JOIN product_shops p USING (product_id)
            ), per_content AS (
                SELECT strftime(timezone('UTC', ts), '%Y-%m-%d') AS day, content_id,
                       COUNT(*) FILTER (WHERE type = 'impression') AS impressions,
                       COUNT(*) FILTER (WHERE type = 'play') AS plays,
                       COALESCE(SUM(watch_ms) FILTER (WHERE type = 'play'), 0) AS watch_ms
                FROM events WHERE type IN ('impression', 'play') AND content_id IS NOT NULL
                GROUP BY 1, 2
            ), clicks AS (
                SELECT strftime(timezone('UTC', e.ts), '%Y-%m-%d') AS day, e.content_id, p.shop_id,
                       COUNT(*) AS anchor_clicks
                FROM events e JOIN product_shops p ON p.product_id = e.product_id
                WHERE e.type = 'anchor_click' GROUP BY 1, 2, 3
            )
            SELECT c.day, c.content_id, s.shop_id, c.impressions, c.plays, c.watch_ms,
                   COALESCE(k.anchor_clicks, 0) AS anchor_clicks
            FROM per_content c
            JOIN content_shops s ON s.content_id = c.content_id
            LEFT JOIN clicks k ON k.day = c.day AND k.content_id = c.content_id AND k.shop_id = s.shop_id
            ORDER BY s.shop_id, c.day, c.content_id
            """
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(CONTENT_DAILY)


def read_meta(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
