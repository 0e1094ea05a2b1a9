"""Creator–product matching, both directions, explained: a pure engine (arrays in, arrays out).

:mod:`zhongcao.affiliate.matching_service` reads the platform (follows, orders, anchors, plans, shop
scores) through the domains' services and fills a :class:`MatchData`; this module scores pairs and says
why. Nothing here touches a database, so the benchmark (``zhongcao bench alliance``), the simulated
creators and the API rank with the same code.

A pair's score is a sum of weighted features, each one a reason a person can check:

* ``audience_category`` — how much more the creator's audience (its followers and the people who bought
  through it) buys in the product's category than the platform does (a smoothed lift);
* ``content_topic`` — the share of what the creator has promoted that is in the product's category;
* ``buyers_follow`` — how many of the product's buyers follow the creator;
* ``similar_creators`` — orders of the product through creators whose audience and content look like
  this creator's (cosine similarity of their category profiles);
* ``price_fit`` — the product's price against the typical price of what the audience buys;
* ``commission`` (products for a creator) — the plan's rate; ``shop_score`` — the shop's experience
  score;
* ``category_gmv`` and ``conversion`` (creators for a product) — what the creator sold in the category,
  and orders per content item (how well its content converts).

Products for a creator are ranked by that weighted sum (:data:`PRODUCT_WEIGHTS`, fixed round numbers,
not tuned to the benchmark's seeds). Creators for a product are ranked by a small probability model
instead (:func:`creator_scores`): a new creator–product pair sells when the creator takes the product
up and its content then sells, so the score is ``log P(creator promotes the category) + log (new
products the creator has sold)``. The first factor is the creator's share of anchors in the product's
leaf and top category, smoothed toward what creators with the same anchors also promote (a category
co-promotion prior learned from everyone's anchors); the second is how many distinct products the
creator has already sold (plus one), its demonstrated rate of turning promotions into sales. Its
reasons are the weighted features (:data:`CREATOR_WEIGHTS`) that speak for the pair. A reason is shown
when its contribution to the score is positive and among the pair's largest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CREATOR_WEIGHTS",
    "PRODUCT_WEIGHTS",
    "MatchData",
    "Ranked",
    "Reason",
    "creator_scores",
    "recommend_creators",
    "recommend_products",
]

# Products for a creator: what fits the audience and the content first, then money.
PRODUCT_WEIGHTS: dict[str, float] = {
    "audience_category": 1.0,
    "content_topic": 2.0,
    "buyers_follow": 0.5,
    "similar_creators": 0.5,
    "price_fit": 0.3,
    "commission": 0.5,
    "shop_score": 0.3,
    "popularity": 0.1,
}
# Creators for a product: fit first, then what they have shown they can sell.
CREATOR_WEIGHTS: dict[str, float] = {
    "audience_category": 1.0,
    "content_topic": 2.0,
    "buyers_follow": 0.5,
    "similar_creators": 0.5,
    "price_fit": 0.3,
    "category_gmv": 0.3,
    "conversion": 0.3,
    "reach": 0.1,
}
# Features whose contributions are explained (the priors "popularity" and "reach" are not reasons).
EXPLAINED = {
    "audience_category",
    "content_topic",
    "buyers_follow",
    "similar_creators",
    "price_fit",
    "commission",
    "shop_score",
    "category_gmv",
    "conversion",
}
MAX_REASONS = 3
NEIGHBOURS = 10  # similar creators counted per creator
# Creators for a product: a creator's category shares are smoothed toward the co-promotion prior with
# the weight of this many anchors; a creator takes up a product of any category now and then (this
# share of its promotions, spread evenly); the leaf and its top category count alike. Chosen on a time
# split inside the benchmark's training window (rank at day 8, pairs first sold on days 8–15, seeds
# 1–3), never on the held-out period: the top-category half matters (leaf only loses 5–15 points of
# recall there), the prior's weight (5 or 20) and the any-category share (2% or 10%) barely do.
FIT_PRIOR_ANCHORS = 20.0
FIT_ANY_CATEGORY = 0.02
FIT_TOP_WEIGHT = 0.5


@dataclass
class MatchData:
    """What the platform knows, as aligned arrays. Categories are indexes ``0 .. n_categories - 1``.

    ``category_parent`` maps each category to its top category (a top one to itself): the audience is
    compared by top category (people shop by broad interest), content by both levels.

    Products (the candidates: on sale under a plan the creators may use):
    ``product_ids``, ``product_category``, ``product_price_fen``, ``product_commission_bps`` (the
    open plan's rate, or the best rate the creator may use), ``product_shop_score`` (0–100, NaN when
    the shop has none yet), ``product_sales`` (units sold on every channel).

    Creators: ``creator_ids``, ``audience_category`` (purchases per category by the creator's followers
    and by buyers through the creator), ``content_category`` (products the creator anchored, per
    category), ``audience_log_price`` (mean log price of the audience's purchases, NaN when none),
    ``creator_followers``, ``creator_content`` (content items), ``creator_orders`` (orders through the
    creator), ``creator_category_gmv_fen`` (per category).

    Pairs (sparse, creators × products): ``creator_product_orders`` (orders through the creator),
    ``buyers_following`` (the product's buyers who follow the creator), ``known`` (pairs the creator
    already anchored or sold: never recommended again).
    """

    n_categories: int
    category_parent: np.ndarray
    product_ids: np.ndarray
    product_category: np.ndarray
    product_price_fen: np.ndarray
    product_commission_bps: np.ndarray
    product_shop_score: np.ndarray
    product_sales: np.ndarray
    creator_ids: np.ndarray
    audience_category: np.ndarray
    content_category: np.ndarray
    audience_log_price: np.ndarray
    creator_followers: np.ndarray
    creator_content: np.ndarray
    creator_orders: np.ndarray
    creator_category_gmv_fen: np.ndarray
    creator_product_orders: sp.csr_matrix
    buyers_following: sp.csr_matrix
    known: sp.csr_matrix

    def __post_init__(self) -> None:
        self._derived: dict[str, np.ndarray] | None = None

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def n_creators(self) -> int:
        return len(self.creator_ids)

    def derived(self) -> dict[str, np.ndarray]:
        """Per-creator profiles computed once: category lifts, content shares, neighbours."""
        if self._derived is not None:
            return self._derived
        k = self.n_categories
        to_top = sp.csr_matrix(
            (np.ones(k), (np.arange(k), np.asarray(self.category_parent, dtype=np.int64))), shape=(k, k)
        )
        audience = np.asarray(to_top.T @ np.asarray(self.audience_category, dtype=np.float64).T).T
        tops = np.unique(self.category_parent)
        platform = audience.sum(axis=0)
        platform_share = np.full(k, 1.0)
        platform_share[tops] = (platform[tops] + 1.0) / (platform[tops] + 1.0).sum()
        # Smoothed toward the platform's mix with the weight of 5 purchases.
        share = (audience + 5.0 * platform_share) / (audience.sum(axis=1, keepdims=True) + 5.0)
        lift = np.log(share / platform_share)[:, self.category_parent]
        raw_share = (audience / np.maximum(audience.sum(axis=1, keepdims=True), 1.0))[:, self.category_parent]
        content = np.asarray(self.content_category, dtype=np.float64)
        content_top = np.asarray(to_top.T @ content.T).T[:, self.category_parent]
        total = content.sum(axis=1, keepdims=True)
        leaf_share = (content + 0.1) / (total + 0.1 * k)
        top_share = (content_top + 0.1) / (total + 0.1 * len(tops))
        content_share = 0.5 * leaf_share + 0.5 * top_share
        profile = np.hstack([share[:, tops], leaf_share])
        norm = np.linalg.norm(profile, axis=1, keepdims=True)
        unit = profile / np.maximum(norm, 1e-12)
        sim = unit @ unit.T
        np.fill_diagonal(sim, 0.0)
        # Keep each creator's closest neighbours only, with similarity sharpened (cube).
        if self.n_creators > NEIGHBOURS:
            cut = np.partition(sim, -NEIGHBOURS, axis=1)[:, -NEIGHBOURS][:, None]
            sim = np.where(sim >= cut, sim, 0.0)
        sim = np.clip(sim, 0.0, None) ** 3
        # Creators for a product: P(the creator promotes a product of category l), by leaf and by top.
        shares = content / np.maximum(total, 1.0)
        co_promoted = shares.T @ content  # category m -> what the creators who promote m also promote
        transition = (co_promoted + 1e-9) / (co_promoted.sum(axis=1, keepdims=True) + 1e-9 * k)
        prior = (1.0 - FIT_ANY_CATEGORY) * (shares @ transition) + FIT_ANY_CATEGORY / k
        leaf_fit = (content + FIT_PRIOR_ANCHORS * prior) / (total + FIT_PRIOR_ANCHORS)
        leaves_per_top = np.bincount(self.category_parent, minlength=k).astype(np.float64)
        top_fit = np.asarray(to_top.T @ leaf_fit.T).T[:, self.category_parent]
        top_fit = top_fit / np.maximum(leaves_per_top[self.category_parent], 1.0)
        sold = np.asarray((self.creator_product_orders > 0).sum(axis=1)).ravel().astype(np.float64)
        self._derived = {
            "creator_fit": np.log((1.0 - FIT_TOP_WEIGHT) * leaf_fit + FIT_TOP_WEIGHT * top_fit),
            "creator_propensity": np.log1p(sold),
            "lift": lift,
            "audience_share": raw_share,
            "content_share": content_share,
            "content_raw": content,
            "neighbours": sim,
        }
        return self._derived


@dataclass(frozen=True)
class Reason:
    """Why a pair is recommended: a code, its value, and the category it is about (if any)."""

    code: str
    value: float
    category: int | None = None


@dataclass(frozen=True)
class Ranked:
    """Recommendations for one creator (product indexes) or one product (creator indexes), best first."""

    indexes: np.ndarray
    scores: np.ndarray
    reasons: list[list[Reason]]


def _features(data: MatchData, rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Feature matrices for creators ``rows`` × products ``cols`` (each ``len(rows) × len(cols)``)."""
    d = data.derived()
    cat = data.product_category[cols]
    price = np.log(np.maximum(data.product_price_fen[cols], 1).astype(np.float64))
    out: dict[str, np.ndarray] = {}
    out["audience_category"] = np.clip(d["lift"][np.ix_(rows, cat)], -2.0, 2.0)
    out["content_topic"] = d["content_share"][np.ix_(rows, cat)]
    out["buyers_follow"] = np.log1p(data.buyers_following[rows][:, cols].toarray())
    neighbour_orders = sp.csr_matrix(d["neighbours"][rows]) @ data.creator_product_orders[:, cols]
    out["similar_creators"] = np.log1p(np.asarray(neighbour_orders.todense()))
    typical = data.audience_log_price[rows][:, None]
    gap = np.abs(price[None, :] - typical)
    out["price_fit"] = np.where(np.isnan(gap), 0.0, 1.0 - np.minimum(np.nan_to_num(gap), 2.0))
    bps = np.maximum(data.product_commission_bps[cols], 1).astype(np.float64)
    out["commission"] = np.broadcast_to(np.log(bps / 1000.0)[None, :], out["content_topic"].shape)
    score = data.product_shop_score[cols].astype(np.float64)
    out["shop_score"] = np.broadcast_to(
        np.where(np.isnan(score), 0.0, (np.nan_to_num(score) - 80.0) / 20.0)[None, :],
        out["content_topic"].shape,
    )
    out["popularity"] = np.broadcast_to(
        np.log1p(data.product_sales[cols].astype(np.float64))[None, :], out["content_topic"].shape
    )
    gmv = data.creator_category_gmv_fen[np.ix_(rows, cat)].astype(np.float64)
    out["category_gmv"] = np.log1p(gmv / 10_000.0)
    conversion = data.creator_orders[rows] / (data.creator_content[rows] + 1.0)
    out["conversion"] = np.broadcast_to(np.log1p(conversion)[:, None], out["content_topic"].shape)
    out["reach"] = np.broadcast_to(
        np.log1p(data.creator_followers[rows].astype(np.float64))[:, None] / 10.0, out["content_topic"].shape
    )
    return out


def _score(features: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    total: np.ndarray | None = None
    for name, weight in weights.items():
        part = weight * features[name]
        total = part if total is None else total + part
    assert total is not None
    return total


def _reason_value(
    data: MatchData, code: str, creator: int, product: int, features: dict[str, np.ndarray], i: int, j: int
) -> Reason:
    d = data.derived()
    category = int(data.product_category[product])
    if code == "audience_category":
        top = int(data.category_parent[category])
        return Reason(code, round(float(d["audience_share"][creator, category]), 4), top)
    if code == "content_topic":
        return Reason(code, float(d["content_raw"][creator, category]), category)
    if code == "buyers_follow":
        return Reason(code, float(data.buyers_following[creator, product]))
    if code == "similar_creators":
        near = np.flatnonzero(d["neighbours"][creator] > 0)
        sold = data.creator_product_orders[near][:, [product]].toarray().ravel()
        return Reason(code, float((sold > 0).sum()))
    if code == "price_fit":
        return Reason(code, float(round(np.exp(data.audience_log_price[creator]))))
    if code == "commission":
        return Reason(code, float(data.product_commission_bps[product]))
    if code == "shop_score":
        return Reason(code, float(data.product_shop_score[product]))
    if code == "category_gmv":
        return Reason(code, float(data.creator_category_gmv_fen[creator, category]), category)
    if code == "conversion":
        return Reason(
            code, round(float(data.creator_orders[creator] / max(data.creator_content[creator], 1)), 3)
        )
    raise ValueError(code)


def _explain(
    data: MatchData,
    features: dict[str, np.ndarray],
    weights: dict[str, float],
    pairs: list[tuple[int, int, int, int]],
) -> list[list[Reason]]:
    """For each ``(creator, product, row, col)``: its largest positive explained contributions."""
    out = []
    for creator, product, i, j in pairs:
        parts = sorted(
            ((weights[name] * float(features[name][i, j]), name) for name in weights if name in EXPLAINED),
            reverse=True,
        )
        reasons = [
            _reason_value(data, name, creator, product, features, i, j)
            for value, name in parts
            if value > 0.05
        ]
        # A reason with nothing to show (no anchors in the category, no similar creator sold it) is
        # smoothing speaking, not evidence.
        out.append([r for r in reasons if r.value > 0][:MAX_REASONS])
    return out


def _top(scores: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the ``k`` best allowed scores, best first; ties keep index order (stable)."""
    masked = np.where(allowed, scores, -np.inf)
    k = min(k, int(allowed.sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-masked, kind="stable")[:k]
    return order.astype(np.int64)


def creator_scores(data: MatchData, cols: np.ndarray) -> np.ndarray:
    """Creators × products ``cols``: log P(the creator promotes the product's category) + log(1 + the
    distinct products it has sold). Higher is likelier to become a new selling pair."""
    d = data.derived()
    fit = d["creator_fit"][:, data.product_category[cols]]
    return np.asarray(fit + d["creator_propensity"][:, None])


def recommend_products(
    data: MatchData,
    creators: np.ndarray,
    k: int,
    *,
    weights: dict[str, float] | None = None,
    explain: bool = True,
    chunk: int = 256,
) -> list[Ranked]:
    """The ``k`` best products (indexes into ``data.product_*``) for each creator index in ``creators``,
    leaving out the pairs ``data.known`` marks; with reasons when ``explain``."""
    weights = weights or PRODUCT_WEIGHTS
    cols = np.arange(data.n_products)
    out: list[Ranked] = []
    creators = np.asarray(creators, dtype=np.int64)
    for start in range(0, len(creators), chunk):
        rows = creators[start : start + chunk]
        features = _features(data, rows, cols)
        scores = _score(features, weights)
        known = data.known[rows].toarray() > 0
        open_to_all = data.product_commission_bps > 0  # a creator may promote it under an open plan
        for i, creator in enumerate(rows.tolist()):
            top = _top(scores[i], ~known[i] & open_to_all, k)
            reasons = (
                _explain(data, features, weights, [(creator, int(p), i, int(p)) for p in top])
                if explain
                else [[] for _ in top]
            )
            out.append(Ranked(indexes=top, scores=scores[i, top], reasons=reasons))
    return out


def recommend_creators(
    data: MatchData,
    products: np.ndarray,
    k: int,
    *,
    weights: dict[str, float] | None = None,
    explain: bool = True,
    chunk: int = 256,
) -> list[Ranked]:
    """The ``k`` best creators (indexes into ``data.creator_*``) for each product index in ``products``,
    leaving out the creators who already promote or sold it; with reasons when ``explain``.

    Ranked by :func:`creator_scores`, or by a weighted sum of the features when ``weights`` is given;
    the reasons come from the features weighted by ``weights`` (default :data:`CREATOR_WEIGHTS`)."""
    by_model = weights is None
    weights = weights or CREATOR_WEIGHTS
    rows = np.arange(data.n_creators)
    known_t = data.known.T.tocsr()
    out: list[Ranked] = []
    products = np.asarray(products, dtype=np.int64)
    for start in range(0, len(products), chunk):
        cols = products[start : start + chunk]
        features = _features(data, rows, cols)
        scores = creator_scores(data, cols) if by_model else _score(features, weights)
        known = known_t[cols].toarray() > 0
        for j, product in enumerate(cols.tolist()):
            top = _top(scores[:, j], ~known[j], k)
            reasons = (
                _explain(data, features, weights, [(int(c), product, int(c), j) for c in top])
                if explain
                else [[] for _ in top]
            )
            out.append(Ranked(indexes=top, scores=scores[top, j], reasons=reasons))
    return out
