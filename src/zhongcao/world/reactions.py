"""How a simulated person reacts to what happens to their orders (issue #20 item 1).

Every number a reaction uses lives in :class:`Reactions`, so the experiment's sensitivity table can
vary it (:data:`RANGES`). The values and their sources are in ``docs/world.md`` ("Calibrated
reactions"); where no source was found the value is a documented guess with a range, said so there.

A bad experience acts through three channels:

* **satisfaction** (hidden, 0-1): the NPS answer (score ≈ 1 + 11 × satisfaction + noise), review
  ratings, returns for a change of mind, churn, and, through two elasticities, how often a person
  opens the app (``activity_elasticity``) and how readily a product view becomes an order
  (``conversion_elasticity``);
* **the shop**: after a late parcel, a defect, a refused refund or a slow answer the buyer stops
  buying from that shop with the ``avoid_after_*`` probability (the people who "would not shop with
  that retailer again"); nothing else about the buyer changes;
* **recovery**: a refund granted for a faulty item gives satisfaction back (the service recovery
  paradox: more than was lost, but only after the buyer's first failure), and does not undo an
  avoided shop (the paradox shows in satisfaction, not in repurchase).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class Reactions:
    """The parameters of a simulated person's reactions (defaults: the calibrated values)."""

    # --- satisfaction hits (0-1 scale; range, no source found: see docs/world.md) -------------------
    late_hit_per_day: float = 0.07  # per day late, capped at late_hit_max
    late_hit_max: float = 0.25
    defect_hit: float = 0.25
    refusal_hit: float = 0.30  # a refund refused by the shop
    slow_reply_hit: float = 0.05  # customer service answers after more than an hour
    very_slow_reply_hit: float = 0.10  # ... after more than six hours
    smooth_order_gain: float = 0.03  # share of the gap to 1 closed by an order without trouble
    # --- recovery (Maxham & Netemeyer 2002; de Matos, Henrique & Rossi 2007) ---------------------
    # Share of the failure's satisfaction hit given back when a faulty item is refunded: above 1 is
    # the recovery paradox, seen after a first failure only; a later recovery gives back part.
    first_recovery_restore: float = 1.2
    later_recovery_restore: float = 0.5
    # --- the shop: probability that the buyer never buys from it again ---------------------------
    avoid_after_late: float = (
        0.13  # Oracle Retail consumer study: 13% never order again after a late delivery
    )
    avoid_after_defect: float = 0.29  # Voxware survey: 29% stop after one incorrect delivery
    avoid_after_refusal: float = 0.31  # Narvar 2019: 31% of new customers do not return after a bad return
    avoid_after_slow_reply: float = 0.39  # Gartner: stay 37% after high-effort service vs 61% low-effort
    # --- satisfaction -> behaviour ----------------------------------------------------------------
    # activity ∝ (satisfaction / baseline)^e: a failure delays the next order by about 7%
    # (Amorim, Eng-Larsson & Rooderkerk 2025: +7.22% time to next order after a fulfilment failure).
    activity_elasticity: float = 0.17
    # conversion ∝ (satisfaction / baseline)^e, so that activity × conversion spends about 46% more
    # for a promoter than a detractor (MeasuringU's summary of a New Zealand firm's NPS and spend data).
    conversion_elasticity: float = 0.36
    # --- leaving the platform (range, no source found) ----------------------------------------------
    churn_daily_max: float = 0.12  # daily churn probability at satisfaction 0
    churn_below: float = 0.45  # satisfaction under which churn starts

    def satisfaction_hit(self, kind: str, late_days: float = 0.0) -> float:
        """How much a bad experience of ``kind`` lowers satisfaction."""
        if kind == "late":
            return min(self.late_hit_max, self.late_hit_per_day * late_days)
        return {
            "defect": self.defect_hit,
            "refusal": self.refusal_hit,
            "slow_reply": self.slow_reply_hit,
            "very_slow_reply": self.very_slow_reply_hit,
        }[kind]

    def activity_factor(self, satisfaction: np.ndarray, baseline: float) -> np.ndarray:
        """How a person's chance of opening the app today scales with their satisfaction."""
        return np.power(np.maximum(satisfaction, 0.0) / baseline, self.activity_elasticity)

    def conversion_factor(self, satisfaction: np.ndarray, baseline: float) -> np.ndarray:
        """How readily a product view becomes an add-to-cart, by satisfaction."""
        return np.power(np.maximum(satisfaction, 0.0) / baseline, self.conversion_elasticity)

    def churn_probability(self, satisfaction: np.ndarray) -> np.ndarray:
        """The daily chance of leaving the platform for good."""
        return self.churn_daily_max * np.clip((self.churn_below - satisfaction) / self.churn_below, 0.0, 1.0)

    def avoid_probability(self, kind: str) -> float:
        """The chance that a bad experience of ``kind`` makes the buyer avoid the shop for good."""
        return {
            "late": self.avoid_after_late,
            "defect": self.avoid_after_defect,
            "refusal": self.avoid_after_refusal,
            "slow_reply": self.avoid_after_slow_reply,
            "very_slow_reply": self.avoid_after_slow_reply,
        }[kind]


# The world before calibration (issue #6): hand-set hits, no shop avoidance, activity ∝ sqrt and
# conversion ∝ satisfaction, a flat +0.1 for a won arbitration (approximated by the restore share).
HAND_SET = Reactions(
    first_recovery_restore=0.4,
    later_recovery_restore=0.4,
    avoid_after_late=0.0,
    avoid_after_defect=0.0,
    avoid_after_refusal=0.0,
    avoid_after_slow_reply=0.0,
    activity_elasticity=0.5,
    conversion_elasticity=1.0,
)

# What the sensitivity table varies, (low, high): the sources' spread where there is one, else a
# documented guess (docs/world.md says which).
RANGES: dict[str, tuple[float, float]] = {
    "defect_hit": (0.12, 0.40),
    "refusal_hit": (0.15, 0.45),
    "late_hit_per_day": (0.035, 0.14),
    "first_recovery_restore": (0.5, 1.5),
    "avoid_after_late": (0.05, 0.30),
    "avoid_after_defect": (0.10, 0.50),
    "avoid_after_refusal": (0.15, 0.50),
    "avoid_after_slow_reply": (0.10, 0.50),
    "activity_elasticity": (0.05, 0.5),
    "conversion_elasticity": (0.1, 1.0),
    "churn_daily_max": (0.04, 0.2),
}


def with_value(base: Reactions, name: str, value: float) -> Reactions:
    """``base`` with one parameter changed (``ValueError`` for a name it does not have)."""
    if name not in {f.name for f in fields(Reactions)}:
        raise ValueError(f"no reaction parameter {name!r}")
    return replace(base, **{name: value})
