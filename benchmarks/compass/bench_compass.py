"""Compass core data for one shop over a large event log: request latency, and what the snapshot costs.

Generates ``--events`` behaviour events (product views and impressions, 90 days, ``--shops`` shops,
``--users`` users) into a fresh segment event store and ``--sales`` paid order lines as a sales
snapshot; builds the visitors pre-aggregate with :func:`zhongcao.compass.snapshot.visitors_table` (what
the snapshot job runs); then times :func:`zhongcao.compass.service.core_data` (+ sales sources) for
``--requests`` random shops on the DuckDB engine. Baseline in the same run: the same conversion
numbers computed per request from the raw event log (no pre-aggregate), for a few shops.

Usage:
    python benchmarks/compass/bench_compass.py [--events 50000000] [--sales 500000] [--shops 2000]
        [--users 200000] [--requests 200]
Results: printed as Markdown and written to benchmarks/out/compass.json.
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


def generate_events(store, n: int, products: int, users: int, start_us: int, days: int, rng) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    batch = 1_000_000
    done = 0
    while done < n:
        k = min(batch, n - done)
        view = rng.random(k) < 0.3
        store.append(
            {
                "ts": start_us + rng.integers(0, days * DAY_US, k),
                "type": np.where(view, "product_view", "impression").astype(object),
                "user_id": rng.integers(1, users + 1, k),
                "product_id": pa.array(rng.integers(1, products + 1, k), mask=~view),
                "content_id": pa.array(rng.integers(1, 100_000, k), mask=view),
            }
        )
        done += k
        print(f"  events: {done:,}", file=sys.stderr, end="\r")
    store.flush()
    print(file=sys.stderr)
    return time.perf_counter() - began


def write_sales(
    path: Path, n: int, shops: int, users: int, products: int, start: datetime, days: int, rng
) -> None:  # type: ignore[no-untyped-def]
    from zhongcao.compass.snapshot import ROW_GROUP, SALES

    paid_us = int(start.timestamp() * 1_000_000) + rng.integers(0, days * DAY_US, n)
    day = (paid_us // DAY_US).astype("datetime64[D]").astype(str).astype(object)
    channels = np.asarray(
        ["short_video", "live", "search", "mall", "shop_page", "product_page", "other"], dtype=object
    )
    carriers = np.asarray(["field", "alliance", "campaign", "top_kol"], dtype=object)
    table = pa.table(
        {
            "order_id": np.arange(1, n + 1) // 1,
            "item_id": np.arange(1, n + 1),
            "shop_id": rng.integers(1, shops + 1, n),
            "user_id": rng.integers(1, users + 1, n),
            "product_id": rng.integers(1, products + 1, n),
            "channel": channels[rng.integers(0, len(channels), n)],
            "carrier": carriers[rng.integers(0, len(carriers), n)],
            "content_id": rng.integers(1, 100_000, n),
            "account_id": rng.integers(1, 5_000, n),
            "paid_day": day,
            "paid_us": paid_us,
            "quantity": np.ones(n, dtype=np.int64),
            "paid_fen": rng.integers(990, 50_000, n),
            "refunded_fen": np.where(rng.random(n) < 0.05, 990, 0),
            "commission_fen": rng.integers(0, 2_000, n),
            "status": np.full(n, "completed", dtype=object),
        },
        schema=SALES,
    )
    pq.write_table(table.sort_by([("shop_id", "ascending")]), path, row_group_size=ROW_GROUP)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--sales", type=int, default=500_000)
    parser.add_argument("--shops", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--baseline-requests", type=int, default=5)
    args = parser.parse_args()

    from zhongcao.compass import service
    from zhongcao.compass.engine import DuckDBEngine
    from zhongcao.compass.snapshot import ROW_GROUP, visitors_table
    from zhongcao.events.store import SegmentEventStore

    rng = np.random.default_rng(0)
    days = 90
    today = date(2026, 11, 24)
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=days - 1)
    products = args.shops * 30
    product_ids = list(range(1, products + 1))
    product_shops = [(p - 1) % args.shops + 1 for p in product_ids]
    with tempfile.TemporaryDirectory(prefix="zc-bench-compass-") as tmp_name:
        tmp = Path(tmp_name)
        store = SegmentEventStore(tmp / "events")
        gen_s = generate_events(
            store, args.events, products, args.users, int(start.timestamp() * 1e6), days, rng
        )
        snapshot = tmp / "snapshot"
        snapshot.mkdir()
        write_sales(
            snapshot / "sales.parquet", args.sales, args.shops, args.users, products, start, days, rng
        )
        began = time.perf_counter()
        visitors = visitors_table(store, product_ids, product_shops)
        pq.write_table(visitors, snapshot / "visitors.parquet", row_group_size=ROW_GROUP)
        pre_s = time.perf_counter() - began
        engine = DuckDBEngine(snapshot)
        shops = rng.integers(1, args.shops + 1, args.requests).tolist()
        service.core_data(engine, shops[0], today, 30)  # warm the connection
        latencies = []
        for shop in shops:
            t = time.perf_counter()
            service.core_data(engine, int(shop), today, 30)
            service.sales_sources(engine, int(shop), today, 30)
            latencies.append((time.perf_counter() - t) * 1000)
        # Baseline: conversion's visitors counted from the raw log on every request.
        con = store.connect()
        con.register("product_shops", pa.table({"product_id": product_ids, "shop_id": product_shops}))
        raw = []
        first = (today - timedelta(days=29)).isoformat()
        for shop in shops[: args.baseline_requests]:
            t = time.perf_counter()
            con.execute(
                "SELECT strftime(timezone('UTC', e.ts), '%Y-%m-%d') AS day, COUNT(DISTINCT e.user_id) "
                "FROM events e JOIN product_shops p ON p.product_id = e.product_id "
                f"WHERE e.type = 'product_view' AND p.shop_id = {int(shop)} "
                f"AND strftime(timezone('UTC', e.ts), '%Y-%m-%d') >= '{first}' GROUP BY 1"
            ).fetchall()
            raw.append((time.perf_counter() - t) * 1000)
        con.close()
        store.close()
    lat = sorted(latencies)
    p50, p95 = statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"Compass core data, {args.events:,} events, {args.sales:,} sales lines, {args.shops:,} shops: {when}; {machine}\n"
    )
    print("| what | value |")
    print("|---|---:|")
    print(f"| events generated and stored | {gen_s:.1f} s |")
    print(
        f"| visitors pre-aggregate from the whole log (snapshot job) | {pre_s:.1f} s, {visitors.num_rows:,} rows |"
    )
    print(f"| core data + sales sources per request, p50 | {p50:.1f} ms |")
    print(f"| core data + sales sources per request, p95 | {p95:.1f} ms ({len(lat)} requests) |")
    print(
        f"| baseline: visitors from the raw log per request, median | {statistics.median(raw):,.0f} ms ({len(raw)} requests) |"
    )
    print(f"| peak RSS | {rss:,.0f} MiB |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "compass.json").write_text(
        json.dumps(
            {
                "date": when,
                "machine": machine,
                "events": args.events,
                "generate_s": gen_s,
                "preaggregate_s": pre_s,
                "p50_ms": p50,
                "p95_ms": p95,
                "raw_median_ms": statistics.median(raw),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
