"""Live-room fan-out: N viewers of one live room over Server-Sent Events on two API workers, and how
long each purchase-ticker event takes to reach every one of them (issue #18, item 5).

What runs where:
* this script seeds a fresh database through the platform's own services and migrations: one shop
  with one product (ample stock) anchored to one live room on air, and ``--buyers`` shoppers with API
  tokens;
* the server is ``zhongcao serve --workers 2`` (uvicorn, two worker processes behind one port) on
  PostgreSQL and one Redis, so the viewers are spread over both workers and a payment handled by one
  worker must reach the viewers held by the other through the bus;
* ``--client-processes`` viewer processes (raw asyncio sockets, many connections each; the fd limit
  raised with ``resource.setrlimit``) open ``--viewers`` streams ``GET /live/<id>/events`` in all,
  each a visitor with its own viewer id, reconnecting with its last event id when the server ends a
  stream, as a browser does. A stream is counted connected once its first ``viewers`` event arrives
  (the room is subscribed by then);
* then the main process places ``--events`` orders at ``--rate`` per second through the JSON API
  (``POST /api/checkout`` attributed to the room, then ``POST /api/checkouts/<id>/pay``) and times each
  ticker event from just before its pay request to the moment each viewer's stream delivers the
  ``sale`` event with that order line's id; with ``--trigger comment`` it posts comments instead
  (``POST /api/live/<id>/comments``) and times the ``comment`` events;
* meanwhile a side loop asks ``GET /api/health/live`` (``--health-concurrency`` at a time) to show
  how responsive the workers stay while they fan out.

Reported: viewers connected, events, deliveries (events × viewers), lost (not delivered within 10 s;
``never_received``: not at all), p50 / p90 / p99 / max delivery latency (and, to tell the fan-out from
the payment's own time, the latency from the trigger's response), the /health rate and its p99, and the load average; for the
target ≤ 1 s p99.

Usage:
    python benchmarks/live_fanout/bench_live_fanout.py [--viewers 5000] [--events 100] [--rate 2]
        [--trigger sale|comment] [--client-processes 2] [--workers 2]
Environment: ZHONGCAO_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test),
ZHONGCAO_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
Results: printed as a Markdown table and written to benchmarks/out/live_fanout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
PG_URL = os.environ.get("ZHONGCAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ZHONGCAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_SCHEMA = "zc_bench_live_fanout"
LOST_AFTER = 10.0  # seconds: an event a viewer has not received by then counts as lost for it
SERVER_LOG = Path(tempfile.gettempdir()) / "zhongcao-bench-live-fanout-server.log"
sys.path.insert(0, str(ROOT / "benchmarks"))

from server_process import free_port, reset_pg_schema, server_env, start_server, stop_server  # noqa: E402

ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "line": "文三路 100 号",
}


def raise_fd_limit() -> int:
    """As many open files as the hard limit allows: a process holding thousands of streams needs
    one descriptor per connection (the server's workers inherit the limit from this process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1_048_576
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ----------------------------------------------------------------------------- seeding
def seed(url: str, *, buyers: int, connect_args: dict | None = None) -> dict:
    """A shop, one product anchored to a live room on air, and buyers with API tokens."""
    from zhongcao import migrate
    from zhongcao.catalog import service as catalog_service
    from zhongcao.catalog.models import ProductStatus
    from zhongcao.content import service as content_service
    from zhongcao.content.models import ContentKind
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
        email="host@bench.local",
        password="bench-password",
        display_name="主播",
        role=Role.merchant,
        commit=False,
    )
    shop = shops_service.create_shop(
        db, name_zh="基准直播店", name_en="Bench live shop", owner_user_id=owner.id, commit=False
    )
    product = catalog_service.create_product(
        db,
        shop.id,
        category_id=leaf.id,
        title_zh="基准直播福利款",
        title_en="Bench live deal",
        skus=[
            catalog_service.NewSku(
                code="LIVE-1", price_fen=990, stock=10_000_000, attributes={"规格": "标准"}
            )
        ],
        status=ProductStatus.active,
        commit=False,
    )
    tokens = []
    for u in range(buyers):
        user = users_service.create_user(
            db,
            email=f"buyer{u}@bench.local",
            password="bench-password",
            display_name=f"买家{u}",
            commit=False,
        )
        secret, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="bench", commit=False)
        tokens.append(secret)
    db.commit()
    sku_id = product.skus[0].id
    account = content_service.create_shop_account(db, shop.id, handle="bench_live", name="基准直播间")
    room = content_service.publish_content(
        db,
        account.id,
        kind=ContentKind.live,
        title_zh="基准直播间",
        title_en="Bench live room",
        scheduled_at=datetime.now(UTC) + timedelta(hours=1),  # then started at once
        anchors=[product.id],
    )
    content_service.start_live(db, room.id)
    live_id = room.id
    db.close()
    database.dispose()
    return {"live_id": live_id, "sku_id": sku_id, "tokens": tokens}


# ----------------------------------------------------------------------------- server
# ----------------------------------------------------------------------------- viewers (own processes)
async def _sse_events(reader: asyncio.StreamReader) -> Any:
    """(event, data, id) of an HTTP/1.1 chunked SSE body (what uvicorn sends for a streaming response)."""
    pending = b""
    event, data, event_id = "", "", ""
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        pending += await reader.readexactly(size)
        await reader.readexactly(2)  # the CRLF after the chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            text = raw.rstrip(b"\r").decode()
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif text.startswith("id: "):
                event_id = text[4:]
            elif text == "" and event:
                yield event, data, event_id
                event, data, event_id = "", "", ""


async def _viewer(
    port: int,
    live_id: int,
    viewer: str,
    kind: str,
    seen: dict[int, float],
    ready: asyncio.Event,
    stop: asyncio.Event,
    stats: dict[str, int],
) -> None:
    """One viewer's stream for as long as the run lasts. A plain asyncio connection: thousands of
    httpx streams would cost the client process its core, and its own queueing would show as latency."""
    last = "0"
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                (
                    f"GET /live/{live_id}/events?viewer={viewer}&after={last} HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{port}\r\nLast-Event-ID: {last}\r\nAccept: text/event-stream\r\n\r\n"
                ).encode()
            )
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(status.decode(errors="replace").strip() or "connection closed")
            while await reader.readline() not in (b"\r\n", b""):
                pass
            async for event, data, event_id in _sse_events(reader):
                if event == "viewers":
                    ready.set()
                elif event == kind:
                    if kind == "sale" and event_id.isdigit():
                        last = event_id
                    key = json.loads(data).get("item_id" if kind == "sale" else "id")
                    if isinstance(key, int):
                        seen.setdefault(key, time.monotonic())
                if stop.is_set():
                    return
            stats["ended"] = stats.get("ended", 0) + 1  # the server ended the stream: reconnect at once
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a dropped stream reconnects, as a browser does (after its retry)
            if stop.is_set():
                return
            name = type(exc).__name__
            stats[name] = stats.get(name, 0) + 1
            await asyncio.sleep(1.0)
        finally:
            if writer is not None:
                writer.close()


async def _viewers_run(port: int, live_id: int, count: int, tag: str, kind: str, conn: Any) -> None:
    raise_fd_limit()
    stop = asyncio.Event()
    seens: list[dict[int, float]] = [{} for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    stats: dict[str, int] = {}
    tasks = []
    for i in range(count):
        viewer = f"bench{tag}v{i:06d}"
        tasks.append(
            asyncio.create_task(_viewer(port, live_id, viewer, kind, seens[i], readies[i], stop, stats))
        )
        if i % 100 == 99:
            await asyncio.sleep(
                0.05
            )  # open gradually: a burst of thousands of connects overflows the backlog
    loop = asyncio.get_running_loop()
    # Report how many are connected until told to go on, then wait to be told to stop.
    while not conn.poll():
        conn.send(("connected", sum(r.is_set() for r in readies)))
        await asyncio.sleep(1.0)
    conn.recv()
    await loop.run_in_executor(None, conn.recv)  # "stop"
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(("done", {"seen": seens, "connected": sum(r.is_set() for r in readies), "stats": stats}))


def _viewers_main(port: int, live_id: int, count: int, tag: str, kind: str, conn: Any) -> None:
    asyncio.run(_viewers_run(port, live_id, count, tag, kind, conn))


# ----------------------------------------------------------------------------- triggers and /health
async def _trigger(
    port: int, data: dict, events: int, rate: float, kind: str, health_concurrency: int
) -> dict:
    import httpx

    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    sent: dict[int, float] = {}  # item id (sale) or comment id -> monotonic time just before the trigger
    answered: dict[int, float] = {}  # -> when the trigger's response arrived (its commit is behind it)
    failures: dict[str, int] = {}
    trigger_ms: list[float] = []
    health: list[float] = []
    stop = asyncio.Event()
    line = {
        "sku_id": data["sku_id"],
        "quantity": 1,
        "attribution": {"channel": "live", "content_id": data["live_id"]},
    }

    def fail(what: str) -> None:
        failures[what] = failures.get(what, 0) + 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(i: int) -> None:
            auth = {"Authorization": f"Bearer {data['tokens'][i % len(data['tokens'])]}"}
            try:
                if kind == "comment":
                    started = time.monotonic()
                    r = await client.post(
                        f"/api/live/{data['live_id']}/comments", json={"body": f"基准评论 {i}"}, headers=auth
                    )
                    if r.status_code != 201:
                        return fail(f"comment:{r.status_code}")
                    sent[r.json()["id"]] = started
                    answered[r.json()["id"]] = time.monotonic()
                else:
                    r = await client.post(
                        "/api/checkout",
                        json={"items": [line], "shipping_address": ADDRESS},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    )
                    if r.status_code != 201:
                        return fail(f"checkout:{r.status_code}")
                    started = time.monotonic()  # just before the payment that makes the ticker event
                    r = await client.post(
                        f"/api/checkouts/{r.json()['id']}/pay",
                        json={"payment_method": "pm_card_ok"},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    )
                    if r.status_code != 200:
                        return fail(f"pay:{r.status_code}")
                    item_id = r.json()["orders"][0]["items"][0]["id"]
                    sent[item_id], answered[item_id] = started, time.monotonic()
                trigger_ms.append((time.monotonic() - started) * 1000)
            except httpx.HTTPError as exc:
                fail(type(exc).__name__)

        async def ask_health() -> None:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    r = await client.get("/api/health/live")
                    if r.status_code == 200:
                        health.append(time.monotonic() - started)
                    else:
                        fail(f"health:{r.status_code}")
                except httpx.HTTPError as exc:
                    fail(f"health:{type(exc).__name__}")

        health_tasks = [asyncio.create_task(ask_health()) for _ in range(health_concurrency)]
        begin = time.monotonic()
        triggers = []
        for i in range(events):
            delay = begin + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            triggers.append(asyncio.create_task(one(i)))
        await asyncio.gather(*triggers)
        seconds = time.monotonic() - begin
        stop.set()
        await asyncio.gather(*health_tasks)
    return {
        "sent": sent,
        "answered": answered,
        "failures": failures,
        "trigger_ms": sorted(trigger_ms),
        "health": sorted(health),
        "seconds": seconds,
    }


def pct(values: list[float], q: float, scale: float = 1000.0) -> float | None:
    return round(values[min(len(values) - 1, int(q * len(values)))] * scale, 1) if values else None


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2.0, help="ticker events triggered per second")
    parser.add_argument("--trigger", choices=("sale", "comment"), default="sale")
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--health-concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--connect-timeout", type=float, default=300.0, help="seconds to wait for every viewer"
    )
    args = parser.parse_args()
    fd_limit = raise_fd_limit()
    if fd_limit < args.viewers + 1000:
        raise SystemExit(f"the open-file limit is {fd_limit}: too low for {args.viewers} viewers")
    # The buyers sign in with issued tokens, never their password: hash those passwords cheaply.
    os.environ.setdefault("ZHONGCAO_ARGON2_TIME_COST", "1")
    os.environ.setdefault("ZHONGCAO_ARGON2_MEMORY_KIB", "64")
    os.environ.setdefault("ZHONGCAO_ARGON2_PARALLELISM", "1")

    reset_pg_schema(PG_URL, PG_SCHEMA)
    url = PG_URL if "+psycopg" in PG_URL else PG_URL.replace("postgresql://", "postgresql+psycopg://")
    options = f"-csearch_path={PG_SCHEMA}"
    data = seed(url, buyers=args.buyers, connect_args={"options": options})
    port = free_port()
    SERVER_LOG.unlink(missing_ok=True)
    env = server_env(
        url,
        redis_url=REDIS_URL,
        redis_prefix=f"bench-live-{uuid.uuid4().hex[:8]}",
        extra={"PGOPTIONS": options},
    )
    server = start_server(env, port, args.workers, SERVER_LOG, migrate=False)
    context = mp.get_context("spawn")
    processes, pipes = [], []
    try:
        share = [
            args.viewers // args.client_processes + (p < args.viewers % args.client_processes)
            for p in range(args.client_processes)
        ]
        for p, count in enumerate(share):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_viewers_main, args=(port, data["live_id"], count, str(p), args.trigger, theirs)
            )
            process.start()
            processes.append(process)
            pipes.append(ours)
        opened = time.monotonic()
        connected = [0] * len(pipes)
        while sum(connected) < args.viewers and time.monotonic() - opened < args.connect_timeout:
            for p, pipe in enumerate(pipes):
                while pipe.poll(0.2):
                    _, connected[p] = pipe.recv()
            if any(not process.is_alive() for process in processes):
                raise SystemExit("a viewer process exited early")
        open_seconds = time.monotonic() - opened
        print(
            f"{sum(connected)} of {args.viewers} viewers connected in {open_seconds:.1f} s", file=sys.stderr
        )
        for pipe in pipes:
            pipe.send("go")
        load_before = os.getloadavg()
        result = asyncio.run(
            _trigger(port, data, args.events, args.rate, args.trigger, args.health_concurrency)
        )
        # Let every event reach every viewer (or count as lost), then collect what each viewer saw.
        time.sleep(LOST_AFTER)
        load_after = os.getloadavg()
        for pipe in pipes:
            while pipe.poll():
                pipe.recv()  # the last "connected" reports
            pipe.send("stop")
        seens, connected_end, stats = [], 0, {}
        for pipe in pipes:
            while True:
                tag, body = pipe.recv()
                if tag == "done":
                    break
            seens.extend(body["seen"])
            connected_end += body["connected"]
            for k, v in body["stats"].items():
                stats[k] = stats.get(k, 0) + v
        for process in processes:
            process.join(timeout=30)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        stop_server(server)

    sent = result["sent"]
    latencies: list[float] = []
    after_answer: list[float] = []  # from the trigger's response: the fan-out alone, less the commit
    lost = never = 0
    for key, started in sent.items():
        for seen in seens:
            at = seen.get(key)
            if at is None:
                never += 1
            if at is None or at - started > LOST_AFTER:
                lost += 1
            else:
                latencies.append(at - started)
            if at is not None:
                after_answer.append(max(0.0, at - result["answered"][key]))
    latencies.sort()
    after_answer.sort()
    health = result["health"]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average": {
            "before": [round(x, 1) for x in load_before],
            "after": [round(x, 1) for x in load_after],
        },
        "backend": "postgresql",
        "workers": args.workers,
        "trigger": args.trigger,
        "rate_per_second": args.rate,
        "viewers": args.viewers,
        "viewers_connected": connected_end,
        "connect_seconds": round(open_seconds, 1),
        "events": len(sent),
        "deliveries": len(latencies),
        "lost": lost,
        "never_received": never,
        "after_answer_ms": {q: pct(after_answer, v) for q, v in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))},
        "trigger_failures": result["failures"],
        "stream_reconnects": stats,
        "latency_ms": {
            q: pct(latencies, v) for q, v in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        },
        "trigger_ms": {q: pct(result["trigger_ms"], v, 1.0) for q, v in (("p50", 0.5), ("p99", 0.99))},
        "health": {
            "requests": len(health),
            "per_second": round(len(health) / result["seconds"], 1),
            "p99_ms": pct(health, 0.99),
        },
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "live_fanout.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lat, h = report["latency_ms"], report["health"]
    print(
        "| viewers connected | events | deliveries | lost | p50 ms | p90 ms | p99 ms | max ms | /health per s (p99 ms) | load avg |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {connected_end} of {args.viewers} | {len(sent)} {args.trigger} | {len(latencies)} | {lost} | {lat['p50']} | {lat['p90']} "
        f"| {lat['p99']} | {lat['max']} | {h['per_second']} ({h['p99_ms']}) | {load_before[0]:.1f} → {load_after[0]:.1f} |"
    )
    if result["failures"]:
        print("trigger failures:", result["failures"])
    print(
        f"from the trigger's answer: p50 {report['after_answer_ms']['p50']} ms, p99 {report['after_answer_ms']['p99']} ms; "
        f"trigger (pay/comment) p50 {report['trigger_ms']['p50']} ms, p99 {report['trigger_ms']['p99']} ms; never received {never}"
    )
    if stats:
        print("stream reconnects:", stats)
    target = lat["p99"] is not None and lat["p99"] <= 1000 and lost == 0
    print("target (p99 ≤ 1 s, nothing lost):", "met" if target else "NOT met")


if __name__ == "__main__":
    main()
