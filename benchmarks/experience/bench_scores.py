"""The nightly experience-score batch: how long scoring takes for 10,000 shops, and end to end on a world.

Part A (always): :func:`zhongcao.experience.scoring.score_shops` on ``--shops`` synthetic shops (7
categories, random indicator values, 0–300 orders), median of ``--runs``. Part B (with ``--database``):
:func:`zhongcao.experience.service.compute_scores` on a built world's database — gathering every
indicator from the records, scoring, and writing one row per shop (rolled back afterwards, so the
database is left as it was); e.g. after ``zhongcao demo --scale medium --days 7``.

Usage:
    python benchmarks/experience/bench_scores.py [--shops 10000] [--runs 5] [--database sqlite:///var/zhongcao.db]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import numpy as np


def synthetic(n: int, rng: np.random.Generator) -> list:  # type: ignore[type-arg]
    from zhongcao.experience.scoring import INDICATORS, ShopInputs

    shops = []
    for i in range(n):
        values: dict[str, float | None] = {}
        for ind in INDICATORS:
            missing = rng.random() < 0.1
            values[ind.key] = None if missing else float(rng.gamma(2.0, 0.05 if ind.unit == "rate" else 20.0))
        shops.append(ShopInputs(i + 1, int(rng.integers(1, 8)), int(rng.integers(0, 300)), values))
    return shops


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shops", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    from zhongcao.experience.scoring import score_shops

    shops = synthetic(args.shops, np.random.default_rng(0))
    times = []
    for _ in range(args.runs):
        began = time.perf_counter()
        results = score_shops(shops)
        times.append(time.perf_counter() - began)
    scored = sum(1 for r in results if r.score_centi is not None)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"Experience-score batch: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine}\n")
    print("| what | shops | scored | seconds (median) |")
    print("|---|---:|---:|---:|")
    print(
        f"| scoring only (`score_shops`, synthetic) | {args.shops:,} | {scored:,} | {statistics.median(times):.2f} |"
    )
    if args.database:
        from zhongcao.db import Database
        from zhongcao.experience import service

        database = Database(args.database)
        try:
            with database.session() as db:
                began = time.perf_counter()
                results = service.compute_scores(db, commit=False)
                db.flush()
                seconds = time.perf_counter() - began
                db.rollback()
        finally:
            database.dispose()
        scored = sum(1 for r in results if r.score_centi is not None)
        print(
            f"| gather + score + write (`compute_scores`, {args.database.split('/')[-1]}) | {len(results):,} | {scored:,} | {seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
