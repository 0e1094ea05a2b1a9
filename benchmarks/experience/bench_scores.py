"""The nightly experience-score batch: how long scoring takes for 10,000 shops, and end to end on a world.

Part A (always): :func:`zhongcao.experience.scoring.score_shops` on ``--shops`` synthetic shops (7
categories, random indicator values, 0–300 orders), median of ``--runs``. Part B (with ``--database``):
:func:`zhongcao.experience.computation.compute_scores` on a built world's database — gathering every
indicator from the records, scoring, and writing one row per shop (rolled back afterwards, so the
database is left as it was); e.g. after ``zhongcao demo --scale medium --days 7``. With
``--records N`` it first builds a fresh database of N shops with 40 orders each over 90 days and their
outcomes (pickups, deliveries, reviews, quality refunds, conversations), written straight into the tables.

Usage:
    python benchmarks/experience/bench_scores.py [--shops 10000] [--runs 5] [--records 10000]
        [--database sqlite:///var/zhongcao.db]
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


def build_records(url: str, shops: int, orders_per_shop: int, rng: np.random.Generator) -> float:
    """A fresh database holding ``shops`` shops with 90 days of orders and their outcomes, written
    straight into the tables (a benchmark fixture: the services' one-row forms would take hours)."""
    from datetime import timedelta

    from zhongcao import clock, migrate
    from zhongcao.catalog import service as catalog_service
    from zhongcao.db import Database, insert_rows
    from zhongcao.tables import metadata
    from zhongcao.users import security
    from zhongcao.users import service as users_service

    t = metadata.tables
    began = time.perf_counter()
    database = Database(url)
    migrate.upgrade(database.engine)
    now = clock.now()
    with database.session() as db:
        top = catalog_service.create_category(db, slug="bench", name_zh="基准", name_en="Bench")
        leaves = [
            catalog_service.create_category(
                db, slug=f"bench-{i}", name_zh=f"叶{i}", name_en=f"Leaf {i}", parent_id=top.id
            ).id
            for i in range(5)
        ]
        n_users = max(1000, shops * 2)
        users_service.create_users_bulk(
            db,
            [users_service.NewUser(f"bench{i}@example.com", f"user {i}") for i in range(n_users)],
            security.hash_password("bench-password"),
        )
        user_ids = [u for (u,) in db.execute(t["users"].select().with_only_columns(t["users"].c.id))]
        insert_rows(
            db, t["shops"], [{"id": s + 1, "name_zh": f"店{s}", "name_en": f"Shop {s}"} for s in range(shops)]
        )
        insert_rows(
            db,
            t["products"],
            [
                {
                    "id": s + 1,
                    "shop_id": s + 1,
                    "category_id": leaves[s % 5],
                    "title_zh": "商品",
                    "title_en": "Item",
                    "status": "active",
                }
                for s in range(shops)
            ],
        )
        insert_rows(
            db,
            t["skus"],
            [
                {"id": s + 1, "product_id": s + 1, "code": f"B{s}", "price_fen": 9_900, "stock": 10**6}
                for s in range(shops)
            ],
        )
        n = shops * orders_per_shop
        shop_of = np.repeat(np.arange(1, shops + 1), orders_per_shop)
        quality = rng.beta(2.0, 2.0, shops + 1)
        paid = [now - timedelta(seconds=int(x)) for x in rng.integers(3_600, 89 * 86_400, n)]
        buyer = rng.choice(user_ids, n)
        chunk = 50_000
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            ids = range(lo + 1, hi + 1)
            q = quality[shop_of[lo:hi]]
            pickup_h = 2 + 60 * (1 - q) * rng.random(hi - lo)
            transit_h = 24 + 96 * (1 - q) * rng.random(hi - lo)
            insert_rows(
                db,
                t["checkouts"],
                [
                    {
                        "id": i,
                        "user_id": int(buyer[i - 1]),
                        "status": "paid",
                        "total_fen": 9_900,
                        "expires_at": paid[i - 1],
                        "paid_at": paid[i - 1],
                    }
                    for i in ids
                ],
            )
            insert_rows(
                db,
                t["orders"],
                [
                    {"id": i, "checkout_id": i, "user_id": int(buyer[i - 1]), "shop_id": int(shop_of[i - 1]), "status": "delivered",
                     "item_total_fen": 9_900, "paid_fen": 9_900, "shop_settlement_fen": 9_900, "paid_at": paid[i - 1],
                     "delivered_at": paid[i - 1] + timedelta(hours=float(pickup_h[i - 1 - lo] + transit_h[i - 1 - lo]))}
                    for i in ids
                ],
            )  # fmt: skip
            insert_rows(
                db,
                t["order_items"],
                [
                    {"id": i, "order_id": i, "shop_id": int(shop_of[i - 1]), "product_id": int(shop_of[i - 1]), "sku_id": int(shop_of[i - 1]),
                     "title_zh": "商品", "title_en": "Item", "unit_price_fen": 9_900, "quantity": 1, "line_total_fen": 9_900, "paid_fen": 9_900}
                    for i in ids
                ],
            )  # fmt: skip
            insert_rows(
                db,
                t["shipments"],
                [
                    {"order_id": i, "shop_id": int(shop_of[i - 1]), "carrier_name": "SF", "tracking_number": f"SF{i}",
                     "shipped_at": paid[i - 1] + timedelta(hours=float(pickup_h[i - 1 - lo]) * 0.8),
                     "picked_up_at": paid[i - 1] + timedelta(hours=float(pickup_h[i - 1 - lo])),
                     "delivered_at": paid[i - 1] + timedelta(hours=float(pickup_h[i - 1 - lo] + transit_h[i - 1 - lo]))}
                    for i in ids
                ],
            )  # fmt: skip
            reviewed = [i for i in ids if rng.random() < 0.3]
            insert_rows(
                db,
                t["reviews"],
                [
                    {"order_item_id": i, "order_id": i, "user_id": int(buyer[i - 1]), "shop_id": int(shop_of[i - 1]), "product_id": int(shop_of[i - 1]),
                     "rating": int(np.clip(round(1 + 4 * quality[shop_of[i - 1]] + rng.normal(0, 0.7)), 1, 5)), "is_first": True,
                     "created_at": paid[i - 1] + timedelta(days=4)}
                    for i in reviewed
                ],
            )  # fmt: skip
            cases = [i for i in ids if rng.random() < 0.02 + 0.1 * (1 - quality[shop_of[i - 1]])]
            insert_rows(
                db,
                t["after_sales"],
                [
                    {"order_id": i, "order_item_id": i, "user_id": int(buyer[i - 1]), "shop_id": int(shop_of[i - 1]), "kind": "refund_only",
                     "reason": "quality", "status": "refunded", "quantity": 1, "amount_fen": 9_900,
                     "requested_at": paid[i - 1] + timedelta(days=5), "decided_at": paid[i - 1] + timedelta(days=5, hours=6),
                     "refunded_at": paid[i - 1] + timedelta(days=5, hours=6)}
                    for i in cases
                ],
            )  # fmt: skip
            asked = [i for i in ids if rng.random() < 0.1]
            insert_rows(
                db,
                t["cs_conversations"],
                [
                    {"shop_id": int(shop_of[i - 1]), "user_id": int(buyer[i - 1]), "order_id": i, "started_at": paid[i - 1] + timedelta(hours=2),
                     "first_human_response_at": paid[i - 1] + timedelta(hours=2, minutes=float(1 + 30 * (1 - quality[shop_of[i - 1]]))),
                     "last_message_at": paid[i - 1] + timedelta(hours=3)}
                    for i in asked
                ],
            )  # fmt: skip
        db.commit()
    database.dispose()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shops", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default=None)
    parser.add_argument(
        "--records",
        type=int,
        default=0,
        help="build a fresh database with this many shops (40 orders each) first",
    )
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
    if args.records:
        import tempfile

        folder = tempfile.mkdtemp(prefix="zc-bench-scores-")
        args.database = f"sqlite:///{folder}/records.db"
        built = build_records(args.database, args.records, 40, np.random.default_rng(1))
        print(
            f"| (building {args.records:,} shops × 40 orders with outcomes into a fresh database: {built:.0f} s) | | | |"
        )
    if args.database:
        from zhongcao.db import Database
        from zhongcao.experience import computation

        database = Database(args.database)
        try:
            with database.session() as db:
                began = time.perf_counter()
                results = computation.compute_scores(db, commit=False)
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
