"""The analytics snapshot: the transactional facts Compass needs, as Parquet files with portable types.

Files are sorted by shop in small row groups (a shop's query skips the rest by the row groups'
min/max statistics). Every column is an integer or a string (timestamps as epoch microseconds, days as
``YYYY-MM-DD`` in UTC), so that the same SQL reads them identically in DuckDB and in Spark. A snapshot
is written whole into one folder; :mod:`zhongcao.compass.refresher` writes it under a temporary name
and renames it, so a reader never sees half a snapshot.

* ``sales.parquet``: one row per paid order line (shop, buyer, product, channel, FACT carrier, content,
  account, paid day and time, quantity, paid / refunded / commission fen, order status);
* ``visitors.parquet``: distinct (day, shop, user) of product views from the event log (the
  denominator of conversion);
* ``content_daily.parquet``: per day, content item and shop it sells for: impressions, plays, watch
  time, anchor clicks;
* ``products.parquet``: every product's shop, leaf category and whether it is on sale;
* ``reviews.parquet``: the counting (first) reviews: day written, shop, product, rating;
* ``product_daily.parquet``: per day and product: search exposures (slots on search result pages),
  content exposures (impressions of videos and live rooms anchoring it), product views, add-to-carts;
* ``search_queries.parquet``: per day and normalised query: searches;
* ``search_daily.parquet``: per day, normalised query, shop and leaf category: the shop's products'
  slots on that query's result pages, and the product views and paid orders credited to the query
  (:data:`SEARCH_CREDIT_WINDOW_US`);
* ``search_demand.parquet``: the same per day, normalised query and leaf category, over all shops;
* ``meta.json``: when it was read and written, and the row counts.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.content import reads as content_reads
from zhongcao.db import Database
from zhongcao.events.store import EventStore
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import FlagKind
from zhongcao.reviews import service as reviews_service
from zhongcao.search.analysis import normalize

T = TypeVar("T")

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
PRODUCTS = pa.schema(
    [
        ("product_id", pa.int64()),
        ("shop_id", pa.int64()),
        ("category_id", pa.int64()),
        ("on_sale", pa.int64()),  # 1 when on sale (an integer: the two engines' booleans print differently)
    ]
)
REVIEWS = pa.schema(
    [("day", pa.string()), ("shop_id", pa.int64()), ("product_id", pa.int64()), ("rating", pa.int64())]
)
PRODUCT_DAILY = pa.schema(
    [
        ("day", pa.string()),
        ("shop_id", pa.int64()),
        ("product_id", pa.int64()),
        ("search_exposures", pa.int64()),
        ("content_exposures", pa.int64()),
        ("views", pa.int64()),
        ("add_to_carts", pa.int64()),
    ]
)
SEARCH_QUERIES = pa.schema([("day", pa.string()), ("query", pa.string()), ("searches", pa.int64())])
SEARCH_DAILY = pa.schema(
    [
        ("day", pa.string()),
        ("query", pa.string()),
        ("shop_id", pa.int64()),
        ("category_id", pa.int64()),
        ("exposures", pa.int64()),
        ("clicks", pa.int64()),
        ("orders", pa.int64()),
        ("gmv_fen", pa.int64()),
    ]
)
SEARCH_DEMAND = pa.schema(
    [
        ("day", pa.string()),
        ("query", pa.string()),
        ("category_id", pa.int64()),
        ("exposures", pa.int64()),
        ("clicks", pa.int64()),
        ("orders", pa.int64()),
    ]
)
# A product view or a paid order from search is credited to the latest search by the same person, at
# most this long before it, whose results showed the product (the search ranker's labels use the same
# two hours: search/ltr.py LABEL_WINDOW).
SEARCH_CREDIT_WINDOW_US = 2 * 3600 * 1_000_000


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _write(table: pa.Table, path: Path) -> None:
    if _interrupting.is_set():
        raise BuildInterrupted("the process is exiting")
    tmp = path.with_suffix(".parquet.tmp")
    # Sorted by shop and in small row groups, so a query for one shop reads only that shop's groups.
    if "shop_id" in table.column_names:
        table = table.sort_by([("shop_id", "ascending")])
    pq.write_table(table, tmp, row_group_size=ROW_GROUP)
    tmp.replace(path)


class BuildInterrupted(RuntimeError):
    """The process is exiting: a snapshot being built is abandoned (it was never published)."""


_interrupting = threading.Event()
_connections: set[Any] = set()
_connections_lock = threading.Lock()


def _connect(store: EventStore) -> Any:
    if _interrupting.is_set():
        raise BuildInterrupted("the process is exiting")
    con = store.connect()
    with _connections_lock:
        _connections.add(con)
    return con


def _close(con: Any) -> None:
    with _connections_lock:
        _connections.discard(con)
    con.close()


def interrupt_builds() -> None:
    """Stop every build in this process at its next step (and its running DuckDB query now): a thread
    still inside DuckDB when the interpreter exits would abort the process."""
    _interrupting.set()
    with _connections_lock:
        for con in _connections:
            with contextlib.suppress(Exception):
                con.interrupt()


def _reader(source: Session | Database) -> Callable[[Callable[[Session], T]], T]:
    """Run one read on ``source``. Given the database, each read gets its own short read-only
    session: a background build then never holds one table's lock while it waits for another's (a
    ``TRUNCATE`` or a migration waiting on the first would deadlock with it)."""
    if isinstance(source, Session):
        return lambda read: read(source)

    def read(fn: Callable[[Session], T]) -> T:
        session = source.session(read_only=True)
        try:
            return fn(session)
        finally:
            session.rollback()
            session.close()

    return read


def write_snapshot(source: Session | Database, store: EventStore | None, out_dir: Path) -> dict[str, Any]:
    """Write the snapshot into ``out_dir`` (from a session, or the database: see :func:`_reader`);
    returns its meta (row counts, time taken)."""
    began = time.perf_counter()
    read = _reader(source)
    started_at = clock.now()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = read(commerce_service.sales_rows)
    # Brushed orders (flagged by the integrity domain) and their reviews buy no sales and no rating.
    brushed = read(lambda db: integrity_service.flagged_ids(db, FlagKind.order))
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
        if order_id in brushed:
            continue
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
    sales = pa.table(columns, schema=SALES)
    _write(sales, out_dir / "sales.parquet")

    products = read(catalog_service.product_shop_pairs)
    on_sale = set(read(lambda db: db.scalars(catalog_service.on_sale_product_ids_query()).all()))
    products_table = pa.table(
        {
            "product_id": [p[0] for p in products],
            "shop_id": [p[1] for p in products],
            "category_id": [p[2] for p in products],
            "on_sale": [1 if p[0] in on_sale else 0 for p in products],
        },
        schema=PRODUCTS,
    )
    _write(products_table, out_dir / "products.parquet")
    reviews = read(lambda db: reviews_service.first_review_rows(db, excluding_orders=brushed))
    _write(
        pa.table(
            {
                "day": [_utc(at).astimezone(UTC).strftime("%Y-%m-%d") for _, _, _, at in reviews],
                "shop_id": [r[0] for r in reviews],
                "product_id": [r[1] for r in reviews],
                "rating": [r[2] for r in reviews],
            },
            schema=REVIEWS,
        ),
        out_dir / "reviews.parquet",
    )

    visitors = VISITORS.empty_table()
    content_daily = CONTENT_DAILY.empty_table()
    behaviour = {
        "product_daily": PRODUCT_DAILY.empty_table(),
        "search_queries": SEARCH_QUERIES.empty_table(),
        "search_daily": SEARCH_DAILY.empty_table(),
        "search_demand": SEARCH_DEMAND.empty_table(),
    }
    if store is not None:
        visitors = visitors_table(store, [p[0] for p in products], [p[1] for p in products])
        anchors = read(content_reads.anchor_pairs)
        content_daily = content_daily_table(store, anchors, products)
        behaviour = behaviour_tables(store, products, anchors, sales, content_daily)
    _write(visitors, out_dir / "visitors.parquet")
    _write(content_daily, out_dir / "content_daily.parquet")
    for name, table in behaviour.items():
        _write(table, out_dir / f"{name}.parquet")
    meta = {
        "format": 2,
        # The data is as of when reading began; that is what its age is measured from.
        "started_at": started_at.isoformat(),
        "written_at": clock.now().isoformat(),
        "sales_rows": len(rows),
        "visitor_rows": visitors.num_rows,
        "content_daily_rows": content_daily.num_rows,
        "product_rows": products_table.num_rows,
        "review_rows": len(reviews),
        **{f"{name}_rows": table.num_rows for name, table in behaviour.items()},
        "seconds": round(time.perf_counter() - began, 3),
    }
    (out_dir / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def visitors_table(store: EventStore, product_ids: list[int], shop_ids: list[int]) -> pa.Table:
    """Distinct (UTC day, shop, user) of product views in the event log: the pre-aggregate that
    conversion needs, small enough to query per request however large the log grows."""
    con = _connect(store)
    try:
        con.register("product_shops", pa.table({"product_id": product_ids, "shop_id": shop_ids}))
        table = con.sql(
            "SELECT DISTINCT strftime(timezone('UTC', e.ts), '%Y-%m-%d') AS day, p.shop_id, e.user_id "
            "FROM events e JOIN product_shops p ON p.product_id = e.product_id "
            "WHERE e.type = 'product_view' ORDER BY 2, 1, 3"
        ).to_arrow_table()
    finally:
        _close(con)
    return table.cast(VISITORS)


def content_daily_table(
    store: EventStore, anchors: list[tuple[int, int]], products: list[tuple[int, int, int]]
) -> pa.Table:
    """Per UTC day, content item and each shop whose products it anchors: impressions, plays, watch
    time and anchor clicks (of that shop's products) from the event log."""
    con = _connect(store)
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
        _close(con)
    return table.cast(CONTENT_DAILY)


def _deduplicated(columns: str, where: str) -> str:
    """The events matching ``where``, one row per event id (the store's ``events`` view, filtered
    first: a duplicate is the same event, so it matches the same filter, and deduplicating a few
    types is much cheaper than deduplicating the whole log)."""
    return (
        f"SELECT {columns} FROM (SELECT {columns}, "
        "row_number() OVER (PARTITION BY event_id ORDER BY ts) AS _rn "
        f"FROM events_raw WHERE {where}) WHERE _rn = 1"
    )


def _day_of(column: str) -> str:
    return f"strftime(timezone('UTC', {column}), '%Y-%m-%d')"


def behaviour_tables(
    store: EventStore,
    products: list[tuple[int, int, int]],
    anchors: list[tuple[int, int]],
    sales: pa.Table,
    content_daily: pa.Table,
) -> dict[str, pa.Table]:
    """``product_daily``, ``search_queries``, ``search_daily`` and ``search_demand`` from the event log.

    A search's exposures are the slots its ``result_ids`` gave each product. A product view with
    channel ``search``, or a paid order line with channel ``search``, is credited to the latest search
    by the same person at most :data:`SEARCH_CREDIT_WINDOW_US` before it whose results showed that
    product (none: not credited). Queries are compared normalised, as search does (NFKC, simplified
    Chinese, lower case, single spaces); an empty one is left out. Content exposures are the
    impressions (from ``content_daily``) of every content item anchoring the product.
    """
    con = _connect(store)
    try:
        con.register(
            "product_shops",
            pa.table(
                {
                    "product_id": pa.array([p[0] for p in products], pa.int64()),
                    "shop_id": pa.array([p[1] for p in products], pa.int64()),
                    "category_id": pa.array([p[2] for p in products], pa.int64()),
                }
            ),
        )
        con.register(
            "anchors",
            pa.table(
                {
                    "content_id": pa.array([a[0] for a in anchors], pa.int64()),
                    "product_id": pa.array([a[1] for a in anchors], pa.int64()),
                }
            ),
        )
        con.register("sales", sales)
        con.register("content_daily", content_daily)
        con.execute(
            "CREATE TEMP TABLE raw_searches AS "
            + _deduplicated(
                "event_id, ts, user_id, query, result_ids", "type = 'search' AND query IS NOT NULL"
            )
        )
        raw = [r[0] for r in con.execute("SELECT DISTINCT query FROM raw_searches").fetchall()]
        con.register(
            "query_forms",
            pa.table({"raw": pa.array(raw, pa.string()), "query": [normalize(q) for q in raw]}),
        )
        con.execute(
            f"""
            CREATE TEMP TABLE searches AS
            SELECT s.event_id, epoch_us(s.ts) AS us, {_day_of("s.ts")} AS day, s.user_id,
                   f.query, s.result_ids
            FROM raw_searches s JOIN query_forms f ON f.raw = s.query
            WHERE f.query <> ''
            """
        )
        # Identical pages of one query on one day are counted once and then weighted: most searches
        # for a query see the same page, so far fewer lists are unnested than there were searches.
        con.execute(
            """
            CREATE TEMP TABLE exposures AS
            WITH pages AS (
                SELECT day, query, result_ids, COUNT(*) AS n FROM searches
                WHERE result_ids IS NOT NULL GROUP BY day, query, result_ids
            ), slots AS (SELECT day, query, n, UNNEST(result_ids) AS product_id FROM pages)
            SELECT day, query, product_id, SUM(n) AS exposures FROM slots
            WHERE product_id IS NOT NULL GROUP BY day, query, product_id
            """
        )
        window = int(SEARCH_CREDIT_WINDOW_US)
        con.execute(
            f"""
            CREATE TEMP TABLE search_clicks AS
            WITH views AS ({
                _deduplicated(
                    "event_id, ts, user_id, product_id",
                    "type = 'product_view' AND channel = 'search' AND product_id IS NOT NULL",
                )
            })
            SELECT {_day_of("v.ts")} AS day, v.product_id,
                   arg_max(s.query, (s.us, s.event_id)) AS query
            FROM views v JOIN searches s
              ON s.user_id = v.user_id AND s.us <= epoch_us(v.ts) AND s.us >= epoch_us(v.ts) - {window}
             AND list_contains(s.result_ids, v.product_id)
            GROUP BY v.event_id, v.ts, v.product_id
            """
        )
        con.execute(
            f"""
            CREATE TEMP TABLE search_orders AS
            SELECT o.paid_day AS day, o.product_id, o.order_id, o.paid_fen,
                   arg_max(s.query, (s.us, s.event_id)) AS query
            FROM sales o JOIN searches s
              ON s.user_id = o.user_id AND s.us <= o.paid_us AND s.us >= o.paid_us - {window}
             AND list_contains(s.result_ids, o.product_id)
            WHERE o.channel = 'search'
            GROUP BY o.item_id, o.paid_day, o.product_id, o.order_id, o.paid_fen
            """
        )
        search_queries = con.sql(
            "SELECT day, query, COUNT(*) AS searches FROM searches GROUP BY day, query ORDER BY day, query"
        ).to_arrow_table()
        con.execute(
            """
            CREATE TEMP TABLE search_facts AS
            WITH facts AS (
                SELECT day, query, product_id, exposures, 0 AS clicks,
                       CAST(NULL AS BIGINT) AS order_id, 0 AS paid_fen FROM exposures
                UNION ALL SELECT day, query, product_id, 0, 1, NULL, 0 FROM search_clicks
                UNION ALL SELECT day, query, product_id, 0, 0, order_id, paid_fen FROM search_orders
            )
            SELECT f.day, f.query, p.shop_id, p.category_id, f.exposures, f.clicks, f.order_id, f.paid_fen
            FROM facts f JOIN product_shops p ON p.product_id = f.product_id
            """
        )
        search_daily = con.sql(
            """
            SELECT day, query, shop_id, category_id, SUM(exposures) AS exposures, SUM(clicks) AS clicks,
                   COUNT(DISTINCT order_id) AS orders, SUM(paid_fen) AS gmv_fen
            FROM search_facts
            GROUP BY day, query, shop_id, category_id
            ORDER BY shop_id, day, query, category_id
            """
        ).to_arrow_table()
        # The same over all shops: what a query's demand and category are read from, without
        # scanning every shop's rows on a request.
        search_demand = con.sql(
            """
            SELECT day, query, category_id, SUM(exposures) AS exposures, SUM(clicks) AS clicks,
                   COUNT(DISTINCT order_id) AS orders
            FROM search_facts
            GROUP BY day, query, category_id
            ORDER BY day, query, category_id
            """
        ).to_arrow_table()
        product_daily = con.sql(
            f"""
            WITH actions AS ({
                _deduplicated(
                    "event_id, ts, type, product_id",
                    "type IN ('product_view', 'add_to_cart') AND product_id IS NOT NULL",
                )
            }), facts AS (
                SELECT {_day_of("ts")} AS day, product_id, 0 AS search_exposures, 0 AS content_exposures,
                       CASE WHEN type = 'product_view' THEN 1 ELSE 0 END AS views,
                       CASE WHEN type = 'add_to_cart' THEN 1 ELSE 0 END AS add_to_carts
                FROM actions
                UNION ALL
                SELECT day, product_id, exposures, 0, 0, 0 FROM exposures
                UNION ALL
                SELECT c.day, a.product_id, 0, c.impressions, 0, 0
                FROM (SELECT DISTINCT day, content_id, impressions FROM content_daily) c
                JOIN (SELECT DISTINCT content_id, product_id FROM anchors) a ON a.content_id = c.content_id
            )
            SELECT f.day, p.shop_id, f.product_id, SUM(f.search_exposures) AS search_exposures,
                   SUM(f.content_exposures) AS content_exposures, SUM(f.views) AS views,
                   SUM(f.add_to_carts) AS add_to_carts
            FROM facts f JOIN product_shops p ON p.product_id = f.product_id
            GROUP BY f.day, p.shop_id, f.product_id
            ORDER BY p.shop_id, f.day, f.product_id
            """
        ).to_arrow_table()
    finally:
        _close(con)
    return {
        "product_daily": product_daily.cast(PRODUCT_DAILY),
        "search_queries": search_queries.cast(SEARCH_QUERIES),
        "search_daily": search_daily.cast(SEARCH_DAILY),
        "search_demand": search_demand.cast(SEARCH_DEMAND),
    }


def read_meta(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
