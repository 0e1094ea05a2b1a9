"""The north-star experiment (issue #20 item 3): policies × seeds × days, with 95% intervals across
seeds, and a sensitivity table over the documented ranges of the people's reactions and the
merchants' rules.

Each (seed, policy) is one :func:`zhongcao.world.compare.run_policy`: the same world, people, reaction
parameters, merchant rules and random streams; only the feed policy differs. Differences between
policies are paired by seed (the runs share their random streams, so the paired difference is much
less noisy than either run). Intervals are Student-t intervals over the seeds.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scipy import stats

from zhongcao.world import merchants as merchant_rules
from zhongcao.world import reactions as reaction_rules
from zhongcao.world.compare import PolicyOutcome, run_policy
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.merchants import MerchantRules
from zhongcao.world.reactions import Reactions

DEFAULT_POLICIES = ("gmv", "experience", "trained")
SENSITIVITY_POLICIES = ("gmv", "experience")


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    def text(self, fmt: str = "{:,.0f}") -> str:
        if self.n == 0 or math.isnan(self.mean):
            return "—"
        if self.n < 2 or math.isnan(self.low):
            return fmt.format(self.mean)
        half = (self.high - self.low) / 2
        return f"{fmt.format(self.mean)} ± {fmt.replace('+', '').format(half)}"

    @property
    def sign(self) -> int:
        """+1 when the whole interval is above 0, -1 below, 0 when it spans 0 (or one seed)."""
        if self.n < 2:
            return 0
        return 1 if self.low > 0 else -1 if self.high < 0 else 0


def interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """The mean and its Student-t interval over ``values`` (NaN bounds for fewer than two)."""
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not xs:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return Interval(mean, math.nan, math.nan, len(xs))
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, len(xs) - 1)) * sd / math.sqrt(len(xs))
    return Interval(mean, mean - half, mean + half, len(xs))


# What the table reports per run: (label, how to read it off an outcome, format).
METRICS: list[tuple[str, Callable[[PolicyOutcome], float | None], str]] = [
    ("GMV total (yuan)", lambda o: o.gmv_fen / 100, "{:,.0f}"),
    ("orders", lambda o: o.orders, "{:,.0f}"),
    ("buyers", lambda o: o.buyers, "{:,.0f}"),
    ("NPS", lambda o: None if o.nps_tenths is None else o.nps_tenths / 10, "{:+.1f}"),
    ("retention %", lambda o: None if o.retention is None else 100 * o.retention, "{:.1f}"),
    ("repurchase %", lambda o: None if o.repurchase_rate is None else 100 * o.repurchase_rate, "{:.1f}"),
    ("churned", lambda o: o.churned_users, "{:,.0f}"),
    (
        "GMV from poor shops %",
        lambda o: None if o.poor_gmv_share is None else 100 * o.poor_gmv_share,
        "{:.1f}",
    ),
    ("merchant exits", lambda o: o.merchant_exits, "{:,.1f}"),
    ("merchant improvements", lambda o: o.merchant_improvements, "{:,.1f}"),
    ("merchant scale-ups", lambda o: o.merchant_scale_ups, "{:,.1f}"),
]


@dataclass
class Experiment:
    scale: Scale
    days: int
    seeds: list[int]
    policies: list[str]
    reactions: Reactions
    merchants: MerchantRules | None
    runs: dict[str, list[PolicyOutcome]]  # policy -> one outcome per seed (in ``seeds`` order)
    seconds: float = 0.0

    def metric(self, policy: str, read: Callable[[PolicyOutcome], float | None]) -> Interval:
        return interval([v for v in (read(o) for o in self.runs[policy]) if v is not None])

    def month(self, policy: str, m: int) -> Interval:
        return interval(
            [o.gmv_by_month_fen[m] / 100 for o in self.runs[policy] if m < len(o.gmv_by_month_fen)]
        )

    def paired_change(
        self, policy: str, base: str, read: Callable[[PolicyOutcome], float | None]
    ) -> Interval:
        """The per-seed relative change of ``policy`` against ``base`` (percent)."""
        out = []
        for a, b in zip(self.runs[policy], self.runs[base], strict=True):
            va, vb = read(a), read(b)
            if va is not None and vb:
                out.append(100.0 * (va - vb) / abs(vb))
        return interval(out)

    def paired_difference(
        self, policy: str, base: str, read: Callable[[PolicyOutcome], float | None]
    ) -> Interval:
        """The per-seed difference ``policy - base`` in the metric's own unit."""
        out = []
        for a, b in zip(self.runs[policy], self.runs[base], strict=True):
            va, vb = read(a), read(b)
            if va is not None and vb is not None:
                out.append(va - vb)
        return interval(out)


def run_experiment(
    policies: Sequence[str],
    seeds: Sequence[int],
    *,
    scale: Scale,
    days: int,
    reactions: Reactions | None = None,
    merchants: MerchantRules | None = None,
    workdir: Path | None = None,
    progress: Callable[[str], object] | None = None,
) -> Experiment:
    """Every policy on every seed's world (one temporary database per run, removed afterwards)."""
    reactions = reactions or Reactions()
    began = time.perf_counter()
    runs: dict[str, list[PolicyOutcome]] = {p: [] for p in policies}
    for seed in seeds:
        spec = WorldSpec(scale=scale, seed=seed, days=days)
        for policy in policies:
            if progress is not None:
                progress(f"seed {seed}, policy {policy}")
            with tempfile.TemporaryDirectory(prefix="zhongcao-experiment-", dir=workdir) as tmp:
                runs[policy].append(
                    run_policy(policy, spec, Path(tmp), reactions=reactions, merchants=merchants)
                )
    return Experiment(
        scale, days, list(seeds), list(policies), reactions, merchants, runs, time.perf_counter() - began
    )


@dataclass(frozen=True)
class SensitivityRow:
    group: str  # "people" or "merchants"
    name: str
    value: float
    gmv_change: Interval  # experience vs gmv, % of total GMV, paired by seed
    last_month_change: Interval  # the same for the last month
    nps_difference: Interval  # experience - gmv, NPS points


def sensitivity(
    seeds: Sequence[int],
    *,
    scale: Scale,
    days: int,
    names: Sequence[str] | None = None,
    reactions: Reactions | None = None,
    merchants: MerchantRules | None = None,
    progress: Callable[[str], object] | None = None,
) -> list[SensitivityRow]:
    """For each parameter (``names``, default every ranged one) at the low and the high end of its
    range, the experience policy against the gmv policy on the same seeds, everything else at its
    default."""
    reactions = reactions or Reactions()
    merchants = merchants or MerchantRules()
    wanted = list(names) if names else [*reaction_rules.RANGES, *merchant_rules.RANGES]
    rows: list[SensitivityRow] = []
    for name in wanted:
        if name in reaction_rules.RANGES:
            group, bounds = "people", reaction_rules.RANGES[name]
        elif name in merchant_rules.RANGES:
            group, bounds = "merchants", merchant_rules.RANGES[name]
        else:
            raise ValueError(
                f"no ranged parameter {name!r}; known: "
                + ", ".join(sorted([*reaction_rules.RANGES, *merchant_rules.RANGES]))
            )
        for value in bounds:
            r = reaction_rules.with_value(reactions, name, value) if group == "people" else reactions
            m = merchant_rules.with_value(merchants, name, value) if group == "merchants" else merchants
            if progress is not None:
                progress(f"{name} = {value:g}")
            exp = run_experiment(
                SENSITIVITY_POLICIES, seeds, scale=scale, days=days, reactions=r, merchants=m
            )
            last = max(0, len(exp.runs["gmv"][0].gmv_by_month_fen) - 1)
            rows.append(
                SensitivityRow(
                    group,
                    name,
                    value,
                    exp.paired_change("experience", "gmv", lambda o: o.gmv_fen),
                    exp.paired_change("experience", "gmv", lambda o, m=last: o.gmv_by_month_fen[m]),  # type: ignore[misc]
                    exp.paired_difference(
                        "experience", "gmv", lambda o: None if o.nps_tenths is None else o.nps_tenths / 10
                    ),
                )
            )
    return rows


def verdict(change: Interval) -> str:
    """What a paired GMV change says, in words."""
    return {1: "experience ahead", -1: "gmv ahead", 0: "no clear difference"}[change.sign]


def parse_seeds(text: str) -> list[int]:
    """``"1,2,3"`` or ``"1-5"`` (or a mix) as a list of distinct seeds, in order."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, dash, hi = part.partition("-")
        try:
            values = range(int(lo), int(hi) + 1) if dash else [int(part)]
        except ValueError:
            raise ValueError(f"seeds must be integers like 1,2,3 or 1-5, not {part!r}") from None
        seeds.extend(v for v in values if v not in seeds)
    if not seeds:
        raise ValueError("give at least one seed, like --seeds 1,2,3")
    if any(s < 0 for s in seeds):
        raise ValueError("seeds must not be negative")
    return seeds


def experiment_command(
    *,
    policy: str,
    seeds: str,
    days: int,
    scale: str,
    sensitivity_table: bool,
    vary: str | None,
    adapt: bool,
) -> None:
    """``zhongcao simulate --seeds ...``: the experiment's tables (see the module docstring)."""
    import typer
    from rich.console import Console
    from rich.table import Table

    from zhongcao.feed.policy_registry import POLICIES

    console = Console(width=200)

    def fail(message: str) -> typer.Exit:
        console.print(f"[red]error:[/red] {message}")
        return typer.Exit(2)

    chosen = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in POLICIES]
    if not chosen or unknown:
        named = ", ".join(unknown) if unknown else repr(policy)
        raise fail(f"unknown policy {named}; known: {', '.join(sorted(POLICIES))}")
    if sensitivity_table and not {"gmv", "experience"} <= set(chosen):
        raise fail("the sensitivity table compares experience with gmv: include both in --policy")
    try:
        seed_list = parse_seeds(seeds)
        spec_scale = Scale(scale)
        WorldSpec(scale=spec_scale, seed=seed_list[0], days=days)
        names = [n.strip() for n in vary.split(",") if n.strip()] if vary else None
        known = {*reaction_rules.RANGES, *merchant_rules.RANGES}
        if names and (bad := [n for n in names if n not in known]):
            raise ValueError(f"cannot vary {', '.join(bad)}; ranged parameters: {', '.join(sorted(known))}")
    except ValueError as exc:
        raise fail(str(exc)) from None
    merchants = MerchantRules() if adapt else None
    with console.status("…") as status:
        exp = run_experiment(
            chosen,
            seed_list,
            scale=spec_scale,
            days=days,
            merchants=merchants,
            progress=lambda what: status.update(f"simulating {days} days at {scale}: {what} …"),
        )
    console.print(experiment_table(exp, Table))
    base = "gmv" if "gmv" in chosen else chosen[0]
    if len(chosen) > 1:
        console.print(difference_table(exp, base, Table))
    for p in chosen:
        notes = [o.notes for o in exp.runs[p] if o.notes]
        if notes:
            console.print(f"{p} (seed {seed_list[0]}): {notes[0]}")
    per_run = [o.seconds for runs in exp.runs.values() for o in runs]
    console.print(
        f"{len(per_run)} runs in {exp.seconds:,.0f} s; one run (build + {days} days) "
        f"{min(per_run):,.0f}-{max(per_run):,.0f} s. Intervals: 95% Student-t over {len(seed_list)} seeds."
    )
    if sensitivity_table:
        with console.status("…") as status:
            rows = sensitivity(
                seed_list,
                scale=spec_scale,
                days=days,
                names=names,
                merchants=merchants,
                progress=lambda what: status.update(f"sensitivity: {what} …"),
            )
        baseline = exp.paired_change("experience", "gmv", lambda o: o.gmv_fen)
        console.print(sensitivity_table_view(rows, baseline, Table))


def experiment_table(exp: Experiment, table_type: type) -> object:
    table = table_type(
        title=f"{exp.days} simulated days, scale {exp.scale.value}, seeds {', '.join(map(str, exp.seeds))}: "
        "mean ± 95% interval across seeds" + ("" if exp.merchants is not None else " (shops do not adapt)")
    )
    table.add_column("metric")
    for p in exp.policies:
        table.add_column(p, justify="right")
    months = max(len(o.gmv_by_month_fen) for runs in exp.runs.values() for o in runs)
    for m in range(months):
        table.add_row(f"GMV month {m + 1} (yuan)", *[exp.month(p, m).text() for p in exp.policies])
    for label, read, fmt in METRICS:
        table.add_row(label, *[exp.metric(p, read).text(fmt) for p in exp.policies])
    return table


def difference_table(exp: Experiment, base: str, table_type: type) -> object:
    others = [p for p in exp.policies if p != base]
    table = table_type(title=f"Against {base}, paired by seed: change % (GMV) or difference (the rest)")
    table.add_column("metric")
    for p in others:
        table.add_column(f"{p} vs {base}", justify="right")
    months = max(len(o.gmv_by_month_fen) for runs in exp.runs.values() for o in runs)
    for m in range(months):
        table.add_row(
            f"GMV month {m + 1} %",
            *[
                exp.paired_change(p, base, lambda o, m=m: o.gmv_by_month_fen[m]).text("{:+.1f}")  # type: ignore[misc]
                for p in others
            ],
        )
    table.add_row(
        "GMV total %", *[exp.paired_change(p, base, lambda o: o.gmv_fen).text("{:+.1f}") for p in others]
    )
    for label, read, fmt in METRICS[1:]:
        signed = "{:+" + fmt[2:] if fmt.startswith("{:") and not fmt.startswith("{:+") else fmt
        table.add_row(label, *[exp.paired_difference(p, base, read).text(signed) for p in others])
    table.add_row(
        "verdict (GMV total)", *[verdict(exp.paired_change(p, base, lambda o: o.gmv_fen)) for p in others]
    )
    return table


def sensitivity_table_view(rows: list[SensitivityRow], baseline: Interval, table_type: type) -> object:
    table = table_type(
        title="Sensitivity: experience vs gmv at each end of each documented range (everything else at "
        f"its default; at the defaults GMV {baseline.text('{:+.1f}')} %, {verdict(baseline)})"
    )
    for name in (
        "group",
        "parameter",
        "value",
        "GMV total %",
        "last month GMV %",
        "NPS points",
        "verdict",
        "flips?",
    ):
        table.add_column(name, justify="left" if name in ("group", "parameter", "verdict") else "right")
    for r in rows:
        flips = r.gmv_change.sign != 0 and baseline.sign != 0 and r.gmv_change.sign != baseline.sign
        table.add_row(
            r.group,
            r.name,
            f"{r.value:g}",
            r.gmv_change.text("{:+.1f}"),
            r.last_month_change.text("{:+.1f}"),
            r.nps_difference.text("{:+.1f}"),
            verdict(r.gmv_change),
            "yes" if flips else ("changes" if r.gmv_change.sign != baseline.sign else "no"),
        )
    return table
