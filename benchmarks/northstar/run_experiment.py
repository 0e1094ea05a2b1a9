"""The north-star experiment, one run at a time, resumable: each (seed, policy) run appends its outcome
to a JSON-lines file as soon as it ends (a run already in the file is skipped), and ``--report`` prints
the tables of ``zhongcao simulate --seeds`` from whatever the file holds. For long experiments on a busy
machine, or several processes sharing the work (one file each, then ``--report a.jsonl b.jsonl``).

    python benchmarks/northstar/run_experiment.py --out runs.jsonl --seeds 1,2,3 --days 90 --scale small \\
        --policy gmv,experience
    python benchmarks/northstar/run_experiment.py --report runs.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from zhongcao.world.compare import PolicyOutcome, run_policy
from zhongcao.world.experiment import Experiment, difference_table, experiment_table, parse_seeds
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.merchants import MerchantRules
from zhongcao.world.reactions import Reactions


def run(out: Path, seeds: list[int], policies: list[str], scale: Scale, days: int) -> None:
    done = {(r["seed"], r["outcome"]["policy"]) for r in _read([out])} if out.exists() else set()
    for seed in seeds:
        for policy in policies:
            if (seed, policy) in done:
                continue
            with tempfile.TemporaryDirectory(prefix="zhongcao-experiment-") as tmp:
                outcome = run_policy(
                    policy, WorldSpec(scale=scale, seed=seed, days=days), Path(tmp), merchants=MerchantRules()
                )
            row = {"seed": seed, "scale": scale.value, "days": days, "outcome": dataclasses.asdict(outcome)}
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(
                f"seed {seed} {policy}: {outcome.seconds:,.0f} s, GMV {outcome.gmv_fen / 100:,.0f}",
                flush=True,
            )


def _read(files: list[Path]) -> list[dict]:
    return [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line]


class MarkdownTable:
    """Just enough of rich's Table to print the same tables as markdown (for benchmarks/RESULTS.md)."""

    def __init__(self, title: str = "") -> None:
        self.title, self.columns, self.rows = title, [], []  # type: ignore[var-annotated]

    def add_column(self, name: str, **_: object) -> None:
        self.columns.append(name)

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def __str__(self) -> str:
        lines = [f"*{self.title}*", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


def report(files: list[Path], markdown: bool = False) -> None:
    rows = _read(files)
    policies = list(dict.fromkeys(r["outcome"]["policy"] for r in rows))
    # Only seeds every policy ran on, so that the paired differences pair.
    seeds = sorted(
        set.intersection(*({r["seed"] for r in rows if r["outcome"]["policy"] == p} for p in policies))
    )
    by = {(r["seed"], r["outcome"]["policy"]): PolicyOutcome(**r["outcome"]) for r in rows}
    first = rows[0]
    exp = Experiment(
        Scale(first["scale"]),
        int(first["days"]),
        seeds,
        policies,
        Reactions(),
        MerchantRules(),
        {p: [by[(s, p)] for s in seeds] for p in policies},
    )
    console = Console(width=200)
    kind = MarkdownTable if markdown else Table
    show = print if markdown else console.print
    show(experiment_table(exp, kind))
    if len(policies) > 1:
        show(difference_table(exp, "gmv" if "gmv" in policies else policies[0], kind))
    for p in policies:
        times = [o.seconds for o in exp.runs[p]]
        notes = next((o.notes for o in exp.runs[p] if o.notes), "")
        console.print(f"{p}: run {min(times):,.0f}-{max(times):,.0f} s. {notes}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--policy", default="gmv,experience,trained")
    parser.add_argument("--scale", default="small", choices=[s.value for s in Scale])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--report", type=Path, nargs="+")
    parser.add_argument("--markdown", action="store_true", help="with --report: markdown tables")
    args = parser.parse_args()
    if args.report:
        report(args.report, markdown=args.markdown)
        return
    if args.out is None:
        parser.error("give --out FILE (or --report FILE ...)")
    policies = [p.strip() for p in args.policy.split(",") if p.strip()]
    run(args.out, parse_seeds(args.seeds), policies, Scale(args.scale), args.days)


if __name__ == "__main__":
    main()
