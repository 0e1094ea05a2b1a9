"""Checkout-and-pay throughput and latency, on SQLite and PostgreSQL, one hot SKU vs 10,000 SKUs.

What runs where:
* this script seeds a fresh database through the platform's own services and migrations;
* the server is ``zhongcao serve`` (uvicorn, one worker) in its own process;
* the load comes from a separate client process (httpx, asyncio, fixed concurrency) on loopback.

One "order" is the buyer's two calls: ``POST /api/checkout`` then ``POST /api/checkouts/{id}/pay``.
As a baseline, the same client first measures ``GET /api/health/live`` (the server's floor cost per
request) so that figures from a noisy machine can be read as ratios.

Usage:
    python benchmarks/commerce/bench_checkout.py [--orders 600] [--concurrency 16] [--backends sqlite,postgresql]
Environment: ZHONGCAO_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
Results: printed as a Markdown table and written to benchmarks/out/commerce.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
PG_URL = os.environ.get("ZHONGCAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "zc_bench"
ADDRESS = {
    "name": "张三",
    "phone": "13800000000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "line": "世纪大道 1 号",
}


# ----------------------------------------------------------------------------- seeding
def seed(url: str, *, skus: int, shoppers: int, connect_args: dict | None = None) -> dict:
    """Create a shop with ``skus`` SKUs and ``shoppers`` shoppers with API tokens."""
    from zhongcao import migrate
    from zhongcao.catalog import service as catalog_service
    from zhongcao.catalog.models import ProductStatus
    from zhongcao.db import Database
    from zhongcao.shops import service as shops_service
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role, TokenKind

    database = Database(url, connect_args=connect_args or {})
    migrate.upgrade(database.engine)
    db = database.session()
    top = catalog_service.create_category(db, slug="bench-top", name_zh="基准", name_en="Bench", commit=False)
    leaf = catalog_service.create_category(
        db, slug="bench-leaf", name_zh="基准叶", name_en="Bench leaf", parent_id=top.id, commit=False
    )
    owner = users_service.create_user(
        db,
        email="owner@bench.local",
        password="bench-password",
        display_name="owner",
        role=Role.merchant,
        commit=False,
    )
    shop = shops_service.create_shop(
        db, name_zh="基准店", name_en="Bench shop", owner_user_id=owner.id, commit=False
    )
    per_product = 10 if skus >= 10 else 1
    stock = 10_000_000 if skus == 1 else 1_000
    sku_ids: list[int] = []
    for p in range(max(1, skus // per_product)):
        product = catalog_service.create_product(
            db,
            shop.id,
            category_id=leaf.id,
            title_zh=f"基准商品{p}",
            title_en=f"Bench product {p}",
            skus=[
                catalog_service.NewSku(
                    code=f"B{p}-{i}", price_fen=1990, stock=stock, attributes={"n": str(i)}
                )
                for i in range(per_product)
            ],
            status=ProductStatus.active,
            commit=False,
        )
        sku_ids.extend(sku.id for sku in product.skus)
    tokens = []
    for u in range(shoppers):
        user = users_service.create_user(
            db, email=f"shopper{u}@bench.local", password="bench-password", display_name=f"s{u}", commit=False
        )
        secret, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="bench", commit=False)
        tokens.append(secret)
    db.commit()
    db.close()
    database.dispose()
    return {"sku_ids": sku_ids, "tokens": tokens}


def reset_pg_schema() -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{PG_SCHEMA}"')


# ----------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env_url: str, port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    env = dict(os.environ, ZHONGCAO_DATABASE_URL=env_url, ZHONGCAO_LOG_LEVEL="warning", **extra_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "zhongcao.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/live", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


# ----------------------------------------------------------------------------- client (own process)
async def _run_load(
    port: int, kind: str, n: int, concurrency: int, sku_ids: list[int], tokens: list[str]
) -> dict:
    import random

    import httpx

    rng = random.Random(7)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as client:

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            if kind == "baseline":
                r = await client.get("/api/health/live")
                ok = r.status_code == 200
                code = str(r.status_code)
            else:
                headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                body = {
                    "items": [{"sku_id": rng.choice(sku_ids), "quantity": 1}],
                    "shipping_address": ADDRESS,
                }
                r = await client.post(
                    "/api/checkout", json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex}
                )
                ok = r.status_code in (200, 201)
                code = f"checkout:{r.status_code}"
                if ok:
                    checkout_id = r.json()["id"]
                    r = await client.post(
                        f"/api/checkouts/{checkout_id}/pay",
                        json={"payment_method": "pm_card_ok"},
                        headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
                    )
                    ok = r.status_code == 200
                    code = f"pay:{r.status_code}"
            if ok:
                latencies.append(time.perf_counter() - t0)
            else:
                failures[code] = failures.get(code, 0) + 1

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await one(i)

        # Warm-up: connections, server caches, SQLite page cache.
        for i in range(min(20, n)):
            await one(i)
        latencies.clear()
        failures.clear()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    lat_ms = sorted(x * 1000 for x in latencies)
    return {
        "completed": len(latencies),
        "failed": failures,
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": statistics.median(lat_ms) if lat_ms else None,
        "p99_ms": lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))] if lat_ms else None,
    }


def _client_entry(args: tuple, out: mp.Queue) -> None:
    out.put(asyncio.run(_run_load(*args)))


def run_client(*args) -> dict:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=_client_entry, args=(args, q))
    p.start()
    result = q.get()
    p.join()
    return result


# ----------------------------------------------------------------------------- main
def scenario(backend: str, skus: int, orders: int, concurrency: int, shoppers: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="zc-bench-")
    if backend == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
        data = seed(url, skus=skus, shoppers=shoppers)
        extra: dict[str, str] = {}
    else:
        reset_pg_schema()
        url = PG_URL
        data = seed(url, skus=skus, shoppers=shoppers, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
        # libpq reads PGOPTIONS, so the server process uses the benchmark schema too.
        extra = {"PGOPTIONS": f"-csearch_path={PG_SCHEMA}"}
    port = free_port()
    server = start_server(url, port, extra)
    try:
        baseline = run_client(port, "baseline", orders * 2, concurrency, data["sku_ids"], data["tokens"])
        load = run_client(port, "orders", orders, concurrency, data["sku_ids"], data["tokens"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"backend": backend, "skus": skus, "baseline": baseline, "orders": load}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        for skus in (1, 10_000):
            print(f"… {backend}, {skus} SKU(s)", file=sys.stderr, flush=True)
            results.append(scenario(backend, skus, args.orders, args.concurrency, args.shoppers))
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "orders": args.orders,
        "concurrency": args.concurrency,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "commerce.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(
        f"\n{meta['date']} · {meta['machine']} · {args.orders} orders per scenario, concurrency {args.concurrency}\n"
    )
    print(
        "| backend | SKUs | orders/s | p50 ms | p99 ms | failed | baseline req/s (GET /api/health/live) | baseline p50 ms | orders/s ÷ baseline req/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        o, b = r["orders"], r["baseline"]
        failed = sum(o["failed"].values())
        print(
            f"| {r['backend']} | {r['skus']:,} | {o['per_second']:.1f} | {o['p50_ms']:.1f} | {o['p99_ms']:.1f} | {failed} "
            f"| {b['per_second']:.0f} | {b['p50_ms']:.1f} | {o['per_second'] / b['per_second']:.3f} |"
        )
        if o["failed"]:
            print(f"<!-- failures {r['backend']} {r['skus']}: {o['failed']} -->")


if __name__ == "__main__":
    main()
