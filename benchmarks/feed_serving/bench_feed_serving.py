"""Feed serving: GET /api/feed against the medium demo world, from a load generator on loopback.

Builds (or reuses) the medium world under ``--work`` (a SQLite database and a segment event store),
trains the feed once (reused), issues API tokens for ``--users`` shoppers, starts the real API server
(``server.py``: one uvicorn worker) and drives it from this process with asyncio + httpx:

* **open loop** at each ``--rates`` requests/s for ``--seconds`` (requests leave on schedule whether or
  not earlier ones returned, so queueing shows in the latency, as it would for real clients);
* a **baseline in the same run**: ``GET /api/health`` at the same rates (the framework's floor).

Each request is a random user's next page (10 items, cursor followed), so every request also writes
that user's seen memory. Server-side latency is the ``x-server-ms`` header (request in -> response
start); client latency includes the loopback round trip and the load generator's own scheduling.
Server and load generator share the machine's cores (2 here): say so when quoting.

Usage:
    python benchmarks/feed_serving/bench_feed_serving.py [--work /tmp/zc-feed-medium] [--days 7]
        [--rates 100,200,300,400] [--seconds 20] [--users 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"


def prepare(work: Path, days: int, users: int) -> tuple[str, list[str]]:
    from zhongcao import artifacts, migrate
    from zhongcao.db import Database
    from zhongcao.events.store import SegmentEventStore
    from zhongcao.feed.model import MODEL_NAME
    from zhongcao.feed.training import TrainConfig, train
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role, TokenKind, User
    from zhongcao.world.generate import WorldSpec
    from zhongcao.world.service import build_world

    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work}/medium.db"
    database = Database(url)
    migrate.upgrade(database.engine)
    store = SegmentEventStore(work / "events")
    t = time.perf_counter()
    build_world(
        database,
        WorldSpec(scale="medium", seed=42, days=days),
        progress=True,
        world_dir=work / "world",
        store=store,
    )
    print(f"world ready in {time.perf_counter() - t:.1f} s", flush=True)
    if artifacts.newest(MODEL_NAME, work / "models") is None:
        t = time.perf_counter()
        train(database, store, TrainConfig(), models_root=work / "models")
        print(f"trained in {time.perf_counter() - t:.1f} s", flush=True)
    store.close()
    tokens_file = work / f"tokens-{users}.json"
    if tokens_file.exists():
        return url, json.loads(tokens_file.read_text())
    from sqlalchemy import select

    tokens = []
    with database.session() as db:
        ids = db.scalars(
            select(User.id).where(User.role == Role.shopper).order_by(User.id).limit(users)
        ).all()
        for uid in ids:
            secret, _ = users_service.issue_token(
                db, db.get(User, uid), kind=TokenKind.api, name="bench", commit=False
            )
            tokens.append(secret)
        db.commit()
    tokens_file.write_text(json.dumps(tokens))
    database.dispose()
    return url, tokens


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def open_loop(base: str, path: str, tokens: list[str], rate: float, seconds: float) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    cursors: dict[str, str | None] = {}
    server: list[float] = []
    client: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as http:

        async def one(token: str) -> None:
            nonlocal errors
            params = {"limit": "10"}
            if path == "/api/feed" and cursors.get(token):
                params["cursor"] = cursors[token]  # type: ignore[assignment]
            began = time.perf_counter()
            try:
                r = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError:
                errors += 1
                return
            client.append((time.perf_counter() - began) * 1000)
            if r.status_code != 200:
                errors += 1
                return
            server.append(float(r.headers.get("x-server-ms", "nan")))
            if path == "/api/feed":
                cursors[token] = r.json().get("next_cursor")

        n = int(rate * seconds)
        started = time.perf_counter()
        tasks = []
        rng = random.Random(0)
        for i in range(n):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(rng.choice(tokens))))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return {
        "path": path,
        "target_rps": rate,
        "requests": n,
        "ok": len(server),
        "errors": errors,
        "achieved_rps": len(server) / elapsed,
        "server_p50_ms": pct(server, 0.50),
        "server_p99_ms": pct(server, 0.99),
        "client_p50_ms": pct(client, 0.50),
        "client_p99_ms": pct(client, 0.99),
        "server_mean_ms": statistics.fmean(server) if server else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/zc-feed-medium"))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rates", default="100,200,300,400")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    url, tokens = prepare(args.work, args.days, args.users)
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("server.py")), "--database", url,
         "--models", str(args.work / "models"), "--events", str(args.work / "events"), "--port", str(args.port)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    results = []
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(base + "/api/health/live", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # Warm up: the first feed request loads the model and the catalog.
        t = time.perf_counter()
        r = httpx.get(base + "/api/feed", headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=300)
        while r.status_code == 503 or float(r.headers.get("x-server-ms", "0")) > 1000:  # still warming up
            time.sleep(1)
            r = httpx.get(base + "/api/feed", headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=300)
        print(
            f"first feed request (model + catalog load): {time.perf_counter() - t:.1f} s, status {r.status_code}"
        )
        asyncio.run(open_loop(base, "/api/feed", tokens, 50, 5))
        for rate in [float(x) for x in args.rates.split(",")]:
            for path in ("/api/health/live", "/api/feed"):
                result = asyncio.run(open_loop(base, path, tokens, rate, args.seconds))
                results.append(result)
                print(json.dumps(result), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [
        "| path | target rps | achieved rps | errors | server p50 ms | server p99 ms | client p50 ms | client p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['path']} | {r['target_rps']:.0f} | {r['achieved_rps']:.0f} | {r['errors']} | {r['server_p50_ms']:.2f} | "
            f"{r['server_p99_ms']:.2f} | {r['client_p50_ms']:.2f} | {r['client_p99_ms']:.2f} |"
        )
    print("\n".join(lines))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "feed_serving.json").write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (server and load generator share them), "
                f"Python {platform.python_version()}",
                "world": f"medium, seed 42, {args.days} days",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
