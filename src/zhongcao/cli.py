"""The ``zhongcao`` command line: serve, migrate, manage users, check health, run background jobs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zhongcao import cli_support
from zhongcao.imports import import_app
from zhongcao.world.olist import olist_catalog_command

app = typer.Typer(
    name="zhongcao",
    help="zhongcao (种草): an open-source interest-commerce platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="Create and inspect users.", no_args_is_help=True)
jobs_app = typer.Typer(
    help="Background jobs: run them once now, or see their status (`zhongcao worker` runs them).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(jobs_app, name="jobs")
scores_app = typer.Typer(help="Shop experience scores (the north star).", no_args_is_help=True)
app.add_typer(scores_app, name="scores")
bench_app = typer.Typer(
    help="Quality benchmarks on public datasets (search relevance, recommendation).", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")


def _register_imports() -> None:
    import_app.command("olist-catalog")(olist_catalog_command)
    app.add_typer(import_app, name="import")


_register_imports()

console = cli_support.console
err = cli_support.err


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (creates the schema on a new database)."""
    settings = cli_support.settings()
    revision = cli_support.upgrade(settings)
    console.print(
        f"[green]✓[/] {cli_support.redacted(settings.database_url)} is at revision [bold]{revision}[/]"
    )


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one the code expects."""
    from zhongcao import migrate

    settings = cli_support.settings()
    database = cli_support.database(settings)
    try:
        current = migrate.current_revision(database.engine)
    except Exception as exc:
        raise cli_support.fail(
            f"cannot read {cli_support.redacted(settings.database_url)}: {str(exc).splitlines()[0]}"
        ) from exc
    finally:
        database.dispose()
    console.print(f"database: {current or 'empty'}   code: {migrate.head_revision()}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default from ZHONGCAO_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from ZHONGCAO_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (the API is stateless).")] = 1,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations before serving.")
    ] = False,
) -> None:
    """Serve the API (and OpenAPI docs at /docs)."""
    cli_support.serve(host=host, port=port, workers=workers, migrate_first=migrate_first)


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="World size: tiny, small, medium or large.")] = "small",
    days: Annotated[
        int,
        typer.Option(
            min=0, max=365, help="Days of market to simulate, ending at the last midnight (0: build only)."
        ),
    ] = 30,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same world.")] = 42,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Rebuild the world even if one is already built.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    attacks: Annotated[
        bool,
        typer.Option(
            "--attacks/--no-attacks",
            help="Plant a small engagement farm, view-inflation script and brushing ring in the last "
            "simulated week, and scan for them once built (docs/integrity.md).",
        ),
    ] = True,
) -> None:
    """Migrate the embedded database, build (or reuse) the demo world, simulate its days, print its
    logins, and serve."""
    from zhongcao.world.cli import demo_command  # heavy imports only when asked

    demo_command(scale=scale, days=days, seed=seed, fresh=fresh, host=host, port=port, attacks=attacks)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help="shopper, merchant, creator or operator.")] = "shopper",
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (min 8 chars). Prompted when omitted; or set ZHONGCAO_PASSWORD.",
            envvar="ZHONGCAO_PASSWORD",
        ),
    ] = None,
    shop_id: Annotated[int | None, typer.Option(help="For merchants: the shop the user joins.")] = None,
    shop_role: Annotated[
        str, typer.Option(help="For merchants: owner, operator or service_agent.")
    ] = "owner",
) -> None:
    """Create a user (any role). Merchants may join an existing shop with --shop-id."""
    from pydantic import EmailStr, TypeAdapter, ValidationError

    from zhongcao.errors import DomainError
    from zhongcao.shops.models import StaffRole
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role

    try:
        role_value = Role(role)
    except ValueError:
        raise cli_support.fail(
            f"unknown role {role!r}: choose one of {', '.join(r.value for r in Role)}", 2
        ) from None
    try:
        TypeAdapter(EmailStr).validate_python(email)
    except ValidationError:
        raise cli_support.fail(f"{email!r} is not a valid email address", 2) from None
    if shop_id is not None and role_value is not Role.merchant:
        raise cli_support.fail("--shop-id is only for merchant users", 2)
    try:
        staff_role = StaffRole(shop_role)
    except ValueError:
        raise cli_support.fail(
            f"unknown shop role {shop_role!r}: choose owner, operator or service_agent", 2
        ) from None
    if password is None:
        if not sys.stdin.isatty():
            raise cli_support.fail("no password given: pass --password or set ZHONGCAO_PASSWORD", 2)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise cli_support.fail("the password must have at least 8 characters", 2)

    settings = cli_support.settings()
    database = cli_support.database(settings)
    session = database.session()
    try:
        user = users_service.create_user(
            session, email=email, password=password, display_name=name, role=role_value, commit=False
        )
        if shop_id is not None:
            from zhongcao.shops import service as shops_service

            shops_service.get_shop(session, shop_id)
            shops_service.attach_staff(session, shop_id=shop_id, user_id=user.id, role=staff_role)
        session.commit()
    except DomainError as exc:
        session.rollback()
        raise cli_support.fail(exc.message) from exc
    except Exception as exc:
        session.rollback()
        raise cli_support.fail(
            f"could not create the user: {str(exc).splitlines()[0]} (did you run `zhongcao db upgrade`?)"
        ) from exc
    finally:
        session.close()
        database.dispose()
    console.print(f"[green]✓[/] created {role_value.value} [bold]{user.email}[/] (id {user.id})")


@app.command()
def check() -> None:
    """Check configuration, database and Redis health, in plain words. Exit status 1 when something is wrong."""
    from zhongcao.health import database_checks, realtime_check, storage_checks

    settings = cli_support.settings()  # a wrong setting: one sentence naming it, exit 2
    table = Table(title="zhongcao check", show_lines=False)
    table.add_column("check")
    table.add_column("")
    table.add_column("detail")
    table.add_row("configuration", "[green]ok[/]", f"database {cli_support.redacted(settings.database_url)}")
    database = cli_support.database(settings)
    try:
        results = database_checks(database)
    finally:
        database.dispose()
    results.append(realtime_check(settings))
    results.extend(storage_checks(settings))
    for r in results:
        table.add_row(r.name, "[green]ok[/]" if r.ok else "[red]problem[/]", r.detail)
    from zhongcao.media.storage import storage_check
    from zhongcao.media.videos import tools_available

    media_ok, media_detail = storage_check(settings)
    table.add_row("media store", "[green]ok[/]" if media_ok else "[red]problem[/]", media_detail)
    # Without ffmpeg only video uploads are refused (503); images and everything else work.
    tools_ok, tools_detail = tools_available()
    table.add_row("ffmpeg", "[green]ok[/]" if tools_ok else "[yellow]missing[/]", tools_detail)
    console.print(table)
    if not all(r.ok for r in results) or not media_ok:
        raise typer.Exit(1)


@jobs_app.command("run")
def jobs_run(
    every: Annotated[
        float | None, typer.Option(help="Repeat every N seconds (default: run once).", min=1)
    ] = None,
    only: Annotated[list[str] | None, typer.Option(help="Run only this job (repeatable).")] = None,
) -> None:
    """Run every job once, now, and exit: payment timeouts, after-sales deadlines, auto-completion, the
    nightly scores (when due), Compass's snapshot (when stale), the feed's catch-up, like counts.
    ``zhongcao worker`` runs them on their schedules."""
    from zhongcao.jobs.registry import registered
    from zhongcao.jobs.runner import JobFailed, run_now

    unknown = sorted(set(only or ()) - set(registered()))
    if unknown:
        raise cli_support.fail(
            f"unknown job {', '.join(unknown)}; jobs: {', '.join(sorted(registered()))}", 2
        )
    settings = cli_support.settings()
    database = cli_support.database(settings)
    failed = False
    try:
        while True:
            try:
                counts = run_now(database, settings, only or None, business_only=False)
            except JobFailed as exc:
                counts, failed = exc.counts, True
                console.print(f"[red]{exc}[/]")
            console.print(" ".join(f"{k}={v}" for k, v in counts.items()))
            if every is None:
                break
            time.sleep(every)
    except KeyboardInterrupt:
        pass
    finally:
        database.dispose()
    if failed:
        raise typer.Exit(1)


@jobs_app.command("status")
def jobs_status() -> None:
    """Every job with its schedule and last run (what GET /api/operator/jobs shows)."""
    from zhongcao.jobs.status import statuses

    database = cli_support.database(cli_support.settings())
    try:
        with database.session(read_only=True) as db:
            rows = statuses(db)
    finally:
        database.dispose()
    # One line per job (no table: names and errors stay whole in any terminal width, and grep finds them).
    for row in rows:
        finished = row.last_finished_at.isoformat(timespec="seconds") if row.last_finished_at else "-"
        detail = row.last_error or " ".join(f"{k}={v}" for k, v in row.last_result.items())
        console.print(
            f"{row.name} status={row.status} every={row.every_s:g}s finished={finished} "
            f"failures_in_a_row={row.attempts} {detail}",
            soft_wrap=True,
            markup=False,
        )


@app.command()
def worker(
    only: Annotated[list[str] | None, typer.Option(help="Run only this job (repeatable).")] = None,
    nice: Annotated[int, typer.Option(min=0, max=19, help="Lower the worker's CPU priority by this.")] = 5,
) -> None:
    """Run the background jobs on their schedules until Ctrl-C or SIGTERM (one beside the API workers)."""
    from zhongcao.jobs.registry import registered
    from zhongcao.jobs.worker import run_worker

    unknown = sorted(set(only or ()) - set(registered()))
    if unknown:
        raise cli_support.fail(
            f"unknown job {', '.join(unknown)}; jobs: {', '.join(sorted(registered()))}", 2
        )
    settings = cli_support.settings()
    console.print(f"[bold green]zhongcao[/] job worker: {', '.join(only or sorted(registered()))}")
    run_worker(settings, only or None, nice=nice)


@app.command()
def simulate(
    policy: Annotated[
        str,
        typer.Option(
            help="Feed policies to compare, comma-separated: gmv, experience, popular_followed, trained (the real feed, trained on the simulated log)."
        ),
    ] = "gmv,experience",
    days: Annotated[int, typer.Option(min=1, max=365, help="Days to simulate under each policy.")] = 90,
    seed: Annotated[int, typer.Option(help="World seed (the same world for every policy).")] = 42,
    scale: Annotated[str, typer.Option(help="World size: tiny, small, medium or large.")] = "small",
    creator_policy: Annotated[
        str | None,
        typer.Option(
            help="Compare how simulated creators choose what to promote instead, comma-separated: plaza (highest commission first), matching (the recommender), browse."
        ),
    ] = None,
    attacks: Annotated[
        Path | None,
        typer.Option(
            help="Plant the attacks of this JSON file (docs/integrity.md) in each run, with detection and discounting on; prints what was caught."
        ),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="The north-star experiment (issue #20): run every policy on each of these seeds (1,2,3 or 1-5) and print means with 95% intervals across seeds; shops adapt to their traffic."
        ),
    ] = None,
    sensitivity: Annotated[
        bool,
        typer.Option(
            help="With --seeds: also vary each documented reaction and merchant parameter to both ends of its range (experience vs gmv)."
        ),
    ] = False,
    vary: Annotated[
        str | None,
        typer.Option(
            help="With --sensitivity: only these parameters, comma-separated (default: every ranged one)."
        ),
    ] = None,
    adapt: Annotated[
        bool,
        typer.Option(
            help="With --seeds: shops adapt to the traffic they earn (--no-adapt: they stay as generated)."
        ),
    ] = True,
) -> None:
    """Run the same demo world under each feed policy (in temporary databases) and print, per policy,
    GMV by month, global NPS, buyer retention, repurchase rate and churn. With ``--creator-policy``,
    compare the creators' policies instead (GMV, what their new videos sold, their commissions)."""
    if creator_policy is not None and attacks is not None:
        raise cli_support.fail("--attacks goes with --policy runs, not --creator-policy", 2)
    if creator_policy is not None:
        from zhongcao.world.creator_compare import creator_compare_command

        creator_compare_command(policy=creator_policy, days=days, seed=seed, scale=scale)
        return
    if (seeds is not None or sensitivity) and attacks is not None:
        raise cli_support.fail("--attacks goes with single-seed --policy runs, not the --seeds experiment", 2)
    if seeds is not None or sensitivity:
        from zhongcao.world.experiment import experiment_command

        experiment_command(
            policy=policy, seeds=seeds or str(seed), days=days, scale=scale,
            sensitivity_table=sensitivity, vary=vary, adapt=adapt,
        )  # fmt: skip
        return
    from zhongcao.world.compare import simulate_command

    simulate_command(policy=policy, days=days, seed=seed, scale=scale, attacks=attacks)


@scores_app.command("compute")
def scores_compute(
    config: Annotated[
        Path | None,
        typer.Option(
            help='JSON rules: {"default": {...}, "by_category": {"<top category id>": {...}}} with weights, '
            "window_days, min_orders, refund_lag_start_days, refund_lag_end_days, pickup_points, min_peers."
        ),
    ] = None,
) -> None:
    """Recompute every active shop's experience score now (``zhongcao jobs run`` does it nightly)."""
    import json
    import statistics

    from zhongcao.experience import computation as score_computation
    from zhongcao.experience.scoring import ScoreRules

    rules = None
    if config is not None:
        try:
            rules = ScoreRules.from_dict(json.loads(config.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise cli_support.fail(f"cannot use {config}: {exc}", 2) from exc
    settings = cli_support.settings()
    database = cli_support.database(settings)
    try:
        began = time.perf_counter()
        with database.session() as db:
            results = score_computation.compute_scores(db, rules=rules)
        seconds = time.perf_counter() - began
    finally:
        database.dispose()
    scored = sorted(r.score_centi / 100 for r in results if r.score_centi is not None)
    table = Table(title=f"Experience scores: {len(results):,} shops in {seconds:.1f} s")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("scored (enough orders)", f"{len(scored):,}")
    table.add_row("not scored (too few orders)", f"{len(results) - len(scored):,}")
    if scored:
        table.add_row(
            "min / median / max", f"{scored[0]:.2f} / {statistics.median(scored):.2f} / {scored[-1]:.2f}"
        )
    first = [r.details.get("improve_first", {}).get("label_en") for r in results if r.score_centi is not None]
    for label in sorted({x for x in first if x}, key=lambda x: -first.count(x))[:3]:
        table.add_row(f"improve first: {label}", f"{first.count(label):,} shops")
    console.print(table)


compass_app = typer.Typer(help="Compass analytics for merchants and operators.", no_args_is_help=True)
app.add_typer(compass_app, name="compass")


@compass_app.command("refresh")
def compass_refresh(
    force: Annotated[bool, typer.Option("--force", help="Build even if the snapshot is fresh.")] = False,
) -> None:
    """Build Compass's analytics snapshot now (``--force``), or only if it is older than
    ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES (for cron, or next to ``zhongcao jobs run``)."""
    from zhongcao.compass.refresher import refresh_command

    refresh_command(force)


train_app = typer.Typer(
    help="Train the engines from the event log (artifacts under ZHONGCAO_MODELS_DIR).", no_args_is_help=True
)
app.add_typer(train_app, name="train")


@train_app.command("feed")
def train_feed(
    days: Annotated[
        float | None, typer.Option(help="Train on the last N days of events (default: all).")
    ] = None,
    label_hours: Annotated[
        float, typer.Option(help="Hours after an impression that count for its labels.")
    ] = 24.0,
    weights: Annotated[
        str, typer.Option(help="Objective weights, e.g. complete=1,engage=2,anchor_click=4,purchase=40.")
    ] = "",
    max_examples: Annotated[int, typer.Option(help="Cap on training rows (sampled).")] = 300_000,
    models_dir: Annotated[
        Path | None, typer.Option(help="Where models go (default ZHONGCAO_MODELS_DIR).")
    ] = None,
    keep: Annotated[int, typer.Option(min=1, help="Versions to keep.")] = 3,
) -> None:
    """Train the feed (candidate sources and the multi-objective LightGBM ranker) from the event log;
    servers swap the new version in without a restart."""
    from zhongcao.feed.training import train_feed_command  # heavy imports only when asked

    train_feed_command(
        days=days,
        label_hours=label_hours,
        weights=weights,
        max_examples=max_examples,
        models_dir=models_dir,
        keep=keep,
    )


@train_app.command("search")
def train_search(
    seed: Annotated[int, typer.Option(help="Seed of the held-out split and the model.")] = 7,
) -> None:
    """Learn search ranking (LightGBM lambdarank) from the search logs; servers swap the new model in."""
    from zhongcao.search.training import train_search_command  # heavy imports only when asked

    train_search_command(seed=seed)


@bench_app.command("search")
def bench_search(
    path: Annotated[Path, typer.Argument(help="Judged pairs: Home Depot train.csv or JSON lines.")],
    format: Annotated[
        str, typer.Option("--format", help="homedepot (Kaggle CSV, Latin-1) or jsonl (query, title, label).")
    ] = "homedepot",
    seed: Annotated[int, typer.Option(help="Seed of the query split (20% of queries held out).")] = 0,
) -> None:
    """Search relevance: plain BM25 peers and zhongcao's ranking, side by side on held-out queries."""
    # Benchmark code lives in the source checkout's benchmarks/ (bm25s: the "bench" extra), not in
    # the installed package.
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "benchmarks" / "search_relevance").is_dir():
        cli_support.err.print(
            "[red]error:[/red] zhongcao bench search runs from a source checkout (benchmarks/)"
        )
        raise typer.Exit(2)
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from benchmarks.search_relevance.relevance_rows import bench_search_command

    bench_search_command(path=path, format=format, seed=seed)


@bench_app.command("alliance")
def bench_alliance(
    scale: Annotated[str, typer.Option(help="World size: tiny, small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="World seed.")] = 1,
    days: Annotated[int, typer.Option(min=2, max=365, help="Days to simulate.")] = 30,
    split_day: Annotated[
        int, typer.Option(min=1, help="Rank at the end of this day; score what sold after.")
    ] = 15,
) -> None:
    """Creator–product matching on the simulated world: recall@20 and NDCG@20 in both directions,
    against popularity and same-category baselines (benchmarks/alliance)."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "benchmarks" / "alliance").is_dir():
        raise cli_support.fail("zhongcao bench alliance runs from a source checkout (benchmarks/)", 2)
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from benchmarks.alliance.bench_alliance import bench_alliance_command

    bench_alliance_command(scale=scale, seed=seed, days=days, split_day=split_day)


@bench_app.command("integrity")
def bench_integrity(
    attacks: Annotated[
        Path | None, typer.Option(help="Attack plan (JSON, docs/integrity.md); default: the demo plan.")
    ] = None,
    seeds: Annotated[str, typer.Option(help="World seeds: 2,3,4 or a range, 2-21.")] = "2,3,4",
    days: Annotated[int, typer.Option(min=2, max=365, help="Days to simulate per run.")] = 12,
    camouflage: Annotated[
        str, typer.Option(help="Farm camouflage levels (organic actions per paid one), comma-separated.")
    ] = "1,3",
) -> None:
    """Bought engagement and brushing on the simulated world: precision, recall, organic false
    positives, time to flag and the exposure an attack buys with detection on and off, against a
    velocity rule alone and top-k by activity (benchmarks/integrity)."""
    from zhongcao.world.attack_plan import AttackFileError

    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "benchmarks" / "integrity").is_dir():
        raise cli_support.fail("zhongcao bench integrity runs from a source checkout (benchmarks/)", 2)
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from benchmarks.integrity.bench_integrity import bench_integrity_command

    from zhongcao.world.experiment import parse_seeds

    try:
        seed_list = parse_seeds(seeds)
    except ValueError as exc:
        raise cli_support.fail(f"--seeds: {exc}", 2) from None
    try:
        levels = [float(c) for c in camouflage.split(",") if c.strip()]
    except ValueError:
        raise cli_support.fail("--camouflage takes comma-separated numbers, like 1,3", 2) from None
    if not levels or min(levels) < 0:
        raise cli_support.fail("--camouflage needs at least one non-negative number", 2)
    try:
        console.print(bench_integrity_command(attacks, seed_list, days, levels, None))
    except AttackFileError as exc:
        raise cli_support.fail("invalid attack file: " + "; ".join(exc.problems), 2) from None


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
