"""``zhongcao simulate --policy gmv|experience``: the long-run trade-off between selling and serving.

The same world (scale, seed) is built once per feed policy into its own embedded database and run for
the same days; only the policy that fills the feed differs:

* ``gmv`` (:class:`~zhongcao.feed.policy.GmvFeed`): exposure grows with a shop's trailing GMV;
* ``experience`` (:class:`~zhongcao.feed.policy.ExperienceAwareFeed`): exposure is gated and boosted by
  the shop's experience score, which the platform computes every simulated night from its records;
* ``popular_followed`` (:class:`~zhongcao.feed.policy.PopularFollowedFeed`): the baseline;
* ``trained`` (:class:`~zhongcao.feed.trained_policy.TrainedFeed`): the real feed model, trained on the
  simulated platform's own event log after a warm-up week and weekly after that, serving through
  ``FeedService`` (``zhongcao simulate --policy popular_followed,trained``).

Everything reported is read back from each platform's own records (orders, NPS answers) plus the
simulated people's churn; nothing is written in. Whichever policy comes out ahead, it is because of how
the simulated buyers reacted (satisfaction, churn, repurchase).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from zhongcao import migrate
from zhongcao.commerce import service as commerce_service
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.experience import surveys as nps_surveys
from zhongcao.feed.policy import FeedPolicy
from zhongcao.feed.policy_registry import POLICIES, get_policy
from zhongcao.integrity.blocks import Block
from zhongcao.world.attack_plan import AttackFileError, AttackPlan, load_attack_plan
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.integrity_sim import SimulatedIntegrity
from zhongcao.world.merchants import MerchantRules
from zhongcao.world.reactions import Reactions
from zhongcao.world.service import build_world, load_latent

MONTH_DAYS = 30
WEEK_DAYS = 7


@dataclass
class PolicyOutcome:
    policy: str
    gmv_by_month_fen: list[int] = field(default_factory=list)
    orders: int = 0
    buyers: int = 0
    nps_tenths: int | None = None
    nps_responses: int = 0
    retention: float | None = None  # buyers of the first month who bought again later
    repurchase_rate: float | None = None  # buyers with two orders or more
    churned_users: int = 0
    mean_satisfaction: float = 0.0
    seconds: float = 0.0
    gmv_by_week_fen: list[int] = field(default_factory=list)
    feed_seconds: float = 0.0  # of ``seconds``, spent in the feed policy (fit and pages)
    notes: str = ""  # what the policy says about itself (a trained feed: when it trained, page time)
    integrity: list[str] = field(default_factory=list)  # what the planted attacks came to (--attacks)
    poor_gmv_share: float | None = None  # of GMV paid at shops whose hidden quality was poor then
    merchant_exits: int = 0
    merchant_improvements: int = 0
    merchant_scale_ups: int = 0
    digest: str = ""  # the simulation's outcome digest
    world_digest: str = ""  # the generated world's digest (the same for every policy)
    simulation_seconds: float = 0.0  # of ``seconds``, the simulated days (the rest builds the world)
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def gmv_fen(self) -> int:
        return sum(self.gmv_by_month_fen)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def run_policy(
    policy: str | FeedPolicy,
    spec: WorldSpec,
    workdir: Path,
    attacks: AttackPlan | None = None,
    *,
    reactions: Reactions | None = None,
    merchants: MerchantRules | None = None,
    first_days: int | None = None,
) -> PolicyOutcome:
    """Build ``spec``'s world under ``policy`` into ``workdir/policy`` and simulate it; what changes
    between policies is the feed policy alone (the world, reactions, merchant rules and random
    streams are the same). ``attacks``: plant them, with detection and discounting on (issue #19)."""
    name = policy if isinstance(policy, str) else policy.name
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{folder}/world.db")
    feed = get_policy(policy) if isinstance(policy, str) else policy
    layer = SimulatedIntegrity(attacks, spec.seed) if attacks is not None else None
    try:
        migrate.upgrade(database.engine)
        store = SegmentEventStore(folder / "events")
        summary = build_world(
            database,
            spec,
            fresh=True,
            progress=False,
            world_dir=folder / "world",
            store=store,
            feed_policy=feed,
            integrity=layer,
            reactions=reactions,
            merchants=merchants,
            first_days=first_days,
        )
        store.close()
        latent = load_latent(summary.path)
        start = _utc(datetime.fromisoformat(summary.started_at)) if summary.started_at else None
        with database.session(read_only=True) as db:
            rows = commerce_service.sales_rows(db)
            nps = nps_surveys.nps_summary(db)
    finally:
        database.dispose()
        close = getattr(feed, "close", None)
        if callable(close):
            close()
    out = PolicyOutcome(policy=name, seconds=summary.seconds, notes=_notes(feed))
    if layer is not None:
        out.integrity = integrity_lines(layer)
    out.feed_seconds = float(summary.simulation.get("phase_seconds", {}).get("feed policy", 0.0))
    counts = summary.simulation.get("counts", {})
    if counts.get("gmv_paid_fen"):
        out.poor_gmv_share = round(counts.get("gmv_poor_shops_fen", 0) / counts["gmv_paid_fen"], 4)
    out.merchant_exits = int(counts.get("merchant_exits", 0))
    out.merchant_improvements = int(counts.get("merchant_improvements", 0))
    out.merchant_scale_ups = int(counts.get("merchant_scale_ups", 0))
    out.digest = str(summary.simulation.get("digest", ""))
    out.world_digest = summary.digest
    out.simulation_seconds = float(summary.simulation.get("seconds", 0.0))
    out.phase_seconds = dict(summary.simulation.get("phase_seconds", {}))
    months = max(1, -(-spec.days // MONTH_DAYS))
    out.gmv_by_month_fen = [0] * months
    weeks = max(1, -(-spec.days // WEEK_DAYS))
    out.gmv_by_week_fen = [0] * weeks
    orders_by_user: dict[int, list[int]] = {}
    seen_orders: set[int] = set()
    for order_id, _item, _shop, user_id, *_rest in rows:
        paid_at, paid_fen = _utc(_rest[5]), _rest[7]
        month = 0 if start is None else min(months - 1, max(0, (paid_at - start).days // MONTH_DAYS))
        out.gmv_by_month_fen[month] += int(paid_fen)
        week = 0 if start is None else min(weeks - 1, max(0, (paid_at - start).days // WEEK_DAYS))
        out.gmv_by_week_fen[week] += int(paid_fen)
        if order_id not in seen_orders:
            seen_orders.add(order_id)
            orders_by_user.setdefault(user_id, []).append(month)
    out.orders = len(seen_orders)
    out.buyers = len(orders_by_user)
    if out.buyers:
        out.repurchase_rate = round(sum(1 for m in orders_by_user.values() if len(m) >= 2) / out.buyers, 4)
        first_month = [m for m in orders_by_user.values() if 0 in m]
        if first_month and months > 1:
            out.retention = round(sum(1 for m in first_month if any(x > 0 for x in m)) / len(first_month), 4)
    out.nps_tenths, out.nps_responses = nps.nps_tenths, nps.responses
    out.churned_users = int(latent["user_churned"].sum())
    out.mean_satisfaction = round(float(latent["user_satisfaction_end"].mean()), 4)
    return out


def integrity_lines(layer: SimulatedIntegrity) -> list[str]:
    """What the attacks came to: planted accounts and orders, what was flagged, the top blocks."""
    from zhongcao.integrity.explain import describe

    truth = layer.runtime.truth
    flagged = set(layer.record.accounts)
    lines = []
    for kind in ("farm", "view_inflation", "brushing"):
        acted = {u for u, k in truth.account_kind.items() if k == kind and u in truth.account_start_us}
        if acted:
            lines.append(f"{kind}: {len(acted & flagged)} of {len(acted)} attacking accounts flagged")
    if truth.brushed_orders:
        caught = len(truth.brushed_orders & set(layer.record.orders))
        lines.append(f"brushed orders: {caught} of {len(truth.brushed_orders)} flagged")
    organic = flagged - set(truth.account_kind)
    lines.append(f"organic accounts flagged: {len(organic)}")
    best: dict[str, Block] = {}
    for _night, block in sorted(layer.record.blocks, key=lambda nb: -nb[1].score):
        best.setdefault(block.kind.value, block)
    for block in best.values():
        lines.append(describe(block)["en"])
    return lines


def _notes(feed: object) -> str:
    """A trained feed's own account: the days it trained on and what a page cost."""
    trainings = getattr(feed, "trainings", None)
    if trainings is None:
        return ""
    done = [t for t in trainings if t.error is None]
    parts = [
        "trained on day " + ", ".join(str(t.day) for t in done) + f" ({sum(t.seconds for t in done):.1f} s)"
        if done
        else "never trained (the baseline served every day)"
    ]
    failed = [t for t in trainings if t.error is not None]
    if failed:
        parts.append(f"{len(failed)} training(s) failed: {failed[0].error}")
    pages = getattr(feed, "pages", 0)
    if pages:
        ms = 1000 * getattr(feed, "page_seconds", 0.0) / pages
        parts.append(f"{pages:,} model pages, {ms:.1f} ms each, {getattr(feed, 'short_pages', 0):,} short")
    return "; ".join(parts)


def compare_policies(
    policies: list[str],
    *,
    scale: Scale = Scale.small,
    days: int = 90,
    seed: int = 42,
    workdir: Path | None = None,
    attacks: AttackPlan | None = None,
) -> list[PolicyOutcome]:
    spec = WorldSpec(scale=scale, seed=seed, days=days)
    if workdir is not None:
        return [run_policy(p, spec, workdir, attacks) for p in policies]
    with tempfile.TemporaryDirectory(prefix="zhongcao-simulate-") as tmp:
        return [run_policy(p, spec, Path(tmp), attacks) for p in policies]


def simulate_command(
    policy: str = "gmv,experience",
    days: int = 90,
    seed: int = 42,
    scale: str = "small",
    attacks: Path | None = None,
) -> None:
    """Print, per policy: GMV by month, global NPS, buyer retention, repurchase rate and churn."""
    import typer
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=160)  # a wide table: months side by side
    chosen = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in POLICIES]
    if not chosen or unknown:
        console.print(
            f"[red]error:[/red] unknown policy {unknown or policy!r}; known: {', '.join(sorted(POLICIES))}"
        )
        raise typer.Exit(2)
    try:
        spec_scale = Scale(scale)
        WorldSpec(scale=spec_scale, seed=seed, days=days)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    plan = None
    if attacks is not None:
        try:
            plan = load_attack_plan(attacks)
            plan.check_days(days)
        except AttackFileError as exc:
            console.print("[red]error:[/red] invalid attack file: " + escape("; ".join(exc.problems)))
            raise typer.Exit(2) from None
    outcomes = []
    for name in chosen:
        with console.status(f"simulating {days} days under the {name} policy (scale {scale}, seed {seed}) …"):
            outcomes.append(compare_policies([name], scale=spec_scale, days=days, seed=seed, attacks=plan)[0])
    table = Table(
        title=f"{days} simulated days, scale {scale}, seed {seed}: the same world under each feed policy"
    )
    table.add_column("policy")
    months = max(len(o.gmv_by_month_fen) for o in outcomes)
    for m in range(months):
        table.add_column(f"GMV month {m + 1} (yuan)", justify="right")
    for name in (
        "GMV total (yuan)",
        "orders",
        "buyers",
        "NPS",
        "retention",
        "repurchase",
        "churned",
        "satisfaction",
    ):
        table.add_column(name, justify="right")
    for o in outcomes:
        table.add_row(
            o.policy,
            *[f"{fen / 100:,.0f}" for fen in o.gmv_by_month_fen],
            f"{o.gmv_fen / 100:,.0f}",
            f"{o.orders:,}",
            f"{o.buyers:,}",
            "—" if o.nps_tenths is None else f"{o.nps_tenths / 10:+.1f} ({o.nps_responses})",
            "—" if o.retention is None else f"{o.retention:.1%}",
            "—" if o.repurchase_rate is None else f"{o.repurchase_rate:.1%}",
            f"{o.churned_users:,}",
            f"{o.mean_satisfaction:.3f}",
        )
    console.print(table)
    weeks = Table(title="GMV by week (yuan); wall time")
    weeks.add_column("policy")
    for w in range(max(len(o.gmv_by_week_fen) for o in outcomes)):
        weeks.add_column(f"week {w + 1}", justify="right")
    weeks.add_column("seconds (feed)", justify="right")
    for o in outcomes:
        weeks.add_row(
            o.policy,
            *[f"{fen / 100:,.0f}" for fen in o.gmv_by_week_fen],
            f"{o.seconds:,.0f} ({o.feed_seconds:,.0f})",
        )
    console.print(weeks)
    for o in outcomes:
        if o.notes:
            console.print(f"{o.policy}: {o.notes}")
        for line in o.integrity:
            console.print(f"{o.policy} integrity: {line}", markup=False, soft_wrap=True)
