"""A flash sale at its peak: 20,000 distinct buyers press "buy" on 1,000 units of one SKU.

What runs where (one machine):
* setup, not timed: a fresh PostgreSQL schema through the platform's migrations, one shop, one SKU,
  20,000 buyers with API tokens (bulk-inserted), and a flash sale of 1,000 units (limit 1 a buyer)
  created through ``flashsales.service.create_sale``, open at once;
* the server: ``zhongcao serve --workers 2`` (uvicorn) on PostgreSQL with Redis (admission's Lua
  script, the real-time bus, the rate limits), and one job worker (``python -m zhongcao.jobs
  flash_sale_orders``: the writer, every 0.3 s under its loop lock);
* the load: wrk (compiled; ``make bench-flash-sale`` installs Debian's package when missing) with
  ``wrk_join.lua``: each request is one buyer's ``POST /api/flash-sales/{id}/join``. The first pass
  sends each buyer once; later requests are the same buyers pressing again (answered 409).

The same run first measures ``GET /api/health/live`` (no database) against the same server with the
same connections: the server's floor cost per request, so that figures from a noisy machine can be
read as a ratio. Reported: admission decisions/s (201 admitted + 409 sold out / limit reached), the
join's p50/p99, orders written/s and the time until every admitted buyer's order is payable (from
``flash_admissions``' own timestamps), and the checks: units sold <= quantity, each buyer <= the limit,
every admitted buyer exactly one order.

Usage:
    python benchmarks/flash_sale/bench_flash_sale.py [--buyers 20000] [--units 1000] [--seconds 15]
        [--connections 32] [--threads 2] [--workers 2]
Environment: ZHONGCAO_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test),
ZHONGCAO_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
Results: printed as Markdown and written to benchmarks/out/flash_sale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "commerce"))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(ROOT / "src"))  # this tree's platform, whatever the virtualenv installed

from bench_checkout import WRK, _results, machine  # noqa: E402  (the commerce benchmark's wrk helpers)
from server_process import cpu_seconds, free_port, reset_pg_schema, start_server, stop_server, worker_pids  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
PG_URL = os.environ.get("ZHONGCAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ZHONGCAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_SCHEMA = "zc_bench_flash"
CONNECT_ARGS = {"options": f"-csearch_path={PG_SCHEMA}"}


def seed(buyers: int, units: int, settings_env: dict[str, str]) -> dict:
    """The shop, the SKU, the buyers with tokens and the sale (setup: not timed)."""
    os.environ.update(settings_env)  # the sale's counters go to the server's Redis and prefix
    from sqlalchemy import insert

    from zhongcao import clock, migrate
    from zhongcao.catalog import service as catalog_service
    from zhongcao.catalog.models import ProductStatus
    from zhongcao.config import get_settings
    from zhongcao.db import Database
    from zhongcao.flashsales import service as flashsales_service
    from zhongcao.shops import service as shops_service
    from zhongcao.users import security
    from zhongcao.users import service as users_service
    from zhongcao.users.models import AuthToken, Role, TokenKind, TokenScope

    database = Database(PG_URL, connect_args=CONNECT_ARGS)
    migrate.upgrade(database.engine)
    db = database.session()
    top = catalog_service.create_category(db, slug="flash-top", name_zh="秒杀", name_en="Flash", commit=False)
    leaf = catalog_service.create_category(
        db, slug="flash-leaf", name_zh="秒杀叶", name_en="Flash leaf", parent_id=top.id, commit=False
    )
    owner = users_service.create_user(
        db,
        email="owner@flash.bench",
        password="bench-password",
        display_name="owner",
        role=Role.merchant,
        commit=False,
    )
    shop = shops_service.create_shop(
        db, name_zh="秒杀店", name_en="Flash shop", owner_user_id=owner.id, commit=False
    )
    product = catalog_service.create_product(
        db,
        shop.id,
        category_id=leaf.id,
        title_zh="秒杀商品",
        title_en="Flash product",
        skus=[catalog_service.NewSku(code="F-1", price_fen=9900, stock=units * 2, attributes={"n": "1"})],
        status=ProductStatus.active,
        commit=False,
    )
    db.commit()
    ids = users_service.create_users_bulk(
        db,
        [users_service.NewUser(f"buyer{n}@flash.bench", f"buyer {n}") for n in range(buyers)],
        password_hash="unused",  # buyers call the API with tokens
    )
    tokens = [security.new_token() for _ in ids]
    db.execute(
        insert(AuthToken),
        [
            {
                "user_id": user_id,
                "kind": TokenKind.api,
                "token_hash": security.token_digest(token),
                "name": "bench",
                "scope": TokenScope.full,
            }
            for user_id, token in zip(ids, tokens, strict=True)
        ],
    )
    db.commit()
    sale = flashsales_service.create_sale(
        db,
        shop_id=shop.id,
        created_by=owner.id,
        new=flashsales_service.NewSale(
            sku_id=product.skus[0].id,
            title="整点秒杀",
            price_fen=990,
            quantity=units,
            per_buyer_limit=1,
            payment_window_minutes=15,
            starts_at=clock.now() - timedelta(seconds=1),
        ),
        settings=get_settings(),
    )
    sale_id = sale.id
    # A small sale on a second SKU to warm the workers up on (their first requests pay for imports,
    # pools and the script's load); sold out at once, so the warm-up leaves little for the writer.
    warm = catalog_service.create_product(
        db,
        shop.id,
        category_id=leaf.id,
        title_zh="预热商品",
        title_en="Warm-up product",
        skus=[catalog_service.NewSku(code="W-1", price_fen=9900, stock=20, attributes={"n": "1"})],
        status=ProductStatus.active,
    )
    warm_sale = flashsales_service.create_sale(
        db,
        shop_id=shop.id,
        created_by=owner.id,
        new=flashsales_service.NewSale(
            sku_id=warm.skus[0].id,
            title="预热",
            price_fen=990,
            quantity=10,
            per_buyer_limit=1,
            payment_window_minutes=15,
            starts_at=clock.now() - timedelta(seconds=1),
        ),
        settings=get_settings(),
    )
    warm_id = warm_sale.id
    db.close()
    database.dispose()
    return {"tokens": tokens, "sale_id": sale_id, "warm_sale_id": warm_id}


def wait_for_writer(timeout: float = 300.0) -> None:
    """Until the job worker has run the writer once (it imports the platform first)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(PG_URL, options=f"-csearch_path={PG_SCHEMA}", autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            row = conn.execute("SELECT runs FROM job_runs WHERE name = 'flash_sale_orders'").fetchone()
            if row is not None and row[0] > 0:
                return
            time.sleep(0.5)
    raise RuntimeError("the job worker did not run the writer")


def outcome(sale_id: int) -> dict:
    """What PostgreSQL holds once the writer is done: the checks and the writer's pace."""
    import psycopg

    with psycopg.connect(PG_URL, options=f"-csearch_path={PG_SCHEMA}") as conn:
        q = lambda sql: conn.execute(sql, {"s": sale_id}).fetchall()  # noqa: E731
        quantity, units_taken, limit = q(
            "SELECT quantity, units_taken, per_buyer_limit FROM flash_sales WHERE id = %(s)s"
        )[0]
        states = dict(q("SELECT state, count(*) FROM flash_admissions WHERE sale_id = %(s)s GROUP BY state"))
        most_per_buyer = q(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM flash_admissions "
            "WHERE sale_id = %(s)s GROUP BY user_id) t"
        )[0][0]
        without_order = q(
            "SELECT count(*) FROM flash_admissions WHERE sale_id = %(s)s AND state IN ('ordered', 'paid') "
            "AND order_id IS NULL"
        )[0][0]
        orders_per_buyer = q(
            "SELECT coalesce(max(n), 0), count(*) FROM (SELECT a.user_id, count(o.id) AS n "
            "FROM flash_admissions a JOIN orders o ON o.id = a.order_id WHERE a.sale_id = %(s)s "
            "GROUP BY a.user_id) t"
        )[0]
        first_written, last_written, last_admitted, payable_p50, payable_max = q(
            "SELECT min(written_at), max(written_at), max(admitted_at), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM written_at - admitted_at)), "
            "max(extract(epoch FROM written_at - admitted_at)) "
            "FROM flash_admissions WHERE sale_id = %(s)s AND written_at IS NOT NULL"
        )[0]
    written = states.get("ordered", 0) + states.get("paid", 0)
    tickets = sum(states.values())
    span = (last_written - first_written).total_seconds() if written > 1 else 0.0
    return {
        "quantity": quantity,
        "units_taken": units_taken,
        "states": states,
        "most_tickets_per_buyer": most_per_buyer,
        "limit": limit,
        "ordered_without_order": without_order,
        "most_orders_per_buyer": orders_per_buyer[0],
        "buyers_with_order": orders_per_buyer[1],
        "tickets": tickets,
        "orders_written": written,
        "orders_per_second": written / span if span > 0 else float(written),
        "payable_p50_s": float(payable_p50 or 0),
        "payable_max_s": float(payable_max or 0),
        "all_payable_after_last_admission_s": (last_written - last_admitted).total_seconds()
        if written
        else 0.0,
    }


def wait_written(sale_id: int, timeout: float = 120.0) -> float:
    """Seconds until no ticket of the sale is left queued."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(PG_URL, options=f"-csearch_path={PG_SCHEMA}", autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            queued = conn.execute(
                "SELECT count(*) FROM flash_admissions WHERE sale_id = %s AND state = 'queued'", (sale_id,)
            ).fetchone()
            if queued is not None and queued[0] == 0:
                break
            time.sleep(0.1)
    return time.monotonic() - started


def wrk(script: Path, port: int, args: argparse.Namespace, env: dict[str, str]) -> dict[str, list[str]]:
    done = subprocess.run(
        [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "10s"]
        + ["-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    if done.stderr.strip():
        print(done.stderr.strip()[-2000:], file=sys.stderr)
    return _results(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed: `make bench-flash-sale` installs it (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="zc-flash-"))
    env = dict(
        os.environ,
        ZHONGCAO_DATABASE_URL=PG_URL,
        PGOPTIONS=f"-csearch_path={PG_SCHEMA}",  # libpq: the server and the job worker use the schema
        ZHONGCAO_REDIS_URL=REDIS_URL,
        ZHONGCAO_REDIS_PREFIX=f"zc-flash-bench-{os.getpid()}",
        ZHONGCAO_LOG_LEVEL="warning",
        ZHONGCAO_EVENTS_DIR=str(tmp / "events"),
        # One client address for every buyer: the per-address budget (against scripts) is lifted.
        ZHONGCAO_BUY_REQUESTS_PER_ADDRESS_PER_MINUTE="100000000",
        PYTHONPATH=str(ROOT / "src"),
    )
    print(f"… setup: {args.buyers:,} buyers, {args.units:,} units", file=sys.stderr, flush=True)
    reset_pg_schema(PG_URL, PG_SCHEMA)
    started = time.monotonic()
    data = seed(args.buyers, args.units, {k: env[k] for k in ("ZHONGCAO_REDIS_URL", "ZHONGCAO_REDIS_PREFIX")})
    setup_s = time.monotonic() - started
    (tmp / "tokens.txt").write_text("\n".join(data["tokens"]) + "\n")
    port = free_port()
    server = start_server(
        env, port, args.workers, tmp / "server.log", timeout_s=300
    )  # a busy machine imports slowly
    job_log = (tmp / "worker.log").open("ab")
    job_worker = subprocess.Popen(
        [sys.executable, "-m", "zhongcao.jobs", "flash_sale_orders"], env=env, stdout=job_log, stderr=job_log
    )
    try:
        pids = worker_pids(server)
        wait_for_writer()
        warm_args = argparse.Namespace(**{**vars(args), "seconds": 5})
        wrk(
            HERE / "wrk_join.lua",
            port,
            warm_args,
            dict(
                os.environ,
                TOKENS_FILE=str(tmp / "tokens.txt"),
                SALE_ID=str(data["warm_sale_id"]),
                RUN_ID="warm",
                THREADS=str(args.threads),
            ),
        )
        health_env = dict(os.environ)
        r = wrk(ROOT / "benchmarks" / "commerce" / "wrk_health.lua", port, args, health_env)["requests"]
        baseline = {"per_second": int(r[0]) / float(r[4]), "p50_ms": float(r[6]), "p99_ms": float(r[7])}
        join_env = dict(
            os.environ,
            TOKENS_FILE=str(tmp / "tokens.txt"),
            SALE_ID=str(data["sale_id"]),
            RUN_ID=uuid.uuid4().hex[:12],
            THREADS=str(args.threads),
        )
        cpu = cpu_seconds(pids)
        r2 = wrk(HERE / "wrk_join.lua", port, args, join_env)
        cpu = cpu_seconds(pids) - cpu
        time.sleep(1.0)  # requests wrk left in flight are answered
        # answers ADMITTED REFUSED 429 503 OTHER errors N seconds S
        a = r2["answers"]
        admitted, refused, limited, rebuilding, other = (int(x) for x in a[:5])
        errors, secs = int(a[6]), float(a[8])
        written_within_s = wait_written(data["sale_id"])
    finally:
        stop_server(server)
        job_worker.terminate()
        job_worker.wait(30)
    decisions = admitted + refused
    load = {
        "decisions_per_second": decisions / secs,
        "requests": int(decisions + limited + rebuilding + other),
        "admitted": admitted,
        "refused": refused,
        "rate_limited": limited,
        "rebuilding": rebuilding,
        "other": other,
        "socket_errors": errors,
        "p50_ms": float(r2["request_ms"][0]),
        "p99_ms": float(r2["request_ms"][1]),
        "max_ms": float(r2["request_ms"][2]),
        "worker_cpu_ms_per_decision": cpu * 1000 / max(1, decisions),
        "written_within_s_after_load": written_within_s,
    }
    books = outcome(data["sale_id"])
    checks = {
        "units sold <= quantity": books["units_taken"] <= books["quantity"]
        and books["orders_written"] <= books["quantity"],
        "each buyer <= limit": books["most_tickets_per_buyer"] <= books["limit"],
        # Every ticket PostgreSQL holds (each a 201; wrk counts only those answered in its window)
        # has exactly one order, and no buyer has two.
        "every admitted buyer exactly one order": books["orders_written"] == books["tickets"]
        and books["buyers_with_order"] == books["tickets"]
        and load["admitted"] <= books["tickets"]
        and books["most_orders_per_buyer"] <= 1
        and books["ordered_without_order"] == 0
        and books["states"].get("queued", 0) == 0,
    }
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "load_average": os.getloadavg()[0],
        "buyers": args.buyers,
        "units": args.units,
        "seconds": args.seconds,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "workers": args.workers,
        "setup_s": setup_s,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"meta": meta, "baseline": baseline, "load": load, "books": books, "checks": checks}
    (OUT / "flash_sale.json").write_text(json.dumps(result, indent=2, default=str))
    print(
        f"\n{meta['date']} · {meta['machine']} · {args.workers} API workers + 1 job worker, "
        f"{args.connections} connections, {args.seconds} s, load average {meta['load_average']:.1f}\n"
    )
    print("| figure | value |\n|---|---:|")
    rows = [
        ("admission decisions/s", f"{load['decisions_per_second']:,.0f}"),
        ("health-check req/s (same run)", f"{baseline['per_second']:,.0f}"),
        ("decisions/s ÷ health req/s", f"{load['decisions_per_second'] / baseline['per_second']:.2f}"),
        ("join p50 / p99 / max ms", f"{load['p50_ms']:.1f} / {load['p99_ms']:.1f} / {load['max_ms']:.0f}"),
        (
            "admitted / refused (409) / 429 / 503 / other",
            f"{load['admitted']} / {load['refused']} / "
            f"{load['rate_limited']} / {load['rebuilding']} / {load['other']}",
        ),
        ("orders written/s", f"{books['orders_per_second']:,.0f}"),
        ("admitted → payable p50 / max s", f"{books['payable_p50_s']:.2f} / {books['payable_max_s']:.2f}"),
        (
            "every order payable, s after the last admission",
            f"{books['all_payable_after_last_admission_s']:.2f}",
        ),
        ("API workers' CPU ms per decision", f"{load['worker_cpu_ms_per_decision']:.2f}"),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    for name, ok in checks.items():
        print(f"| check: {name} | {'ok' if ok else 'FAILED'} |")
    if not all(checks.values()):
        raise SystemExit("a check failed: " + json.dumps(books, default=str))


if __name__ == "__main__":
    main()
