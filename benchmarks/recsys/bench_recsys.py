"""Offline recommender benchmark on the SASRec "Amazon Games" file, both protocols.

Runs ``zhongcao.feed.bench`` (popularity, implicit ALS, the zhongcao pipeline, side by side on one
leave-one-out split; the published SASRec row for reference) on
``$ZHONGCAO_DATA_DIR/amazon-games-sasrec/Video.txt`` (default ``../shared/data`` from the repo root).
Each model trains in a fresh process on at most 2 threads. Usage:

    python benchmarks/recsys/bench_recsys.py [--protocol sampled100|full|both] [--seeds 0 1 2]

With several seeds each row is the median over seeds (sampling and training both use the seed).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from datetime import date
from pathlib import Path

from rich.console import Console

from zhongcao.config import get_settings
from zhongcao.feed.bench import MODELS, Row, bench, is_games_file, render
from zhongcao.feed.evaluation import Protocol

GAMES = Path("amazon-games-sasrec") / "Video.txt"


def median_rows(runs: list[list[Row]]) -> list[Row]:
    out = []
    for rows in zip(*runs, strict=True):
        keys = rows[0].metrics.keys()
        out.append(
            Row(
                rows[0].model,
                {k: statistics.median(r.metrics[k] for r in rows) for k in keys},
                statistics.median(r.train_seconds for r in rows),
                statistics.median(r.peak_mib for r in rows),
                statistics.median(r.peak_rss_mib for r in rows),
                statistics.median(r.evaluate_seconds for r in rows),
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--protocol", choices=["sampled100", "full", "both"], default="both")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args()
    console = Console(width=120)  # the table stays readable when the output goes to a file
    path = (get_settings().data_dir / GAMES).resolve()
    if not path.exists():
        console.print(f"[red]missing {path}[/]: set ZHONGCAO_DATA_DIR to the folder holding {GAMES}")
        return 2
    protocols = [Protocol.sampled100, Protocol.full] if args.protocol == "both" else [Protocol(args.protocol)]
    console.print(f"{date.today()} · {platform.platform()} · Python {platform.python_version()} · {path}")
    for protocol in protocols:
        runs = [bench(path, "pairs", protocol, seed, tuple(args.models)) for seed in args.seeds]
        seeds = ", ".join(map(str, args.seeds))
        title = f"Amazon Games, leave-one-out, {protocol.value} (median over seeds {seeds})"
        console.print(render(median_rows(runs), protocol, is_games_file(path), title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
