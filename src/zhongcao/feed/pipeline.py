"""The feed's pipeline offline: candidate sources, then the LightGBM ranker over their union.

``fit(history)`` sees only ``history``. It holds each user's latest item out, fits the sources on the
rest and trains the ranker to pick that item out of a group of negatives, then refits the sources on the
whole history for serving. In the leave-one-out benchmark ``history`` is everything but the test item,
so the ranker learns from the validation items and the test items are touched once.

The negatives follow what the ranker will be asked to order (``training_negatives``): ``candidates``
(the sources' proposals, hard negatives: the feed, and the full-ranking protocol) or ``uniform`` (items
drawn uniformly from those the user never touched: the sampled-100 protocol). A ranker trained on one
does poorly on the other: one trained on hard candidates learns that "very similar" often means "not
the one", which misorders random items; measured on the Games validation split, HR@10 0.30 vs 0.77.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from zhongcao.feed.candidate_sources import fit_sources
from zhongcao.feed.covisit import Relation
from zhongcao.feed.evaluation import sample_unseen
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.ranker import DECAY, RECENT, Ranker, Sources, UserState, features

Progress = Callable[[str], None]


@dataclass
class PipelineConfig:
    als_factors: int = 64
    als_regularization: float = 0.05
    als_alpha: float = 40.0
    als_iterations: int = 15
    trending_half_life: float = 1.0
    window: int = 3
    # Candidates per source; their union (deduplicated) is what the ranker orders.
    from_als: int = 100
    from_next: int = 50
    from_covisit: int = 50
    from_popular: int = 30
    transition_factors: int = 64
    # Training groups: "uniform" (this many unseen items drawn uniformly) or "candidates" (the union
    # above, plus ``random_negatives // 4`` uniform items so that region is not empty either).
    training_negatives: Literal["uniform", "candidates"] = "uniform"
    random_negatives: int = 100
    max_training_users: int | None = 15_000
    ranker: dict = field(default_factory=dict)
    seed: int = 0
    threads: int = 2


def _dedupe_rows(candidates: np.ndarray) -> np.ndarray:
    """Replace repeats within each row by -1 (keeps the first occurrence's position)."""
    order = np.argsort(candidates, axis=1, kind="stable")
    ordered = np.take_along_axis(candidates, order, axis=1)
    repeat = np.zeros_like(ordered, dtype=bool)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    out = candidates.copy()
    np.put_along_axis(out, order, np.where(repeat, -1, ordered), axis=1)
    return out


class Pipeline:
    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.sources: Sources | None = None
        self.ranker: Ranker | None = None
        self.timings: dict[str, float] = {}

    def _fit_sources(self, history: Sequences) -> Sources:
        c = self.config
        # Transitions share the ALS regularization here; their alpha and iterations are the defaults.
        return fit_sources(
            history,
            als_factors=c.als_factors,
            als_regularization=c.als_regularization,
            als_alpha=c.als_alpha,
            als_iterations=c.als_iterations,
            transition_factors=c.transition_factors,
            transition_regularization=c.als_regularization,
            trending_half_life=c.trending_half_life,
            window=c.window,
            seed=c.seed,
            threads=c.threads,
        )

    def candidates(self, sources: Sources, history: Sequences, users: np.ndarray) -> np.ndarray:
        """Union of every source's top items per user, unseen only; -1 pads. ``[n, width]``."""
        c = self.config
        rows = history.select(users)
        parts = []
        if c.from_als:
            parts.append(sources.als.candidates(history, users, c.from_als)[0])
        i2i = sources.item_to_item
        if c.from_next:
            parts.append(i2i.scores(rows, Relation.next, DECAY, RECENT).top(c.from_next, exclude=rows)[0])
        if c.from_covisit:
            scores = i2i.scores(rows, Relation.covisit, DECAY, RECENT)
            parts.append(scores.top(c.from_covisit, exclude=rows)[0])
        if c.from_popular:
            parts.append(sources.popularity.recommend(history, users, c.from_popular))
        return _dedupe_rows(np.concatenate(parts, axis=1))

    def fit(self, history: Sequences, progress: Progress | None = None) -> Pipeline:
        c = self.config
        rng = np.random.default_rng(c.seed)
        say = progress or (lambda _: None)
        started = time.perf_counter()

        say("candidate sources on history minus each user's latest item")
        lengths = history.lengths
        has_label = lengths >= 2
        inner = history.truncate(has_label.astype(np.int64))
        users = np.flatnonzero(has_label).astype(np.int32)
        if c.max_training_users is not None and len(users) > c.max_training_users:
            users = np.sort(rng.choice(users, c.max_training_users, replace=False)).astype(np.int32)
        labels_item = history.items[history.indptr[users + 1] - 1]
        inner_sources = self._fit_sources(inner)
        self.timings["sources_inner"] = time.perf_counter() - started

        say("training candidates and features")
        t = time.perf_counter()
        x_parts, y_parts, groups = [], [], []
        for start in range(0, len(users), 4096):
            batch = users[start : start + 4096]
            positives = labels_item[start : start + 4096]
            # ``history`` (not ``inner``) so that no negative is the held-out item or anything touched.
            if c.training_negatives == "uniform":
                negatives = sample_unseen(history, batch, c.random_negatives, rng)
            else:
                proposed = self.candidates(inner_sources, inner, batch)
                proposed[proposed == positives[:, None]] = -1
                extra = sample_unseen(history, batch, max(1, c.random_negatives // 4), rng)
                negatives = np.concatenate([proposed, extra], axis=1)
            group = _dedupe_rows(np.concatenate([positives[:, None], negatives], axis=1))
            x = features(inner_sources, UserState.offline(inner_sources, inner, batch), group)
            keep = (group >= 0).reshape(-1)
            label = np.zeros(group.shape, dtype=np.float32)
            label[:, 0] = 1.0
            x_parts.append(x[keep])
            y_parts.append(label.reshape(-1)[keep])
            groups.append((group >= 0).sum(axis=1))
        x_train = np.concatenate(x_parts)
        y_train = np.concatenate(y_parts)
        self.timings["features"] = time.perf_counter() - t

        say(f"ranker on {len(x_train):,} (user, candidate) rows")
        t = time.perf_counter()
        params = {"seed": c.seed, "threads": c.threads, **c.ranker}
        self.ranker = Ranker(**params).fit(x_train, y_train, np.concatenate(groups))
        self.timings["ranker"] = time.perf_counter() - t

        say("candidate sources on the whole history")
        t = time.perf_counter()
        self.sources = self._fit_sources(history)
        self.timings["sources"] = time.perf_counter() - t
        return self

    def _ready(self) -> tuple[Sources, Ranker]:
        if self.sources is None or self.ranker is None:
            raise RuntimeError("the pipeline is not fitted")
        return self.sources, self.ranker

    def score(self, history: Sequences, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Ranker scores of ``items[n, m]`` for ``users[n]``."""
        sources, ranker = self._ready()
        x = features(sources, UserState.offline(sources, history, users), items)
        return ranker.predict(x).reshape(items.shape)

    def recommend(self, history: Sequences, users: np.ndarray, k: int) -> np.ndarray:
        """Top ``k`` of the candidates per user, best first (-1 pads when fewer candidates)."""
        sources, ranker = self._ready()
        proposed = self.candidates(sources, history, users)
        x = features(sources, UserState.offline(sources, history, users), proposed)
        scores = ranker.predict(x).reshape(proposed.shape)
        scores[proposed < 0] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(proposed, order, axis=1)
        return np.where(np.take_along_axis(scores, order, axis=1) > -np.inf, top, -1).astype(np.int32)
