"""The ranker: features of (user, candidate) pairs and a LightGBM model over them.

``features(sources, state, candidates)`` is the one place features are computed, offline for training
and evaluation and online for serving, so the two cannot drift apart (a parity test compares them).
It takes a batch: ``state`` holds n users and ``candidates`` is ``[n, m]`` item codes; one user is a
batch of one. Candidates marked -1 (padding) get all-zero features and should be ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from zhongcao.feed.als import ALS, TransitionFactors
from zhongcao.feed.covisit import ItemToItem, Relation
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.popularity import Popularity

RECENT = 5  # how many of the user's latest items the sequential features look at
DECAY = 0.6  # weight of each older item relative to the next newer one

FEATURE_NAMES: tuple[str, ...] = (
    "als_score",  # user factor . item factor
    "als_last_cosine",  # cosine of the candidate's and the latest item's factors
    "als_recent_score",  # candidate . (recency-weighted mean of the recent items' factors)
    "next_last",  # P(candidate is next | latest item)
    "next_recent",  # recency-weighted P(next | each recent item)
    "previous_recent",  # recency-weighted P(candidate came just before | each recent item)
    "covisit_last",  # P(candidate within the window | latest item)
    "covisit_recent",  # recency-weighted co-visitation
    "log_count",  # log(1 + interactions with the candidate)
    "log_trending",  # log(1 + recency-weighted interactions)
    "item_mean_position",  # where in users' histories the item tends to sit, 0 first .. 1 last
    "history_length",  # how many items the user has
    "transition_recent",  # factorized transitions: recency-weighted P[recent] . Q[candidate]
    "transition_last",  # P[latest item] . Q[candidate]
)


@dataclass(frozen=True)
class Sources:
    """The fitted candidate sources plus per-item statistics the features read."""

    popularity: Popularity
    als: ALS
    item_to_item: ItemToItem
    transitions: TransitionFactors
    item_mean_position: np.ndarray  # float32 per item

    @classmethod
    def fit(
        cls,
        history: Sequences,
        *,
        als: ALS,
        popularity: Popularity,
        transitions: TransitionFactors,
        window: int = 3,
    ) -> Sources:
        popularity.fit(history)
        als.fit(history)
        item_to_item = ItemToItem(window=window).fit(history)
        transitions.fit(item_to_item.forward)
        lengths = history.lengths
        relative = history.position_of_each() / np.maximum(np.repeat(lengths, lengths) - 1, 1)
        totals = np.bincount(history.items, weights=relative, minlength=history.n_items)
        counts = np.bincount(history.items, minlength=history.n_items)
        mean_position = np.divide(totals, counts, out=np.full(history.n_items, 0.5), where=counts > 0)
        return cls(popularity, als, item_to_item, transitions, mean_position.astype(np.float32))


@dataclass(frozen=True)
class UserState:
    """What the feed knows about a batch of users when it ranks for them."""

    history: Sequences  # row i = user i's items, oldest first
    vectors: np.ndarray  # ALS user factors, [n, factors]

    @classmethod
    def offline(cls, sources: Sources, history: Sequences, users: np.ndarray) -> UserState:
        return cls(history.select(users), sources.als.user_factors[users])


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def features(sources: Sources, state: UserState, candidates: np.ndarray) -> np.ndarray:
    """``[n * m, len(FEATURE_NAMES)]`` float32, row-major over (user, candidate)."""
    candidates = np.atleast_2d(np.asarray(candidates, dtype=np.int64))
    n, m = candidates.shape
    n_items = len(sources.als.item_factors)
    valid = (candidates >= 0) & (candidates < n_items)
    safe = np.where(valid, candidates, 0)
    item_factors = sources.als.item_factors
    out = np.zeros((n, m, len(FEATURE_NAMES)), dtype=np.float32)

    candidate_factors = item_factors[safe]  # [n, m, f]
    out[..., 0] = np.einsum("nf,nmf->nm", state.vectors, candidate_factors)

    recent = state.history.tails(RECENT)
    lengths = recent.lengths
    has_history = lengths > 0
    # (a batch where nobody has history yet, e.g. one new user, has no items to index at all)
    last_index = np.minimum(np.maximum(recent.indptr[1:] - 1, 0), max(len(recent.items) - 1, 0))
    last_items = (
        np.where(has_history, recent.items[last_index], 0) if len(recent.items) else np.zeros(n, np.int64)
    )
    last_items = np.where(last_items < n_items, last_items, 0)
    last_unit = _unit(item_factors[last_items]) * has_history[:, None]
    out[..., 1] = np.einsum("nf,nmf->nm", last_unit, _unit(candidate_factors))
    age = np.repeat(lengths, lengths) - 1 - recent.position_of_each()
    weights = np.power(DECAY, age)
    in_catalogue = recent.items < n_items
    owner = recent.user_of_each()[in_catalogue]
    recent_weights = weights[in_catalogue, None]
    recent_items = recent.items[in_catalogue]
    weight_sum = np.maximum(np.bincount(recent.user_of_each(), weights=weights, minlength=n), 1e-12)

    def recent_profile(factors: np.ndarray) -> np.ndarray:
        profile = np.zeros((n, factors.shape[1]), dtype=np.float64)
        np.add.at(profile, owner, recent_weights * factors[recent_items])
        return (profile / weight_sum[:, None]).astype(np.float32)

    out[..., 2] = np.einsum("nf,nmf->nm", recent_profile(item_factors), candidate_factors)

    i2i = sources.item_to_item
    out[..., 3] = i2i.scores(recent, Relation.next, DECAY, last=1).gather(safe)
    out[..., 4] = i2i.scores(recent, Relation.next, DECAY, last=RECENT).gather(safe)
    out[..., 5] = i2i.scores(recent, Relation.previous, DECAY, last=RECENT).gather(safe)
    out[..., 6] = i2i.scores(recent, Relation.covisit, DECAY, last=1).gather(safe)
    out[..., 7] = i2i.scores(recent, Relation.covisit, DECAY, last=RECENT).gather(safe)

    popularity = sources.popularity
    out[..., 8] = np.log1p(popularity.counts[safe])
    out[..., 9] = np.log1p(popularity.trending[safe])
    out[..., 10] = sources.item_mean_position[safe]
    out[..., 11] = state.history.lengths[:, None]
    transitions = sources.transitions
    next_factors = transitions.next[np.where(safe < len(transitions.next), safe, 0)]
    out[..., 12] = np.einsum("nf,nmf->nm", recent_profile(transitions.previous), next_factors)
    last_previous = transitions.previous[last_items] * has_history[:, None]
    out[..., 13] = np.einsum("nf,nmf->nm", last_previous, next_factors)
    out[~valid] = 0.0
    return out.reshape(n * m, len(FEATURE_NAMES))


class Ranker:
    """LightGBM over (user, candidate) rows: the item the user took next is 1, the others 0.

    Binary log-loss by default (it ranks uniformly drawn items and hard candidates alike, and trains in
    linear time); ``objective="lambdarank"`` works too, as rows come grouped by user.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        objective: str = "binary",
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        self.params = {
            "objective": objective,
            "learning_rate": learning_rate,
            "num_leaves": num_leaves,
            "min_data_in_leaf": min_child_samples,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "num_threads": threads,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        self.n_estimators = n_estimators
        self.booster: lgb.Booster | None = None

    def fit(self, x: np.ndarray, labels: np.ndarray, group_sizes: np.ndarray) -> Ranker:
        data = lgb.Dataset(x, label=labels, group=group_sizes, feature_name=list(FEATURE_NAMES))
        self.booster = lgb.train(self.params, data, num_boost_round=self.n_estimators)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise RuntimeError("the ranker is not fitted")
        # A dense x gives an ndarray (asarray: no copy); LightGBM's signature also allows sparse/lists.
        return np.asarray(self.booster.predict(x, num_threads=self.params["num_threads"]))

    def importance(self) -> dict[str, float]:
        if self.booster is None:
            return {}
        gains = self.booster.feature_importance(importance_type="gain")
        return dict(zip(FEATURE_NAMES, (float(g) for g in gains), strict=True))
