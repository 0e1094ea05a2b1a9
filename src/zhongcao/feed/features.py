"""The feed's features of (user, item) pairs: one function, used by training and by the server.

``feed_features(sources, stats, catalog, contexts, candidates)`` returns the collaborative features of
``zhongcao.feed.ranker.features`` (ALS, transitions, co-visitation, popularity over the joint
content + product item space) followed by the platform's own: what the item is, its shop and
creator, how it did so far, how it fits the user's categories and price range, and context. Training
calls it on contexts built from the event log (``contexts.contexts_from_table``), the server on
contexts built per request (``service.FeedService.context``); ``tests/test_feed_parity.py`` proves
the two agree. Unknown values are NaN (LightGBM routes them on their own branch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.feed.catalog import Catalog
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.ranker import FEATURE_NAMES as COLLABORATIVE_FEATURES
from zhongcao.feed.ranker import Sources, UserState, features

PLATFORM_FEATURES: tuple[str, ...] = (
    "is_live",  # a live room (else a short video)
    "follows_account",  # the user follows the publishing account
    "category_interest",  # share of the user's interactions in the item's top category
    "log_price",  # log(1 + yuan) of the first anchored product
    "price_gap",  # |log price - the user's typical log price| (NaN when either is unknown)
    "creator_log_followers",
    "shop_score",  # experience score 0-5 of the item's shop (NaN: not scored yet)
    "item_age_days",
    "item_log_impressions",
    "item_play_rate",  # smoothed per impression
    "item_complete_rate",
    "item_engage_rate",
    "item_click_rate",
    "item_order_rate",
    "account_click_rate",  # anchor clicks per impression over the account's items
    "n_anchors",
    "user_log_impressions",
    "user_click_rate",
    "hour",  # hour of day, China time
)
FEATURE_NAMES: tuple[str, ...] = tuple(COLLABORATIVE_FEATURES) + PLATFORM_FEATURES
N_COLLABORATIVE = len(COLLABORATIVE_FEATURES)


@dataclass(frozen=True)
class ItemStats:
    """How each training-time item did (aligned with the training catalog's codes) and priors for the
    items published since (a rate smoothed toward the global rate)."""

    log_impressions: np.ndarray  # float32
    rates: np.ndarray  # float32 [n_items, 5]: play, complete, engage, click, order
    account_click_rate: np.ndarray  # float32 per item
    prior: np.ndarray  # float32 [5], the global rates

    def __len__(self) -> int:
        return len(self.log_impressions)


@dataclass(frozen=True)
class UserContexts:
    """What the feed knows about a batch of users at the moment it ranks for them."""

    state: UserState  # recent joint item codes (oldest first) and ALS vectors
    follow_ptr: np.ndarray  # int64 CSR over follow_accounts
    follow_accounts: np.ndarray  # int64, each user's followed account ids, sorted
    category_interest: np.ndarray  # float32 [n, n_categories]
    price_ref: np.ndarray  # float32 log(1 + yuan) typical of the user; NaN unknown
    log_impressions: np.ndarray  # float32
    click_rate: np.ndarray  # float32
    now_s: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.now_s)

    def follows_of(self, row: int) -> np.ndarray:
        return self.follow_accounts[self.follow_ptr[row] : self.follow_ptr[row + 1]]


def csr(lists: list[np.ndarray] | list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.asarray([len(x) for x in lists], dtype=np.int64)
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    flat = (
        np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if ptr[-1] else np.zeros(0, np.int64)
    )
    return ptr, flat


def feed_features(
    sources: Sources, stats: ItemStats, catalog: Catalog, contexts: UserContexts, candidates: np.ndarray
) -> np.ndarray:
    """``[n * m, len(FEATURE_NAMES)]`` float32 for ``candidates[n, m]`` (catalog codes, -1 pads)."""
    candidates = np.atleast_2d(np.asarray(candidates, dtype=np.int64))
    n, m = candidates.shape
    valid = (candidates >= 0) & (candidates < len(catalog))
    safe = np.where(valid, candidates, 0)
    known = valid & (candidates < len(stats))  # items the model was trained with
    model_codes = np.where(known, candidates, -1)
    out = np.empty((n, m, len(FEATURE_NAMES)), dtype=np.float32)
    out[..., :N_COLLABORATIVE] = features(sources, contexts.state, model_codes).reshape(n, m, N_COLLABORATIVE)
    p = out[..., N_COLLABORATIVE:]

    p[..., 0] = catalog.is_live[safe]
    accounts = catalog.account_ids[safe]
    follows = np.zeros((n, m), dtype=np.float32)
    for row in range(n):
        followed = contexts.follows_of(row)
        if len(followed):
            follows[row] = np.isin(accounts[row], followed)
    p[..., 1] = follows
    category = catalog.category[safe]
    has_category = category >= 0
    interest = np.take_along_axis(contexts.category_interest, np.maximum(category, 0), axis=1)
    p[..., 2] = np.where(has_category, interest, 0.0)
    price = catalog.price_fen[safe]
    log_price = np.where(price > 0, np.log1p(price / 100.0), np.nan)
    p[..., 3] = log_price
    p[..., 4] = np.abs(log_price - contexts.price_ref[:, None])
    p[..., 5] = catalog.follower_log[safe]
    p[..., 6] = catalog.shop_score[safe]
    p[..., 7] = np.maximum(contexts.now_s[:, None] - catalog.created_s[safe], 0) / 86_400.0
    stat_codes = np.where(known, candidates, 0)
    p[..., 8] = np.where(known, stats.log_impressions[stat_codes], 0.0)
    rates = np.where(known[..., None], stats.rates[stat_codes], stats.prior[None, None, :])
    p[..., 9:14] = rates
    p[..., 14] = np.where(known, stats.account_click_rate[stat_codes], stats.prior[3])
    p[..., 15] = catalog.n_anchors[safe]
    p[..., 16] = contexts.log_impressions[:, None]
    p[..., 17] = contexts.click_rate[:, None]
    p[..., 18] = ((contexts.now_s[:, None] // 3600 + 8) % 24).astype(np.float32)
    out[~valid] = 0.0
    return out.reshape(n * m, len(FEATURE_NAMES))


def empty_history(n: int, n_items: int) -> Sequences:
    return Sequences(np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), n_items)
