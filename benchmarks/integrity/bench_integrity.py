"""``zhongcao bench integrity``: bought engagement and brushing on the simulated world, detected and discounted.

For each seed the small world is simulated (fresh embedded database each time) in these arms:

* **clean**: no attack (the exposure the attacked items and the brushed shop get on their own);
* per camouflage level, **off**: the attacks planted, nothing detected;
* per camouflage level, **on**: the attacks planted, the velocity rules on every logged batch and every
  detector each simulated night, flagged engagement and orders discounted from then on.

Graded against the world's hidden labels (never seen by the detectors): account-level precision and
recall per attack type (precision as if that attack were the only one: its caught accounts against
every organic account flagged), order-level precision and recall for brushing, the false-positive rate
among organic heavy users (the top 10% of organic accounts by actions) and among all organic accounts,
the hours from an attacker's first attack action to its flag, and the exposure lift: impressions of
the attacked videos shown to shoppers from the attack's start on, and the brushed shop's GMV rank
over the same period (brushed orders not counted where they were flagged), against the clean run.
Baselines, on the "off" arm's log: the velocity rules alone, and the top-k accounts by activity (k =
the number of attackers, an oracle's k).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from zhongcao import migrate
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.integrity.inputs import Engagement
from zhongcao.integrity.velocity import velocity_blocks
from zhongcao.world.attack_plan import AttackPlan, default_plan, load_attack_plan
from zhongcao.world.experiment import parse_seeds
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.integrity_sim import SimulatedIntegrity
from zhongcao.world.service import build_world

DAY_US = 86_400_000_000
KINDS = ("farm", "view_inflation", "brushing")


@dataclass
class Arm:
    name: str
    layer: SimulatedIntegrity
    start_us: int
    seconds: float


def run_arm(name: str, seed: int, days: int, plan: AttackPlan | None, detect: bool, workdir: Path) -> Arm:
    folder = workdir / f"{seed}-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{folder}/world.db")
    layer = SimulatedIntegrity(plan, seed, detect=detect, discount=detect)
    began = time.perf_counter()
    try:
        migrate.upgrade(database.engine)
        store = SegmentEventStore(folder / "events")
        summary = build_world(
            database,
            WorldSpec(scale=Scale.small, seed=seed, days=days),
            fresh=True,
            progress=False,
            world_dir=folder / "world",
            store=store,
            integrity=layer,
        )
        store.close()
    finally:
        database.dispose()
    start = datetime.fromisoformat(summary.started_at or "1970-01-01T00:00:00+00:00")
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return Arm(name, layer, int(start.timestamp() * 1_000_000), time.perf_counter() - began)


def _pr(flagged: set[int], positives: set[int], negatives_flagged: int) -> tuple[float | None, float | None]:
    tp = len(flagged & positives)
    precision = tp / (tp + negatives_flagged) if tp + negatives_flagged else None
    recall = tp / len(positives) if positives else None
    return precision, recall


def _activity(layer: SimulatedIntegrity) -> dict[int, int]:
    users, counts = np.unique(layer.engagement.get("user"), return_counts=True)
    return dict(zip(users.tolist(), counts.tolist(), strict=True))


def grade(
    arm: Arm, flagged: set[int], flagged_orders: set[int] | None, flag_time: dict[int, int]
) -> dict[str, object]:
    truth = arm.layer.runtime.truth
    acted = {u: k for u, k in truth.account_kind.items() if u in truth.account_start_us}
    attackers = set(acted)
    organic_ids = (
        set(arm.layer._market.user_ids.tolist()) - attackers if arm.layer._market is not None else set()
    )
    fp = flagged & organic_ids
    out: dict[str, object] = {}
    for kind in KINDS:
        positives = {u for u, k in acted.items() if k == kind}
        p, r = _pr(flagged, positives, len(fp))
        out[f"{kind}_precision"], out[f"{kind}_recall"] = p, r
    p, r = _pr(flagged, attackers, len(fp))
    out["all_precision"], out["all_recall"] = p, r
    activity = _activity(arm.layer)
    organic_sorted = sorted(organic_ids, key=lambda u: -activity.get(u, 0))
    heavy = set(organic_sorted[: max(1, len(organic_sorted) // 10)])
    out["heavy_fp_rate"] = len(flagged & heavy) / len(heavy) if heavy else None
    out["organic_fp_rate"] = len(fp) / len(organic_ids) if organic_ids else None
    out["organic_flagged"] = len(fp)
    if flagged_orders is not None:
        p, r = _pr(flagged_orders, truth.brushed_orders, len(flagged_orders - truth.brushed_orders))
        out["order_precision"], out["order_recall"] = p, r
    delays = [(flag_time[u] - truth.account_start_us[u]) / 3_600_000_000 for u in attackers & set(flag_time)]
    out["hours_to_detection"] = float(np.median(delays)) if delays else None
    return out


def exposure(arm: Arm, targets: set[int], since_us: int) -> int:
    """Impressions of ``targets`` shown to shoppers (not to the attackers' own hijacked accounts) from
    ``since_us`` on."""
    imp = arm.layer.impressions
    day = imp.get("day")
    content = imp.get("content")
    viewer = imp.get("user")
    attackers = np.fromiter(arm.layer.runtime.truth.account_kind, dtype=np.int64)
    since_day = (since_us - arm.start_us) // DAY_US
    return int((np.isin(content, list(targets)) & (day >= since_day) & ~np.isin(viewer, attackers)).sum())


def shop_totals(arm: Arm, since_us: int, drop: set[int]) -> dict[int, int]:
    """GMV (fen) per shop of the orders from ``since_us`` on, ``drop`` not counted."""
    gmv: dict[int, int] = {}
    for order_id, row in arm.layer.orders.items():
        if row["ts"] * 1_000_000 >= since_us and order_id not in drop:
            gmv[row["shop"]] = gmv.get(row["shop"], 0) + row["paid"]
    return gmv


def shop_rank(arm: Arm, shop_id: int, since_us: int, drop: set[int]) -> tuple[int, int]:
    """(GMV rank, GMV fen) of ``shop_id`` among shops, orders from ``since_us`` on, ``drop`` not counted."""
    gmv = shop_totals(arm, since_us, drop)
    mine = gmv.get(shop_id, 0)
    return 1 + sum(1 for v in gmv.values() if v > mine), mine


def against_placebo(shop_id: int, arm: dict[int, int], clean: dict[int, int]) -> dict[str, float]:
    """The brushed shop's GMV change from the clean run, set among every other shop's change between the
    same two runs (which no attack targeted: how far separate runs drift apart on their own).
    ``percentile`` is the share of other shops that changed less; with no lift it is uniform, mean 0.5."""

    def change(s: int) -> float:
        return (arm.get(s, 0) - clean[s]) / clean[s]

    others = np.asarray([change(s) for s in clean if s != shop_id and clean[s] > 0])
    mine = change(shop_id) if clean.get(shop_id) else float("nan")
    return {
        "change": mine,
        "others_median": float(np.median(others)) if len(others) else float("nan"),
        "others_p10": float(np.quantile(others, 0.1)) if len(others) else float("nan"),
        "others_p90": float(np.quantile(others, 0.9)) if len(others) else float("nan"),
        "percentile": float((others < mine).mean()) if len(others) else float("nan"),
    }


def rank_bought(arm: Arm, shop_id: int, since_us: int, days: int) -> dict[str, float]:
    """What the ring bought the shop in the ranking the platform shows, day by day, inside one run.

    At the end of each simulated day from ``since_us`` on, the shop's trailing-30-day GMV as the
    platform counts it (every order, less the orders flagged or held by then where the arm discounts) is
    ranked among all shops, and so is its GMV with the ring's orders taken out (the world's hidden
    labels). The difference is what the ring bought that day, free of the drift between separate runs:
    ``positions``, the mean rank positions gained per day; ``days_lifted``, the share of days it gained
    any; ``gmv_lift``, the mean extra counted GMV over its organic GMV."""
    truth = arm.layer.runtime.truth.brushed_orders
    flagged_at = arm.layer.record.orders if arm.layer.discount else {}
    rows = list(arm.layer.orders.items())
    ts = np.asarray([r["ts"] * 1_000_000 for _, r in rows], dtype=np.int64)
    paid = np.asarray([r["paid"] for _, r in rows], dtype=np.int64)
    shops = np.asarray([r["shop"] for _, r in rows], dtype=np.int64)
    brushed = np.asarray([o in truth for o, _ in rows], dtype=bool)
    order_ids = np.asarray([o for o, _ in rows], dtype=np.int64)
    flag_us = np.asarray([flagged_at.get(o, np.iinfo(np.int64).max) for o, _ in rows], dtype=np.int64)
    all_shops = np.union1d(shops, arm.layer._market.shop_ids if arm.layer._market is not None else shops)
    ones = np.ones(len(rows), dtype=np.int64)
    positions, order_positions, lifted, lifts = [], [], [], []
    first_day = (since_us - arm.start_us) // DAY_US
    for d in range(int(first_day), days):
        end = arm.start_us + (d + 1) * DAY_US
        window = (ts < end) & (ts >= end - 30 * DAY_US)
        held = arm.layer.record.held.get(end, set()) if arm.layer.discount else set()
        shown = (
            window & (flag_us > end) & ~np.isin(order_ids, np.fromiter(held, dtype=np.int64, count=len(held)))
        )
        organic = window & ~brushed

        def ranked(mask: np.ndarray, weight: np.ndarray) -> tuple[int, int]:
            total = np.zeros(len(all_shops), dtype=np.int64)
            np.add.at(total, np.searchsorted(all_shops, shops[mask]), weight[mask])
            mine = int(total[np.searchsorted(all_shops, shop_id)])
            return 1 + int((total > mine).sum()), mine

        (r_shown, g_shown), (r_organic, g_organic) = ranked(shown, paid), ranked(organic, paid)
        (n_shown, _), (n_organic, _) = ranked(shown, ones), ranked(organic, ones)
        positions.append(r_organic - r_shown)
        order_positions.append(n_organic - n_shown)
        lifted.append(r_shown < r_organic or n_shown < n_organic)
        lifts.append((g_shown - g_organic) / g_organic if g_organic else (1.0 if g_shown else 0.0))
    return {
        "positions": float(np.mean(positions)) if positions else 0.0,
        "order_positions": float(np.mean(order_positions)) if order_positions else 0.0,
        "days_lifted": float(np.mean(lifted)) if lifted else 0.0,
        "gmv_lift": float(np.mean(lifts)) if lifts else 0.0,
        "days": float(len(positions)),
    }


def organic_held(arm: Arm) -> dict[str, int]:
    """What the hold cost buyers who brushed nothing: orders not brushed (by the hidden labels) held on
    any night, at the brushed shops (their new customers) and elsewhere, the latter split into orders of
    attack accounts (farm accounts, hijacked ones included, that also shop) and of everyone else."""
    truth = arm.layer.runtime.truth
    held = set().union(*arm.layer.record.held.values()) if arm.layer.record.held else set()
    organic = {o: r for o, r in arm.layer.orders.items() if o not in truth.brushed_orders}
    at_ring = [o for o in held if o in organic and organic[o]["shop"] in truth.brushed_shops]
    elsewhere = [o for o in held if o in organic and organic[o]["shop"] not in truth.brushed_shops]
    by_attackers = sum(1 for o in elsewhere if truth.account_kind.get(organic[o]["buyer"]) is not None)
    return {
        "at_brushed_shops": len(at_ring),
        "brushed_shops_orders": sum(1 for r in organic.values() if r["shop"] in truth.brushed_shops),
        "elsewhere_attack_accounts": by_attackers,
        "elsewhere_others": len(elsewhere) - by_attackers,
        "organic_orders": len(organic),
    }


def baselines(off: Arm) -> dict[str, dict[str, object]]:
    """The velocity rules alone and top-k by activity, on the undiscounted log."""
    e = off.layer.engagement
    engagement = Engagement(
        action=e.get("action", np.int8),
        user_id=e.get("user"),
        target_id=e.get("target"),
        ts=e.get("ts"),
        device=e.get("device"),
        ip=np.full(len(e.get("ts")), -1, dtype=np.int64),
    )
    order = np.argsort(engagement.ts, kind="stable")
    engagement = Engagement(
        *(getattr(engagement, f)[order] for f in ("action", "user_id", "target_id", "ts", "device", "ip"))
    )
    velocity = set()
    when: dict[int, int] = {}
    for block in velocity_blocks(engagement):
        for a in block.accounts.tolist():
            velocity.add(a)
            at = int(block.end.timestamp() * 1_000_000)
            when[a] = min(when.get(a, at), at)
    truth = off.layer.runtime.truth
    k = len([u for u in truth.account_kind if u in truth.account_start_us])
    activity = _activity(off.layer)
    top = set(sorted(activity, key=lambda u: -activity[u])[:k])
    return {
        "velocity rule alone": grade(off, velocity, None, when),
        f"top-{k} by activity": grade(off, top, None, {}),
    }


@dataclass
class SeedResult:
    seed: int
    rows: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0


def run_seed(seed: int, days: int, plan: AttackPlan, camouflages: list[float], workdir: Path) -> SeedResult:
    result = SeedResult(seed)
    clean = run_arm("clean", seed, days, None, False, workdir)
    result.seconds += clean.seconds
    for camouflage in camouflages:
        planned = plan.with_camouflage(camouflage)
        off = run_arm(f"off-{camouflage:g}", seed, days, planned, False, workdir)
        on = run_arm(f"on-{camouflage:g}", seed, days, planned, True, workdir)
        result.seconds += off.seconds + on.seconds
        truth = on.layer.runtime.truth
        starts = [s.start_day for s in (*planned.farms, *planned.view_inflation)] or [0]
        since = on.start_us + min(starts) * DAY_US
        targets = set().union(*truth.targets.values()) if truth.targets else set()
        imp = {a.name: exposure(a, targets, since) for a in (clean, off, on)}
        b_since = on.start_us + min([s.start_day for s in planned.brushing] or [0]) * DAY_US
        rows = []
        totals = {
            "clean": shop_totals(clean, b_since, set()),
            "off": shop_totals(off, b_since, set()),
            "on": shop_totals(on, b_since, set(on.layer.record.orders)),
        }
        for shop in sorted(truth.brushed_shops):
            rows.append(
                {
                    "shop": shop,
                    "clean": shop_rank(clean, shop, b_since, set()),
                    "off": shop_rank(off, shop, b_since, set()),
                    "on": shop_rank(on, shop, b_since, set(on.layer.record.orders)),
                    "bought_off": rank_bought(off, shop, b_since, days),
                    "bought_on": rank_bought(on, shop, b_since, days),
                    "placebo_off": against_placebo(shop, totals["off"], totals["clean"]),
                    "placebo_on": against_placebo(shop, totals["on"], totals["clean"]),
                }
            )
        detector = grade(
            on, set(on.layer.record.accounts), set(on.layer.record.orders), on.layer.record.accounts
        )
        common = {
            "seed": seed,
            "camouflage": camouflage,
            "impressions_clean": imp[clean.name],
            "impressions_off": imp[off.name],
            "impressions_on": imp[on.name],
            "shop_rank": rows,
            "organic_held": organic_held(on),
        }
        result.rows.append({**common, "method": "detectors (nightly + streaming velocity)", **detector})
        for name, graded in baselines(off).items():
            result.rows.append({**common, "method": name, **graded})
    return result


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _lift(value: int, clean: int) -> str:
    return f"{(value - clean) / clean:+.1%}" if clean else "—"


def _kept(on: int, off: int, clean: int) -> str:
    """Share of what the attack bought (off − clean) still bought with detection on (on − clean)."""
    return f"{(on - clean) / (off - clean):+.1%}" if off != clean else "—"


def table(results: list[SeedResult]) -> str:
    cols = [
        ("seed", "seed"),
        ("camouflage", "camo"),
        ("method", "method"),
        ("farm_precision", "farm P"),
        ("farm_recall", "farm R"),
        ("view_inflation_precision", "views P"),
        ("view_inflation_recall", "views R"),
        ("brushing_precision", "ring acct P"),
        ("brushing_recall", "ring acct R"),
        ("order_precision", "order P"),
        ("order_recall", "order R"),
        ("heavy_fp_rate", "heavy-user FP"),
        ("organic_fp_rate", "organic FP"),
        ("hours_to_detection", "h to flag (median)"),
    ]
    lines = ["| " + " | ".join(c[1] for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        for row in r.rows:
            lines.append("| " + " | ".join(_fmt(row.get(k)) for k, _ in cols) + " |")
    lines.append("")
    lines.append(
        "| seed | camo | attacked videos' impressions: clean / detection off / on | lift off | lift on | kept "
        "| brushed shop's GMV rank: clean / off / on | its counted GMV (yuan): clean / off / on "
        "| GMV lift off | GMV lift on | GMV kept |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for row in r.rows:
            if not str(row["method"]).startswith("detectors"):
                continue
            c, off, on = (int(row[k]) for k in ("impressions_clean", "impressions_off", "impressions_on"))  # type: ignore[call-overload]
            ranks = "; ".join(
                f"{s['clean'][0]} / {s['off'][0]} / {s['on'][0]} | "
                f"{s['clean'][1] / 100:,.0f} / {s['off'][1] / 100:,.0f} / {s['on'][1] / 100:,.0f} | "
                f"{_lift(s['off'][1], s['clean'][1])} | {_lift(s['on'][1], s['clean'][1])} | "
                f"{_kept(s['on'][1], s['off'][1], s['clean'][1])}"
                for s in row["shop_rank"]  # type: ignore[attr-defined]
            )
            lines.append(
                f"| {row['seed']} | {row['camouflage']:g} | {c} / {off} / {on} | {_lift(off, c)} | {_lift(on, c)} | {_kept(on, off, c)} | {ranks} |"
            )
    totals: dict[float, list[int]] = {}
    for r in results:
        for row in r.rows:
            if str(row["method"]).startswith("detectors"):
                t = totals.setdefault(float(row["camouflage"]), [0, 0, 0, 0, 0, 0])  # type: ignore[arg-type]
                t[0] += int(row["impressions_clean"])  # type: ignore[call-overload]
                t[1] += int(row["impressions_off"])  # type: ignore[call-overload]
                t[2] += int(row["impressions_on"])  # type: ignore[call-overload]
                for s in row["shop_rank"]:  # type: ignore[attr-defined]
                    t[3] += s["clean"][1]
                    t[4] += s["off"][1]
                    t[5] += s["on"][1]
    for camo, (c, off, on, gc, goff, gon) in sorted(totals.items()):
        lines.append(
            f"| all seeds | {camo:g} | {c} / {off} / {on} | {_lift(off, c)} | {_lift(on, c)} | {_kept(on, off, c)} "
            f"| | {gc / 100:,.0f} / {goff / 100:,.0f} / {gon / 100:,.0f} | {_lift(goff, gc)} | {_lift(gon, gc)} "
            f"| {_kept(gon, goff, gc)} |"
        )
    lines += ["", *bought_table(results)]
    return "\n".join(lines)


def _bootstrap(pairs: list[tuple[int, int]], draws: int = 2000) -> tuple[float, float]:
    """95% interval of sum(on) / sum(clean) − 1, resampling seeds (the unit that drifts)."""
    rng = np.random.default_rng(0)
    a = np.asarray(pairs, dtype=np.float64)
    picks = rng.integers(0, len(a), size=(draws, len(a)))
    ratios = a[picks, 0].sum(axis=1) / np.maximum(a[picks, 1].sum(axis=1), 1.0) - 1.0
    lo, hi = np.quantile(ratios, [0.025, 0.975])
    return float(lo), float(hi)


def bought_table(results: list[SeedResult]) -> list[str]:
    """The brushed shop, two ways: within each run (what the ring bought in the shown ranking, no
    drift) and across runs (its counted GMV against the clean run, with a 95% interval over seeds, and
    set among the other shops' drift between the same runs)."""
    lines = [
        "| seed | camo | ring's lift in the shown ranking, detection off: GMV rank positions / day · order-count "
        "rank positions / day · days lifted · counted GMV over organic | detection on: the same "
        "| GMV change from the clean run, off / on (other shops' median, 10th–90th percentile) "
        "| brushed shop's percentile among them, off / on |",
        "|---|---|---|---|---|---|",
    ]
    per_camo: dict[float, dict[str, list]] = {}
    for r in results:
        for row in r.rows:
            if not str(row["method"]).startswith("detectors"):
                continue
            camo = float(row["camouflage"])  # type: ignore[arg-type]
            acc = per_camo.setdefault(camo, {"off": [], "on": [], "pairs_on": [], "pairs_off": []})
            for s in row["shop_rank"]:  # type: ignore[attr-defined]
                cells = []
                for arm in ("off", "on"):
                    b = s[f"bought_{arm}"]
                    acc[arm].append(b)
                    cells.append(
                        f"{b['positions']:+.1f} · {b['order_positions']:+.1f} · {b['days_lifted']:.0%} · "
                        f"{b['gmv_lift']:+.1%}"
                    )
                drift = " / ".join(
                    f"{s[f'placebo_{a}']['change']:+.0%} ({s[f'placebo_{a}']['others_median']:+.0%}, "
                    f"{s[f'placebo_{a}']['others_p10']:+.0%} to {s[f'placebo_{a}']['others_p90']:+.0%})"
                    for a in ("off", "on")
                )
                pct = " / ".join(f"{s[f'placebo_{a}']['percentile']:.2f}" for a in ("off", "on"))
                acc.setdefault("pct_off", []).append(s["placebo_off"]["percentile"])
                acc.setdefault("pct_on", []).append(s["placebo_on"]["percentile"])
                acc["pairs_on"].append((s["on"][1], s["clean"][1]))
                acc["pairs_off"].append((s["off"][1], s["clean"][1]))
                lines.append(f"| {row['seed']} | {camo:g} | {cells[0]} | {cells[1]} | {drift} | {pct} |")
    for camo, acc in sorted(per_camo.items()):
        cells = []
        for arm in ("off", "on"):
            bs = acc[arm]
            cells.append(
                f"{np.mean([b['positions'] for b in bs]):+.1f} · {np.mean([b['order_positions'] for b in bs]):+.1f} · "
                f"{np.mean([b['days_lifted'] for b in bs]):.0%} · {np.mean([b['gmv_lift'] for b in bs]):+.1%}"
            )
        pct = " / ".join(f"{np.nanmean(acc[k]):.2f}" for k in ("pct_off", "pct_on"))
        lines.append(f"| mean | {camo:g} | {cells[0]} | {cells[1]} | | {pct} |")
        cells = [
            f"{np.median([b['positions'] for b in acc[arm]]):+.1f} · "
            f"{np.median([b['order_positions'] for b in acc[arm]]):+.1f} · "
            f"{np.median([b['days_lifted'] for b in acc[arm]]):.0%} · "
            f"{np.median([b['gmv_lift'] for b in acc[arm]]):+.1%}"
            for arm in ("off", "on")
        ]
        pct = " / ".join(f"{np.nanmedian(acc[k]):.2f}" for k in ("pct_off", "pct_on"))
        lines.append(f"| median | {camo:g} | {cells[0]} | {cells[1]} | | {pct} |")
    lines += [
        "",
        "| camo | seeds | brushed shop's counted GMV against the clean run, detection off (95% interval over seeds) "
        "| detection on (95% interval) |",
        "|---|---|---|---|",
    ]
    for camo, acc in sorted(per_camo.items()):
        cells = []
        for key in ("pairs_off", "pairs_on"):
            pairs = acc[key]
            total = sum(p[0] for p in pairs) / max(1, sum(p[1] for p in pairs)) - 1.0
            lo, hi = _bootstrap(pairs)
            cells.append(f"{total:+.1%} ({lo:+.1%} to {hi:+.1%})")
        lines.append(f"| {camo:g} | {len(acc['pairs_on'])} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        "| seed | camo | what the hold cost (detection on): unbrushed orders held at the brushed shop / its "
        "unbrushed orders · held elsewhere, of attack accounts · of everyone else / all unbrushed orders |",
        "|---|---|---|",
    ]
    totals = np.zeros(5, dtype=np.int64)
    for r in results:
        for row in r.rows:
            if str(row["method"]).startswith("detectors"):
                h = row["organic_held"]
                assert isinstance(h, dict)
                keys = (
                    "at_brushed_shops", "brushed_shops_orders", "elsewhere_attack_accounts", "elsewhere_others",
                    "organic_orders",
                )  # fmt: skip
                c = [int(h[k]) for k in keys]
                totals += np.asarray(c)
                lines.append(
                    f"| {row['seed']} | {row['camouflage']:g} | {c[0]:,} / {c[1]:,} · {c[2]:,} · {c[3]:,} / {c[4]:,} |"
                )
    t = totals.tolist()
    lines.append(f"| all | | {t[0]:,} / {t[1]:,} · {t[2]:,} · {t[3]:,} / {t[4]:,} |")
    return lines


def bench_integrity_command(
    attacks: Path | None, seeds: list[int], days: int, camouflage: list[float], out: Path | None
) -> str:
    plan = load_attack_plan(attacks) if attacks is not None else default_plan()
    plan.check_days(days)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zhongcao-integrity-") as tmp:
        results = [run_seed(seed, days, plan, camouflage, Path(tmp)) for seed in seeds]
    text = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.processor() or platform.machine()} · "
        f"Python {platform.python_version()} · small world, {days} days, seeds {', '.join(map(str, seeds))}, "
        f"camouflage {', '.join(f'{c:g}' for c in camouflage)} · {time.perf_counter() - began:.0f} s\n\n"
        + table(results)
    )
    if out is not None:
        out.write_text(json.dumps([r.__dict__ for r in results], default=str, indent=1), encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attacks", type=Path, default=None)
    parser.add_argument("--seeds", default="2,3,4")
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--camouflage", default="1,3")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(
        bench_integrity_command(
            args.attacks,
            parse_seeds(args.seeds),
            args.days,
            [float(c) for c in args.camouflage.split(",")],
            args.json,
        )
    )


if __name__ == "__main__":
    main()
