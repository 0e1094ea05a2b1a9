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

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongcao import artifacts
from zhongcao.content import service as content_service
from zhongcao.db import Database
from zhongcao.events.store import EventStore
from zhongcao.feed import candidate_sources
from zhongcao.feed.catalog import Catalog, load_catalog
from zhongcao.feed.collaborative import Collaborative, fold_in
from zhongcao.feed.covisit import Relation
from zhongcao.feed.features import ItemStats, UserContexts, csr, feed_features
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.model import MODEL_NAME, TAIL, FeedModel, UserTable
from zhongcao.feed.objectives import COMPLETE_MS, OBJECTIVES, MultiObjective, ObjectiveWeights, auc
from zhongcao.feed.precompute import RankedLists
from zhongcao.feed.ranker import Sources, UserState

TYPES = (
    "impression",
    "play",
    "like",
    "comment",
    "share",
    "follow",
    "anchor_click",
    "product_view",
    "add_to_cart",
    "order",
    "live_enter",
    "not_interested",
)
T = {name: i for i, name in enumerate(TYPES)}
CONTENT_INTERACTIONS = [T[t] for t in ("play", "like", "comment", "share", "anchor_click", "live_enter")]
PRODUCT_INTERACTIONS = [T[t] for t in ("product_view", "add_to_cart", "order")]
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


@dataclass(frozen=True)
class EventLog:
    """Events as numpy columns in time order (-1 where a column is empty)."""

    ts: np.ndarray  # int64 epoch seconds
    type: np.ndarray  # int8 index into TYPES
    user: np.ndarray  # int64
    content: np.ndarray
    product: np.ndarray
    account: np.ndarray
    watch_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def where(self, mask: np.ndarray) -> EventLog:
        return EventLog(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def load_events(store: EventStore, since: datetime | None = None, until: datetime | None = None) -> EventLog:
    """The feed's events with ``since <= ts < until``. The range is the store's (``EventStore.connect``),
    so a catch-up over the last few minutes reads those minutes, not the whole log again."""
    table = store.query(
        "SELECT epoch_ms(ts) // 1000 AS ts, type, user_id, coalesce(content_id, -1) AS content_id, "
        "coalesce(product_id, -1) AS product_id, coalesce(account_id, -1) AS account_id, "
        f"coalesce(watch_ms, -1) AS watch_ms FROM events WHERE type IN ({', '.join(repr(t) for t in TYPES)})"
        # A total order: events with the same second come back the same way on every read, so the
        # same log always trains the same model.
        " ORDER BY epoch_ms(events.ts), user_id, type, content_id, product_id, account_id, watch_ms",
        since=since,
        until=until,
    )
    codes = pc.index_in(table["type"], value_set=pa.array(TYPES)).to_numpy(zero_copy_only=False)

    def col(name: str) -> np.ndarray:
        return table[name].to_numpy().astype(np.int64)

    return EventLog(
        col("ts"), codes.astype(np.int8), col("user_id"), col("content_id"), col("product_id"),
        col("account_id"), col("watch_ms"),
    )  # fmt: skip


# --- coding -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coding:
    """Dense codes: users by ascending id; items = content codes, then products (the joint space)."""

    catalog: Catalog
    user_ids: np.ndarray
    product_ids: np.ndarray

    @property
    def n_content(self) -> int:
        return len(self.catalog)

    @property
    def n_items(self) -> int:
        return self.n_content + len(self.product_ids)

    def users(self, ids: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(self.user_ids, ids), max(len(self.user_ids) - 1, 0))
        return np.where(self.user_ids[pos] == ids, pos, -1) if len(self.user_ids) else np.full(len(ids), -1)

    def content(self, ids: np.ndarray) -> np.ndarray:
        known = self.catalog.content_ids
        pos = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        return np.where((known[pos] == ids) & (ids >= 0), pos, -1) if len(known) else np.full(len(ids), -1)

    def products(self, ids: np.ndarray) -> np.ndarray:
        known = self.product_ids
        pos = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        ok = (known[pos] == ids) & (ids >= 0) if len(known) else np.zeros(len(ids), dtype=bool)
        return np.where(ok, self.n_content + pos, -1)


def joint_interactions(log: EventLog, coding: Coding) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user codes, joint item codes, ts) of every interaction, sorted by user then time; a repeat of
    the same item straight after itself (play then like) counts once."""
    is_content = np.isin(log.type, CONTENT_INTERACTIONS)
    is_product = np.isin(log.type, PRODUCT_INTERACTIONS)
    items = np.full(len(log), -1, dtype=np.int64)
    items[is_content] = coding.content(log.content[is_content])
    items[is_product] = coding.products(log.product[is_product])
    users = coding.users(log.user)
    ok = (items >= 0) & (users >= 0)
    users, items, ts = users[ok], items[ok], log.ts[ok]
    order = np.lexsort((ts, users))
    users, items, ts = users[order], items[order], ts[order]
    repeat = np.zeros(len(users), dtype=bool)
    repeat[1:] = (users[1:] == users[:-1]) & (items[1:] == items[:-1])
    return users[~repeat], items[~repeat], ts[~repeat]


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


def contexts_from_table(
    sources: Sources,
    table: UserTable,
    rows: np.ndarray,
    follows: list[np.ndarray],
    now_s: np.ndarray,
    n_categories: int,
    extra: list[np.ndarray] | None = None,
    extra_categories: list[np.ndarray] | None = None,
) -> UserContexts:
    """The one way user contexts are made, offline (training, parity) and online (the server).

    ``rows`` index ``table`` (-1: a user the model does not know). ``extra`` are joint codes of what
    each user did since the table was made (likes, purchases), appended to their recent items;
    ``extra_categories`` are those items' categories, which shift the user's category interest."""
    n = len(rows)
    histories = []
    interest = np.zeros((n, max(n_categories, 1)), dtype=np.float32)
    price_ref = np.full(n, np.nan, dtype=np.float32)
    log_impressions = np.zeros(n, dtype=np.float32)
    click_rate = np.full(n, table.median_click_rate, np.float32)
    vectors = np.zeros((n, sources.als.item_factors.shape[1]), dtype=np.float32)
    for i, row in enumerate(rows.tolist()):
        tail = table.tail(row) if row >= 0 else np.zeros(0, dtype=np.int32)
        added = extra[i] if extra is not None else np.zeros(0, dtype=np.int32)
        if len(added):
            tail = np.concatenate([tail, np.asarray(added, dtype=np.int32)])[-TAIL:]
        histories.append(tail)
        if row >= 0:
            interest[i] = table.category_interest[row]
            price_ref[i] = table.price_ref[row]
            log_impressions[i] = table.log_impressions[row]
            click_rate[i] = table.click_rate[row]
        if extra_categories is not None and len(extra_categories[i]):
            cats = np.asarray(extra_categories[i], dtype=np.int64)
            cats = cats[(cats >= 0) & (cats < interest.shape[1])]
            if len(cats):
                bump = np.bincount(cats, minlength=interest.shape[1]).astype(np.float32)
                interest[i] = (
                    0.7 * interest[i] + 0.3 * bump / bump.sum() if interest[i].sum() else bump / bump.sum()
                )
        als_row = table.als_row[row] if row >= 0 else -1
        if als_row >= 0 and not len(added):
            vectors[i] = sources.als.user_factors[als_row]
        elif als_row >= 0:
            # What the user just did moves their vector toward it (as a fold-in step would).
            vectors[i] = sources.als.user_factors[als_row] + fold_in(
                sources.als.item_factors, np.asarray(added)
            )
        else:
            vectors[i] = fold_in(sources.als.item_factors, tail)
    lengths = np.asarray([len(h) for h in histories], dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    items = np.concatenate(histories).astype(np.int32) if lengths.sum() else np.zeros(0, dtype=np.int32)
    history = Sequences(indptr, items, len(sources.als.item_factors))
    follow_ptr, follow_accounts = csr([np.sort(np.asarray(f, dtype=np.int64)) for f in follows])
    return UserContexts(
        state=UserState(history, vectors),
        follow_ptr=follow_ptr,
        follow_accounts=follow_accounts,
        category_interest=interest,
        price_ref=price_ref,
        log_impressions=log_impressions,
        click_rate=click_rate,
        now_s=np.asarray(now_s, dtype=np.int64),
    )


def follows_at(database: Database, until: datetime | None = None) -> dict[int, np.ndarray]:
    """Each user's followed accounts (created before ``until`` when given), from the platform."""
    with database.session(read_only=True) as db:
        rows = content_service.follow_pairs_until(db, until)
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
    from zhongcao.feed.model import save

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


def window_end(model: FeedModel) -> datetime | None:
    """The end of the event window the model was trained on (where catching up starts)."""
    until = model.metadata.get("window", {}).get("until")
    return datetime.fromisoformat(until) if until else None


def read_window_end(folder: Path) -> datetime | None:
    """:func:`window_end` of a saved model, from its metadata alone."""
    until = artifacts.read_metadata(folder).get("window", {}).get("until")
    return datetime.fromisoformat(until) if until else None


def new_interactions(
    store: EventStore, coding: Coding, since: datetime | None, until: datetime | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(user codes, joint item codes) of the interactions logged in ``[since, until)``, in the order
    ``ItemToItem.update`` takes them. Users the model does not know are skipped (their co-visits
    count from the next training)."""
    log = load_events(store, since=since, until=until)
    if not len(log):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    users, items, _ = joint_interactions(log, coding)
    return users, items


def catch_up(model: FeedModel, store: EventStore, since: datetime | None = None) -> int:
    """Add the events logged since the model's window to its co-visitation counts (incrementally, with
    ``ItemToItem.update``); returns how many interactions were added."""
    coding = Coding(model.catalog, model.users.user_ids, model.product_ids)
    users, items = new_interactions(store, coding, since or window_end(model))
    if len(users):
        model.sources.item_to_item.update(users, items)
        model.warm()
    return int(len(users))


def rank_model_users(
    model: FeedModel,
    follows: dict[int, np.ndarray],
    now_s: int,
    progress: Callable[[int], object] | None = None,
    user_ids: np.ndarray | None = None,
    depth: float = 1.0,
) -> RankedLists:
    """Users' candidates ranked by ``model`` with the serving code (``precompute``; default: all), the
    ranked sources ``depth`` times as deep as a request's."""
    from zhongcao.feed.precompute import deeper, rank_users
    from zhongcao.feed.seen import InMemoryMemory
    from zhongcao.feed.service import FeedConfig, FeedService

    service = FeedService(lambda: model, InMemoryMemory(), deeper(FeedConfig(), depth))
    return rank_users(service, follows, now_s, user_ids=user_ids, progress=progress)


def catch_up_copy(
    model: FeedModel, store: EventStore, since: datetime | None = None, until: datetime | None = None
) -> tuple[Sources | None, int]:
    """:func:`catch_up` without touching ``model``: the model's sources with the item-to-item counts of
    a copy brought up to date (``None`` when nothing happened), and how many interactions were added.
    The copy's relations are normalised here, so whoever swaps it in serves at full speed at once."""
    coding = Coding(model.catalog, model.users.user_ids, model.product_ids)
    users, items = new_interactions(store, coding, since or window_end(model), until)
    if not len(users):
        return None, 0
    item_to_item = model.sources.item_to_item.copy().update(users, items)
    for relation in Relation:
        item_to_item.relation(relation)
    return dataclasses.replace(model.sources, item_to_item=item_to_item), int(len(users))


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
