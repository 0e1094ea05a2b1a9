"""``zhongcao train feed``: events -> training data -> fitted sources and objectives -> an artifact.

The data window is the last ``days`` of the event log (all of it by default), ending at the newest
event. Its last ``label_hours`` are the labels: every impression in them is one training row,
labelled with what the user then did with the item (``objectives``), and featured with sources and
user tables fitted on the events *before* them, so the model learns from features as they were when
the item was shown. The serving model then refits the sources on the whole window. Holdout metrics
(AUC per objective on 20% of users) go into the artifact's metadata with the window, counts, weights,
timings and the time of training.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from zhongcao import artifacts
from zhongcao.content import reads as content_reads
from zhongcao.db import Database
from zhongcao.events.store import EventStore
from zhongcao.feed import candidate_sources
from zhongcao.feed.catalog import load_catalog
from zhongcao.feed.collaborative import Collaborative
from zhongcao.feed.contexts import contexts_from_table
from zhongcao.feed.event_log import Coding, EventLog, T, joint_interactions, load_events
from zhongcao.feed.features import ItemStats, feed_features
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.model import MODEL_NAME, TAIL, FeedModel, UserTable, save
from zhongcao.feed.objectives import COMPLETE_MS, OBJECTIVES, MultiObjective, ObjectiveWeights, auc
from zhongcao.feed.precompute import rank_model_users
from zhongcao.feed.ranker import Sources

PRIOR_STRENGTH = 20.0  # impressions' worth of the global rate mixed into every item's rates

Say = Callable[[str, int], Any]  # (step name, total) -> context manager yielding advance(n)


@dataclass
class TrainConfig:
    days: float | None = None
    label_hours: float = 24.0
    als_factors: int = 32
    als_iterations: int = 12
    als_alpha: float = 20.0
    transition_factors: int = 32
    trending_half_life_hours: float = 24.0
    max_examples: int = 300_000
    max_per_user: int = 60
    rounds: int = 80
    weights: ObjectiveWeights = field(default_factory=ObjectiveWeights)
    seed: int = 0
    threads: int = 2
    rank_users: bool = True  # batch-rank active users' candidates for serving (``precompute``)
    rank_active_days: float = 2.0  # ... users with an event in this many last days of the window
    rank_depth: float = 2.0  # ... each ranked source this many times as deep as a request's (``deeper``)


# --- coding -----------------------------------------------------------------------------------------


def to_sequences(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> Sequences:
    counts = np.bincount(users, minlength=n_users)
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Sequences(indptr, items.astype(np.int32), n_items)


# --- fitted parts -------------------------------------------------------------------------------------


def fit_sources(history: Sequences, ages_hours: np.ndarray, config: TrainConfig) -> Sources:
    # Transitions take the ALS iteration count; regularization, transition alpha and window: defaults.
    return candidate_sources.fit_sources(
        history,
        als_factors=config.als_factors,
        als_alpha=config.als_alpha,
        als_iterations=config.als_iterations,
        transition_factors=config.transition_factors,
        transition_iterations=config.als_iterations,
        trending_half_life=config.trending_half_life_hours,
        # Trending by real time (hours before the window's end), not by position in each history.
        trending_ages=ages_hours,
        seed=config.seed,
        threads=config.threads,
    )


def item_stats(log: EventLog, coding: Coding) -> tuple[ItemStats, np.ndarray, dict[int, int]]:
    """Per content code: smoothed rates per impression; plus raw impressions per item and per shop."""
    n = coding.n_content
    code = coding.content(log.content)

    def count(mask: np.ndarray) -> np.ndarray:
        ok = mask & (code >= 0)
        return np.bincount(code[ok], minlength=n).astype(np.float64)

    impressions = count(log.type == T["impression"])
    events = np.stack(
        [
            count(log.type == T["play"]),
            count((log.type == T["play"]) & (log.watch_ms >= COMPLETE_MS)),
            count(np.isin(log.type, [T["like"], T["comment"], T["share"]])),
            count(log.type == T["anchor_click"]),
            count(log.type == T["order"]),
        ],
        axis=1,
    )
    events = np.minimum(events, impressions[:, None]) if impressions.sum() else events
    total = max(impressions.sum(), 1.0)
    prior = (events.sum(axis=0) / total).astype(np.float32)
    rates = (events + PRIOR_STRENGTH * prior) / (impressions[:, None] + PRIOR_STRENGTH)
    accounts = coding.catalog.account_ids
    keys, inverse = np.unique(accounts, return_inverse=True)
    acc_imp = np.bincount(inverse, weights=impressions, minlength=len(keys))
    acc_click = np.bincount(inverse, weights=events[:, 3], minlength=len(keys))
    account_rate = ((acc_click + PRIOR_STRENGTH * prior[3]) / (acc_imp + PRIOR_STRENGTH))[inverse]
    shops = coding.catalog.shop_ids
    shop_impressions: dict[int, int] = {}
    has = shops >= 0
    if has.any():
        skeys, sinv = np.unique(shops[has], return_inverse=True)
        totals = np.bincount(sinv, weights=impressions[has], minlength=len(skeys))
        shop_impressions = {int(k): int(v) for k, v in zip(skeys, totals, strict=True)}
    stats = ItemStats(
        np.log1p(impressions).astype(np.float32),
        rates.astype(np.float32),
        account_rate.astype(np.float32),
        prior,
    )
    return stats, impressions.astype(np.int64), shop_impressions


def user_table(log: EventLog, coding: Coding, users: np.ndarray, items: np.ndarray) -> UserTable:
    """Per-user tails, category interest, price and click habits from ``log`` (and its interactions
    ``users``/``items``, as ``joint_interactions`` returns them)."""
    n_users = len(coding.user_ids)
    catalog = coding.catalog
    sequences = to_sequences(users, items, n_users, coding.n_items)
    tails = sequences.tails(TAIL)
    # Category interest: content interactions by the content's category, products by the category of
    # content anchoring them (the first anchor's category; products only seen otherwise add nothing).
    product_category = np.full(len(coding.product_ids), -1, dtype=np.int64)
    first = catalog.anchor_ptr[:-1][np.diff(catalog.anchor_ptr) > 0]
    firsts_content = np.flatnonzero(np.diff(catalog.anchor_ptr) > 0)
    pcodes = coding.products(catalog.anchor_products[first]) - coding.n_content
    ok = pcodes >= 0
    product_category[pcodes[ok]] = catalog.category[firsts_content[ok]]
    category = np.where(
        items < coding.n_content,
        catalog.category[np.minimum(items, coding.n_content - 1)] if coding.n_content else -1,
        product_category[np.maximum(items - coding.n_content, 0)] if len(product_category) else -1,
    )
    n_cat = max(catalog.n_categories, 1)
    interest = np.zeros((n_users, n_cat), dtype=np.float32)
    has = category >= 0
    np.add.at(interest, (users[has], category[has]), 1.0)
    totals = interest.sum(axis=1, keepdims=True)
    interest = np.divide(interest, totals, out=np.zeros_like(interest), where=totals > 0)
    # Typical price: median log price of the content whose products the user clicked or ordered.
    user_codes = coding.users(log.user)
    content_codes = coding.content(log.content)
    buying = np.isin(log.type, [T["anchor_click"], T["order"]]) & (content_codes >= 0) & (user_codes >= 0)
    price = catalog.price_fen[content_codes[buying]] if buying.any() else np.zeros(0, dtype=np.int64)
    price_ref = np.full(n_users, np.nan, dtype=np.float32)
    bu = user_codes[buying][price > 0]
    bp = np.log1p(price[price > 0] / 100.0)
    if len(bu):
        order = np.lexsort((bp, bu))
        bu, bp = bu[order], bp[order]
        keys, start, count = np.unique(bu, return_index=True, return_counts=True)
        price_ref[keys] = bp[start + count // 2]
    shown = (log.type == T["impression"]) & (user_codes >= 0)
    impressions = np.bincount(user_codes[shown], minlength=n_users).astype(np.float64)
    clicked = (log.type == T["anchor_click"]) & (user_codes >= 0)
    clicks = np.bincount(user_codes[clicked], minlength=n_users).astype(np.float64)
    prior = clicks.sum() / max(impressions.sum(), 1.0)
    return UserTable(
        user_ids=coding.user_ids,
        tail_ptr=tails.indptr,
        tail_items=tails.items,
        category_interest=interest,
        price_ref=price_ref,
        log_impressions=np.log1p(impressions).astype(np.float32),
        click_rate=((clicks + PRIOR_STRENGTH * prior) / (impressions + PRIOR_STRENGTH)).astype(np.float32),
        als_row=np.arange(n_users, dtype=np.int64),
    )


def follows_at(database: Database, until: datetime | None = None) -> dict[int, np.ndarray]:
    """Each user's followed accounts (created before ``until`` when given), from the platform."""
    with database.session(read_only=True) as db:
        rows = content_reads.follow_pairs_until(db, until)
    out: dict[int, list[int]] = {}
    for user, account in rows:
        out.setdefault(int(user), []).append(int(account))
    return {u: np.asarray(a, dtype=np.int64) for u, a in out.items()}


def labels(log: EventLog, coding: Coding, users: np.ndarray, content: np.ndarray) -> np.ndarray:
    """``[n, len(OBJECTIVES)]`` 0/1 for impressions (user codes, content codes) from ``log``."""
    n_content = max(coding.n_content, 1)
    keys = users.astype(np.int64) * n_content + content
    ucode = coding.users(log.user)
    ccode = coding.content(log.content)

    def hit(mask: np.ndarray) -> np.ndarray:
        ok = mask & (ucode >= 0) & (ccode >= 0)
        return np.isin(keys, ucode[ok] * n_content + ccode[ok])

    # A follow names the account: it labels every item of that account the user was shown.
    follow = (log.type == T["follow"]) & (ucode >= 0)
    followed = np.isin(
        users.astype(np.int64) * (1 << 32) + coding.catalog.account_ids[content],
        ucode[follow] * (1 << 32) + log.account[follow],
    )
    out = np.stack(
        [
            hit((log.type == T["play"]) & (log.watch_ms >= COMPLETE_MS)),
            hit(np.isin(log.type, [T["like"], T["comment"], T["share"]])) | followed,
            hit(log.type == T["anchor_click"]),
            hit(log.type == T["order"]),
        ],
        axis=1,
    )
    return out.astype(np.float32)


# --- the whole job ------------------------------------------------------------------------------------


@contextmanager
def _quiet(_name: str, _total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def train(
    database: Database,
    store: EventStore,
    config: TrainConfig | None = None,
    *,
    models_root: Path | None = None,
    step: Say | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train on the event log and publish a new artifact version; returns (its folder, metadata)."""
    config = config or TrainConfig()
    step = step or _quiet
    began = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> None:
        timings[name] = round(time.perf_counter() - since, 3)

    t = time.perf_counter()
    with step("reading events", 1) as advance:
        log = load_events(store)
        if not len(log):
            raise ValueError(
                "the event log is empty: simulate a world (zhongcao demo) or collect events first"
            )
        end_s = int(log.ts.max()) + 1
        if config.days is not None:
            log = log.where(log.ts >= end_s - int(config.days * 86_400))
        start_s = int(log.ts.min())
        cutoff_s = end_s - int(config.label_hours * 3600)
        if cutoff_s <= start_s:
            raise ValueError(
                f"the data window ({(end_s - start_s) / 3600:.1f} h) is not longer than the label window "
                f"({config.label_hours} h): lower --label-hours or collect more days"
            )
        with database.session(read_only=True) as db:
            catalog = load_catalog(db)
        anchored = catalog.anchor_products
        events_products = log.product[log.product >= 0]
        coding = Coding(
            catalog=catalog,
            user_ids=np.unique(log.user),
            product_ids=np.unique(np.concatenate([anchored, events_products])),
        )
        advance(1)
    lap("read", t)

    before = log.where(log.ts < cutoff_s)
    after = log.where(log.ts >= cutoff_s)

    t = time.perf_counter()
    with step("sources before the label window", 1) as advance:
        users_b, items_b, ts_b = joint_interactions(before, coding)
        history_b = to_sequences(users_b, items_b, len(coding.user_ids), coding.n_items)
        sources_b = fit_sources(history_b, (cutoff_s - ts_b) / 3600.0, config)
        table_b = user_table(before, coding, users_b, items_b)
        stats_b, _, _ = item_stats(before, coding)
        follows_b = follows_at(database, _utc(cutoff_s))
        advance(1)
    lap("sources_before", t)

    # Training rows: impressions in the label window, one per (user, item), at most max_per_user each.
    shown = after.where(after.type == T["impression"])
    u = coding.users(shown.user)
    c = coding.content(shown.content)
    ok = (u >= 0) & (c >= 0)
    u, c, ts = u[ok], c[ok], shown.ts[ok]
    key = u * max(coding.n_content, 1) + c
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    u, c, ts = u[first], c[first], ts[first]
    rng = np.random.default_rng(config.seed)
    order = np.lexsort((rng.random(len(u)), u))
    u, c, ts = u[order], c[order], ts[order]
    rank = np.arange(len(u)) - np.searchsorted(u, u)
    keep = rank < config.max_per_user
    u, c, ts = u[keep], c[keep], ts[keep]
    users_all = np.unique(u)
    if len(u) > config.max_examples:
        quota = max(1, int(len(users_all) * config.max_examples / len(u)))
        chosen = np.sort(rng.choice(users_all, quota, replace=False))
        m = np.isin(u, chosen)
        u, c, ts = u[m], c[m], ts[m]
        users_all = chosen
    y = labels(after, coding, u, c)
    if not len(u):
        raise ValueError("no impressions in the label window: nothing to learn from")

    t = time.perf_counter()
    x = np.empty((len(u), 33), dtype=np.float32)
    batch = 256
    starts = np.searchsorted(u, users_all)
    ends = np.searchsorted(u, users_all, side="right")
    width = int((ends - starts).max())
    with step("training features", len(users_all)) as advance:
        for lo in range(0, len(users_all), batch):
            group = users_all[lo : lo + batch]
            s, e = starts[lo : lo + batch], ends[lo : lo + batch]
            candidates = np.full((len(group), width), -1, dtype=np.int64)
            for i in range(len(group)):
                candidates[i, : e[i] - s[i]] = c[s[i] : e[i]]
            contexts = contexts_from_table(
                sources_b,
                table_b,
                group,
                [follows_b.get(int(coding.user_ids[g]), np.zeros(0, np.int64)) for g in group],
                ts[s],
                catalog.n_categories,
            )
            block = feed_features(sources_b, stats_b, catalog, contexts, candidates)
            block = block.reshape(len(group), width, -1)
            if x.shape[1] != block.shape[2]:
                x = np.empty((len(u), block.shape[2]), dtype=np.float32)
            for i in range(len(group)):
                x[s[i] : e[i]] = block[i, : e[i] - s[i]]
            advance(len(group))
    lap("features", t)

    t = time.perf_counter()
    holdout = (np.asarray(coding.user_ids[u]) * 2654435761 % 100) < 20
    with step("objectives (LightGBM)", 2) as advance:
        check = MultiObjective(rounds=config.rounds, threads=config.threads, seed=config.seed).fit(
            x[~holdout], y[~holdout]
        )
        metrics: dict[str, Any] = {"rows": int(len(u)), "holdout_rows": int(holdout.sum())}
        if holdout.any():
            predicted = check.predict(x[holdout])
            combined = predicted @ config.weights.vector()
            for j, name in enumerate(OBJECTIVES):
                metrics[f"auc_{name}"] = auc(predicted[:, j], y[holdout, j])
                metrics[f"auc_combined_{name}"] = auc(combined, y[holdout, j])
                metrics[f"rate_{name}"] = float(y[:, j].mean())
        advance(1)
        objectives = MultiObjective(rounds=config.rounds, threads=config.threads, seed=config.seed).fit(x, y)
        advance(1)
    lap("objectives", t)

    t = time.perf_counter()
    with step("sources on the whole window", 1) as advance:
        users_all_i, items_all_i, ts_all_i = joint_interactions(log, coding)
        history = to_sequences(users_all_i, items_all_i, len(coding.user_ids), coding.n_items)
        sources = fit_sources(history, (end_s - ts_all_i) / 3600.0, config)
        table = user_table(log, coding, users_all_i, items_all_i)
        stats, impressions, shop_impressions = item_stats(log, coding)
        advance(1)
    lap("sources", t)

    model = FeedModel(
        catalog=catalog,
        product_ids=coding.product_ids,
        sources=sources,
        stats=stats,
        users=table,
        objectives=objectives,
        weights=config.weights,
        item_impressions=impressions,
        shop_impressions=shop_impressions,
    )
    t = time.perf_counter()
    with step("building the ANN indexes", 1) as advance:
        model.collaborative = Collaborative(sources.als.item_factors, model.n_content, threads=config.threads)
        advance(1)
    lap("ann", t)
    if config.rank_users:
        t = time.perf_counter()
        # The users who were active lately (the ones about to open the feed); others take the full path.
        active = np.intersect1d(
            np.unique(log.user[log.ts >= end_s - config.rank_active_days * 86_400]), table.user_ids
        )
        with step("ranking active users' candidates", len(active)) as advance:
            model.ranked = rank_model_users(
                model, follows_at(database), end_s, advance, active, depth=config.rank_depth
            )
        lap("rank_users", t)
    metadata = {
        "window": {"since": _utc(start_s).isoformat(), "until": _utc(end_s).isoformat(),
                   "label_window_since": _utc(cutoff_s).isoformat()},
        "counts": {"events": int(len(log)), "users": int(len(coding.user_ids)),
                   "content": int(coding.n_content), "products": int(len(coding.product_ids)),
                   "interactions": int(len(items_all_i))},
        "metrics": metrics,
        "weights": config.weights.as_dict(),
        "config": {k: v for k, v in asdict(config).items() if k != "weights"},
        "timings_s": timings,
        "trained_at": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    t = time.perf_counter()
    with (
        step("writing the artifact", 1) as advance,
        artifacts.new_version(MODEL_NAME, metadata, models_root) as folder,
    ):
        save(model, folder)
        timings["write"] = round(time.perf_counter() - t, 3)
        timings["total"] = round(time.perf_counter() - began, 3)
        advance(1)
    path = artifacts.newest(MODEL_NAME, models_root)
    assert path is not None
    return path, metadata


def train_feed_command(
    days: float | None = None,
    label_hours: float = 24.0,
    weights: str = "",
    max_examples: int = 300_000,
    models_dir: Path | None = None,
    keep: int = 3,
) -> None:
    """Train the feed from the event log and publish a new model version (the server swaps it in).

    Typer-friendly: ``zhongcao train feed [--days N] [--label-hours H] [--weights complete=1,...]
    [--max-examples N] [--models-dir PATH] [--keep N]``."""
    import typer
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from zhongcao.config import get_settings
    from zhongcao.events import service as events_service

    console = Console()
    try:
        parsed = ObjectiveWeights.parse(weights)
        if days is not None and days <= 0:
            raise ValueError("--days must be positive")
        if label_hours <= 0:
            raise ValueError("--label-hours must be positive")
        if max_examples < 100:
            raise ValueError("--max-examples must be at least 100")
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    settings = get_settings()
    database = Database(settings=settings)
    store = events_service.get_store(settings, database)
    config = TrainConfig(days=days, label_hours=label_hours, weights=parsed, max_examples=max_examples)
    with Progress(
        TextColumn("[bold]{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    ) as bars:  # fmt: skip

        @contextmanager
        def step(name: str, total: int) -> Iterator[Callable[[int], None]]:
            task = bars.add_task(name, total=max(total, 1))
            yield lambda n: bars.advance(task, n)
            bars.update(task, completed=max(total, 1))

        try:
            path, metadata = train(database, store, config, models_root=models_dir, step=step)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        finally:
            database.dispose()
    artifacts.prune(MODEL_NAME, keep=keep, root=models_dir)
    m = metadata["metrics"]
    console.print(f"[green]feed model {path.name}[/green] in {path.parent}")
    console.print(
        f"window {metadata['window']['since']} .. {metadata['window']['until']}, "
        f"{metadata['counts']['events']:,} events, {m['rows']:,} training rows"
    )
    for name in OBJECTIVES:
        value = m.get(f"auc_{name}")
        console.print(
            f"  {name:<13} holdout AUC {value:.3f}" if value is not None else f"  {name:<13} (no positives)"
        )
