"""``zhongcao demo``: migrate, build (or reuse) the demo world, print the logins, serve.

The command function lives here; :mod:`zhongcao.cli` registers it.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.service import WorldError, WorldSummary, build_world

console = Console()


def summary_table(summary: WorldSummary, base_url: str) -> Table:
    """The URLs and the demo logins of a built world, as a Rich table."""
    table = Table(title=f"zhongcao demo world: scale {summary.spec.scale.value}, seed {summary.spec.seed}")
    table.add_column("what")
    table.add_column("where / login")
    table.add_column("password")
    table.add_row("API", f"{base_url}/api", "")
    table.add_row("API docs", f"{base_url}/docs", "")
    for login in summary.logins:
        table.add_row(login.role, login.email, login.password)
    counts = ", ".join(f"{name} {count:,}" for name, count in summary.counts.items())
    table.caption = f"{counts}. World state: {summary.path}"
    return table


def demo_command(
    scale: str = Scale.small.value,
    days: int = 30,
    seed: int = 42,
    fresh: bool = False,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Migrate the embedded database, build the demo world (or reuse it), print the logins, serve.

    ``days`` is recorded with the world; the market simulation that uses it comes with issue #3's
    simulator.
    """
    from zhongcao import cli

    settings = cli._settings()
    try:
        spec = WorldSpec(scale=Scale(scale), seed=seed, days=days)
    except ValueError as exc:
        raise cli._fail(f"invalid demo options: {exc}", 2) from exc
    revision = cli._upgrade(settings)
    console.print(f"[green]✓[/] database {cli._redacted(settings.database_url)} ready (revision {revision})")
    database = cli._database(settings)
    try:
        summary = build_world(database, spec, fresh=fresh, progress=True, world_dir=settings.world_dir)
    except WorldError as exc:
        raise cli._fail(str(exc)) from exc
    finally:
        database.dispose()
    how = "reused" if summary.reused else f"built in {summary.seconds:.1f} s"
    console.print(f"[green]✓[/] world {spec.key} {how}")
    base_url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(summary_table(summary, base_url))
    cli.serve(host=host, port=port, workers=1, migrate_first=False)
