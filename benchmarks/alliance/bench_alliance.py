"""Offline evaluation of creator–product matching on the simulated world, both directions.

Usage:
    python benchmarks/alliance/bench_alliance.py [--scale small] [--seed 1] [--days 30] [--split-day 15]
    zhongcao bench alliance [--scale S] [--seed N]          (the same table)

The world (``--scale``, ``--seed``) is built into a temporary SQLite database and simulated for
``--days`` days. Its creators publish new videos every morning, choosing products on their own
(creator policy ``browse``: a random page of the plaza, taken or left by the world's hidden rule:
their niche, the commission). At the end of day ``--split-day`` every method ranks, from what the
platform holds at that moment (the same ``matching_service.match_data`` the API reads):

* products for each creator (top 20, leaving out products the creator already anchored or sold);
* creators for each product with an open plan (top 20, leaving out creators who already promote it).

The held-out set is the creator–product pairs that produced their first sale after the split and that
were not known (anchored or sold) at the split: new pairings, which is what a recommendation is for.
Recall@20 and NDCG@20 (binary gains) are averaged over the creators (products) that have at least one
held-out pair. Baselines, side by side on the same held-out pairs:

* ``popularity``: best-selling products (units sold) / biggest creators (GMV through them, then followers);
* ``same category``: products of the creator's most promoted category, best sellers first (then its
  top category, then popularity) / creators by GMV in the product's top category, then by how many
  products of its category they promoted.
"""

from __future__ import annotations

import argparse
import os
import platform as platform_mod
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from zhongcao.db import Database

ROOT = Path(__file__).resolve().parents[2]
K = 20


@dataclass
class MethodScore:
    direction: str
    method: str
    recall: float
    ndcg: float
    evaluated: int


@dataclass
class AllianceReport:
    scale: str
    seed: int
    days: int
    split_day: int
    held_out_pairs: int
    creators_evaluated: int
    products_evaluated: int
    seconds: float
    scores: list[MethodScore] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def score(self, direction: str, method: str) -> MethodScore:
        return next(s for s in self.scores if s.direction == direction and s.method == method)


def _metrics(ranked: dict[int, list[int]], truth: dict[int, set[int]]) -> tuple[float, float, int]:
    recalls, ndcgs = [], []
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    for key, wanted in truth.items():
        if not wanted:
            continue
        got = ranked.get(key, [])[:K]
        hits = np.asarray([1.0 if x in wanted else 0.0 for x in got] + [0.0] * (K - len(got)))
        recalls.append(hits.sum() / len(wanted))
        ideal = discounts[: min(len(wanted), K)].sum()
        ndcgs.append(float((hits * discounts).sum() / ideal))
    if not recalls:
        return 0.0, 0.0, 0
    return float(np.mean(recalls)), float(np.mean(ndcgs)), len(recalls)


@dataclass
class _Rankings:
    ranked: bool = False
    known: set[tuple[int, int]] = field(default_factory=set)
    products: dict[str, dict[int, list[int]]] = field(default_factory=dict)  # method -> creator -> products
    creators: dict[str, dict[int, list[int]]] = field(default_factory=dict)  # method -> product -> creators


def _rank_at_split(database: Database, out: _Rankings) -> None:
    from zhongcao.affiliate import matching, matching_service

    out.ranked = True
    with database.session() as db:
        platform = matching_service.match_data(db)
    data = platform.data
    pid, cid = data.product_ids, data.creator_ids
    known = data.known.tocoo()
    out.known = {(int(cid[r]), int(pid[c])) for r, c in zip(known.row, known.col, strict=True)}
    known_rows = [set(data.known[c].indices.tolist()) for c in range(data.n_creators)]
    promotable = np.flatnonzero(data.product_commission_bps > 0)

    # Products for each creator.
    creators = np.arange(data.n_creators)
    matched = matching.recommend_products(data, creators, K, explain=False)
    out.products["matching"] = {
        int(cid[c]): [int(pid[p]) for p in r.indexes] for c, r in zip(creators, matched, strict=True)
    }
    by_sales = promotable[np.argsort(-data.product_sales[promotable], kind="stable")]
    out.products["popularity"] = {
        int(cid[c]): [int(pid[p]) for p in by_sales if p not in known_rows[c]][:K] for c in creators
    }
    top_of = data.category_parent
    same: dict[int, list[int]] = {}
    for c in creators:
        counts = data.content_category[c]
        leaf = int(np.argmax(counts)) if counts.sum() else -1
        order = sorted(
            by_sales.tolist(),
            key=lambda p: (
                0
                if data.product_category[p] == leaf
                else 1
                if leaf >= 0 and top_of[data.product_category[p]] == top_of[leaf]
                else 2
            ),
        )
        same[int(cid[c])] = [int(pid[p]) for p in order if p not in known_rows[c]][:K]
    out.products["same category"] = same

    # Creators for each product with an open plan.
    ranked = matching.recommend_creators(data, promotable, K, explain=False)
    out.creators["matching"] = {
        int(pid[p]): [int(cid[c]) for c in r.indexes] for p, r in zip(promotable, ranked, strict=True)
    }
    gmv = data.creator_category_gmv_fen.sum(axis=1)
    biggest = np.lexsort((-data.creator_followers, -gmv))
    known_cols = data.known.T.tocsr()
    pop, same_c = {}, {}
    for p in promotable.tolist():
        taken = set(known_cols[p].indices.tolist())
        pop[int(pid[p])] = [int(cid[c]) for c in biggest if c not in taken][:K]
        leaf = int(data.product_category[p])
        top_gmv = data.creator_category_gmv_fen[:, top_of == top_of[leaf]].sum(axis=1)
        by_fit = np.lexsort((-gmv, -data.content_category[:, leaf], -top_gmv))
        same_c[int(pid[p])] = [int(cid[c]) for c in by_fit if c not in taken][:K]
    out.creators["popularity"] = pop
    out.creators["same category"] = same_c


def run_alliance(scale: str = "small", seed: int = 1, days: int = 30, split_day: int = 15) -> AllianceReport:
    """Build and simulate the world, rank at the split, score against what sold after it."""
    from zhongcao import migrate
    from zhongcao.commerce import service as commerce_service
    from zhongcao.db import Database
    from zhongcao.events.store import SegmentEventStore
    from zhongcao.world.generate import Scale, WorldSpec
    from zhongcao.world.service import build_world

    if not 1 <= split_day < days:
        raise ValueError("the split day must fall inside the simulated days")
    began = time.perf_counter()
    rankings = _Rankings()

    def hook(day: int, database: Database) -> None:
        if day == split_day:
            _rank_at_split(database, rankings)

    with tempfile.TemporaryDirectory(prefix="zhongcao-alliance-") as tmp:
        folder = Path(tmp)
        database = Database(f"sqlite:///{folder}/world.db")
        try:
            migrate.upgrade(database.engine)
            store = SegmentEventStore(folder / "events")
            summary = build_world(
                database,
                WorldSpec(scale=Scale(scale), seed=seed, days=days, topic_audiences=True),
                fresh=True,
                progress=False,
                world_dir=folder / "world",
                store=store,
                creator_policy="browse",
                day_hook=hook,
            )
            store.close()
            with database.session(read_only=True) as db:
                rows = commerce_service.sales_rows(db)
        finally:
            database.dispose()
    assert rankings.ranked and summary.started_at is not None
    started = datetime.fromisoformat(summary.started_at)
    split = (started if started.tzinfo else started.replace(tzinfo=UTC)) + timedelta(days=split_day)
    creator_ids = set(next(iter(rankings.products.values())).keys())
    first_sale: dict[tuple[int, int], datetime] = {}
    for row in rows:
        account_id, product_id, paid_at = row[8], row[4], row[9]
        if account_id not in creator_ids:
            continue
        paid_at = paid_at if paid_at.tzinfo else paid_at.replace(tzinfo=UTC)
        pair = (int(account_id), int(product_id))
        if pair not in first_sale or paid_at < first_sale[pair]:
            first_sale[pair] = paid_at
    held = {pair for pair, when in first_sale.items() if when >= split and pair not in rankings.known}
    by_creator: dict[int, set[int]] = {}
    by_product: dict[int, set[int]] = {}
    for creator, product in held:
        by_creator.setdefault(creator, set()).add(product)
        by_product.setdefault(product, set()).add(creator)
    report = AllianceReport(
        scale=scale,
        seed=seed,
        days=days,
        split_day=split_day,
        held_out_pairs=len(held),
        creators_evaluated=len(by_creator),
        products_evaluated=len(by_product),
        seconds=0.0,
        counts={
            k: int(v)
            for k, v in summary.simulation.get("counts", {}).items()
            if k in ("orders_paid", "creator_videos")
        },
    )
    for method, ranked in rankings.products.items():
        recall, ndcg, n = _metrics(ranked, by_creator)
        report.scores.append(MethodScore("products for a creator", method, recall, ndcg, n))
    for method, ranked in rankings.creators.items():
        recall, ndcg, n = _metrics(ranked, by_product)
        report.scores.append(MethodScore("creators for a product", method, recall, ndcg, n))
    report.seconds = time.perf_counter() - began
    return report


def print_report(report: AllianceReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=(
            f"Alliance matching: scale {report.scale}, seed {report.seed}, {report.days} days, split after day "
            f"{report.split_day}; {report.held_out_pairs} held-out pairs"
        )
    )
    for name in ("direction", "method", "recall@20", "NDCG@20", "evaluated", "× popularity (recall)"):
        table.add_column(name, justify="left" if name in ("direction", "method") else "right")
    for s in report.scores:
        base = report.score(s.direction, "popularity").recall
        table.add_row(
            s.direction,
            s.method,
            f"{s.recall:.3f}",
            f"{s.ndcg:.3f}",
            f"{s.evaluated}",
            f"{s.recall / base:.2f}×" if base else "—",
        )
    console = Console(width=140)
    console.print(table)
    console.print(
        f"{report.counts.get('orders_paid', 0):,} paid orders, {report.counts.get('creator_videos', 0):,} "
        f"videos published by the simulated creators; {report.seconds:.0f} s"
    )


def bench_alliance_command(scale: str = "small", seed: int = 1, days: int = 30, split_day: int = 15) -> None:
    print_report(run_alliance(scale=scale, seed=seed, days=days, split_day=split_day))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", type=int, action="append")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--split-day", type=int, default=15)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(f"machine: {platform_mod.machine()}, {os.cpu_count()} CPUs, Python {platform_mod.python_version()}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for seed in args.seed or [1, 2]:
        bench_alliance_command(args.scale, seed, args.days, args.split_day)


if __name__ == "__main__":
    main()
