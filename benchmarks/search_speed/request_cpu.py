"""CPU milliseconds per ``/api/search`` request in one process, without HTTP: where a worker's time goes.

The bench's products and query mix (``bench_search_speed.py``) are published once into ``--index-dir``
(reused by later runs with the same ``--products``); the real app (``zhongcao.api:create_app``, an
empty migrated SQLite database, the result cache off unless ``--result-cache``) is called as an ASGI
application on one event loop, one request at a time, and the process's CPU time is taken around each
call. The same queries go straight to the engine (``ProductIndex.search`` as the service calls it) for
the engine's share. ``--profile`` prints the top of a cProfile of the app calls. CPU time, unlike
throughput, barely moves with other processes' load on shared cores, so it is the figure to compare
before and after a change.

``--before REV`` compares this tree with an earlier commit **in the same process, request by request**
(on shared cores, runs minutes apart are not comparable; interleaved requests see the same load): the
commit's ``src/zhongcao`` is exported under the package name ``zhongcao_before``, both apps serve the
same published index (the index is published by this tree, whose extra files the older code ignores),
each query is sent to both in alternating order, and every answer is compared (items, total, facets:
the whole body). Reported per query kind: text, and browse by in stock, category, brand, price range,
campaign.

    python benchmarks/search_speed/request_cpu.py --products 1000000 --queries 3000
    python benchmarks/search_speed/request_cpu.py --products 1000000 --before HEAD~3
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.search_speed.bench_search_speed import generate, publish, query_mix, url_of  # noqa: E402

BEFORE_PACKAGE = "zhongcao_before"


def published(products: int, index_dir: Path) -> Path:
    root = index_dir / f"p{products}"
    if not (root / "CURRENT").exists():
        root.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        _generation, build_s = publish(generate(products), root)
        print(
            f"published {products:,} products in {time.perf_counter() - began:.1f} s (build {build_s:.1f} s)"
        )
    else:  # an index published by an older tree: add what this tree's job worker publishes beside it
        from zhongcao.search.index import ProductIndex

        generation = root / (root / "CURRENT").read_text().strip()
        index = ProductIndex.open(generation / "products", writable=True)
        index.publish_facet_table()
        began = time.perf_counter()
        if index.publish_page_stores():
            print(f"page stores written in {time.perf_counter() - began:.1f} s")
        index.close_writer()
    return root


def export_before(rev: str, work: Path) -> Path:
    """The commit's ``src/zhongcao`` as the package ``zhongcao_before`` under ``work`` (its imports
    renamed; the compiled message catalogues copied from this tree, as git does not hold them)."""
    target = work / "before"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src/zhongcao"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    package = target / BEFORE_PACKAGE
    (target / "src" / "zhongcao").rename(package)
    for mo in (ROOT / "src" / "zhongcao").rglob("*.mo"):
        destination = package / mo.relative_to(ROOT / "src" / "zhongcao")
        if destination.parent.exists():
            shutil.copyfile(mo, destination)
    name = re.compile(r"(^|[^A-Za-z0-9_.-])zhongcao(\.[a-z_]| import|$)", re.MULTILINE)
    for path in package.rglob("*.py"):
        text = path.read_text()
        path.write_text(name.sub(lambda m: m.group(1) + BEFORE_PACKAGE + m.group(2), text))
    sys.path.insert(0, str(target))
    return target


def make_app(root: Path, work: Path, result_cache: int, package: str = "zhongcao"):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from zhongcao import migrate  # this checkout's migrations (an exported tree has no alembic.ini)

    create_app = importlib.import_module(f"{package}.api").create_app
    Settings = importlib.import_module(f"{package}.config").Settings
    indexing = importlib.import_module(f"{package}.search.indexing")
    work.mkdir(parents=True, exist_ok=True)

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


def kind_of(text: str, filters: dict) -> str:
    if text:
        return "text"
    return "browse " + "+".join(sorted(filters)) if filters else "browse"


def engine_call(index, text: str, filters: dict) -> object:  # type: ignore[no-untyped-def]
    """``ProductIndex.search`` as the service calls it, the page read and highlighted."""
    kwargs = {
        {"category": "category", "brand": "brand", "campaign": "campaign"}.get(k, k): v
        for k, v in filters.items()
    }
    result = index.search(text, 100, facet_limit=20, **kwargs)
    return [
        (hit.product_id, hit.document, hit.highlight, hit.highlight_en) for hit in result.hits[:20]
    ], result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--index-dir", type=Path, default=Path(tempfile.gettempdir()) / "zc-search-cpu")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--result-cache", type=int, default=0, help="the workers' result cache entries")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--before", metavar="REV", help="interleave with this commit's code, compare answers")
    args = parser.parse_args()
    root = published(args.products, args.index_dir)
    queries = query_mix(args.queries)
    paths = [url_of(text, filters) for text, filters in queries]
    work = Path(tempfile.mkdtemp(prefix="zc-search-cpu-"))
    if args.before:
        try:
            interleaved(args, root, work, queries, paths)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    app = make_app(root, work, args.result_cache)
    loop = new_loop()

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
        index = app.state.search.products
        cpu: list[float] = []
        for text, filters in queries:
            c0 = time.thread_time()
            engine_call(index, text, filters)
            cpu.append((time.thread_time() - c0) * 1000)
        report("engine alone (ProductIndex.search + page)", cpu)
    if args.profile:
        profile = cProfile.Profile()
        loop.run_until_complete(run(paths, profile))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def interleaved(args: argparse.Namespace, root: Path, work: Path, queries: list, paths: list[str]) -> None:
    """Old and new code in one process, request by request, in alternating order; answers compared."""
    export_before(args.before, work)
    apps = {
        "before": make_app(root, work / "app-before", args.result_cache, BEFORE_PACKAGE),
        "after": make_app(root, work / "app-after", args.result_cache),
    }
    loop = new_loop()

    async def one(app, path: str) -> tuple[float, bytes]:  # type: ignore[no-untyped-def]
        c0 = time.process_time()
        status, body = await call(app, path)
        cpu = (time.process_time() - c0) * 1000
        assert status == 200, (path, status, body[:300])
        return cpu, body

    async def run(paths: list[str]) -> tuple[dict[str, list[float]], int]:
        cpu: dict[str, list[float]] = {"before": [], "after": []}
        differences = 0
        for i, path in enumerate(paths):
            order = ("before", "after") if i % 2 == 0 else ("after", "before")
            bodies = {}
            for name in order:
                ms, bodies[name] = await one(apps[name], path)
                cpu[name].append(ms)
            if json.loads(bodies["before"]) != json.loads(bodies["after"]):
                differences += 1
                if differences <= 5:
                    print("DIFFERENT", path, bodies["before"][:400], bodies["after"][:400], sep="\n  ")
        return cpu, differences

    loop.run_until_complete(run(paths[:300]))  # open the indexes, warm the pages
    for app in apps.values():
        app.state.search.products.result_cache.clear()
    load = os.getloadavg()
    began = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    app_cpu, differences = loop.run_until_complete(run(paths))

    engines = {name: app.state.search.products for name, app in apps.items()}
    engine_cpu: dict[str, list[float]] = {"before": [], "after": []}
    engine_differences = 0
    for i, (text, filters) in enumerate(queries):
        answers = {}
        for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
            c0 = time.thread_time()
            page, result = engine_call(engines[name], text, filters)
            engine_cpu[name].append((time.thread_time() - c0) * 1000)
            answers[name] = (page, result.total, result.facets, result.fallback, result.suggestion)
        before, after = answers["before"], answers["after"]
        same_page = [(p[0], p[1].__dict__, p[2], p[3]) for p in before[0]] == [
            (p[0], p[1].__dict__, p[2], p[3]) for p in after[0]
        ]
        if not same_page or before[1:] != after[1:]:
            engine_differences += 1
    ended = time.strftime("%H:%M:%S UTC", time.gmtime())
    print(
        f"{args.products:,} products, {len(paths):,} queries, {began}–{ended}, load average "
        f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"answers that differ: app {differences}, engine {engine_differences} of {len(paths)}")
    kinds = [kind_of(text, filters) for text, filters in queries]
    print("| CPU ms per request | n | before mean | after mean | before p99 | after p99 |")
    rows = [("app", app_cpu, None), ("engine", engine_cpu, None)]
    rows += [(f"engine, {kind}", engine_cpu, kind) for kind in sorted(set(kinds), key=kinds.index)]
    for label, cpu, kind in rows:
        chosen = [i for i, k in enumerate(kinds) if kind is None or k == kind]
        b = np.asarray(cpu["before"])[chosen]
        a = np.asarray(cpu["after"])[chosen]
        print(
            f"| {label} | {len(chosen)} | {b.mean():.2f} | {a.mean():.2f} | "
            f"{np.percentile(b, 99):.2f} | {np.percentile(a, 99):.2f} |"
        )


if __name__ == "__main__":
    main()
