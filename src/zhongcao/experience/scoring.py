"""The shop experience score, as a pure computation over per-shop indicator values.

Each indicator is scored by its percentile among the eligible shops of the same category (higher =
better for the buyer, whatever the indicator's direction; shops tied on a value share the best rank of
the tie, so when most shops of a category have no complaints at all, a 0% complaint rate is at the
100th percentile, not in the middle); a dimension is the mean of its indicators'
percentiles; the score is the weighted sum of the dimensions, mapped onto a 5-point scale with a floor
of 3 (``3 + 2 × weighted percentile``). A shop with fewer than ``min_orders`` paid orders in the window
gets no score, and does not count in its category's percentiles either. Every score carries its
explanation: each indicator's value, percentile and contribution, and the single change that would
raise the score most (the indicator whose move to the category's top quarter adds the most points:
a value a peer actually reached, better than the shop's own, with the direction to move in).

Nothing here reads the database: :mod:`zhongcao.experience.indicators` gathers the values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class Indicator:
    key: str
    dimension: str  # product | logistics | service
    lower_is_better: bool
    label_zh: str
    label_en: str
    unit: str  # how the value reads: "rate", "hours", "share", "points"
    # Why a shop can have no value (what is missing from the window): the page says it in words.
    no_data: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("bad_review_rate", "product", True, "差评率", "bad-review rate", "rate", "no_deliveries"),
    Indicator(
        "quality_refund_rate",
        "product",
        True,
        "品质退款率",
        "quality-refund rate",
        "rate",
        "no_lagged_orders",
    ),
    Indicator(
        "pickup_timeliness",
        "logistics",
        False,
        "揽收及时性",
        "pickup timeliness",
        "points",
        "no_own_shipments",
    ),
    Indicator(
        "delivery_hours", "logistics", True, "配送时长", "delivery duration", "hours", "no_own_deliveries"
    ),
    Indicator("complaint_rate", "service", True, "投诉率", "complaint rate", "rate", "no_orders"),
    Indicator(
        "dispute_rate", "service", True, "纠纷商责率", "merchant-at-fault dispute rate", "rate", "no_orders"
    ),
    Indicator(
        "cs_3min_share",
        "service",
        False,
        "3分钟人工回复率",
        "3-minute human reply share",
        "share",
        "no_conversations",
    ),
    Indicator(
        "aftersales_hours",
        "service",
        True,
        "售后处理时长",
        "after-sales handling time",
        "hours",
        "no_aftersales",
    ),
)
BY_KEY = {i.key: i for i in INDICATORS}
DIMENSIONS = ("product", "logistics", "service")


@dataclass(frozen=True)
class ScoreConfig:
    """Weights and windows (configurable per category through :class:`ScoreRules`)."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: {"product": 0.50, "logistics": 0.15, "service": 0.35}
    )
    window_days: int = 90
    # Quality refunds are counted over a lagged window (refunds arrive weeks after the order).
    refund_lag_start_days: int = 15
    refund_lag_end_days: int = 104
    min_orders: int = 30
    # Pickup timeliness: points for a parcel picked up within 24 h, 24–36 h, 36–48 h of payment.
    pickup_points: tuple[float, float, float] = (1.0, 0.6, 0.3)
    # Fewer eligible shops than this in a category: percentiles are taken platform-wide.
    min_peers: int = 5

    def __post_init__(self) -> None:
        if set(self.weights) != set(DIMENSIONS) or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"weights must give each of {DIMENSIONS} a non-negative weight")
        if not math.isclose(sum(self.weights.values()), 1.0, abs_tol=1e-9):
            raise ValueError("the dimension weights must add up to 1")
        if not 0 < self.refund_lag_start_days < self.refund_lag_end_days:
            raise ValueError("the refund window must start after day 0 and end after it starts")
        if self.window_days < 1 or self.min_orders < 1:
            raise ValueError("window_days and min_orders must be positive")


@dataclass(frozen=True)
class ScoreRules:
    default: ScoreConfig = field(default_factory=ScoreConfig)
    by_category: Mapping[int, ScoreConfig] = field(default_factory=dict)

    def for_category(self, category_id: int | None) -> ScoreConfig:
        return self.by_category.get(category_id, self.default) if category_id is not None else self.default

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ScoreRules:
        """``{"default": {...}, "by_category": {"<id>": {...}}}`` with :class:`ScoreConfig` fields."""

        def config(values: Mapping[str, Any], base: ScoreConfig) -> ScoreConfig:
            known = set(ScoreConfig.__dataclass_fields__)
            unknown = sorted(set(values) - known)
            if unknown:
                raise ValueError(f"unknown score setting {unknown[0]!r}")
            values = dict(values)
            if "pickup_points" in values:
                values["pickup_points"] = tuple(values["pickup_points"])
            return replace(base, **values)

        default = config(raw.get("default", {}), ScoreConfig())
        by_category = {int(k): config(v, default) for k, v in raw.get("by_category", {}).items()}
        return cls(default=default, by_category=by_category)


@dataclass
class ShopInputs:
    """One shop's raw values for the window (``None`` where undefined, e.g. no conversations)."""

    shop_id: int
    category_id: int | None
    orders: int  # paid orders in the window (the minimum-order rule)
    values: dict[str, float | None]


@dataclass
class ShopResult:
    shop_id: int
    category_id: int | None
    orders: int
    score_centi: int | None
    dimensions_centi: dict[str, int | None]
    details: dict[str, Any]


def percentile_of(values: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """Percentile (0–100, higher = better) of each finite value among the finite values: the share of
    the other values it is at least as good as. Ties share the best rank of the tie
    (``rankdata(method="max")`` on the goodness, the value turned around when lower is better), so
    a value most shops share at the best end (no complaints) ranks at 100, not at the tie's middle.
    A lone value is at the 50th percentile."""
    out = np.full(len(values), np.nan)
    ok = np.isfinite(values)
    n = int(ok.sum())
    if n == 0:
        return out
    if n == 1:
        out[ok] = 50.0
        return out
    v = values[ok]
    goodness = -v if lower_is_better else v
    ranks = rankdata(goodness, method="max")  # 1..n; a tie takes its highest rank
    out[ok] = (ranks - 1.0) / (n - 1) * 100.0
    return out


@dataclass(frozen=True)
class Target:
    """The value to reach among a set of peers: the least good value a peer reached that ranks in
    the top quarter (percentile ≥ :data:`TOP_QUARTER`), and the percentile a shop reaching it gets."""

    value: float
    percentile: float


TOP_QUARTER = 75.0


def top_quarter_target(values: np.ndarray, lower_is_better: bool) -> Target | None:
    """The :class:`Target` of finite ``values`` (``None`` with fewer than two). Every shop below the
    top quarter is worse than it, so moving there is a real change in the right direction, and
    reachable: a peer did it."""
    finite = values[np.isfinite(values)]
    n = len(finite)
    if n < 2:
        return None
    goodness = np.sort(-finite if lower_is_better else finite)
    # A shop moving to goodness g ranks above the (count of peers at most as good as g) − 1 others:
    # the K-th least good value is the first to reach the top quarter.
    k = min(n, int(math.ceil(TOP_QUARTER / 100.0 * (n - 1) - 1e-9)) + 1)
    g = float(goodness[k - 1])
    at_most = int(np.searchsorted(goodness, g, side="right"))
    return Target(-g if lower_is_better else g, (at_most - 1) / (n - 1) * 100.0)


def score_shops(shops: Sequence[ShopInputs], rules: ScoreRules | None = None) -> list[ShopResult]:
    """Scores for ``shops`` (one row each, in the same order)."""
    rules = rules or ScoreRules()
    configs = [rules.for_category(s.category_id) for s in shops]
    eligible = np.asarray([s.orders >= c.min_orders for s, c in zip(shops, configs, strict=True)], dtype=bool)
    categories = np.asarray([s.category_id if s.category_id is not None else -1 for s in shops])
    pct: dict[str, np.ndarray] = {}
    top_quartile: dict[str, dict[int, Target]] = {}
    for ind in INDICATORS:
        raw = [s.values.get(ind.key) for s in shops]
        values = np.asarray([np.nan if v is None else float(v) for v in raw], dtype=np.float64)
        values[~eligible] = np.nan
        result = np.full(len(shops), np.nan)
        top_quartile[ind.key] = {}
        for category in np.unique(categories):
            members = np.flatnonzero((categories == category) & eligible & np.isfinite(values))
            min_peers = rules.for_category(None if category == -1 else int(category)).min_peers
            peers = members if len(members) >= min_peers else np.flatnonzero(eligible & np.isfinite(values))
            if not len(peers):
                continue
            ranked = percentile_of(values[peers], ind.lower_is_better)
            # Members are always among their peers (the category's, or else every eligible shop's).
            lookup = dict(zip(peers.tolist(), ranked.tolist(), strict=True))
            for i in members.tolist():
                result[i] = lookup[i]
            target = top_quarter_target(values[peers], ind.lower_is_better)
            if target is not None:
                top_quartile[ind.key][int(category)] = target
        pct[ind.key] = result
    out: list[ShopResult] = []
    for i, shop in enumerate(shops):
        config = configs[i]
        if not eligible[i]:
            out.append(
                ShopResult(
                    shop.shop_id,
                    shop.category_id,
                    shop.orders,
                    None,
                    dict.fromkeys(DIMENSIONS),
                    {"reason": "too_few_orders", "orders": shop.orders, "min_orders": config.min_orders},
                )
            )
            continue
        out.append(_explain(shop, i, config, pct, top_quartile, int(categories[i])))
    return out


def _explain(
    shop: ShopInputs,
    i: int,
    config: ScoreConfig,
    pct: dict[str, np.ndarray],
    top_quartile: dict[str, dict[int, Target]],
    category: int,
) -> ShopResult:
    per_dimension: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for ind in INDICATORS:
        if np.isfinite(pct[ind.key][i]):
            per_dimension[ind.dimension].append(ind.key)
    # A dimension with no measurable indicator counts as average (50), not as zero.
    dimension_pct = {
        d: float(np.mean([pct[k][i] for k in keys])) if keys else 50.0 for d, keys in per_dimension.items()
    }
    total = sum(config.weights[d] * dimension_pct[d] for d in DIMENSIONS)
    indicators = []
    best: tuple[float, dict[str, Any]] | None = None
    for ind in INDICATORS:
        p = pct[ind.key][i]
        keys = per_dimension[ind.dimension]
        share = config.weights[ind.dimension] / len(keys) if ind.key in keys else 0.0
        contribution = share * (p if np.isfinite(p) else 0.0) / 100.0 * 2.0
        value = shop.values.get(ind.key)
        entry: dict[str, Any] = {
            "key": ind.key,
            "dimension": ind.dimension,
            "label_zh": ind.label_zh,
            "label_en": ind.label_en,
            "value": value,
            "percentile": None if not np.isfinite(p) else round(float(p), 1),
            "contribution_points": round(contribution, 3),
            "lower_is_better": ind.lower_is_better,
        }
        if value is None:
            entry["no_data"] = ind.no_data
        target = top_quartile[ind.key].get(int(category))
        # Advice only below the top quarter, towards a value strictly better than the shop's own.
        if value is not None and np.isfinite(p) and target is not None and p < TOP_QUARTER:
            better = target.value < value if ind.lower_is_better else target.value > value
            if better:
                gain = share * (target.percentile - p) / 100.0 * 2.0
                entry["top_quartile_value"] = target.value
                move = {
                    "key": ind.key,
                    "label_zh": ind.label_zh,
                    "label_en": ind.label_en,
                    "direction": "lower" if ind.lower_is_better else "raise",
                    "from_value": value,
                    "to_value": target.value,
                    "to_percentile": round(target.percentile, 1),
                    "score_gain_points": round(gain, 3),
                }
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, move)
        indicators.append(entry)
    score = 3.0 + 2.0 * total / 100.0
    details: dict[str, Any] = {
        "scale": "3.00–5.00 (3 + 2 × weighted percentile)",
        "weights": dict(config.weights),
        "window_days": config.window_days,
        "orders": shop.orders,
        "indicators": indicators,
        "dimension_percentiles": {d: round(v, 1) for d, v in dimension_pct.items()},
    }
    if best is not None:
        details["improve_first"] = best[1]
    return ShopResult(
        shop.shop_id,
        shop.category_id,
        shop.orders,
        int(round(score * 100)),
        {d: int(round((3.0 + 2.0 * dimension_pct[d] / 100.0) * 100)) for d in DIMENSIONS},
        details,
    )
