"""How long the demo world takes to build, per scale and backend, with rows written per second.

Each run builds into a fresh, migrated database (a new SQLite file; for PostgreSQL a new schema)
through :func:`zhongcao.world.service.build_world`, without progress bars. "Rows" counts what the
world writes: users, shops with their staff and accounts, products, SKUs, creator accounts,
affiliate plans, follows, campaign registrations, content and anchors.

Usage:
    python benchmarks/world/bench_build.py [--scales small,medium] [--runs 3] [--medium-runs 1]
        [--backends sqlite,postgresql] [--seed 42]
Environment: ZHONGCAO_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
Results: printed as a Markdown table and written to benchmarks/out/world_build.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
PG_URL = os.environ.get("ZHONGCAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TABLES = (
    "users",
    "shops",
    "shop_staff",
    "accounts",
    "products",
    "skus",
    "affiliate_plans",
    "follows",
    "campaign_products",
    "content",
    "content_anchors",
)


def _database(backend: str, tmp: Path):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from zhongcao.db import Database

    if backend == "sqlite":
        return Database(f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}"), None
    schema = f"zc_bench_world_{uuid.uuid4().hex[:8]}"
    probe = Database(PG_URL, pool_size=1, max_overflow=0)
    with probe.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    probe.dispose()
    return Database(PG_URL, connect_args={"options": f"-csearch_path={schema}"}), schema


def _drop(schema: str | None) -> None:
    if schema is None:
        return
    from sqlalchemy import text

    from zhongcao.db import Database

    probe = Database(PG_URL, pool_size=1, max_overflow=0)
    with probe.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    probe.dispose()


def run_once(backend: str, scale: str, seed: int) -> dict[str, float]:
    from sqlalchemy import text

    from zhongcao import migrate
    from zhongcao.world.generate import WorldSpec
    from zhongcao.world.service import build_world

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database, schema = _database(backend, tmp)
        try:
            migrate.upgrade(database.engine)
            began = time.perf_counter()
            summary = build_world(
                database,
                WorldSpec(scale=scale, seed=seed),
                progress=False,
                world_dir=tmp / "world",
                simulate_days=False,
            )
            seconds = time.perf_counter() - began
            with database.engine.connect() as conn:
                rows = sum(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in TABLES)
        finally:
            database.dispose()
            _drop(schema)
    return {"seconds": seconds, "rows": rows, "digest": summary.digest}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="small,medium")
    parser.add_argument("--runs", type=int, default=3, help="runs per scale (median reported)")
    parser.add_argument("--medium-runs", type=int, default=1, help="runs for medium and large")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        for scale in args.scales.split(","):
            runs = args.runs if scale in ("tiny", "small") else args.medium_runs
            measured = [run_once(backend, scale, args.seed) for _ in range(runs)]
            assert len({m["digest"] for m in measured}) == 1, "the same seed built different worlds"
            seconds = statistics.median(m["seconds"] for m in measured)
            rows = int(measured[0]["rows"])
            results.append(
                {
                    "backend": backend,
                    "scale": scale,
                    "runs": runs,
                    "seconds": seconds,
                    "rows": rows,
                    "rows_per_s": rows / seconds,
                }
            )
            print(f"{backend} {scale}: {seconds:.2f} s, {rows:,} rows", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"World build, seed {args.seed}: {date}; {machine}\n")
    print("| backend | scale | runs | build (median s) | rows written | rows/s |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['backend']} | {r['scale']} | {r['runs']} | {r['seconds']:.2f} | {r['rows']:,} | {r['rows_per_s']:,.0f} |"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "world_build.json").write_text(
        json.dumps({"date": date, "machine": machine, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
