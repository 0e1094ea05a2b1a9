"""Several objectives, one score: LightGBM models for play completion, like/follow, anchor click and
purchase, combined with documented, configurable weights.

Each objective is a binary LightGBM model over the same features (``feed.features``); an impression is
labelled from what the same user did with the same item afterwards (``training.labels``):

=============  ==========================================================  =======
objective      label (per impression)                                      weight
=============  ==========================================================  =======
complete       a play of at least ``COMPLETE_MS`` (30 s): the user stayed      1.0
engage         a like, comment, share, or a follow of the item's account       2.0
anchor_click   a click on one of the item's anchored products                  4.0
purchase       an order attributed to the item                                40.0
=============  ==========================================================  =======

The score is ``sum(weight * P(objective))``: an expected value per impression in "completed plays".
The defaults say a purchase is worth about 40 completed plays, which with the simulated world's base
rates (purchase about 1/1000 impressions, completion about 1/5) keeps purchase a tie-breaker among
relevant items rather than the whole ranking. Change them with ``zhongcao train feed --weights
complete=1,engage=2,anchor_click=4,purchase=40`` (stored with the model) or per server with the
environment variable ``ZHONGCAO_FEED_WEIGHTS`` in the same format.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import lightgbm as lgb
import numpy as np

from zhongcao.feed.features import FEATURE_NAMES

OBJECTIVES: tuple[str, ...] = ("complete", "engage", "anchor_click", "purchase")
COMPLETE_MS = 30_000
WEIGHTS_ENV = "ZHONGCAO_FEED_WEIGHTS"


@dataclass(frozen=True)
class ObjectiveWeights:
    complete: float = 1.0
    engage: float = 2.0
    anchor_click: float = 4.0
    purchase: float = 40.0

    def vector(self) -> np.ndarray:
        return np.asarray([getattr(self, name) for name in OBJECTIVES], dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def parse(cls, text: str, base: ObjectiveWeights | None = None) -> ObjectiveWeights:
        """``"complete=1,purchase=50"``: names not given keep ``base``'s (default) values."""
        values = (base or cls()).as_dict()
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in values:
                raise ValueError(f"bad weight {part!r}: use name=value with names {', '.join(OBJECTIVES)}")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"bad weight {part!r}: {value!r} is not a number") from None
            if not np.isfinite(number) or number < 0:
                raise ValueError(f"bad weight {part!r}: weights are finite and not negative")
            values[name] = number
        return cls(**values)

    @classmethod
    def from_env(cls, base: ObjectiveWeights | None = None) -> ObjectiveWeights:
        text = os.environ.get(WEIGHTS_ENV, "")
        return cls.parse(text, base) if text else (base or cls())


DEFAULT_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


class MultiObjective:
    """One booster per objective; an objective without positives predicts its (zero) base rate."""

    def __init__(self, rounds: int = 80, threads: int = 2, seed: int = 0, **params: float) -> None:
        self.rounds = rounds
        self.params = {**DEFAULT_PARAMS, "num_threads": threads, "seed": seed, **params}
        self.boosters: dict[str, lgb.Booster | None] = {}
        self.base_rates: dict[str, float] = {}

    def fit(self, x: np.ndarray, labels: np.ndarray) -> MultiObjective:
        """``labels[n, len(OBJECTIVES)]`` of 0/1."""
        for j, name in enumerate(OBJECTIVES):
            y = labels[:, j].astype(np.float32)
            self.base_rates[name] = float(y.mean()) if len(y) else 0.0
            if y.sum() < 2 or y.sum() > len(y) - 2:
                self.boosters[name] = None
                continue
            data = lgb.Dataset(x, label=y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
            self.boosters[name] = lgb.train(self.params, data, num_boost_round=self.rounds)
        return self

    def predict(self, x: np.ndarray, threads: int | None = None) -> np.ndarray:
        """``[n, len(OBJECTIVES)]`` probabilities (``threads``: override the model's, for batches)."""
        out = np.empty((len(x), len(OBJECTIVES)), dtype=np.float64)
        for j, name in enumerate(OBJECTIVES):
            booster = self.boosters.get(name)
            if booster is None:
                out[:, j] = self.base_rates.get(name, 0.0)
            else:
                out[:, j] = booster.predict(x, num_threads=threads or self.params["num_threads"])
        return out

    def score(
        self, x: np.ndarray, weights: ObjectiveWeights, threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(combined score, per-objective probabilities)."""
        probabilities = self.predict(x, threads)
        return probabilities @ weights.vector(), probabilities

    # --- persistence ------------------------------------------------------------------------------

    def to_strings(self) -> dict[str, str]:
        return {name: b.model_to_string() for name, b in self.boosters.items() if b is not None}

    @classmethod
    def from_strings(
        cls, models: dict[str, str], base_rates: dict[str, float], threads: int = 2
    ) -> MultiObjective:
        out = cls(threads=threads)
        out.base_rates = dict(base_rates)
        out.boosters = {
            name: (lgb.Booster(model_str=models[name]) if name in models else None) for name in OBJECTIVES
        }
        return out


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """ROC AUC by ranks (ties averaged); None when a class is missing."""
    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
