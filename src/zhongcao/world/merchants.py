"""Shops that respond to the traffic they earn (issue #20 item 2): pure rules, arrays in, arrays out.

Every ``review_days`` simulated days each open shop compares the feed exposure it earned in the last
period (impressions of items anchoring its products) with the period before, and looks at its
experience score as the platform shows it (Compass):

* **losing traffic with a low score** (exposure down by ``decline`` or more, score below
  ``low_score_centi``): it **invests** with probability ``p_invest`` if its margin can bear
  ``invest_cost``, closing ``improve_step`` of the gap between each of its hidden fulfilment and
  service parameters and a good shop's (the 10th percentile of the world at the start), or else it
  **exits** with probability ``p_exit`` (its products are delisted through the catalogue service);
* **earning traffic** (exposure up by ``growth`` or more, and any score not low): it **scales** with
  probability ``p_scale``: its shop account publishes ``scale_videos`` new short videos anchoring its
  own products (through the content service), and its pickup delay grows by ``scale_strain``.

The rules read only what a merchant can see (its own traffic and score) and are the same under every
feed policy; a policy changes what they see, never the rules. The decisions draw their randomness from
a fixed-size array per review (one number per shop and decision), so two runs that differ only in
ranking give each shop the same luck. Values and ranges: docs/world.md ("Merchants that adapt").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

# The hidden parameters an investment improves; lower is better for each.
IMPROVABLE = (
    "shop_defect_rate",
    "shop_pickup_delay_hours",
    "shop_carrier_days",
    "shop_cs_response_minutes",
    "shop_aftersales_hours",
    "shop_refusal_propensity",
)
GOOD_PERCENTILE = 10.0
POOR_QUALITY = 1.0 / 3.0  # a shop whose hidden quality is below this is "poor" in the report


@dataclass(frozen=True)
class MerchantRules:
    """How shops adapt (defaults: the middle of each documented range; none from a source)."""

    review_days: int = 14
    decline: float = 0.25  # exposure down by this share or more: losing traffic
    growth: float = 0.25  # exposure up by this share or more: earning traffic
    low_score_centi: int = 400  # the score under which a shop sees itself as "low"
    p_invest: float = 0.5
    improve_step: float = 0.35
    invest_cost: float = 0.03  # margin points per investment
    min_margin: float = 0.05  # an investment that would leave less margin is not made
    p_exit: float = 0.3  # a shop losing traffic that does not invest exits with this chance
    p_scale: float = 0.5
    scale_videos: int = 3
    scale_strain: float = 0.0  # pickup delay × (1 + strain) per scaling step
    margin_low: float = 0.08  # each shop's starting margin, drawn uniformly in [low, high]
    margin_high: float = 0.25
    min_exposure: int = 20  # fewer impressions in both periods: too little traffic to read a trend


RANGES: dict[str, tuple[float, float]] = {
    "p_invest": (0.2, 0.8),
    "improve_step": (0.15, 0.6),
    "invest_cost": (0.01, 0.08),
    "p_exit": (0.1, 0.6),
    "p_scale": (0.2, 0.8),
    "scale_strain": (0.0, 0.2),
}


def with_value(base: MerchantRules, name: str, value: float) -> MerchantRules:
    """``base`` with one rule changed (``ValueError`` for a name it does not have)."""
    kinds = {f.name: f.type for f in fields(MerchantRules)}
    if name not in kinds:
        raise ValueError(f"no merchant rule {name!r}")
    typed: int | float = int(value) if kinds[name] in (int, "int") else float(value)
    return replace(base, **{name: typed})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Decisions:
    invest: np.ndarray  # shop indexes
    exit: np.ndarray
    scale: np.ndarray


def starting_margins(rules: MerchantRules, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(rules.margin_low, rules.margin_high, n)


def good_levels(hidden: dict[str, np.ndarray]) -> dict[str, float]:
    """What a good shop achieves on each improvable parameter (the world's 10th percentile)."""
    return {k: float(np.percentile(hidden[k], GOOD_PERCENTILE)) for k in IMPROVABLE if k in hidden}


def decide(
    rules: MerchantRules,
    *,
    exposure: np.ndarray,
    previous: np.ndarray,
    score_centi: np.ndarray,
    margin: np.ndarray,
    open_: np.ndarray,
    draws: np.ndarray,
) -> Decisions:
    """Who invests, exits and scales this review. ``score_centi`` is NaN for an unscored shop;
    ``draws`` is a ``(shops, 3)`` array of uniforms (invest, exit, scale)."""
    exposure = exposure.astype(np.float64)
    previous = previous.astype(np.float64)
    seen = open_ & (np.maximum(exposure, previous) >= rules.min_exposure)
    change = (exposure - previous) / np.maximum(previous, 1.0)
    low = np.nan_to_num(score_centi, nan=np.inf) < rules.low_score_centi
    losing = seen & low & (change <= -rules.decline)
    can_pay = margin - rules.invest_cost >= rules.min_margin
    invest = losing & can_pay & (draws[:, 0] < rules.p_invest)
    leave = losing & ~invest & (draws[:, 1] < rules.p_exit)
    earning = seen & ~low & (change >= rules.growth)
    scale = earning & (draws[:, 2] < rules.p_scale)
    return Decisions(np.flatnonzero(invest), np.flatnonzero(leave), np.flatnonzero(scale))


def improve(
    hidden: dict[str, np.ndarray], shops: np.ndarray, rules: MerchantRules, good: dict[str, float]
) -> None:
    """Close ``improve_step`` of the gap to a good shop on every improvable parameter (in place);
    hidden quality moves toward 1 by the same share."""
    step = rules.improve_step
    for key, target in good.items():
        values = hidden[key]
        values[shops] = values[shops] - step * np.maximum(values[shops] - target, 0.0)
    if "shop_quality" in hidden:
        q = hidden["shop_quality"]
        q[shops] = q[shops] + step * (1.0 - q[shops])


def strain(hidden: dict[str, np.ndarray], shops: np.ndarray, rules: MerchantRules) -> None:
    """A scaling shop's pickup delay grows by ``scale_strain`` (in place)."""
    if rules.scale_strain:
        hidden["shop_pickup_delay_hours"][shops] *= 1.0 + rules.scale_strain
