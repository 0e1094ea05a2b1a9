"""Checkout-and-pay throughput and latency: the real app under uvicorn with 2 workers, loaded by wrk.

What runs where (one machine):
* this script seeds a fresh database through the platform's own services and migrations (one shop;
  either one SKU with 10 million units, "hot SKU", or 1,000 products x 10 SKUs of 1,000 units each);
* the server is ``zhongcao serve --workers 2`` (uvicorn), on PostgreSQL, with Redis for the real-time
  bus (``ZHONGCAO_REDIS_URL``), as several workers need;
* the load comes from wrk (compiled; Debian's package, ``make bench-commerce`` installs it when
  missing) with ``wrk_orders.lua``: each connection places orders one after another, an order being
  the buyer's two calls ``POST /api/checkout`` then ``POST /api/checkouts/{id}/pay``, each with its
  own Idempotency-Key; the order's latency runs from the first request to the second answer.

The same run first measures ``GET /api/health/live`` (no database) against the same server with
the same connections: the server's floor cost per request, so that figures from a noisy machine can be
read as ratios. It also reports the workers' CPU per order (from /proc, all cores) and the SQL
statements and transactions of one checkout and one payment (``count_statements.py``).

``--before-src DIR`` runs every scenario a second time with the server (and the statement count) on
another tree's code, e.g. ``--before-src /path/to/main/src``, interleaved with this tree's: before
and after, measured in the same run on the same database.

Usage:
    python benchmarks/commerce/bench_checkout.py [--seconds 20] [--connections 16] [--workers 2]
        [--backends postgresql,sqlite] [--before-src DIR]
Environment: ZHONGCAO_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test),
ZHONGCAO_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0; "" for none).
Results: printed as a Markdown table and written to benchmarks/out/commerce.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "benchmarks" / "out"
PG_URL = os.environ.get("ZHONGCAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ZHONGCAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_SCHEMA = "zc_bench"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
sys.path.insert(0, str(ROOT / "benchmarks"))

from server_process import (  # noqa: E402
    cpu_seconds,
    free_port,
    reset_pg_schema,
    server_env,
    start_server,
    stop_server,
    worker_pids,
)

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


# ----------------------------------------------------------------------------- server
def commerce_env(url: str, src: Path, extra: dict[str, str]) -> dict[str, str]:
    # The buy endpoints' per-account and per-address rate limits guard against scripts; this load
    # test is one, from one address with a few accounts, so it lifts them.
    limits = {
        "ZHONGCAO_BUY_REQUESTS_PER_ACCOUNT_PER_MINUTE": "1000000",
        "ZHONGCAO_BUY_REQUESTS_PER_ADDRESS_PER_MINUTE": "1000000",
        "PYTHONPATH": str(src),
    }
    return server_env(
        url, redis_url=REDIS_URL, redis_prefix=f"zc-bench-{os.getpid()}", extra={**limits, **extra}
    )


def _results(stdout: str) -> dict[str, list[str]]:
    out = {}
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            parts = line.split()[1:]
            out[parts[0]] = parts[1:]
    return out


def run_wrk(
    script: str, port: int, seconds: int, connections: int, env: dict[str, str]
) -> dict[str, list[str]]:
    done = subprocess.run(
        [WRK, f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s"]
        + [str(HERE / script), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return _results(done.stdout)


def health(port: int, seconds: int, connections: int) -> dict:
    r = run_wrk("wrk_health.lua", port, seconds, connections, dict(os.environ))["requests"]
    # requests N errors E seconds S request_ms p50 p99 max
    requests, errors, secs = int(r[0]), int(r[2]), float(r[4])
    return {
        "per_second": requests / secs,
        "errors": errors,
        "p50_ms": float(r[6]),
        "p99_ms": float(r[7]),
    }


def orders(port: int, seconds: int, connections: int, files: dict[str, str], pids: list[int]) -> dict:
    env = dict(os.environ, **files, RUN_ID=uuid.uuid4().hex[:12])
    cpu = cpu_seconds(pids)
    r = run_wrk("wrk_orders.lua", port, seconds, connections, env)
    cpu = cpu_seconds(pids) - cpu
    done, failures, secs = int(r["orders"][0]), int(r["orders"][2]), float(r["orders"][4])
    return {
        "completed": done,
        "failed": failures,
        "per_second": done / secs,
        "p50_ms": float(r["order_ms"][0]),
        "p99_ms": float(r["order_ms"][1]),
        "max_ms": float(r["order_ms"][2]),
        "request_p50_ms": float(r["requests"][4]),
        "request_p99_ms": float(r["requests"][5]),
        "http_errors": int(r["requests"][2]),
        "worker_cpu_ms_per_order": cpu * 1000 / max(1, done),
    }


def count_statements(env: dict[str, str], token: str, sku_id: int) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "count_statements.py"), env["ZHONGCAO_DATABASE_URL"], token, str(sku_id)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main
def scenario(backend: str, skus: int, args: argparse.Namespace, trees: list[tuple[str, Path]]) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="zc-bench-"))
    if backend == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
        data = seed(url, skus=skus, shoppers=args.shoppers)
        extra: dict[str, str] = {}
    else:
        reset_pg_schema(PG_URL, PG_SCHEMA)
        url = PG_URL
        data = seed(
            url, skus=skus, shoppers=args.shoppers, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
        )
        # libpq reads PGOPTIONS, so the server process uses the benchmark schema too.
        extra = {"PGOPTIONS": f"-csearch_path={PG_SCHEMA}"}
    extra["ZHONGCAO_EVENTS_DIR"] = str(tmp / "events")
    (tmp / "tokens.txt").write_text("\n".join(data["tokens"]) + "\n")
    (tmp / "skus.txt").write_text("\n".join(map(str, data["sku_ids"])) + "\n")
    files = {
        "TOKENS_FILE": str(tmp / "tokens.txt"),
        "SKUS_FILE": str(tmp / "skus.txt"),
        "ADDRESS_JSON": json.dumps(ADDRESS, ensure_ascii=False),
    }
    rows = []
    for label, src in trees:
        env = commerce_env(url, src, extra)
        statements = count_statements(env, data["tokens"][0], data["sku_ids"][0])
        port = free_port()
        server = start_server(env, port, args.workers, tmp / f"server-{len(rows)}.log")
        try:
            pids = worker_pids(server)
            orders(port, 3, args.connections, files, pids)  # warm-up: connections, caches, both workers
            baseline = health(port, args.seconds, args.connections)
            load = orders(port, args.seconds, args.connections, files, pids)
        finally:
            stop_server(server)
        load_avg = os.getloadavg()[0]
        rows.append(
            {
                "backend": backend,
                "skus": skus,
                "code": label,
                "baseline": baseline,
                "orders": load,
                "statements": statements,
                "load_average": load_avg,
            }
        )
        print(
            f"  {label}: {load['per_second']:.1f} orders/s, load {load_avg:.1f}", file=sys.stderr, flush=True
        )
    return rows


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
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--backends", default="postgresql")
    parser.add_argument("--skus", default="1,10000")
    parser.add_argument(
        "--before-src", type=Path, default=None, help="also run the server on this tree's code"
    )
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed: `make bench-commerce` installs it (apt-get install wrk)")
    trees = [("this tree", ROOT / "src")]
    if args.before_src is not None:
        trees.insert(0, ("before", args.before_src.resolve()))
    results = []
    for backend in args.backends.split(","):
        for skus in (int(n) for n in args.skus.split(",")):
            print(f"… {backend}, {skus} SKU(s)", file=sys.stderr, flush=True)
            results.extend(scenario(backend, skus, args, trees))
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "seconds": args.seconds,
        "connections": args.connections,
        "workers": args.workers,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "commerce.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(
        f"\n{meta['date']} · {meta['machine']} · {args.workers} workers, {args.connections} connections, "
        f"{args.seconds} s per row\n"
    )
    print(
        "| backend | SKUs | code | orders/s | order p50 ms | order p99 ms | failed | statements (checkout + pay) "
        "| transactions | worker CPU ms/order | health req/s | orders/s ÷ health req/s | load avg |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        o, b, s = r["orders"], r["baseline"], r["statements"]
        stmts = f"{s['checkout']['statements']} + {s['pay']['statements']}"
        txs = f"{s['checkout']['commits']} + {s['pay']['commits']}"
        print(
            f"| {r['backend']} | {r['skus']:,} | {r['code']} | {o['per_second']:.1f} | {o['p50_ms']:.1f} "
            f"| {o['p99_ms']:.1f} | {o['failed']} | {stmts} | {txs} | {o['worker_cpu_ms_per_order']:.1f} "
            f"| {b['per_second']:.0f} | {o['per_second'] / b['per_second']:.3f} | {r['load_average']:.1f} |"
        )


if __name__ == "__main__":
    main()
