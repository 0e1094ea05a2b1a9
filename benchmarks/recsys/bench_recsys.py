"""Offline recommender benchmark: train the feed's models on an interaction file and compare them.

Rows, side by side in one run on one leave-one-out split: popularity (plain counts), implicit ALS with
the defaults the feed uses, and zhongcao's pipeline (candidate sources + LightGBM ranker); on the
SASRec "Amazon Games" file the published SASRec row is added for reference (not re-run here). Usage:

    python benchmarks/recsys/bench_recsys.py [PATH] [--format pairs|sequences]
        [--protocol sampled100|full|both] [--seeds 0 1 2] [--models popularity als zhongcao]

PATH defaults to ``$ZHONGCAO_DATA_DIR/amazon-games-sasrec/Video.txt`` (``../shared/data`` from the repo
root). With several seeds each row is the median over seeds (sampling and training both use the seed).
This is benchmark code, kept out of the runtime package (it was ``zhongcao bench recsys``); it uses the
feed's own modules (``zhongcao.feed.evaluation``, ``.pipeline``, ``.als``) as the server does.

Each model is trained and evaluated in a fresh child process so its memory is its own: "train peak
+MiB" is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` growth during training in that process, on top of
the loaded interaction arrays (0 if training stayed under the peak of loading); "max RSS MiB" is that
process's whole peak (interpreter, data, training and evaluation). "train s" is wall-clock training.
Protocols as in ``zhongcao.feed.evaluation``: models see everything but each user's last item (the
pipeline's ranker learns from the second-to-last), and each test item is scored once.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from zhongcao.config import get_settings
from zhongcao.feed.evaluation import LeaveOneOut, Protocol, evaluate_full, evaluate_sampled, leave_one_out
from zhongcao.feed.interactions import load, to_sequences
from zhongcao.imports import BadFile, Format

THREADS = 2
GAMES_SHA256 = "b7376fe24430743f411dc7f567285657b2adb3f74361cc7ba0aee94f3024b651"
# Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018, Table III, Amazon Games.
SASREC_GAMES = {"HR@10": 0.7410, "NDCG@10": 0.5360}
MODELS = ("popularity", "als", "zhongcao")
# Short, so the table fits an 80-column terminal; the docstring above says what each row is.
LABELS = {"popularity": "popularity", "als": "implicit ALS", "zhongcao": "zhongcao"}

GAMES = Path("amazon-games-sasrec") / "Video.txt"

console = Console(width=120)  # the table stays readable when the output goes to a file
err = Console(stderr=True)


@dataclass(frozen=True)
class Row:
    model: str
    metrics: dict[str, float]
    train_seconds: float
    peak_mib: float  # max RSS growth while training
    peak_rss_mib: float  # the child's max RSS over its life so far (data loaded, trained, evaluated)
    evaluate_seconds: float


def _limit_threads() -> None:
    # Before numpy/BLAS load in the child: implicit wants BLAS single-threaded; nothing exceeds 2 cores.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def build_model(name: str, seed: int, protocol: Protocol = Protocol.sampled100) -> Any:
    if name == "popularity":
        from zhongcao.feed.popularity import Popularity

        return Popularity(half_life=None)
    if name == "als":
        from zhongcao.feed.als import ALS

        return ALS(seed=seed, threads=THREADS)
    if name == "zhongcao":
        from zhongcao.feed.pipeline import Pipeline, PipelineConfig

        # The ranker learns to order what the protocol will ask it to order (see pipeline.py).
        negatives: Literal["uniform", "candidates"] = (
            "uniform" if protocol is Protocol.sampled100 else "candidates"
        )
        return Pipeline(PipelineConfig(training_negatives=negatives, seed=seed, threads=THREADS))
    raise ValueError(f"unknown model {name!r}")


def run_model(name: str, split: LeaveOneOut, protocol: Protocol, seed: int) -> Row:
    """Fit ``name`` on the test-stage history and evaluate it once on the test items."""
    model = build_model(name, seed, protocol)
    baseline = _maxrss_mib()
    started = time.perf_counter()
    model.fit(split.test.history)
    train_seconds = time.perf_counter() - started
    peak = _maxrss_mib() - baseline
    started = time.perf_counter()
    if protocol is Protocol.sampled100:
        metrics = evaluate_sampled(model.score, split.test, split.full, seed=seed)
    else:
        metrics = evaluate_full(model.recommend, split.test)
    return Row(name, metrics, train_seconds, peak, _maxrss_mib(), time.perf_counter() - started)


def _child(path: str, fmt: str, protocol: str, seed: int, name: str) -> Row:
    _limit_threads()
    split = leave_one_out(to_sequences(load(Path(path), fmt)))
    return run_model(name, split, Protocol(protocol), seed)


def is_games_file(path: Path) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == GAMES_SHA256
    except OSError:
        return False


def bench(
    path: Path, fmt: str, protocol: Protocol, seed: int = 0, models: tuple[str, ...] = MODELS
) -> list[Row]:
    """Each model in its own spawned process (clean memory accounting), one after the other."""
    rows = []
    context = mp.get_context("spawn")
    for name in models:
        with (
            console.status(f"training and evaluating {LABELS[name]} …"),
            context.Pool(1, maxtasksperchild=1) as pool,
        ):
            rows.append(pool.apply(_child, (str(path), fmt, protocol.value, seed, name)))
    return rows


def render(rows: list[Row], protocol: Protocol, reference: bool, title: str) -> Table:
    ks = (10,) if protocol is Protocol.sampled100 else (10, 20)
    table = Table(title=title)
    table.add_column("model")
    for k in ks:
        table.add_column(f"HR@{k}", justify="right")
        table.add_column(f"NDCG@{k}", justify="right")
    table.add_column("train s", justify="right")
    table.add_column("train peak +MiB", justify="right")
    table.add_column("max RSS MiB", justify="right")
    table.add_column("eval s", justify="right")
    for row in rows:
        cells = []
        for k in ks:
            cells += [f"{row.metrics[f'HR@{k}']:.4f}", f"{row.metrics[f'NDCG@{k}']:.4f}"]
        cells += [f"{row.train_seconds:.1f}", f"{row.peak_mib:.0f}", f"{row.peak_rss_mib:.0f}"]
        cells.append(f"{row.evaluate_seconds:.1f}")
        table.add_row(LABELS[row.model], *cells)
    if reference and protocol is Protocol.sampled100:
        table.add_row(
            "SASRec (paper)",
            f"{SASREC_GAMES['HR@10']:.4f}",
            f"{SASREC_GAMES['NDCG@10']:.4f}",
            *["—"] * 4,
            style="dim",
        )
    return table


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "path", nargs="?", type=Path, help="interaction file: 'user item' lines in time order"
    )
    parser.add_argument(
        "--format",
        choices=[f.value for f in Format],
        default="pairs",
        help="pairs: 'user item' per line; sequences: 'user item item ...'",
    )
    parser.add_argument(
        "--protocol",
        choices=["sampled100", "full", "both"],
        default="both",
        help="sampled100: rank among 100 sampled items; full: among all items",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args(argv)
    path: Path = args.path or (get_settings().data_dir / GAMES).resolve()
    if not path.exists():
        err.print(
            f"[bold red]error:[/] missing {path}: give a file, or set ZHONGCAO_DATA_DIR to the folder holding {GAMES}"
        )
        return 2
    try:
        split = leave_one_out(to_sequences(load(path, Format(args.format))))
    except BadFile as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2
    if len(split.test.users) == 0:
        err.print("[bold red]error:[/] no user has the 3 interactions leave-one-out needs")
        return 2
    protocols = [Protocol.sampled100, Protocol.full] if args.protocol == "both" else [Protocol(args.protocol)]
    console.print(f"{date.today()} · {platform.platform()} · Python {platform.python_version()} · {path}")
    console.print(
        f"{path.name}: {split.full.n_users:,} users, {split.full.n_items:,} items, "
        f"{len(split.full.items):,} interactions; {len(split.test.users):,} users evaluated "
        f"({THREADS} threads)"
    )
    seeds = ", ".join(map(str, args.seeds))
    for protocol in protocols:
        runs = [bench(path, args.format, protocol, seed, tuple(args.models)) for seed in args.seeds]
        title = f"Leave-one-out, {protocol.value}: {path.name} (median over seeds {seeds})"
        console.print(render(median_rows(runs), protocol, is_games_file(path), title))
    console.print(
        "train peak +MiB: growth of the child process's max RSS (resource.getrusage) while training, "
        "0 when training stayed under the peak of loading the file; max RSS MiB: the child's whole peak"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
