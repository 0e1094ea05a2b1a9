"""Time one policy-run of the north-star experiment (issue #20 item 3): build the world for a seed, then
simulate ``--days`` days under one feed policy with adapting merchants, and print the wall time, the
time per simulated day and each phase's share (the target: medium × 180 days in 15 minutes or less on
2 cores). ``--profile FILE`` writes a cProfile of the run. ``--first-days K`` builds the world for
``--days`` days but simulates only its first K: a world made for 180 days spreads its live sessions and
sales over 180 days, so a short run of a short world would time a busier day than a long run has.

    python benchmarks/northstar/bench_policy_run.py --scale medium --days 180 --first-days 5 --policy gmv
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import tempfile
import time
from pathlib import Path

from zhongcao.world.compare import run_policy
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.merchants import MerchantRules


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="medium", choices=[s.value for s in Scale])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", default="gmv")
    parser.add_argument("--first-days", type=int, default=None)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    spec = WorldSpec(scale=Scale(args.scale), seed=args.seed, days=args.days)
    profiler = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="zhongcao-bench-northstar-") as tmp:
        began = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        out = run_policy(args.policy, spec, Path(tmp), merchants=MerchantRules(), first_days=args.first_days)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(args.profile))
        wall = time.perf_counter() - began
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"scale {args.scale}, seed {args.seed}, policy {args.policy}, {args.days} days: {wall:,.1f} s wall "
        f"(build + simulation {out.seconds:,.1f} s), {out.orders:,} orders"
    )
    days = max(min(args.days, args.first_days or args.days), 1)
    if days < args.days:
        print(f"simulated the first {days} of the {args.days} days the world was made for")
    print(
        f"simulated days {out.simulation_seconds:,.1f} s ({out.simulation_seconds / days:,.1f} s a day), "
        f"build {out.seconds - out.simulation_seconds:,.1f} s"
    )
    for phase, seconds in sorted(out.phase_seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {phase}: {seconds:,.1f} s")
    print(out.notes or "")


if __name__ == "__main__":
    main()
