"""Build (or reuse) the demo world and keep its hidden state beside the database.

A built world is recorded in ``<world_dir>/<seed>-<scale>/``:

* ``manifest.json``: the spec, counts, the digest of what was generated, the database it went
  into (password hidden), when it was built, and the ids that prove it is still there;
* ``latent.npz``: the hidden/latent arrays (shop quality profiles, user interests, content quality,
  creator audiences, and after the simulation each user's satisfaction, bad experiences and churn),
  each aligned with an id array (``shop_ids``, ``user_ids``, ...).

:func:`build_world` reuses a recorded world when the manifest matches the spec and the database
still holds it; otherwise it builds into an empty database and simulates ``spec.days`` days that end
at the last midnight (UTC), so the demo shows a month that has just happened. ``fresh=True``
empties the database and the event store first and rebuilds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.config import get_settings
from zhongcao.content import service as content_service
from zhongcao.db import Database
from zhongcao.errors import NotFound
from zhongcao.events import service as events_service
from zhongcao.events.store import EventStore
from zhongcao.feed.policy import FeedPolicy
from zhongcao.tables import empty_all_tables
from zhongcao.users import service as users_service
from zhongcao.world.generate import DemoLogin, Latent, WorldSpec, demo_logins, generate
from zhongcao.world.integrity_sim import SimulatedIntegrity
from zhongcao.world.merchants import MerchantRules
from zhongcao.world.reactions import Reactions
from zhongcao.world.simulate import SimulationResult, simulate

__all__ = ["WorldError", "WorldSummary", "build_world", "demo_logins", "load_latent", "world_path"]

MANIFEST_VERSION = 2


class WorldError(RuntimeError):
    """The world cannot be built or reused as asked (the message says why and what to do)."""


@dataclass
class WorldSummary:
    spec: WorldSpec
    reused: bool
    seconds: float
    counts: dict[str, int]
    digest: str
    path: Path
    logins: list[DemoLogin] = field(default_factory=demo_logins)
    started_at: str | None = None
    campaign_ids: list[int] = field(default_factory=list)
    simulation: dict[str, Any] = field(default_factory=dict)


def world_path(spec: WorldSpec, world_dir: Path | None = None) -> Path:
    return Path(world_dir or get_settings().world_dir) / spec.key


def _database_label(database: Database) -> str:
    return make_url(str(database.engine.url)).render_as_string(hide_password=True)


def load_latent(path: Path) -> dict[str, np.ndarray]:
    """The latent arrays of a built world (``path`` is the world's folder)."""
    with np.load(path / "latent.npz") as data:
        return {name: data[name] for name in data.files}


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _still_there(database: Database, manifest: dict[str, Any]) -> bool:
    """The database still holds the recorded world: its operator, last product and last content."""
    proof = manifest.get("proof", {})
    with database.session(read_only=True) as db:
        operator = users_service.get_by_email(db, demo_logins()[-1].email)
        if operator is None or operator.id != proof.get("operator_id"):
            return False
        try:
            catalog_service.get_product(db, int(proof.get("last_product_id", -1)))
            content_service.get_content(db, int(proof.get("last_content_id", -1)))
        except NotFound:
            return False
    return True


def reset_database(database: Database, store: EventStore | None = None) -> None:
    """Delete every row of every table and every stored event (``--fresh``): the demo database is
    the world's to rebuild."""
    empty_all_tables(database)
    if store is not None:
        store.clear()


def simulation_start(days: int, now: datetime | None = None) -> datetime:
    """The first simulated day: ``days`` before the last midnight (UTC)."""
    midnight = (now or clock.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days)


ProgressFactory = Callable[[str, int], Any]


@contextmanager
def _rich_progress(enabled: bool) -> Iterator[ProgressFactory | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as bars:

        @contextmanager
        def phase(name: str, total: int) -> Iterator[Callable[[int], None]]:
            task = bars.add_task(name, total=max(total, 1))
            yield lambda n: bars.advance(task, n)
            bars.update(task, completed=max(total, 1))

        yield phase


def build_world(
    database: Database,
    spec: WorldSpec,
    *,
    fresh: bool = False,
    progress: bool = True,
    world_dir: Path | None = None,
    store: EventStore | None = None,
    simulate_days: bool = True,
    feed_policy: str | FeedPolicy = "popular_followed",
    search_policy: str = "substring",
    creator_policy: str | None = None,
    day_hook: Callable[[int, Database], None] | None = None,
    integrity: SimulatedIntegrity | None = None,
    reactions: Reactions | None = None,
    merchants: MerchantRules | None = None,
    first_days: int | None = None,
) -> WorldSummary:
    """Build the world for ``spec`` into ``database`` (migrated) and simulate ``spec.days`` days,
    or reuse the one already there. Behaviour events go to ``store`` (default: the configured one).
    ``simulate_days=False`` builds the world only (its day count is then recorded as 0).
    ``first_days``: simulate only the first that many days of the world made for ``spec.days`` (what
    a day of a long run costs, timed without running all of it); the record says how many ran."""
    path = world_path(spec, world_dir)
    manifest = _read_manifest(path)
    label = _database_label(database)
    period = spec.days if simulate_days else 0
    days = period if first_days is None else max(0, min(period, first_days))
    attacks = integrity is not None and not integrity.plan.empty
    reusable = not fresh and manifest is not None and _manifest_matches(manifest, spec, label, days, attacks)
    if reusable and manifest is not None and _still_there(database, manifest):
        return _summary(manifest, path, spec, reused=True, seconds=0.0)
    began = time.perf_counter()
    store = store or events_service.get_store(database=database)
    if fresh:
        reset_database(database, store)
    else:
        with database.session(read_only=True) as db:
            if users_service.get_by_email(db, demo_logins()[-1].email) is not None:
                raise WorldError(
                    f"{label} already holds a demo world that is not seed {spec.seed} at scale "
                    f"{spec.scale.value} {'with' if attacks else 'without'} attacks (or its record in "
                    f"{path.parent} is gone); rebuild it with --fresh"
                )
    start = simulation_start(period)
    with _rich_progress(progress) as phase:
        # The world is made as of the first simulated day, so its timestamps precede what happens.
        with database.session() as db, clock.frozen(start):
            latent = generate(db, spec, phase)
            operator = users_service.get_by_email(db, demo_logins()[-1].email)
            if operator is None:  # generate makes every demo login; this would be a bug there
                raise WorldError("the generated world has no demo operator")
            proof = {
                "operator_id": operator.id,
                "last_product_id": int(latent.arrays["product_ids"][-1]),
                "last_content_id": int(latent.arrays["content_ids"][-1]),
            }
        build_seconds = time.perf_counter() - began
        result = None
        if days:
            result = simulate(
                database,
                latent.arrays,
                days=days,
                seed=spec.seed,
                start=start,
                store=store,
                feed_policy=feed_policy,
                search_policy=search_policy,
                progress=phase,
                intensity=spec.sizes.purchase_intensity,
                creator_policy=creator_policy,
                day_hook=day_hook,
                integrity=integrity,
                reactions=reactions,
                merchants=merchants,
            )
            latent.arrays.update(result.user_arrays)
    seconds = time.perf_counter() - began
    manifest = _write(path, spec, latent, label, proof, build_seconds, days, result, attacks)
    return _summary(manifest, path, spec, reused=False, seconds=seconds)


def _manifest_matches(
    manifest: dict[str, Any], spec: WorldSpec, label: str, days: int, attacks: bool
) -> bool:
    recorded = manifest.get("spec", {})
    return (
        manifest.get("version") == MANIFEST_VERSION
        and recorded.get("scale") == spec.scale.value
        and recorded.get("seed") == spec.seed
        and recorded.get("days") == days
        and recorded.get("attacks", False) == attacks  # a world without attacks is one built before them
        and manifest.get("database") == label
    )


def _write(
    path: Path,
    spec: WorldSpec,
    latent: Latent,
    label: str,
    proof: dict[str, int],
    seconds: float,
    days: int,
    result: SimulationResult | None,
    attacks: bool,
) -> dict[str, Any]:
    path.mkdir(parents=True, exist_ok=True)
    # No pickles: the load refuses them too (and naming allow_pickle keeps **arrays off it for mypy).
    np.savez_compressed(path / "latent.npz", allow_pickle=False, **latent.arrays)
    manifest = {
        "version": MANIFEST_VERSION,
        "spec": {"scale": spec.scale.value, "seed": spec.seed, "days": days, "attacks": attacks},
        "database": label,
        "built_at": clock.now().isoformat(timespec="seconds"),
        "started_at": latent.started_at.isoformat() if latent.started_at else None,
        "build_seconds": round(seconds, 3),
        "counts": latent.counts,
        "digest": latent.digest,
        "campaign_ids": latent.campaign_ids,
        "proof": proof,
        "logins": [asdict(login) for login in demo_logins()],
        "simulation": (
            {
                "days": result.days,
                "seconds": round(result.seconds, 3),
                "phase_seconds": result.phase_seconds,
                "events": result.events,
                "events_per_second": round(result.events_per_second),
                "ingest_events_per_second": round(result.ingest_events_per_second),
                "ended_at": result.ended_at.isoformat() if result.ended_at else None,
                "digest": result.digest,
                "counts": result.counts,
            }
            if result is not None
            else {}
        ),
    }
    tmp = path / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path / "manifest.json")
    return manifest


def _summary(
    manifest: dict[str, Any], path: Path, spec: WorldSpec, *, reused: bool, seconds: float
) -> WorldSummary:
    return WorldSummary(
        spec=spec,
        reused=reused,
        seconds=seconds,
        counts=dict(manifest["counts"]),
        digest=manifest["digest"],
        path=path,
        started_at=manifest.get("started_at"),
        campaign_ids=list(manifest.get("campaign_ids", [])),
        simulation=dict(manifest.get("simulation", {})),
    )
