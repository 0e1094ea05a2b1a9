"""Learning to rank for product search: features, training from search logs, explanations.

A search event carries the query and the ids shown (``result_ids``). Its labels come from what the same
user did with those products soon after: a ``product_view`` from search is a click (1), an
``add_to_cart`` 2, an ``order`` 3 (channel ``search``, within ``LABEL_WINDOW`` of the search).

Features (:data:`FEATURES`) are text match (BM25 of the product index, its share of the list's best,
the BM25 rank, the share of typed query tokens matched), popularity and conversion (views and orders
counted from events), the shop's experience score (``experience.scores.current_scores``; not scored
yet = neutral 0.5), price (against the category's median and the user's usual spend), and
personalisation: the user's share of activity in the product's top category, whether they bought from
or follow the shop, and whether they bought or viewed this product before.

Training is leak-free in time: every behaviour feature of a search is computed from events of the days
before the search's day. The searches are split by time; the last ``TEST_SHARE`` is held out, and the
report compares nDCG@10 of the model's order with BM25-only order (ties by id) and with the logged order
on held-out searches that got at least one click.

LightGBM lambdarank, 2 threads. ``SearchRanker.explain`` gives each feature's contribution (SHAP values
from ``pred_contrib``) to one result's score. The job that reads the logs and the catalogue and publishes
the artifact is :mod:`zhongcao.search.training` (the search service loads the ranker from here).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from zhongcao.search.relevance import mean_ndcg

FEATURES = (
    "bm25",
    "bm25_share_of_best",
    "bm25_rank",
    "query_coverage",
    "log_views",
    "log_orders",
    "conversion",
    "shop_experience",
    "price_vs_category",
    "price_vs_user",
    "user_category_share",
    "bought_from_shop",
    "follows_shop",
    "bought_before",
    "viewed_before",
)
LABELS = {"product_view": 1, "add_to_cart": 2, "order": 3}
LABEL_WINDOW = timedelta(hours=2)
TEST_SHARE = 0.3
MODEL_NAME = "search_ranker"
THREADS = 2


@dataclass
class ProductFacts:
    """What ranking knows of the catalogue: per product id its shop, top category and price."""

    shop_of: dict[int, int]
    top_of: dict[int, int]
    price_of: dict[int, int]
    shop_score: dict[int, float | None] = field(default_factory=dict)  # 0..1, None = not scored

    def category_medians(self) -> dict[int, float]:
        prices: dict[int, list[int]] = defaultdict(list)
        for pid, top in self.top_of.items():
            if self.price_of.get(pid):
                prices[top].append(self.price_of[pid])
        return {top: float(np.median(values)) for top, values in prices.items()}


@dataclass
class Behaviour:
    """Counts from events: per product views and orders; per user their activity by top category,
    shops and products bought from, products viewed, and what they paid."""

    views: Counter[int] = field(default_factory=Counter)
    orders: Counter[int] = field(default_factory=Counter)
    user_categories: dict[int, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    user_bought_shops: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    user_bought: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    user_viewed: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    user_paid: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, user: int, product: int, facts: ProductFacts, value_fen: int | None) -> None:
        top = facts.top_of.get(product)
        if kind == "product_view":
            self.views[product] += 1
            self.user_viewed[user].add(product)
            if top is not None:
                self.user_categories[user][top] += 1
        elif kind == "order":
            self.orders[product] += 1
            self.user_bought[user].add(product)
            if product in facts.shop_of:
                self.user_bought_shops[user].add(facts.shop_of[product])
            if top is not None:
                self.user_categories[user][top] += 3
            if value_fen:
                self.user_paid[user].append(int(value_fen))


def features(
    product_ids: Sequence[int],
    bm25: np.ndarray,
    coverage: np.ndarray,
    facts: ProductFacts,
    behaviour: Behaviour,
    user_id: int | None,
    followed_shops: set[int],
    medians: dict[int, float] | None = None,
) -> np.ndarray:
    """The feature matrix (rows aligned with ``product_ids``, columns :data:`FEATURES`)."""
    n = len(product_ids)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return x
    medians = medians if medians is not None else facts.category_medians()
    best = float(bm25.max()) if len(bm25) else 0.0
    rank = np.empty(n)
    rank[np.lexsort((np.asarray(product_ids), -bm25))] = np.arange(n)
    categories = behaviour.user_categories.get(user_id, Counter()) if user_id is not None else Counter()
    total = sum(categories.values())
    paid = behaviour.user_paid.get(user_id, []) if user_id is not None else []
    usual = float(np.median(paid)) if paid else None
    bought_shops = behaviour.user_bought_shops.get(user_id, set()) if user_id is not None else set()
    bought = behaviour.user_bought.get(user_id, set()) if user_id is not None else set()
    viewed = behaviour.user_viewed.get(user_id, set()) if user_id is not None else set()
    for i, pid in enumerate(product_ids):
        pid = int(pid)
        views, orders = behaviour.views.get(pid, 0), behaviour.orders.get(pid, 0)
        price = facts.price_of.get(pid) or 0
        top = facts.top_of.get(pid)
        shop = facts.shop_of.get(pid)
        score = facts.shop_score.get(shop) if shop is not None else None
        median = medians.get(top) if top is not None else None
        x[i] = (
            bm25[i],
            bm25[i] / best if best > 0 else 0.0,
            rank[i],
            coverage[i],
            math.log1p(views),
            math.log1p(orders),
            (orders + 0.1) / (views + 5.0),
            0.5 if score is None else score,
            math.log(price / median) if price and median else 0.0,
            abs(math.log(price / usual)) if price and usual else 0.0,
            categories.get(top, 0) / total if total and top is not None else 0.0,
            float(shop in bought_shops),
            float(shop in followed_shops),
            float(pid in bought),
            float(pid in viewed),
        )
    return x


class SearchRanker:
    """A trained lambdarank booster over :data:`FEATURES`."""

    def __init__(self, booster: Any, feature_names: Sequence[str] = FEATURES) -> None:
        self.booster = booster
        self.feature_names = tuple(feature_names)

    def score(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        return np.asarray(self.booster.predict(x, num_threads=THREADS), dtype=np.float64)

    def explain(self, x: np.ndarray, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the ``top`` features by absolute contribution to its score (SHAP), largest first."""
        if not len(x):
            return []
        contributions = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=THREADS))
        out = []
        for row in contributions[:, : len(self.feature_names)]:
            order = np.argsort(-np.abs(row))[:top]
            out.append([(self.feature_names[j], round(float(row[j]), 4)) for j in order])
        return out

    def save(self, folder: Path) -> None:
        self.booster.save_model(str(folder / "model.txt"))

    @classmethod
    def load(cls, folder: Path) -> SearchRanker:
        import lightgbm as lgb

        return cls(lgb.Booster(model_file=str(folder / "model.txt")))


# -- training data from the event log ----------------------------------------------------------------


@dataclass
class LoggedSearch:
    ts: datetime
    user_id: int
    query: str
    shown: list[int]
    labels: list[int]


def logged_searches(con: Any) -> list[LoggedSearch]:
    """Searches with their impressions and labels, oldest first (``con``: DuckDB with ``events``)."""
    rows = con.execute(
        "SELECT ts, user_id, query, result_ids FROM events "
        "WHERE type = 'search' AND query IS NOT NULL AND result_ids IS NOT NULL ORDER BY ts, event_id"
    ).fetchall()
    actions = con.execute(
        "SELECT user_id, product_id, type, ts FROM events WHERE channel = 'search' "
        "AND type IN ('product_view', 'add_to_cart', 'order') AND product_id IS NOT NULL"
    ).fetchall()
    by_user: dict[tuple[int, int], list[tuple[datetime, int]]] = defaultdict(list)
    for user, product, kind, ts in actions:
        by_user[(user, product)].append((ts, LABELS[kind]))
    out = []
    for ts, user, query, shown in rows:
        shown = [int(p) for p in shown if p is not None and p >= 0]
        labels = []
        for pid in shown:
            label = 0
            for when, value in by_user.get((user, pid), ()):
                if ts <= when <= ts + LABEL_WINDOW:
                    label = max(label, value)
            labels.append(label)
        if shown:
            out.append(LoggedSearch(ts, int(user), str(query), shown, labels))
    return out


def behaviour_events(con: Any) -> list[tuple[datetime, str, int, int, int | None]]:
    return con.execute(
        "SELECT ts, type, user_id, product_id, value_fen FROM events "
        "WHERE type IN ('product_view', 'order') AND product_id IS NOT NULL ORDER BY ts"
    ).fetchall()


def behaviour_from(
    events: Iterable[tuple[datetime, str, int, int, int | None]], facts: ProductFacts
) -> Behaviour:
    behaviour = Behaviour()
    for _ts, kind, user, product, value in events:
        behaviour.add(kind, int(user), int(product), facts, value)
    return behaviour


@dataclass
class TrainingSet:
    x: np.ndarray
    y: np.ndarray
    group: np.ndarray  # search number of each row
    bm25: np.ndarray
    position: np.ndarray  # logged position
    ts: list[datetime]  # per search


def training_set(
    searches: Sequence[LoggedSearch],
    events: Sequence[tuple[datetime, str, int, int, int | None]],
    facts: ProductFacts,
    index: Any,  # ProductIndex
    follows: dict[int, set[int]],
) -> TrainingSet:
    """Features of every impression, with behaviour counted from events of the days before the search."""
    medians = facts.category_medians()
    behaviour = Behaviour()
    cursor = 0
    xs, ys, groups, bm, positions, times = [], [], [], [], [], []
    cache: dict[str, tuple[dict[int, float], dict[int, float]]] = {}
    for g, search in enumerate(searches):
        day_start = search.ts.replace(hour=0, minute=0, second=0, microsecond=0)
        while cursor < len(events) and events[cursor][0] < day_start:
            _ts, kind, user, product, value = events[cursor]
            behaviour.add(kind, int(user), int(product), facts, value)
            cursor += 1
        scores, coverage = index.score_products(search.query, search.shown)
        x = features(
            search.shown,
            scores,
            coverage,
            facts,
            behaviour,
            search.user_id,
            follows.get(search.user_id, set()),
            medians,
        )
        xs.append(x)
        ys.append(np.asarray(search.labels))
        groups.append(np.full(len(search.shown), g))
        bm.append(scores)
        positions.append(np.arange(len(search.shown)))
        times.append(search.ts)
    del cache
    if not xs:
        empty = np.zeros(0)
        return TrainingSet(np.zeros((0, len(FEATURES))), empty, empty.astype(int), empty, empty, [])
    return TrainingSet(
        np.vstack(xs),
        np.concatenate(ys),
        np.concatenate(groups),
        np.concatenate(bm),
        np.concatenate(positions),
        times,
    )


@dataclass
class TrainingReport:
    searches: int
    train_searches: int
    test_searches: int  # held out, with at least one positive label
    ndcg_ltr: float
    ndcg_bm25: float
    ndcg_logged: float
    window: tuple[str, str]
    importance: dict[str, float]


def train_ranker(
    data: TrainingSet, *, seed: int = 7, rounds: int = 150
) -> tuple[SearchRanker, TrainingReport]:
    """Fit lambdarank on the earlier searches; evaluate on the later ``TEST_SHARE`` (split by time)."""
    import lightgbm as lgb

    n_searches = len(data.ts)
    if n_searches < 10 or not (data.y > 0).any():
        raise ValueError(f"not enough searches with clicks to learn from ({n_searches} searches)")
    split = int(n_searches * (1 - TEST_SHARE))
    train = data.group < split
    test = ~train
    params = {
        "objective": "lambdarank",
        "metric": "ndcg",
        "eval_at": [10],
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 10,
        "feature_fraction": 0.9,
        "lambdarank_truncation_level": 20,
        "num_threads": THREADS,
        "seed": seed,
        "deterministic": True,
        "verbose": -1,
    }
    group_sizes = np.bincount(data.group[train])
    group_sizes = group_sizes[group_sizes > 0]
    dataset = lgb.Dataset(data.x[train], data.y[train], group=group_sizes, feature_name=list(FEATURES))
    booster = lgb.train(params, dataset, num_boost_round=rounds)
    ranker = SearchRanker(booster)
    # Held out: searches with at least one positive label.
    rows = np.flatnonzero(test)
    labelled = {g for g in np.unique(data.group[rows]).tolist() if (data.y[data.group == g] > 0).any()}
    keep = rows[np.isin(data.group[rows], list(labelled))]
    if len(keep):
        qid, y = data.group[keep], data.y[keep].astype(float)
        model_scores = ranker.score(data.x[keep])
        # BM25-only: by score, ties by product order in the feature matrix (rank feature uses id ties).
        bm25_scores = -data.x[keep, FEATURES.index("bm25_rank")]
        logged_scores = -data.position[keep].astype(float)
        ndcg_ltr = mean_ndcg(qid, y, model_scores)
        ndcg_bm25 = mean_ndcg(qid, y, bm25_scores)
        ndcg_logged = mean_ndcg(qid, y, logged_scores)
    else:
        ndcg_ltr = ndcg_bm25 = ndcg_logged = float("nan")
    gains = booster.feature_importance(importance_type="gain")
    total = float(gains.sum()) or 1.0
    report = TrainingReport(
        searches=n_searches,
        train_searches=split,
        test_searches=len(labelled),
        ndcg_ltr=float(ndcg_ltr),
        ndcg_bm25=float(ndcg_bm25),
        ndcg_logged=float(ndcg_logged),
        window=(data.ts[0].isoformat(), data.ts[-1].isoformat()),
        importance={name: round(float(g) / total, 4) for name, g in zip(FEATURES, gains, strict=True)},
    )
    return ranker, report
