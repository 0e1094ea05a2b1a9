"""``zhongcao demo``: migrate, build (or reuse) the demo world, simulate its days, print the logins, serve
with a job worker beside the server.

The command function lives here; :mod:`zhongcao.cli` registers it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from zhongcao import cli_support, clock, integrity_flows
from zhongcao.config import get_settings
from zhongcao.events import service as events_service
from zhongcao.integrity import service as integrity_service
from zhongcao.world import serving
from zhongcao.world.attack_plan import demo_plan
from zhongcao.world.clips import add_demo_clips
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.integrity_sim import SimulatedIntegrity
from zhongcao.world.service import WorldError, WorldSummary, build_world

if TYPE_CHECKING:
    from zhongcao.config import Settings
    from zhongcao.db import Database

console = Console()


# What the world's counts are called in the summary (a key not named here is printed with spaces).
COUNT_WORDS = {"users": "shoppers", "affiliate_open_plans": "open affiliate plans"}
# The carrier in `zhongcao demo`: a day of its schedule passes in about three minutes.
DEMO_CARRIER_TIME_SCALE = 0.002


def summary_table(summary: WorldSummary, base_url: str) -> Table:
    """The URLs and the demo logins of a built world, as a Rich table."""
    table = Table(title=f"zhongcao demo world: scale {summary.spec.scale.value}, seed {summary.spec.seed}")
    table.add_column("what")
    table.add_column("where / login")
    table.add_column("password")
    table.add_row("web app", f"{base_url}/", "")
    table.add_row("API", f"{base_url}/api", "")
    table.add_row("API docs", f"{base_url}/docs", "")
    for login in summary.logins:
        table.add_row(login.role, login.email, login.password)
    counts = ", ".join(
        f"{COUNT_WORDS.get(name, name.replace('_', ' '))} {count:,}" for name, count in summary.counts.items()
    )
    table.caption = f"{counts}. World state: {summary.path}"
    return table


def simulation_table(summary: WorldSummary) -> Table | None:
    """What the simulated days produced (orders, refunds, reviews, events ...), as a Rich table."""
    sim = summary.simulation
    if not sim:
        return None
    counts = sim.get("counts", {})
    table = Table(title=f"{sim['days']} simulated days, ending {sim.get('ended_at', '')[:10]}")
    table.add_column("what")
    table.add_column("how many", justify="right")
    for name in (
        "active_user_days",
        "searches",
        "checkouts",
        "orders_paid",
        "delivered",
        "late_deliveries",
        "refunds",
        "reviews",
        "conversations",
        "nps",
        "lives",
        "users_churned_total",
    ):
        table.add_row(name.replace("_", " "), f"{counts.get(name, 0):,}")
    table.add_row("behaviour events", f"{sim.get('events', 0):,} ({sim.get('events_per_second', 0):,}/s)")
    return table


def _train_search(database: Database) -> str:
    from zhongcao.search.training import train_search

    report, folder = train_search(database)
    return (
        f"search ranker {folder.name}: nDCG@10 {report.ndcg_ltr:.3f} vs BM25 {report.ndcg_bm25:.3f} "
        f"on {report.test_searches} held-out searches"
    )


def _train_feed(database: Database) -> str:
    from zhongcao.feed.training import train

    path, metadata = train(database, events_service.get_store(database=database))
    return f"feed model {path.name}: {metadata['metrics']['rows']:,} training rows"


# The engines that learn from the simulated month, trained in this order after a (re)build.
ENGINE_TRAINERS: list[tuple[str, Callable[[Database], str]]] = [
    ("search ranking", _train_search),
    ("the feed", _train_feed),
]


def train_engines(settings: Settings) -> None:
    """Train every engine that exists on the freshly simulated events; a failure is reported, not
    fatal (the platform serves without a model: BM25 order, the baseline feed)."""
    database = cli_support.database(settings)
    try:
        for name, trainer in ENGINE_TRAINERS:
            with console.status(f"training {name} …"):
                try:
                    line = trainer(database)
                except ValueError as exc:
                    console.print(f"[yellow]![/] {name} not trained: {exc}")
                    continue
            console.print(f"[green]✓[/] {line}")
    finally:
        database.dispose()


def _integrity_scan(settings: Settings, database: Database) -> None:
    """The platform's integrity scan once, over the simulated week (what the job worker runs every 10
    minutes): the planted attacks become open cases on the operator's desk, their flags published
    before the engines train, so the bought engagement trains nothing."""
    with console.status("integrity scan …"):
        counts = integrity_flows.run_scan(
            database, settings, events_service.get_store(settings, database), now=clock.now()
        )
    with database.session(read_only=True) as db:
        open_cases = integrity_service.open_case_count(db)
    console.print(
        f"[green]✓[/] integrity scan: {counts.get('integrity_blocks', 0)} blocks, "
        f"{open_cases} cases open on /operator/integrity"
    )


def _demo_clips(settings: Settings) -> None:
    """Short clips made by ffmpeg, so the world's short videos play (once per world)."""
    database = cli_support.database(settings)
    try:
        with console.status("making demo clips …"):
            result = add_demo_clips(database, settings)
    finally:
        database.dispose()
    if result.made:
        console.print(f"[green]✓[/] {result.made} demo clips made; {result.linked} short videos play them")
    elif result.note:
        console.print(f"[yellow]![/] no demo clips: {result.note}")


def _go_live(settings: Settings, summary: WorldSummary, base_url: str) -> None:
    """The world's present: the good shop on air, the demo shopper's order awaiting payment."""
    database = cli_support.database(settings)
    try:
        now = serving.prepare(database, summary.path, summary.spec.seed)
    finally:
        database.dispose()
    if now.live_content_id is not None:
        console.print(f"[green]✓[/] the good shop is live now: {base_url}/live/{now.live_content_id}")


def demo_command(
    scale: str = Scale.small.value,
    days: int = 30,
    seed: int = 42,
    fresh: bool = False,
    host: str | None = None,
    port: int | None = None,
    attacks: bool = True,
) -> None:
    """Migrate the embedded database, build the demo world (or reuse it), print the logins, serve.

    ``days`` simulated days end at the last midnight (UTC); ``days=0`` builds the world only. With
    ``attacks`` (the default) the simulation's last week plants a small engagement farm, a view
    inflation script and a brushing ring (:func:`~zhongcao.world.attack_plan.demo_plan`), and the
    platform's integrity scan runs once when the build ends, so the operator's desk has cases.
    """
    # The demo's carrier runs fast unless told otherwise: a parcel shipped in the console arrives
    # within minutes (docs/logistics.md). The server and the worker beside it both read it.
    if "ZHONGCAO_CARRIER_TIME_SCALE" not in os.environ:
        os.environ["ZHONGCAO_CARRIER_TIME_SCALE"] = str(DEMO_CARRIER_TIME_SCALE)
        get_settings.cache_clear()
    settings = cli_support.settings()
    try:
        if not 0 <= days <= 365:
            raise ValueError("days must be between 0 and 365")
        spec = WorldSpec(scale=Scale(scale), seed=seed, days=max(days, 1))
    except ValueError as exc:
        raise cli_support.fail(f"invalid demo options: {exc}", 2) from exc
    base_url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"zhongcao demo: the web app will be at [bold]{base_url}/[/] once the world below is ready")
    revision = cli_support.upgrade(settings)
    console.print(
        f"[green]✓[/] database {cli_support.redacted(settings.database_url)} ready (revision {revision})"
    )
    database = cli_support.database(settings)
    # Planted by the simulation with its own detection off: the platform's scan below finds them.
    planted = SimulatedIntegrity(demo_plan(days), seed, detect=False) if attacks and days > 0 else None
    try:
        summary = build_world(
            database,
            spec,
            fresh=fresh,
            progress=True,
            world_dir=settings.world_dir,
            simulate_days=days > 0,
            integrity=planted,
        )
        if planted is not None and not summary.reused:
            _integrity_scan(settings, database)
    except WorldError as exc:
        raise cli_support.fail(str(exc)) from exc
    finally:
        database.dispose()
    how = "reused" if summary.reused else f"built in {summary.seconds:.1f} s"
    console.print(f"[green]✓[/] world {spec.key} {how}")
    _demo_clips(settings)
    if not summary.reused and days > 0:
        train_engines(settings)
    console.print(summary_table(summary, base_url))
    simulated = simulation_table(summary)
    if simulated is not None:
        console.print(simulated)
    _go_live(settings, summary, base_url)
    # The server and a job worker beside it; Ctrl-C stops both (the worker after its runs under way).
    worker = cli_support.start_worker_process()
    try:
        cli_support.serve(host=host, port=port, workers=1, migrate_first=False)
    finally:
        cli_support.stop_worker_process(worker)
