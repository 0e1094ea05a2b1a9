"""Compass product funnel and search insights: what the snapshot job costs, and request latency.

Generates ``--events`` behaviour events over 90 days into a fresh segment event store: searches (10%,
each showing 20 products of the query's category, with up to three clicks from search), other product
views, add-to-carts and content impressions; paid order lines (a share of search clicks become orders
paid within minutes, the rest from other channels) and first reviews. ``--shops`` shops sell 30
products each in three of 200 leaf categories; ``--queries`` distinct queries, Zipf-popular, each in
one category. Then times the snapshot job's parts that these pages need
(:func:`zhongcao.compass.snapshot.content_daily_table` and
:func:`zhongcao.compass.snapshot.behaviour_tables`) and, on the DuckDB engine, ``--requests``
requests for random shops of :func:`zhongcao.compass.service.product_report` and
:func:`zhongcao.compass.service.search_report` (30 days against the 30 before).

Usage:
    python benchmarks/compass/bench_compass_products.py [--events 5000000] [--shops 2000]
        [--users 200000] [--queries 20000] [--requests 100]
Results: printed as Markdown and written to benchmarks/out/compass_products.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
DAY_US = 86_400_000_000
CATEGORIES = 200
PAGE = 20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--shops", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    from zhongcao.compass import service
    from zhongcao.compass.engine import DuckDBEngine
    from zhongcao.compass.snapshot import (
        PRODUCTS,
        REVIEWS,
        ROW_GROUP,
        SALES,
        behaviour_tables,
        content_daily_table,
    )
    from zhongcao.events.store import SegmentEventStore

    rng = np.random.default_rng(0)
    days = 90
    today = date(2026, 11, 24)
    start_us = int(
        (datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=days - 1)).timestamp()
        * 1e6
    )
    n_products = args.shops * 30
    product_ids = np.arange(1, n_products + 1)
    product_shop = (product_ids - 1) // 30 + 1
    # Each shop sells in three categories (ten products each).
    product_category = ((product_shop * 7 + ((product_ids - 1) % 30) // 10) % CATEGORIES) + 1
    by_category = [product_ids[product_category == c] for c in range(1, CATEGORIES + 1)]
    query_category = rng.integers(1, CATEGORIES + 1, args.queries)
    query_text = np.asarray([f"query {i} c{query_category[i]}" for i in range(args.queries)], dtype=object)
    # Each query's candidates: 30 products of its category; a search shows one of three pages of 20.
    candidates = [
        rng.choice(by_category[c - 1], size=min(30, len(by_category[c - 1])), replace=False)
        for c in query_category
    ]
    popularity = 1.0 / np.arange(1, args.queries + 1) ** 0.9
    popularity /= popularity.sum()
    n_content = 100_000
    anchors = [(int(c), int(rng.integers(1, n_products + 1))) for c in range(1, n_content + 1)]

    sales_rows: list[tuple[int, int, int, int, str]] = []  # user, product, paid_us, paid_fen, channel
    with tempfile.TemporaryDirectory(prefix="zc-bench-compass-products-") as tmp_name:
        tmp = Path(tmp_name)
        store = SegmentEventStore(tmp / "events")
        began = time.perf_counter()
        done = 0
        while done < args.events:
            k = min(1_000_000, args.events - done)
            n_search = k // 10
            ts = start_us + rng.integers(0, days * DAY_US - 3_600_000_000, n_search)
            users = rng.integers(1, args.users + 1, n_search)
            qi = rng.choice(args.queries, size=n_search, p=popularity)
            page = users % 3
            shown = [
                np.roll(candidates[q], -7 * p)[:PAGE] for q, p in zip(qi.tolist(), page.tolist(), strict=True)
            ]
            offsets = np.zeros(n_search + 1, dtype=np.int32)
            offsets[1:] = np.cumsum([len(s) for s in shown])
            result_ids = pa.ListArray.from_arrays(
                pa.array(offsets), pa.array(np.concatenate(shown), pa.int64())
            )
            store.append(
                {
                    "ts": ts,
                    "type": np.full(n_search, "search", dtype=object),
                    "user_id": users,
                    "query": query_text[qi],
                    "result_ids": result_ids,
                    "channel": np.full(n_search, "search", dtype=object),
                }
            )
            # Clicks from search: up to three per search, on a shown product, seconds later.
            clicks = rng.choice([0, 1, 2, 3], size=n_search, p=[0.4, 0.35, 0.15, 0.1])
            row = np.repeat(np.arange(n_search), clicks)
            pos = rng.integers(0, PAGE, len(row))
            clicked = np.asarray(
                [shown[r][p % len(shown[r])] for r, p in zip(row.tolist(), pos.tolist(), strict=True)]
            )
            click_ts = ts[row] + (pos + 1) * 20_000_000
            store.append(
                {
                    "ts": click_ts,
                    "type": np.full(len(row), "product_view", dtype=object),
                    "user_id": users[row],
                    "product_id": clicked,
                    "channel": np.full(len(row), "search", dtype=object),
                }
            )
            buy = rng.random(len(row)) < 0.05
            for u, p, t in zip(
                users[row][buy].tolist(), clicked[buy].tolist(), click_ts[buy].tolist(), strict=True
            ):
                sales_rows.append((u, p, t + 300_000_000, int(rng.integers(990, 50_000)), "search"))
            rest = k - n_search - len(row)
            kind = rng.random(rest)
            view, cart = kind < 0.25, (kind >= 0.25) & (kind < 0.3)
            impression = ~(view | cart)
            store.append(
                {
                    "ts": start_us + rng.integers(0, days * DAY_US, rest),
                    "type": np.where(
                        view, "product_view", np.where(cart, "add_to_cart", "impression")
                    ).astype(object),
                    "user_id": rng.integers(1, args.users + 1, rest),
                    "product_id": pa.array(rng.integers(1, n_products + 1, rest), mask=impression),
                    "content_id": pa.array(rng.integers(1, n_content + 1, rest), mask=~impression),
                    "channel": np.where(impression, "short_video", "mall").astype(object),
                }
            )
            done += k
            print(f"  events: {done:,}", file=sys.stderr, end="\r")
        store.flush()
        print(file=sys.stderr)
        generate_s = time.perf_counter() - began
        # As many order lines again from other channels.
        for _ in range(len(sales_rows)):
            sales_rows.append(
                (
                    int(rng.integers(1, args.users + 1)),
                    int(rng.integers(1, n_products + 1)),
                    start_us + int(rng.integers(0, days * DAY_US)),
                    int(rng.integers(990, 50_000)),
                    "mall",
                )
            )
        n_sales = len(sales_rows)
        user, product, paid_us, paid_fen, channel = (np.asarray(c) for c in zip(*sales_rows, strict=True))
        refunded = np.where(rng.random(n_sales) < 0.05, paid_fen, 0)
        sales = pa.table(
            {
                "order_id": np.arange(1, n_sales + 1),
                "item_id": np.arange(1, n_sales + 1),
                "shop_id": product_shop[product - 1],
                "user_id": user,
                "product_id": product,
                "channel": channel.astype(object),
                "carrier": np.full(n_sales, "field", dtype=object),
                "content_id": pa.nulls(n_sales, pa.int64()),
                "account_id": pa.nulls(n_sales, pa.int64()),
                "paid_day": (paid_us // DAY_US).astype("datetime64[D]").astype(str).astype(object),
                "paid_us": paid_us,
                "quantity": np.ones(n_sales, dtype=np.int64),
                "paid_fen": paid_fen,
                "refunded_fen": refunded,
                "commission_fen": np.zeros(n_sales, dtype=np.int64),
                "status": np.full(n_sales, "completed", dtype=object),
            },
            schema=SALES,
        )
        reviewed = rng.random(n_sales) < 0.1
        reviews = pa.table(
            {
                "day": ((paid_us[reviewed] + 3 * DAY_US) // DAY_US)
                .astype("datetime64[D]")
                .astype(str)
                .astype(object),
                "shop_id": product_shop[product[reviewed] - 1],
                "product_id": product[reviewed],
                "rating": rng.integers(1, 6, int(reviewed.sum())),
            },
            schema=REVIEWS,
        )
        products = [
            (int(p), int(s), int(c))
            for p, s, c in zip(product_ids, product_shop, product_category, strict=True)
        ]

        began = time.perf_counter()
        content_daily = content_daily_table(store, anchors, products)
        content_s = time.perf_counter() - began
        began = time.perf_counter()
        tables = behaviour_tables(store, products, anchors, sales, content_daily)
        behaviour_s = time.perf_counter() - began
        snapshot = tmp / "snapshot"
        snapshot.mkdir()
        tables.update(
            sales=sales,
            reviews=reviews,
            content_daily=content_daily,
            products=pa.table(
                {
                    "product_id": product_ids,
                    "shop_id": product_shop,
                    "category_id": product_category,
                    "on_sale": np.ones(n_products, dtype=np.int64),
                },
                schema=PRODUCTS,
            ),
            visitors=pa.table(
                {
                    "day": pa.array([], pa.string()),
                    "shop_id": pa.array([], pa.int64()),
                    "user_id": pa.array([], pa.int64()),
                }
            ),
        )
        for name, table in tables.items():
            if "shop_id" in table.column_names:
                table = table.sort_by([("shop_id", "ascending")])
            pq.write_table(table, snapshot / f"{name}.parquet", row_group_size=ROW_GROUP)
        engine = DuckDBEngine(snapshot)
        shops = rng.integers(1, args.shops + 1, args.requests).tolist()
        service.product_report(engine, shops[0], today, 30)  # warm the connection
        timings: dict[str, list[float]] = {"products": [], "search": []}
        for shop in shops:
            t = time.perf_counter()
            service.product_report(engine, int(shop), today, 30)
            timings["products"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            service.search_report(engine, int(shop), today, 30)
            timings["search"].append((time.perf_counter() - t) * 1000)
        sizes = {name: table.num_rows for name, table in tables.items()}
        store.close()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    stats = {}
    for name, values in timings.items():
        lat = sorted(values)
        stats[name] = {"p50_ms": statistics.median(lat), "p95_ms": lat[int(0.95 * (len(lat) - 1))]}
    print(
        f"Compass products and search insights, {args.events:,} events, {n_sales:,} sales lines, "
        f"{args.shops:,} shops, {args.queries:,} queries: {when}; {machine}\n"
    )
    print("| what | value |")
    print("|---|---:|")
    print(f"| events generated and stored | {generate_s:.1f} s |")
    print(
        f"| content_daily from the log (snapshot job) | {content_s:.1f} s, {sizes['content_daily']:,} rows |"
    )
    print(
        f"| product_daily, search_queries, search_daily, search_demand from the log (snapshot job) "
        f"| {behaviour_s:.1f} s; {sizes['product_daily']:,} / {sizes['search_queries']:,} / "
        f"{sizes['search_daily']:,} / {sizes['search_demand']:,} rows |"
    )
    for name, s in stats.items():
        print(
            f"| {name} per request, p50 / p95 | {s['p50_ms']:.1f} / {s['p95_ms']:.1f} ms ({len(timings[name])} requests) |"
        )
    print(f"| peak RSS | {rss:,.0f} MiB |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "compass_products.json").write_text(
        json.dumps(
            {
                "date": when,
                "machine": machine,
                "events": args.events,
                "sales": n_sales,
                "shops": args.shops,
                "queries": args.queries,
                "generate_s": generate_s,
                "content_daily_s": content_s,
                "behaviour_tables_s": behaviour_s,
                "rows": sizes,
                "latency": stats,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
