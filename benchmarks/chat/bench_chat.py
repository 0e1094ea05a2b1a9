"""Customer-service chat latency: a message posted on one side, received on the other side's
Server-Sent Events stream, with many conversations open at once on two API workers.

What runs where:
* this script seeds a fresh database through the platform's own services and migrations: ``--shops``
  shops, each with one service agent, and ``--conversations`` shoppers, one open conversation each
  (spread over the shops);
* the server is ``zhongcao serve --workers 2`` (uvicorn, two worker processes behind one port) on
  one Redis, so a message posted through one worker must reach a stream held by the other;
* a separate client process (httpx, asyncio) opens, for every conversation, the shopper's stream
  (``GET /messages/<id>/events``) and the agent's (``GET /merchant/inbox/<id>/events``): two streams
  per conversation, reconnecting with the last event id when the server ends one (after about ten
  minutes, or when its subscription is lost), as a browser does;
* then it posts ``--messages`` messages at ``--rate`` per second through the JSON API, alternating the
  side (shopper → agent, agent → shopper) over the conversations, and times each from just before
  the POST to the moment the other side's stream delivers it.

Reported: p50 / p90 / p99 / max latency, messages delivered and lost (not seen within 10 s), for
the target ≤ 1 s p99.

Usage:
    python benchmarks/chat/bench_chat.py [--conversations 500] [--shops 50] [--messages 2000]
        [--rate 50] [--backend postgresql|sqlite]
Environment: ZHONGCAO_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test),
ZHONGCAO_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
Results: printed as a Markdown table and written to benchmarks/out/chat.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
PG_URL = os.environ.get("ZHONGCAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ZHONGCAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_SCHEMA = "zc_bench_chat"
LOST_AFTER = 10.0  # seconds: a message not delivered by then counts as lost
SERVER_LOG = Path(tempfile.gettempdir()) / "zhongcao-bench-chat-server.log"
sys.path.insert(0, str(ROOT / "benchmarks"))

from server_process import free_port, reset_pg_schema, server_env, start_server, stop_server  # noqa: E402


# ----------------------------------------------------------------------------- seeding
def seed(url: str, *, conversations: int, shops: int, connect_args: dict | None = None) -> dict:
    """Shops with an agent each, and one shopper with an open conversation per conversation."""
    from zhongcao import migrate
    from zhongcao.db import Database
    from zhongcao.shops import service as shops_service
    from zhongcao.shops.models import StaffRole
    from zhongcao.support import service as support_service
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role, TokenKind

    database = Database(url, connect_args=connect_args or {})
    migrate.upgrade(database.engine)
    db = database.session()

    def person(email: str, role: Role) -> Any:
        return users_service.create_user(
            db,
            email=email,
            password="bench-password",
            display_name=email.split("@")[0],
            role=role,
            commit=False,
        )

    def tokens(user: Any) -> dict[str, str]:
        session, _ = users_service.issue_token(db, user, kind=TokenKind.session, name="bench", commit=False)
        api, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="bench", commit=False)
        return {"session": session, "api": api}

    agents = []
    for s in range(shops):
        owner = person(f"owner{s}@bench.local", Role.merchant)
        shop = shops_service.create_shop(
            db, name_zh=f"基准店{s}", name_en=f"Bench shop {s}", owner_user_id=owner.id, commit=False
        )
        agent = person(f"agent{s}@bench.local", Role.merchant)
        shops_service.add_staff(db, shop.id, user_id=agent.id, role=StaffRole.service_agent, commit=False)
        agents.append((shop.id, tokens(agent)))
    db.commit()
    rows = []
    for c in range(conversations):
        shop_id, agent_tokens = agents[c % shops]
        shopper = person(f"shopper{c}@bench.local", Role.shopper)
        shopper_tokens = tokens(shopper)
        db.commit()
        conversation, _ = support_service.start_conversation(
            db, user_id=shopper.id, shop_id=shop_id, message="你好，在吗？"
        )
        rows.append({"id": conversation.id, "shopper": shopper_tokens, "agent": agent_tokens})
    db.close()
    database.dispose()
    return {"conversations": rows}


# ----------------------------------------------------------------------------- server
# ----------------------------------------------------------------------------- client (own process)
async def _sse_lines(reader: asyncio.StreamReader) -> Any:
    """The lines of an HTTP/1.1 chunked body (what uvicorn sends for a streaming response)."""
    pending = b""
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
        for line in lines:
            yield line.rstrip(b"\r").decode()


async def _stream(
    port: int, url: str, cookie: str, seen: dict[str, float], ready: asyncio.Event, stop: asyncio.Event
) -> None:
    """Follow one SSE stream for as long as the run lasts, reconnecting from the last event id.

    A plain asyncio connection, not httpx: a thousand httpx streams cost the client process a whole
    core, and its own queueing then showed up as delivery latency."""
    last = "0"
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                (
                    f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: zc_session={cookie}\r\n"
                    f"Last-Event-ID: {last}\r\nAccept: text/event-stream\r\n\r\n"
                ).encode()
            )
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"{url}: {status.decode().strip()}")
            headers = b""
            while (line := await reader.readline()) not in (b"\r\n", b""):
                headers += line.lower()
            if b"transfer-encoding: chunked" not in headers:
                raise RuntimeError(f"{url}: expected a chunked stream")
            event, data = "", ""
            async for text in _sse_lines(reader):
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("data: "):
                    data = text[6:]
                elif text.startswith("id: "):
                    last = text[4:]
                elif text == "":
                    if event == "unread":
                        ready.set()  # subscribed: the first thing a stream sends after it
                    elif event == "message":
                        body = json.loads(data).get("body", "")
                        if body.startswith("bench-"):
                            seen.setdefault(body, time.perf_counter())
                    event, data = "", ""
                if stop.is_set():
                    return
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a dropped stream reconnects, as a browser does
            if stop.is_set():
                return
            print(f"stream {url} reconnecting after {type(exc).__name__}: {exc}", file=sys.stderr)
            await asyncio.sleep(0.5)
        finally:
            if writer is not None:
                writer.close()


async def _run(port: int, conversations: list[dict], messages: int, rate: float) -> dict:
    import httpx

    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        readies, tasks = [], []
        for c in conversations:
            for url, cookie in (
                (f"/messages/{c['id']}/events", c["shopper"]["session"]),
                (f"/merchant/inbox/{c['id']}/events", c["agent"]["session"]),
            ):
                ready = asyncio.Event()
                readies.append(ready)
                tasks.append(asyncio.create_task(_stream(port, url, cookie, seen, ready, stop)))
        opened = time.perf_counter()
        # Opening 1,000 streams on 2 workers takes a while (each first sends what it missed): allow
        # two minutes plus a tenth of a second per stream.
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120 + 0.1 * len(readies))
        open_seconds = time.perf_counter() - opened

        sent: dict[str, float] = {}
        failures: dict[str, int] = {}
        post_latencies: list[float] = []

        async def post(i: int) -> None:
            c = conversations[i % len(conversations)]
            from_shopper = (i // len(conversations)) % 2 == 0
            body = f"bench-{i}-{uuid.uuid4().hex[:6]}"
            if from_shopper:
                url, token = f"/api/support/conversations/{c['id']}/messages", c["shopper"]["api"]
            else:
                url, token = f"/api/merchant/support/conversations/{c['id']}/messages", c["agent"]["api"]
            started = time.perf_counter()
            sent[body] = started
            try:
                r = await client.post(url, json={"body": body}, headers={"Authorization": f"Bearer {token}"})
                if r.status_code != 201:
                    failures[str(r.status_code)] = failures.get(str(r.status_code), 0) + 1
                    sent.pop(body)
            except httpx.HTTPError as exc:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                sent.pop(body)
            post_latencies.append(time.perf_counter() - started)

        posts = []
        begin = time.perf_counter()
        for i in range(messages):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(post(i)))
        await asyncio.gather(*posts)
        deadline = time.perf_counter() + LOST_AFTER
        while time.perf_counter() < deadline and any(b not in seen for b in sent):
            await asyncio.sleep(0.05)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    latencies = sorted(seen[b] - t for b, t in sent.items() if b in seen)
    post_latencies.sort()

    def pct(values: list[float], q: float) -> float | None:
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1) if values else None

    return {
        "streams": len(conversations) * 2,
        "streams_open_seconds": round(open_seconds, 2),
        "messages_sent": len(sent),
        "delivered": len(latencies),
        "lost": len(sent) - len(latencies),
        "post_failures": failures,
        "latency_ms": {
            q: pct(latencies, v) for q, v in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        },
        "post_ms": {q: pct(post_latencies, v) for q, v in (("p50", 0.5), ("p99", 0.99))},
    }


def _client_main(port: int, conversations: list[dict], messages: int, rate: float, queue: Any) -> None:
    queue.put(asyncio.run(_run(port, conversations, messages, rate)))


# ----------------------------------------------------------------------------- main
def _result_or_exit(queue: Any, client: Any, limit_s: float = 900) -> Any:
    """The client's result; a client that died (killed, out of memory) ends the run with its exit code
    instead of leaving it waiting for the whole limit."""
    import queue as queue_module

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            return queue.get(timeout=5)
        except queue_module.Empty:
            if not client.is_alive():
                raise SystemExit(
                    f"the client process exited with code {client.exitcode} before reporting"
                ) from None
    raise SystemExit(f"no result from the client within {limit_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--shops", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="messages posted per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    shops = max(1, min(args.shops, args.conversations))
    # The seeded people sign in with issued tokens, never their password: hash those passwords cheaply
    # (the server's own settings are untouched), or seeding 550 people costs minutes of argon2.
    os.environ.setdefault("ZHONGCAO_ARGON2_TIME_COST", "1")
    os.environ.setdefault("ZHONGCAO_ARGON2_MEMORY_KIB", "64")
    os.environ.setdefault("ZHONGCAO_ARGON2_PARALLELISM", "1")

    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "postgresql":
            reset_pg_schema(PG_URL, PG_SCHEMA)
            url = PG_URL if "+psycopg" in PG_URL else PG_URL.replace("postgresql://", "postgresql+psycopg://")
            options = f"-csearch_path={PG_SCHEMA}"
            data = seed(url, conversations=args.conversations, shops=shops, connect_args={"options": options})
            extra = {"PGOPTIONS": options}
        else:
            url = f"sqlite:///{tmp}/chat.db"
            data = seed(url, conversations=args.conversations, shops=shops)
            extra = {}
        port = free_port()
        SERVER_LOG.unlink(missing_ok=True)
        env = server_env(
            url, redis_url=REDIS_URL, redis_prefix=f"bench-chat-{uuid.uuid4().hex[:8]}", extra=extra
        )
        server = start_server(env, port, args.workers, SERVER_LOG, migrate=False, timeout_s=90)
        try:
            queue: Any = mp.get_context("spawn").Queue()
            client = mp.get_context("spawn").Process(
                target=_client_main, args=(port, data["conversations"], args.messages, args.rate, queue)
            )
            client.start()
            result = _result_or_exit(queue, client)
            client.join(timeout=30)
        finally:
            stop_server(server)

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "backend": args.backend,
        "workers": args.workers,
        "conversations": args.conversations,
        "shops": shops,
        "rate_per_second": args.rate,
        **result,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "chat.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lat = result["latency_ms"]
    print(
        "| backend | workers | conversations (streams) | messages | delivered | lost | p50 ms | p90 ms | p99 ms | max ms |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {args.backend} | {args.workers} | {args.conversations} ({result['streams']}) | {result['messages_sent']} "
        f"| {result['delivered']} | {result['lost']} | {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['max']} |"
    )
    if result["post_failures"]:
        print("post failures:", result["post_failures"])
    target = lat["p99"] is not None and lat["p99"] <= 1000 and result["lost"] == 0
    print("target (p99 ≤ 1 s, nothing lost):", "met" if target else "NOT met")


if __name__ == "__main__":
    main()
