"""How long ``zhongcao demo`` takes to build a world and simulate its month, and how fast it logs events.

Each run builds into a fresh, migrated embedded database (a new SQLite file, a new segment event
store) through :func:`zhongcao.world.service.build_world` — the code ``zhongcao demo`` runs — and
reports: the build, the simulated days, the total, the events produced and the rate at which the
events store took them, the orders paid, and where the simulation's time went. As a baseline in the
same process, the same number of events is appended to a fresh store in day-sized numpy batches
(the store's raw speed), so the simulation's ingestion rate can be read against it.

Usage:
    python benchmarks/world/bench_simulate.py [--scales small,medium] [--runs 3] [--medium-runs 1]
        [--days 30] [--seed 42]
Results: printed as Markdown and written to benchmarks/out/world_simulate.json.
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
os.environ.setdefault("ZHONGCAO_EVENTS_DIR", tempfile.mkdtemp(prefix="zc-bench-events-"))


def run_once(scale: str, days: int, seed: int) -> dict[str, object]:
    from zhongcao import migrate
    from zhongcao.db import Database
    from zhongcao.events.store import SegmentEventStore
    from zhongcao.world.generate import WorldSpec
    from zhongcao.world.service import build_world

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database = Database(f"sqlite:///{tmp}/bench.db")
        store = SegmentEventStore(tmp / "events")
        try:
            migrate.upgrade(database.engine)
            began = time.perf_counter()
            summary = build_world(
                database,
                WorldSpec(scale=scale, seed=seed, days=days),
                progress=False,
                world_dir=tmp / "world",
                store=store,
            )
            total = time.perf_counter() - began
            store.close()
        finally:
            database.dispose()
    sim = summary.simulation
    return {
        "total": total,
        "simulate": sim["seconds"],
        "build": total - sim["seconds"],
        "events": sim["events"],
        "ingest_rate": sim["ingest_events_per_second"],
        "orders": sim["counts"].get("orders_paid", 0),
        "phases": sim["phase_seconds"],
        "digest": sim["digest"],
    }


def baseline_ingest(events: int) -> float:
    """Events/s for appending ``events`` synthetic feed events to a fresh store in 30 batches."""
    from zhongcao.events.store import SegmentEventStore

    rng = np.random.default_rng(0)
    per = max(1, events // 30)
    with tempfile.TemporaryDirectory() as tmp_name:
        store = SegmentEventStore(Path(tmp_name) / "events")
        batches = [
            {
                "ts": np.full(per, 1_790_000_000_000_000, dtype=np.int64)
                + rng.integers(0, 86_400_000_000, per),
                "type": np.full(per, "impression", dtype=object),
                "user_id": rng.integers(1, 50_000, per),
                "content_id": rng.integers(1, 100_000, per),
                "channel": np.full(per, "feed", dtype=object),
            }
            for _ in range(30)
        ]
        began = time.perf_counter()
        for batch in batches:
            store.append(batch)
        seconds = time.perf_counter() - began
        store.close()
    return per * 30 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="small,medium")
    parser.add_argument("--runs", type=int, default=3, help="runs per small scale (median reported)")
    parser.add_argument("--medium-runs", type=int, default=1, help="runs for medium and large")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results = []
    for scale in args.scales.split(","):
        runs = args.runs if scale in ("tiny", "small") else args.medium_runs
        measured = []
        for _ in range(runs):
            measured.append(run_once(scale, args.days, args.seed))
            print(f"{scale}: {measured[-1]['total']:.1f} s", file=sys.stderr)
        assert len({m["digest"] for m in measured}) == 1, "the same seed simulated different months"
        events = int(measured[0]["events"])
        results.append(
            {
                "scale": scale,
                "runs": runs,
                "build": statistics.median(m["build"] for m in measured),
                "simulate": statistics.median(m["simulate"] for m in measured),
                "total": statistics.median(m["total"] for m in measured),
                "events": events,
                "orders": int(measured[0]["orders"]),
                "ingest_rate": statistics.median(m["ingest_rate"] for m in measured),
                "baseline_rate": baseline_ingest(events),
                "phases": measured[0]["phases"],
            }
        )
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Demo world build + {args.days}-day simulation, seed {args.seed}, SQLite: {date}; {machine}\n")
    print(
        "| scale | runs | build s | simulate s | total s | events | events/s (simulation) "
        "| ingest events/s | baseline append events/s | orders paid |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['scale']} | {r['runs']} | {r['build']:.1f} | {r['simulate']:.1f} | {r['total']:.1f} "
            f"| {r['events']:,} | {r['events'] / r['simulate']:,.0f} | {r['ingest_rate']:,.0f} "
            f"| {r['baseline_rate']:,.0f} | {r['orders']:,} |"
        )
    print("\nWhere the simulation's time went (first run):\n")
    for r in results:
        phases = ", ".join(
            f"{name} {sec:.1f} s" for name, sec in sorted(r["phases"].items(), key=lambda kv: -kv[1])
        )
        print(f"- {r['scale']}: {phases}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "world_simulate.json").write_text(
        json.dumps({"date": date, "machine": machine, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
