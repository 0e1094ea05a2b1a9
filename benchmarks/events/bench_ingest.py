"""Event ingestion rate of the embedded store (segment log + Parquet), with baselines.

Rows, all with the same realistic mix of event types (plays, impressions, likes, searches, orders …):
* ``SegmentEventStore.append`` in-process, columnar batches of 10,000 (as Arrow tables, and as numpy
  arrays the way the simulator passes them) and of 500 events (each append is validated and fsync'd
  before it returns), and two processes appending at once;
* ``POST /api/events`` over HTTP: ``zhongcao``'s app under uvicorn (one worker) in its own process,
  a client process with 8 requests in flight, 500 events per request;
* baselines in the same run: ``pyarrow.parquet.write_table`` of the same rows to one file (then fsync),
  and DuckDB's own ``INSERT INTO t SELECT * FROM arrow_table`` into a database file (then CHECKPOINT).

Each row is the median of ``--runs`` runs. Usage:
    python benchmarks/events/bench_ingest.py [--events 1000000] [--http-events 100000] [--runs 5] [--http-only]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

TYPES = np.array(
    ["impression"] * 6 + ["play"] * 5 + ["like", "product_view", "search", "anchor_click", "order"],
    dtype=object,
)


def make_batch(n: int, seed: int, t0_us: int = 1_767_225_600_000_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    types = TYPES[rng.integers(0, len(TYPES), n)]
    needs_product = np.isin(types, ["product_view", "anchor_click", "order"])
    return {
        "ts": t0_us + np.sort(rng.integers(0, 86_400_000_000, n)),
        "type": types,
        "user_id": rng.integers(1, 50_000, n),
        "content_id": np.where(types == "search", None, rng.integers(1, 100_000, n)).astype(object),
        "product_id": np.where(needs_product, rng.integers(1, 60_000, n), None).astype(object),
        "watch_ms": np.where(types == "play", rng.integers(0, 60_000, n), None).astype(object),
        "value_fen": np.where(types == "order", rng.integers(100, 100_000, n), None).astype(object),
        "query": np.where(types == "search", "连衣裙", None).astype(object),
        "position": rng.integers(0, 50, n).astype(np.int32),
    }


def _arrow(batches: list[dict]) -> list:
    from zhongcao.events.model import prepare

    return [prepare(b) for b in batches]


def rate(n: int, seconds: float) -> float:
    return n / seconds


def bench_store(root: Path, tables: list, runs: int) -> float:
    from zhongcao.events.store import SegmentEventStore

    rates = []
    for r in range(runs):
        store = SegmentEventStore(root / f"run{r}-{len(tables)}-{type(tables[0]).__name__}")
        start = time.perf_counter()
        n = sum(store.append(t) for t in tables)
        rates.append(rate(n, time.perf_counter() - start))
        store.close()
    return statistics.median(rates)


def _proc_append(root: str, n_batches: int, size: int, seed: int, start_evt: mp.Event, out: mp.Queue) -> None:
    from zhongcao.events.store import SegmentEventStore

    tables = _arrow([make_batch(size, seed + i) for i in range(n_batches)])
    store = SegmentEventStore(root)
    start_evt.wait()
    t = time.perf_counter()
    n = sum(store.append(tb) for tb in tables)
    out.put((n, t, time.perf_counter()))
    store.close()


def bench_two_processes(root: Path, n_batches: int, size: int, runs: int) -> float:
    ctx = mp.get_context("spawn")
    rates = []
    for r in range(runs):
        start_evt, out = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(
                target=_proc_append, args=(str(root / f"mp{r}"), n_batches, size, 100 * i, start_evt, out)
            )
            for i in range(2)
        ]
        for p in procs:
            p.start()
        time.sleep(3)  # both processes build their batches before the clock starts
        start_evt.set()
        results = [out.get(timeout=300) for _ in procs]
        for p in procs:
            p.join()
        total = sum(n for n, _, _ in results)
        rates.append(rate(total, max(e for _, _, e in results) - min(s for _, s, _ in results)))
    return statistics.median(rates)


def bench_parquet(root: Path, tables: list, runs: int) -> float:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rates = []
    for r in range(runs):
        path = root / f"baseline{r}.parquet"
        start = time.perf_counter()
        pq.write_table(pa.concat_tables(tables), path, compression="zstd")
        with open(path, "rb") as f:
            os.fsync(f.fileno())
        rates.append(rate(sum(t.num_rows for t in tables), time.perf_counter() - start))
    return statistics.median(rates)


def bench_duckdb(root: Path, tables: list, runs: int) -> float:
    import duckdb
    import pyarrow as pa

    rates = []
    for r in range(runs):
        con = duckdb.connect(str(root / f"baseline{r}.duckdb"))
        whole = pa.concat_tables(tables)
        start = time.perf_counter()
        con.execute("CREATE TABLE t AS SELECT * FROM whole")
        con.execute("CHECKPOINT")
        rates.append(rate(whole.num_rows, time.perf_counter() - start))
        con.close()
    return statistics.median(rates)


# ---------------------------------------------------------------------------------- HTTP

SERVER = """
import sys, uvicorn
from zhongcao.api import create_app
app = create_app()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _json_events(n: int, seed: int) -> list[dict]:
    """A client's events: the same mix, less purchases (``order`` events and ``value_fen`` are recorded
    by the platform, never sent by clients: a client's would be refused with 422)."""
    batch = make_batch(n, seed)
    rows = []
    for i in range(n):
        kind = batch["type"][i]
        row = {"type": "product_view" if kind == "order" else kind, "position": int(batch["position"][i])}
        for key in ("content_id", "product_id", "watch_ms", "query"):
            value = batch[key][i]
            if value is not None:
                row[key] = value if isinstance(value, str) else int(value)
        rows.append(row)
    return rows


async def _client(url: str, token: str, bodies: list[dict], concurrency: int) -> float:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def worker() -> int:
            done = 0
            while queue:
                body = queue.pop()
                res = await client.post("/api/events", json=body)
                res.raise_for_status()
                done += res.json()["accepted"]
            return done

        start = time.perf_counter()
        counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
        return rate(sum(counts), time.perf_counter() - start)


def bench_http(root: Path, n_events: int, runs: int) -> float:
    from zhongcao import migrate
    from zhongcao.db import Database
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role, TokenKind

    url = f"sqlite:///{root / 'http.db'}"
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.session() as db:
        user = users_service.create_import_users(db, ["bench"], role=Role.shopper)["bench"]
        token, _ = users_service.issue_token(db, users_service.get_user(db, user), kind=TokenKind.api)
    database.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "ZHONGCAO_DATABASE_URL": url,
        "ZHONGCAO_EVENTS_DIR": str(root / "http-events"),
        "ZHONGCAO_EVENTS_BACKEND": "segments",
    }
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/health/live", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        bodies = [{"events": _json_events(500, i)} for i in range(n_events // 500)]
        # Warm-up, not counted.
        asyncio.run(_client(f"http://127.0.0.1:{port}", token, bodies[:8], 8))
        return statistics.median(
            asyncio.run(_client(f"http://127.0.0.1:{port}", token, bodies, 8)) for _ in range(runs)
        )
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--http-events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--http-only", action="store_true", help="only the POST /api/events row (ingestion-path changes)"
    )
    args = parser.parse_args()
    if args.http_only:
        with tempfile.TemporaryDirectory(prefix="zc-bench-events-") as tmp:
            rate_ = bench_http(Path(tmp), args.http_events, args.runs)
        print(f"| POST /api/events over HTTP, 500 per request, 8 in flight | {rate_:,.0f} |")
        return
    with tempfile.TemporaryDirectory(prefix="zc-bench-events-") as tmp:
        root = Path(tmp)
        raw = [make_batch(10_000, i) for i in range(args.events // 10_000)]
        big = _arrow(raw)
        small = _arrow([make_batch(500, i) for i in range(args.events // 10 // 500)])
        rows = [
            (
                "SegmentEventStore.append, batches of 10,000 (validated, fsync'd)",
                bench_store(root, big, args.runs),
            ),
            (
                "SegmentEventStore.append, batches of 10,000 given as numpy arrays (the simulator's path)",
                bench_store(root, raw, args.runs),
            ),
            ("SegmentEventStore.append, batches of 500", bench_store(root, small, args.runs)),
            (
                "SegmentEventStore.append, 2 processes × batches of 10,000",
                bench_two_processes(root, args.events // 10_000 // 2, 10_000, max(1, args.runs // 2)),
            ),
            (
                "POST /api/events over HTTP, 500 per request, 8 in flight",
                bench_http(root, args.http_events, args.runs),
            ),
            (
                "baseline: pyarrow.parquet.write_table of the same rows (+ fsync)",
                bench_parquet(root, big, args.runs),
            ),
            (
                "baseline: DuckDB CREATE TABLE AS from Arrow (+ CHECKPOINT)",
                bench_duckdb(root, big, args.runs),
            ),
        ]
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(
        f"**{datetime.now(UTC).date()} · {cpu}, {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{args.events:,} events in-process, {args.http_events:,} over HTTP · median of {args.runs} runs**\n"
    )
    print("| path | events/s |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value:,.0f} |")


if __name__ == "__main__":
    main()
