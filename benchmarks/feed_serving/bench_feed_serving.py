"""Feed serving: GET /api/feed against the medium demo world, from a load generator on loopback.

Builds (or reuses) the medium world under ``--work`` (a SQLite database and a segment event store),
trains the feed once (reused), issues API tokens for ``--users`` shoppers, starts the real API server
(``server.py``: ``--workers`` uvicorn worker processes, 2 by default) and drives it from this process
with raw keep-alive HTTP on asyncio streams:

* **open loop** at each ``--rates`` requests/s for ``--seconds`` (requests leave on schedule whether or
  not earlier ones returned, so queueing shows in the latency, as it would for real clients);
* a **baseline in the same run**: ``GET /api/health/live`` at the same rates (the framework's floor).

Each request is a random user's next page (10 items, cursor followed), so every request also writes
that user's seen memory. Server-side latency is the ``x-server-ms`` header (the app's first look at the
request -> response start). A worker computes feed pages on its event loop, one at a time, so a request
that waits for the loop (still in the socket buffer) is not in that figure: the client latency, which
includes it, the loopback round trip and the load generator's own scheduling, is the conservative
figure and the one to check the target against. Server and load generator share the machine's cores
(2 here): say so when quoting.

The processes run as in production: the API workers, and one job worker beside them (``zhongcao
worker``) running the job the feed depends on, ``feed_catch_up``, which publishes catch-up states.
``--catch-up-seconds N`` makes the catch-up add new events to the item-to-item counts every N seconds
instead of every 5 minutes, so the runs include catch-ups; ``--plays`` makes the load generator log a
play of every item it is served (appended to the event store once a second, as an app's event batches
would arrive), so each catch-up has real work.

``--src DIR`` serves with the code under DIR (a ``src`` folder of another checkout, e.g. a
``git worktree`` of the commit before) while this script prepares the world with its own: the
before/after comparison in one script. Code from before the job runner (no ``zhongcao.jobs``
package) starts no job worker: its API workers catch up themselves, as they did then.

Usage:
    python benchmarks/feed_serving/bench_feed_serving.py [--work /tmp/zc-feed-medium] [--days 7]
        [--rates 100,200,300,400] [--seconds 20] [--users 2000] [--workers 2]
        [--catch-up-seconds N] [--plays] [--baseline-seconds S] [--src OTHER_CHECKOUT/src]

Each result also has the client p99 of every 30 s window of its step (``client_p99_ms_by_window``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
WINDOW_SECONDS = 30


def prepare(work: Path, days: int, users: int, who: str = "active") -> tuple[str, list[tuple[int, str]]]:
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
    # Every run starts from the same state: the world's own events (not the plays an earlier run
    # logged), the model as trained (no catch-up states), nobody served anything yet.
    world_files = work / "world-event-files.json"
    if not world_files.exists():
        world_files.write_text(
            json.dumps(sorted(p.name for p in (work / "events" / "parquet").glob("*.parquet")))
        )
    keep = set(json.loads(world_files.read_text()))
    for path in (work / "events" / "parquet").glob("*.parquet"):
        if path.name not in keep:
            path.unlink()
    for states in (work / "models").glob("*/*/catch_up"):
        shutil.rmtree(states)
    from sqlalchemy import delete

    from zhongcao.feed.models import FeedUserState
    from zhongcao.jobs.models import JobRun

    with database.session() as db:
        db.execute(delete(FeedUserState))
        db.execute(delete(JobRun))  # the job worker starts with every job due
        db.commit()
    tokens_file = work / f"tokens-{users}-{who}.json"
    if tokens_file.exists():
        saved = json.loads(tokens_file.read_text())
        if saved and isinstance(saved[0], list):  # [user id, token] pairs (older files: tokens alone)
            return url, [(int(uid), token) for uid, token in saved]
    from sqlalchemy import select

    with database.session() as db:
        shoppers = db.scalars(select(User.id).where(User.role == Role.shopper).order_by(User.id)).all()
    if who == "active":
        # Feed traffic comes from people who use the app: shoppers with any event in the world's last
        # two days (the same rule training uses to choose whose candidates to rank ahead of time).
        store = SegmentEventStore(work / "events")
        end = store.query("SELECT max(ts) AS t FROM events")["t"][0].as_py()
        recent = store.query("SELECT DISTINCT user_id FROM events WHERE ts >= ?", [end - timedelta(days=2)])
        store.close()
        active = set(recent["user_id"].to_pylist())
        shoppers = [u for u in shoppers if u in active]
    ids = shoppers[:users]
    tokens = []
    with database.session() as db:
        for uid in ids:
            secret, _ = users_service.issue_token(
                db, db.get(User, uid), kind=TokenKind.api, name="bench", commit=False
            )
            tokens.append((uid, secret))
        db.commit()
    tokens_file.write_text(json.dumps(tokens))
    database.dispose()
    return url, tokens


def _feed_ready(response) -> bool:  # type: ignore[no-untyped-def]
    """The database and the feed are ready. The migrations check is left out: code served with ``--src``
    from before a migration reads a schema newer than it knows, which changes nothing it serves."""
    try:
        checks = response.json()["checks"]
    except (ValueError, KeyError, TypeError):
        return False
    return all(c["ok"] for c in checks if c["name"] in ("database", "feed"))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Connection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams: the load generator must cost far
    less than the server it measures, and an HTTP client library costs about a millisecond a request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def get(self, target: str, token: str) -> tuple[int, dict[str, str], bytes]:
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body

    def close(self) -> None:
        self.writer.close()


def _write_plays(events_dir: str, queue: multiprocessing.Queue) -> None:
    """The play logger's process: each message is one second's (user id, content id) pairs."""
    from zhongcao.events.store import SegmentEventStore

    store = SegmentEventStore(events_dir)
    while (pairs := queue.get()) is not None:
        now_us = time.time_ns() // 1000
        store.append(
            {
                "ts": now_us - len(pairs) + np.arange(len(pairs)),  # in the order they were served
                "type": ["play"] * len(pairs),
                "user_id": pairs[:, 0],
                "content_id": pairs[:, 1],
                "watch_ms": np.full(len(pairs), 3000),
            }
        )
    store.close()


class PlayLog:
    """Plays of the items served, appended to the event store once a second, as the app's event batches
    would arrive: what the catch-up then reads. The appends run in a process of their own, so their
    cost does not land in the load generator's latencies."""

    def __init__(self, events_dir: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.queue: multiprocessing.Queue = context.Queue()
        self.process = context.Process(target=_write_plays, args=(str(events_dir), self.queue), daemon=True)
        self.process.start()
        self.pending: list[int] = []  # user id, content id, user id, ...
        self.logged = 0

    def add(self, user_id: int, body: dict) -> None:
        for item in body["items"]:
            if item["content_id"]:
                self.pending += (user_id, item["content_id"])

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            flat, self.pending = self.pending, []
            if flat:
                self.queue.put(np.asarray(flat, dtype=np.int64).reshape(-1, 2))
                self.logged += len(flat) // 2

    def close(self) -> None:
        self.queue.put(None)
        self.process.join(timeout=60)


async def open_loop(
    host: str,
    port: int,
    path: str,
    tokens: list[tuple[int, str]],
    rate: float,
    seconds: float,
    plays: PlayLog | None = None,
) -> dict:
    """Requests leave on schedule (Poisson arrivals at ``rate``) whether or not earlier ones returned;
    each takes an idle keep-alive connection or opens a new one."""
    idle: list[Connection] = []
    window_of: list[int] = []  # each client latency's WINDOW_SECONDS window (by when the request left)
    cursors: dict[str, str | None] = {}
    server: list[float] = []
    client: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}  # what the errors were: an HTTP status or an exception's name

    async def one(user_id: int, token: str) -> None:
        nonlocal errors
        target = path + "?limit=10"
        if path == "/api/feed" and cursors.get(token):
            target += "&cursor=" + str(cursors[token])
        began = time.perf_counter()
        try:
            reused = bool(idle)
            conn = idle.pop() if idle else await Connection.open(host, port)
            try:
                status, headers, body = await conn.get(target, token)
            except (OSError, asyncio.IncompleteReadError):
                if not reused:
                    raise
                # The server closed this idle keep-alive connection (uvicorn's keep-alive timeout): as
                # any HTTP client does, send the request again on a new one.
                conn.close()
                conn = await Connection.open(host, port)
                status, headers, body = await conn.get(target, token)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors += 1
            kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
            return
        idle.append(conn)
        client.append((time.perf_counter() - began) * 1000)
        window_of.append(int((began - started) // WINDOW_SECONDS))
        if status != 200:
            errors += 1
            kinds[str(status)] = kinds.get(str(status), 0) + 1
            return
        server.append(float(headers.get("x-server-ms", "nan")))
        if path == "/api/feed":
            page = json.loads(body)
            cursors[token] = page.get("next_cursor")
            if plays is not None:
                plays.add(user_id, page)

    n = int(rate * seconds)
    rng = random.Random(0)
    arrivals = []
    at = 0.0
    for _ in range(n):
        at += rng.expovariate(rate)
        arrivals.append(at)
    stop = asyncio.Event()
    logging = asyncio.create_task(plays.run(stop)) if plays is not None else None
    started = time.perf_counter()
    tasks = []
    for at in arrivals:
        delay = started + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(*rng.choice(tokens))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    stop.set()
    if logging is not None:
        await logging
    for conn in idle:
        conn.close()
    return {
        "path": path,
        "target_rps": rate,
        "requests": n,
        "ok": len(server),
        "errors": errors,
        "error_kinds": kinds,
        "achieved_rps": len(server) / elapsed,
        "server_p50_ms": pct(server, 0.50),
        "server_p99_ms": pct(server, 0.99),
        "client_p50_ms": pct(client, 0.50),
        "client_p99_ms": pct(client, 0.99),
        "server_mean_ms": statistics.fmean(server) if server else float("nan"),
        # Client p99 per window: a background pass (a catch-up, a model swap) shows up as one bad window.
        "client_p99_ms_by_window": [
            round(pct([ms for ms, w in zip(client, window_of, strict=True) if w == k], 0.99), 1)
            for k in range(max(window_of, default=-1) + 1)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/zc-feed-medium"))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rates", default="100,200,300,400")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument(
        "--who",
        choices=("active", "any"),
        default="active",
        help="active: shoppers with events in the world's last two days; any: the first shoppers by id",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--catch-up-seconds",
        type=float,
        default=None,
        help="each worker's item-to-item catch-up interval (default: the server's, 300 s)",
    )
    parser.add_argument("--plays", action="store_true", help="log a play event for every item served")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=None,
        help="length of each baseline step (default: --seconds)",
    )
    parser.add_argument(
        "--src",
        type=Path,
        default=None,
        help="serve with the zhongcao code under this src folder (another checkout: the baseline)",
    )
    args = parser.parse_args()
    url, tokens = prepare(args.work, args.days, args.users, args.who)
    src = (args.src or ROOT / "src").resolve()
    print(f"serving the code under {src}", flush=True)
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("server.py")), "--database", url,
         "--models", str(args.work / "models"), "--events", str(args.work / "events"), "--port", str(args.port),
         "--workers", str(args.workers), "--src", str(src)],
        env={
            **os.environ,
            "OMP_NUM_THREADS": "1",
            **({"ZHONGCAO_FEED_CATCH_UP_SECONDS": str(args.catch_up_seconds)} if args.catch_up_seconds else {}),
        },
        start_new_session=True,  # its own process group: the workers stop with it
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    results = []
    plays = PlayLog(args.work / "events") if args.plays else None
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(base + "/api/health/live", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # Warm up: each worker loads the model and the catalogue at startup; wait until readiness has
        # answered 200 many times in a row (requests land on either worker), then time one page.
        t = time.perf_counter()
        in_a_row = 0
        while in_a_row < 20 and time.perf_counter() - t < 600:
            ok = _feed_ready(httpx.get(base + "/api/health/ready", timeout=5))
            in_a_row = in_a_row + 1 if ok else 0
            time.sleep(0.05 if ok else 0.5)
        print(f"workers ready (model + catalogue loaded) after {time.perf_counter() - t:.1f} s", flush=True)
        r = httpx.get(base + "/api/feed", headers={"Authorization": f"Bearer {tokens[0][1]}"}, timeout=300)
        print(f"first feed request: status {r.status_code}, server {r.headers.get('x-server-ms')} ms")
        asyncio.run(open_loop("127.0.0.1", args.port, "/api/feed", tokens, 50, 5))
        for rate in [float(x) for x in args.rates.split(",")]:
            for path, seconds in (
                ("/api/health/live", args.baseline_seconds or args.seconds),
                ("/api/feed", args.seconds),
            ):
                result = asyncio.run(open_loop("127.0.0.1", args.port, path, tokens, rate, seconds, plays))
                results.append(result)
                print(json.dumps(result), flush=True)
    finally:
        if plays is not None:
            print(f"plays logged: {plays.logged}", flush=True)
            plays.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
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
                "workers": args.workers,
                "src": str(src),
                "catch_up_seconds": args.catch_up_seconds or 300.0,
                "plays_logged": plays.logged if plays is not None else 0,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
