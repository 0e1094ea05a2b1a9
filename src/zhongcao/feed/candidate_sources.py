"""Fitting the candidate sources, in one place: implicit ALS, popularity and trending, item-to-item
(co-visitation and next items) and factorized transitions.

The offline pipeline (``zhongcao bench recsys``, :mod:`zhongcao.feed.pipeline`) and the feed's training
(:mod:`zhongcao.feed.training`) both build their :class:`~zhongcao.feed.ranker.Sources` here, each passing
the settings it chooses; whatever a caller leaves out takes the defaults below.
"""

from __future__ import annotations

import numpy as np

from zhongcao.feed.als import ALS, TransitionFactors
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.popularity import Popularity
from zhongcao.feed.ranker import Sources


def fit_sources(
    history: Sequences,
    *,
    als_factors: int = 64,
    als_regularization: float = 0.05,
    als_alpha: float = 10.0,
    als_iterations: int = 15,
    transition_factors: int = 64,
    transition_regularization: float = 0.05,
    transition_alpha: float = 10.0,
    transition_iterations: int = 15,
    trending_half_life: float | None = 5.0,
    trending_ages: np.ndarray | None = None,
    window: int = 3,
    seed: int = 0,
    threads: int = 2,
) -> Sources:
    """Every candidate source fitted on ``history``.

    ``trending_ages`` (one per interaction in ``history.items``, in the unit of ``trending_half_life``)
    dates trending by real time, such as hours before the training window's end; without it an
    interaction's age is its position from the end of the user's own history (files without timestamps).
    """
    als = ALS(
        factors=als_factors,
        regularization=als_regularization,
        alpha=als_alpha,
        iterations=als_iterations,
        seed=seed,
        threads=threads,
    )
    transitions = TransitionFactors(
        factors=transition_factors,
        regularization=transition_regularization,
        alpha=transition_alpha,
        iterations=transition_iterations,
        seed=seed,
        threads=threads,
    )
    sources = Sources.fit(
        history, als=als, popularity=Popularity(trending_half_life), transitions=transitions, window=window
    )
    if trending_ages is not None:
        sources.popularity.fit_items(history.items, trending_ages, history.n_items)
    return sources
