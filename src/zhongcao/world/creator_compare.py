"""``zhongcao simulate --creator-policy plaza,matching``: what the recommender does for GMV and for the
creators who follow it.

The same world (scale, seed) is built once per creator policy into its own embedded database and run
for the same days; only the list the simulated creators choose from differs (see
:mod:`zhongcao.world.creators`): ``plaza`` (highest commission first, the baseline) or ``matching``
(the recommender the creators' page and ``GET /api/creator/recommendations`` serve). Everything is read
back from each platform's own records: paid order lines with the content and account they came
through, and the commission ledger.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from zhongcao import migrate
from zhongcao.affiliate import service as affiliate_service
from zhongcao.commerce import service as commerce_service
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.world.creators import CREATOR_POLICIES
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.service import build_world, load_latent


@dataclass
class CreatorPolicyOutcome:
    policy: str
    gmv_fen: int = 0
    orders: int = 0
    videos: int = 0  # published by the simulated creators during the run
    videos_selling: int = 0  # of those, with at least one paid order
    new_video_gmv_fen: int = 0
    new_video_commission_fen: int = 0  # at payment (order lines' commission)
    creators: int = 0  # creators who published through the policy
    creators_ledger_fen: int = 0  # their commission ledger at the end (completed orders, net of refunds)
    seconds: float = 0.0


def run_creator_policy(policy: str, spec: WorldSpec, workdir: Path) -> CreatorPolicyOutcome:
    folder = workdir / policy
    folder.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{folder}/world.db")
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
            creator_policy=policy,
        )
        store.close()
        latent = load_latent(summary.path)
        generated = set(latent["content_ids"].tolist())
        creator_accounts = set(latent["creator_account_ids"].tolist())
        with database.session(read_only=True) as db:
            rows = commerce_service.sales_rows(db)
            out = CreatorPolicyOutcome(policy=policy, seconds=summary.seconds)
            orders: set[int] = set()
            selling: set[int] = set()
            for row in rows:
                order_id, content_id, account_id, paid_fen, commission_fen = (
                    row[0],
                    row[7],
                    row[8],
                    row[11],
                    row[13],
                )
                out.gmv_fen += int(paid_fen or 0)
                orders.add(order_id)
                if content_id is not None and content_id not in generated and account_id in creator_accounts:
                    selling.add(content_id)
                    out.new_video_gmv_fen += int(paid_fen or 0)
                    out.new_video_commission_fen += int(commission_fen or 0)
            out.orders = len(orders)
            out.videos = int(summary.simulation.get("counts", {}).get("creator_videos", 0))
            out.videos_selling = len(selling)
            publishers = _publishers(db, generated, creator_accounts)
            out.creators = len(publishers)
            out.creators_ledger_fen = sum(affiliate_service.commission_balance(db, a) for a in publishers)
    finally:
        database.dispose()
    return out


def _publishers(db: object, generated: set[int], creators: set[int]) -> set[int]:
    from zhongcao.content import reads as content_reads

    snap = content_reads.content_snapshot(db)  # type: ignore[arg-type]
    return {
        a
        for c, a in zip(snap.content_ids, snap.account_ids, strict=True)
        if c not in generated and a in creators
    }


def compare_creator_policies(
    policies: list[str], *, scale: Scale = Scale.small, days: int = 30, seed: int = 42
) -> list[CreatorPolicyOutcome]:
    spec = WorldSpec(scale=scale, seed=seed, days=days, topic_audiences=True)
    with tempfile.TemporaryDirectory(prefix="zhongcao-creators-") as tmp:
        return [run_creator_policy(p, spec, Path(tmp)) for p in policies]


def creator_compare_command(policy: str, days: int = 30, seed: int = 42, scale: str = "small") -> None:
    """Print, per creator policy: GMV, orders, the new videos and what they sold, the creators'
    commissions."""
    import typer
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    chosen = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in CREATOR_POLICIES]
    if not chosen or unknown:
        console.print(
            f"[red]error:[/red] unknown creator policy {unknown or policy!r}; known: {', '.join(CREATOR_POLICIES)}"
        )
        raise typer.Exit(2)
    try:
        spec_scale = Scale(scale)
        WorldSpec(scale=spec_scale, seed=seed, days=days)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    outcomes = []
    for name in chosen:
        with console.status(
            f"simulating {days} days, creators choosing by {name} (scale {scale}, seed {seed}) …"
        ):
            outcomes.append(compare_creator_policies([name], scale=spec_scale, days=days, seed=seed)[0])
    table = Table(
        title=f"{days} simulated days, scale {scale}, seed {seed}: the same world under each creator policy"
    )
    for name in (
        "creator policy",
        "GMV (yuan)",
        "orders",
        "new videos",
        "selling",
        "their GMV (yuan)",
        "their commission (yuan)",
        "creators",
        "creators' ledger (yuan)",
        "seconds",
    ):
        table.add_column(name, justify="left" if name == "creator policy" else "right")
    for o in outcomes:
        table.add_row(
            o.policy,
            f"{o.gmv_fen / 100:,.0f}",
            f"{o.orders:,}",
            f"{o.videos:,}",
            f"{o.videos_selling:,}",
            f"{o.new_video_gmv_fen / 100:,.0f}",
            f"{o.new_video_commission_fen / 100:,.2f}",
            f"{o.creators:,}",
            f"{o.creators_ledger_fen / 100:,.2f}",
            f"{o.seconds:,.0f}",
        )
    console.print(table)
