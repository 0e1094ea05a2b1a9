"""CPU milliseconds per ``/api/search`` request in one process, without HTTP: where a worker's time goes.

The bench's products and query mix (``bench_search_speed.py``) are published once into ``--index-dir``
(reused by later runs with the same ``--products``); the real app (``zhongcao.api:create_app``, an
empty migrated SQLite database, the result cache off unless ``--result-cache``) is called as an ASGI
application on one event loop, one request at a time, and the process's CPU time is taken around each
call. The same queries go straight to the engine (``ProductIndex.search`` as the service calls it) for
the engine's share. ``--profile`` prints the top of a cProfile of the app calls. CPU time, unlike
throughput, barely moves with other processes' load on shared cores, so it is the figure to compare
before and after a change.

    python benchmarks/search_speed/request_cpu.py --products 1000000 --queries 3000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.search_speed.bench_search_speed import generate, publish, query_mix, url_of  # noqa: E402


def published(products: int, index_dir: Path) -> Path:
    root = index_dir / f"p{products}"
    if not (root / "CURRENT").exists():
        root.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        _generation, build_s = publish(generate(products), root)
        print(
            f"published {products:,} products in {time.perf_counter() - began:.1f} s (build {build_s:.1f} s)"
        )
    return root


def make_app(root: Path, work: Path, result_cache: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from zhongcao import migrate
    from zhongcao.api import create_app
    from zhongcao.config import Settings
    from zhongcao.search import indexing

    url = f"sqlite:///{work / 'empty.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        search_index_dir=work / "index",
        models_dir=work / "models",
        events_dir=work / "events",
        search_result_cache=result_cache,
    )
    target = indexing.index_root(settings)
    target.parent.mkdir(parents=True)
    os.symlink(root, target)
    return create_app(settings=settings)


async def call(app, path: str, headers: list | None = None) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")] + (headers or []),
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0
    body: list[bytes] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


def report(name: str, cpu_ms: list[float]) -> None:
    a = np.asarray(cpu_ms)
    print(
        f"{name:<44} cpu ms mean {a.mean():6.2f}  p50 {np.percentile(a, 50):6.2f}  "
        f"p99 {np.percentile(a, 99):6.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--index-dir", type=Path, default=Path(tempfile.gettempdir()) / "zc-search-cpu")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--result-cache", type=int, default=0, help="the workers' result cache entries")
    parser.add_argument("--skip-engine", action="store_true")
    args = parser.parse_args()
    root = published(args.products, args.index_dir)
    queries = query_mix(args.queries)
    paths = [url_of(text, filters) for text, filters in queries]
    work = Path(tempfile.mkdtemp(prefix="zc-search-cpu-"))
    app = make_app(root, work, args.result_cache)

    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()

    async def run(paths: list[str], profile: cProfile.Profile | None = None) -> list[float]:
        out: list[float] = []
        for path in paths:
            c0 = time.process_time()  # the process: a sync endpoint runs in a pool thread
            if profile is not None:
                profile.enable()
            status, body = await call(app, path)
            if profile is not None:
                profile.disable()
            out.append((time.process_time() - c0) * 1000)
            assert status == 200, (path, status, body[:300])
        return out

    loop.run_until_complete(run(paths[:300]))  # open the index, warm the pages
    app.state.search.products.result_cache.clear()
    report(f"app, {args.products:,} products", loop.run_until_complete(run(paths)))
    cache = app.state.search.products.result_cache
    if cache.size:
        print(
            f"result cache: {cache.size} entries, {cache.hits / max(1, cache.hits + cache.misses):.0%} hits"
        )
    if not args.skip_engine:
        from zhongcao.search import service

        state = app.state.search
        index = state.products
        names = {"category": "category", "brand": "brand", "campaign": "campaign"}

        def engine(text: str, filters: dict) -> None:
            kwargs = {names.get(k, k): v for k, v in filters.items()}
            result = index.search(text, service.RERANK_DEPTH, facet_limit=service.FACET_LIMIT, **kwargs)
            for hit in result.hits[:20]:
                hit.document, hit.highlight, hit.highlight_en  # noqa: B018

        cpu: list[float] = []
        for text, filters in queries:
            c0 = time.thread_time()
            engine(text, filters)
            cpu.append((time.thread_time() - c0) * 1000)
        report("engine alone (ProductIndex.search + page)", cpu)
    if args.profile:
        profile = cProfile.Profile()
        loop.run_until_complete(run(paths, profile))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
