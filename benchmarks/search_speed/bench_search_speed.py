"""Search speed (issue #13 item 5): zhongcao on tantivy vs plain tantivy vs the old hand-written index.

N products are generated in memory from the demo world's vocabulary (``zhongcao.world.vocab``), like the
world generator's titles: brand + attribute values + product type, in Chinese and English, plus a model
code ("X7-2041"). Each has a leaf category, a brand, a shop (skewed sizes), a price in its leaf's range,
stock (5% sold out), sales and a campaign flag; brand, category and shop hold ids, as the catalogue does.
The query mix: Chinese, English, pinyin, initials, typos and browsing; half with a filter (category,
price range, in stock, campaign, brand), each with facets (category, brand, shop, in stock).

One script, one machine, one run, in this order:

1. **Build** the zhongcao index as the job worker publishes it (``search.indexing``'s layout: a
   generation folder with the product index, the catalogue names and the ranking state), timed.
2. **In process, one thread, closed loop** (one core's throughput): the engine call the API makes
   (``ProductIndex.search`` with filters, facets (top 20 values), the page of 20 read and highlighted),
   without the API workers' result cache, then with it (its hit rate over the query list); the same with
   every facet value; a follow-style update (20 upserts, commit, a reader's refresh).
3. **Plain tantivy**: the same query texts on tantivy's default tokenizer, top 20, no filters or facets
   (its default tokenizer does not segment Chinese: not like for like, as before).
4. **Over HTTP, 2 API workers**: the real app (``zhongcao.api:create_app``, through
   ``bench_app.py``, which only records the result cache's hits at shutdown) under uvicorn with
   ``--workers 2``, an empty migrated SQLite database and the published index, loaded by wrk with a Lua
   script of query URLs (``/api/search?q=…&category_id=…``): unpaced, then paced near the target rate.
   Twice: with the result cache off (``ZHONGCAO_SEARCH_RESULT_CACHE=0``: every search counts its facets
   and finds its matches),
   then on (the default; wrk cycles through the same URLs, so after the first pass most are repeats:
   its measured hit rate is printed). Resident and proportional memory of each worker after the load.
5. **The old hand-written index** (``benchmarks/search_speed/old_index.py``, the baseline kept out of
   ``src``): build and the same in-process query mix.

    python benchmarks/search_speed/bench_search_speed.py --products 1000000
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from zhongcao.world import vocab  # noqa: E402

WRK_SCRIPT = Path(__file__).with_name("wrk_queries.lua")


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


LEAVES = [(top, leaf) for top in vocab.CATEGORIES for leaf in top.leaves]
# Ids as the catalogue has them (the index keeps ids in brand, category and shop; names are keywords).
TOP_ID = {top.slug: 1 + i for i, top in enumerate(vocab.CATEGORIES)}
LEAF_ID = {leaf.slug: 1000 + i for i, (_top, leaf) in enumerate(LEAVES)}
BRAND_ID = {
    (top.slug, brand[0]): 100_000 + 100 * i + j
    for i, top in enumerate(vocab.CATEGORIES)
    for j, brand in enumerate(top.brands)
}


def generate(n: int, seed: int = 7) -> list:  # list[ProductDocument]
    from zhongcao.search.index import ProductDocument

    rng = np.random.default_rng(seed)
    leaf_of = rng.integers(len(LEAVES), size=n)
    shops = rng.zipf(1.3, size=n) % 20_000
    price_u = rng.random(n)
    stock = np.where(rng.random(n) < 0.05, 0, rng.integers(1, 2000, size=n))
    sales = rng.zipf(1.6, size=n).clip(max=100_000)
    campaign = rng.random(n) < 0.25
    created = 1.7e9 + rng.random(n) * 3e7
    draws = rng.random((n, 6))
    docs = []
    for i in range(n):
        top, leaf = LEAVES[int(leaf_of[i])]
        brand = top.brands[int(draws[i, 0] * len(top.brands))]
        ptype = leaf.product_types[int(draws[i, 1] * len(leaf.product_types))]
        zh, en = [brand[0]], [brand[1]]
        for j, kind in enumerate(leaf.attributes[:-1][:3]):
            values = vocab.ATTRIBUTES[kind][2]
            value = values[int(draws[i, 2 + j] * len(values))]
            zh.append(value[0])
            en.append(value[1])
        code = f"{chr(65 + int(draws[i, 5] * 26))}{i % 97}-{i % 9973}"
        zh += [ptype[0], code]
        en += [ptype[1], code]
        low, high = leaf.price_fen
        price = int(np.exp(np.log(low) + price_u[i] * (np.log(high) - np.log(low))))
        docs.append(
            ProductDocument(
                product_id=i + 1,
                title_zh=" ".join(zh),
                title_en=" ".join(en),
                brand=str(BRAND_ID[(top.slug, brand[0])]),
                category=str(LEAF_ID[leaf.slug]),
                shop=str(1 + int(shops[i])),
                price_fen=price,
                stock=int(stock[i]),
                sales=int(sales[i]),
                created_at=float(created[i]),
                campaign_ids=(618,) if campaign[i] else (),
                keywords=f"{brand[0]} {brand[1]} {leaf.name[0]} {leaf.name[1]}",
            )
        )
    return docs


def query_mix(n: int, seed: int = 11) -> list[tuple[str, dict]]:
    """Query texts as shoppers type them, each with the filters it is sent with."""
    from zhongcao.search.analysis import pinyin_forms

    rng = np.random.default_rng(seed)
    out: list[tuple[str, dict]] = []
    for _ in range(n):
        top, leaf = LEAVES[int(rng.integers(len(LEAVES)))]
        ptype = leaf.product_types[int(rng.integers(len(leaf.product_types)))]
        brand = top.brands[int(rng.integers(len(top.brands)))]
        kind = rng.random()
        if kind < 0.35:
            text = ptype[0] if rng.random() < 0.5 else f"{brand[0]} {ptype[0]}"
        elif kind < 0.6:
            text = ptype[1].lower() if rng.random() < 0.5 else f"{brand[1]} {ptype[1]}".lower()
        elif kind < 0.75:
            text = pinyin_forms(ptype[0])[0]
        elif kind < 0.85:
            text = pinyin_forms(ptype[0])[1]
        elif kind < 0.95:
            word = ptype[1].lower().split()[-1]
            i = int(rng.integers(1, max(2, len(word) - 1)))
            text = word[:i] + word[i + 1 :] if len(word) > 4 else word  # a dropped letter
        else:
            text = ""  # browse with filters
        filters: dict = {}
        f = rng.random()
        if f < 0.15:
            filters["category"] = str(LEAF_ID[leaf.slug])
        elif f < 0.3:
            low, high = leaf.price_fen
            filters["price_min_fen"], filters["price_max_fen"] = low, (low + high) // 2
        elif f < 0.4:
            filters["in_stock"] = True
        elif f < 0.45:
            filters["campaign"] = 618
        elif f < 0.5:
            filters["brand"] = str(BRAND_ID[(top.slug, brand[0])])
        if not text and not filters:
            filters["category"] = str(LEAF_ID[leaf.slug])
        out.append((text, filters))
    return out


def summary(name: str, ms: list[float], wall: float, cpu_ms: list[float] | None = None) -> str:
    a = np.asarray(ms)
    cpu = (
        f"{np.mean(np.asarray(cpu_ms)):7.2f} / {np.percentile(np.asarray(cpu_ms), 99):6.2f}" if cpu_ms else ""
    )
    return (
        f"| {name:<58} | {np.percentile(a, 50):7.2f} | {np.percentile(a, 99):7.2f} | {a.max():7.2f} "
        f"| {len(a) / wall:8.0f} | {cpu:>16} |"
    )


def time_queries(search: Callable[[str, dict], object], queries: list[tuple[str, dict]]) -> tuple:
    """Wall and CPU milliseconds per query, and the wall seconds of the whole run. CPU time (this
    thread's) is shown beside wall time because the machine's cores are shared: a wall-time tail that
    the CPU time lacks is another process's work, not ours."""
    ms: list[float] = []
    cpu_ms: list[float] = []
    began = time.perf_counter()
    for text, filters in queries:
        c0, t0 = time.thread_time(), time.perf_counter()
        search(text, filters)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu_ms.append((time.thread_time() - c0) * 1000)
    return ms, cpu_ms, time.perf_counter() - began


def publish(docs: list, root: Path) -> tuple[Path, float]:
    """A published generation as ``search.indexing`` lays it out; returns it and the index build time."""
    from zhongcao.search import indexing
    from zhongcao.search.autocomplete import Autocomplete
    from zhongcao.search.index import ProductIndex

    generation = root / "g0"
    began = time.perf_counter()
    index = ProductIndex(
        docs,
        path=generation / "products",
        threads=indexing.BUILD_THREADS,
        heap_bytes=indexing.BUILD_HEAP_BYTES,
    )
    index.close_writer()
    index.publish_facet_table()  # as indexing.build does
    index.publish_page_stores()
    build_s = time.perf_counter() - began
    del index
    ProductIndex([], path=generation / "shops").close_writer()
    ProductIndex([], path=generation / "content").close_writer()
    catalogue = indexing.Catalogue()
    for top in vocab.CATEGORIES:
        catalogue.category_names[TOP_ID[top.slug]] = top.name
        catalogue.leaves_of_top[TOP_ID[top.slug]] = [LEAF_ID[leaf.slug] for leaf in top.leaves]
        for leaf in top.leaves:
            catalogue.top_of_leaf[LEAF_ID[leaf.slug]] = TOP_ID[top.slug]
            catalogue.category_names[LEAF_ID[leaf.slug]] = leaf.name
        for brand in top.brands:
            catalogue.brand_names[BRAND_ID[(top.slug, brand[0])]] = brand
    (generation / "catalogue.pkl").write_bytes(pickle.dumps(catalogue))
    published = indexing.Published(autocomplete=Autocomplete({}))
    (generation / "state.pkl").write_bytes(pickle.dumps(published))
    marks = {"since": datetime.now(UTC).isoformat(), "newest_shop": 0, "newest_content": 0}
    (generation / "follow.json").write_text(json.dumps(marks))
    (root / "CURRENT").write_text(generation.name)
    return generation, build_s


def url_of(text: str, filters: dict) -> str:
    params = {"q": text} if text else {}
    names = {"category": "category_id", "brand": "brand_id", "campaign": "campaign_id"}
    for name, value in filters.items():
        params[names.get(name, name)] = "true" if value is True else str(value)
    return "/api/search?" + urllib.parse.urlencode(params)


def memory_of(pid: int) -> tuple[float, float]:
    """Resident and proportional set size (MiB) of a process: PSS shares the index's mapped pages."""
    rss = pss = 0.0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    return rss, pss


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(port: int, paths: Path, seconds: int, connections: int, delay_ms: float, workers: list[int]) -> dict:
    env = {**os.environ, "PATHS_FILE": str(paths), "WRK_DELAY_MS": f"{delay_ms:.3f}"}
    cpu_before = cpu_seconds(workers)
    out = subprocess.run(
        [
            "/usr/bin/wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(WRK_SCRIPT),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    requests, micros, p50, p90, p99, worst, errors = line.split()[1:]
    cpu_ms = (cpu_seconds(workers) - cpu_before) * 1000 / max(1, int(requests))
    return {
        "cpu_ms": cpu_ms,
        "per_s": int(requests) / (int(micros) / 1e6),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(worst),
        "errors": int(errors),
        "requests": int(requests),
    }


def http_rows(
    root: Path, queries: list[tuple[str, dict]], seconds: int, rate: int, result_cache: int | None
) -> tuple[list[str], list[str]]:
    """The real app under uvicorn with 2 workers, loaded by wrk; table rows and memory lines.
    ``result_cache``: the workers' result cache entries (None: the default setting)."""
    from sqlalchemy import create_engine

    from zhongcao import migrate

    work = Path(tempfile.mkdtemp(prefix="zc-search-http-"))
    url = f"sqlite:///{work / 'empty.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    from zhongcao.config import Settings
    from zhongcao.search import indexing

    settings = Settings(database_url=url, search_index_dir=work / "index")
    target = indexing.index_root(settings)
    target.parent.mkdir(parents=True)
    os.symlink(root, target)
    paths = work / "paths.txt"
    paths.write_text("\n".join(url_of(text, filters) for text, filters in queries) + "\n")
    port = 18_700 + os.getpid() % 1000
    env = {
        **os.environ,
        "ZHONGCAO_DATABASE_URL": url,
        "ZHONGCAO_SEARCH_INDEX_DIR": str(work / "index"),
        "ZHONGCAO_MODELS_DIR": str(work / "models"),
        "ZHONGCAO_EVENTS_DIR": str(work / "events"),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "ZC_BENCH_STATS_DIR": str(work),
    }
    if result_cache is not None:
        env["ZHONGCAO_SEARCH_RESULT_CACHE"] = str(result_cache)
    label = "cache off" if result_cache == 0 else "cache on"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.search_speed.bench_app:create_app",
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=work,
        start_new_session=True,
    )
    rows: list[str] = []
    notes: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}{url_of('连衣裙', {})}", timeout=30
                ) as r:
                    assert r.status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        workers = [int(pid) for pid in children]
        # Both workers open the index on their first requests.
        wrk(port, paths, 5, 4, 0.0, workers)
        unpaced = wrk(port, paths, seconds, 4, 0.0, workers)
        connections = 8
        paced = [
            wrk(port, paths, seconds, connections, max(0.0, connections * 1000 / r - unpaced["p50"]), workers)
            for r in (rate, int(rate * 1.2))
        ]
        for name, result in (
            (f"HTTP, 2 workers, {label}, paced for {rate}/s (8 conn.)", paced[0]),
            (f"HTTP, 2 workers, {label}, paced for {int(rate * 1.2)}/s (8 conn.)", paced[1]),
            (f"HTTP, 2 workers, {label}, unpaced (4 connections)", unpaced),
        ):
            rows.append(
                f"| {name:<58} | {result['p50']:7.2f} | {result['p99']:7.2f} | {result['max']:7.2f} "
                f"| {result['per_s']:8.0f} | {'server cpu ' + format(result['cpu_ms'], '.2f'):>16} |"
            )
        for pid in workers:
            rss, pss = memory_of(pid)
            notes.append(f"{label}: process {pid}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
        errors = sum(r["errors"] for r in (unpaced, *paced))
        notes.append(
            f"{label}: HTTP errors: {errors}; server cpu = the workers' CPU ms per request (all cores)"
        )
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        stats = [json.loads(p.read_text()) for p in work.glob("*.json")]
        shutil.rmtree(work, ignore_errors=True)
    hits, misses = sum(s["hits"] for s in stats), sum(s["misses"] for s in stats)
    if stats and stats[0]["size"]:
        notes.append(
            f"result {label}: {stats[0]['size']} entries a worker; {hits:,} hits, {misses:,} misses over the "
            f"server's run (warm-up included): hit rate {hits / max(1, hits + misses):.0%}"
        )
    elif not stats:
        notes.append(f"result {label}: no worker reported its result cache counts")
    return rows, notes


def zhongcao_rows(
    generation: Path, docs: list, queries: list[tuple[str, dict]]
) -> tuple[list[str], list[str]]:
    """The engine in process: queries, every facet value, follow-style updates, queries after them."""
    import dataclasses

    from zhongcao.search.index import ProductIndex

    rows: list[str] = []
    notes: list[str] = []
    shown: list[tuple] = []
    before = rss_mib()
    reader = ProductIndex.open(generation / "products")

    def engine(text: str, filters: dict, facet_limit: int | None = 20, index: ProductIndex = reader) -> None:
        # As the API asks: 100 hits (the re-rank depth) for relevance, the page of 20 shown.
        result = index.search(text, 100, facet_limit=facet_limit, **filters)
        for hit in result.hits[:20]:
            shown.append((hit.document.product_id, hit.highlight, hit.highlight_en))
        shown.clear()

    for text, filters in queries[:300]:
        engine(text, filters)
    ms, cpu, wall = time_queries(engine, queries)
    rows.append(summary("zhongcao on tantivy: query + filters + facets (top 20)", ms, wall, cpu))
    print(rows[-1], flush=True)
    # The same with the API workers' result cache, from empty: its hits are the list's own repeats.
    from zhongcao.config import Settings

    size = Settings().search_result_cache
    cached = ProductIndex.open(generation / "products", result_cache=size)
    ms, cpu, wall = time_queries(lambda t, f: engine(t, f, index=cached), queries)
    hit_rate = cached.result_cache.hits / max(1, cached.result_cache.hits + cached.result_cache.misses)
    rows.append(
        summary(f"same, result cache ({size} entries, from empty): {hit_rate:.0%} hits", ms, wall, cpu)
    )
    print(rows[-1], flush=True)
    ms, cpu, wall = time_queries(lambda t, f: engine(t, f, None), queries[:1000])
    rows.append(summary("zhongcao on tantivy: same, every facet value", ms, wall, cpu))
    notes.append(f"reader RSS growth after the queries: {rss_mib() - before:.0f} MiB (index files mapped)")

    writer = ProductIndex.open(generation / "products", writable=True)
    commit_ms: list[float] = []
    for batch in range(10):
        t0 = time.perf_counter()
        for i in range(20):
            doc = docs[(batch * 20 + i) * 997 % len(docs)]
            writer.upsert(dataclasses.replace(doc, price_fen=doc.price_fen + 1, stock=0))
        writer.commit()
        reader.refresh()
        commit_ms.append((time.perf_counter() - t0) * 1000)
    writer.close_writer()
    rows.append(summary("follow: 20 upserts + commit + a reader's refresh", commit_ms, sum(commit_ms) / 1000))
    ms, cpu, wall = time_queries(engine, queries[:1000])
    rows.append(summary("zhongcao on tantivy: query after 200 updates", ms, wall, cpu))

    return rows, notes


def plain_rows(docs: list, queries: list[tuple[str, dict]]) -> tuple[list[str], list[str]]:
    """Plain tantivy, default tokenizer, the same query texts, top 20, no filters or facets."""
    import tantivy

    rows: list[str] = []
    notes: list[str] = []
    texts = [q for q, _f in queries if q][:1000]
    began = time.perf_counter()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=False)
    builder.add_unsigned_field("pid", stored=True, fast=True)
    schema = builder.build()
    plain = tantivy.Index(schema)
    plain_writer = plain.writer(heap_size=400_000_000, num_threads=1)
    for d in docs:
        document = tantivy.Document()
        document.add_text("title", f"{d.title_zh} {d.title_en}")
        document.add_unsigned("pid", d.product_id)
        plain_writer.add_document(document)
    plain_writer.commit()
    plain_writer.wait_merging_threads()
    plain.reload()
    searcher = plain.searcher()
    notes.append(f"plain tantivy indexed in {time.perf_counter() - began:.1f} s")

    def plain_search(text: str, _filters: dict) -> None:
        parsed, _errors = plain.parse_query_lenient(text, ["title"])
        searcher.search(parsed, 20)

    ms, cpu, wall = time_queries(plain_search, [(t, {}) for t in texts])
    rows.append(summary("plain tantivy: same texts, top 20, no filters or facets", ms, wall, cpu))

    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--http-seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=500, help="target rate of the paced HTTP run")
    parser.add_argument("--skip-old", action="store_true", help="skip the old hand-written index")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    print(f"# search speed, {args.products:,} products, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus visible, "
        f"python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start",
        flush=True,
    )
    began = time.perf_counter()
    docs = generate(args.products)
    print(f"generated in {time.perf_counter() - began:.1f} s", flush=True)
    queries = query_mix(args.queries)
    rows: list[str] = []
    notes: list[str] = []

    from zhongcao.search.index import ProductIndex

    root = Path(tempfile.mkdtemp(prefix="zc-search-index-"))
    try:
        generation, build_s = publish(docs, root)
        size = sum(p.stat().st_size for p in (generation / "products").iterdir()) / 2**20
        segments = ProductIndex.open(generation / "products")._current().num_segments
        notes.append(
            f"zhongcao on tantivy: index built in {build_s:.1f} s ({size:.0f} MiB on disk, {segments} segments)"
        )
        print(notes[-1], flush=True)

        zhongcao, zhongcao_notes = zhongcao_rows(generation, docs, queries)
        rows.extend(zhongcao)
        notes.extend(zhongcao_notes)
        gc.collect()
        plain, plain_notes = plain_rows(docs, queries)
        rows.extend(plain)
        notes.extend(plain_notes)
        gc.collect()
        if not args.skip_http:
            for result_cache in (0, None):
                http, memory = http_rows(root, queries, args.http_seconds, args.rate, result_cache)
                rows.extend(http)
                notes.extend(memory)
                print("\n".join(http + memory), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    if not args.skip_old:
        from benchmarks.search_speed.old_index import ProductIndex as OldIndex

        before = rss_mib()
        began = time.perf_counter()
        old = OldIndex(docs)
        old_build = time.perf_counter() - began
        gc.collect()
        notes.append(f"old index: built in {old_build:.1f} s, +{rss_mib() - before:.0f} MiB in process")
        # As the old API asked: the re-rank depth of 100 hits (it highlighted all of them).
        for text, filters in queries[:300]:
            old.search(text, 100, facet_limit=20, **filters)
        ms, cpu, wall = time_queries(lambda t, f: old.search(t, 100, facet_limit=20, **f), queries)
        rows.append(summary("old index: query + filters + facets (top 20)", ms, wall, cpu))
        ms, cpu, wall = time_queries(lambda t, f: old.search(t, 20, facet_limit=20, **f), queries)
        rows.append(summary("old index: same, 20 hits (its earlier measurement)", ms, wall, cpu))

    print()
    print(f"| {'what':<58} | p50 ms  | p99 ms  | max ms  | per s    | cpu mean / p99   |")
    print(f"|{'-' * 60}|---------|---------|---------|----------|------------------|")
    for row in rows:
        print(row)
    print()
    for note in notes:
        print(note)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
