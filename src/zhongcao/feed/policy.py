"""What a feed policy is, and the simplest honest one: popular + followed.

A feed policy turns what the platform knows (the content it may show, who follows whom, recent
engagement) into a page of content ids per user. The market simulation and the feed service call
policies only through :class:`FeedPolicy`, in batch (many users at once), so a better engine is a
one-line change: register it in :data:`zhongcao.feed.policy_registry.POLICIES` and name it
(``simulate(..., feed_policy="als")``).

Everything here works on integer arrays; nothing reads tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class FeedCorpus:
    """The content a feed may show right now, one row per item (arrays aligned, sorted by id)."""

    content_ids: np.ndarray  # int64
    account_ids: np.ndarray  # int64, the publishing account
    topic_index: np.ndarray  # int64, index into the platform's topic list
    available: np.ndarray  # bool: public and, for a live room, live now
    shop_ids: np.ndarray | None = None  # int64, the shop whose product the item anchors first (-1: none)


@dataclass(frozen=True)
class FeedSignals:
    """What people did, as the platform recorded it (events and follows)."""

    follow_user_ids: np.ndarray  # int64, pairs (user, account) of current follows
    follow_account_ids: np.ndarray
    engaged_content_ids: np.ndarray  # int64, content that drew engagement in the recent window
    engaged_weight: np.ndarray  # float64, how much (plays weighted by watch share, likes, ...)
    # The north star and the money, as the platform knows them (for policies that use them).
    shop_score_centi: Mapping[int, int | None] = field(default_factory=dict)  # current experience score
    shop_gmv_fen: Mapping[int, int] = field(default_factory=dict)  # trailing 30-day GMV


@runtime_checkable
class FeedPolicy(Protocol):
    """Decides what each user sees. ``fit`` is called when the signals change (the simulation: daily)."""

    name: str

    def fit(self, corpus: FeedCorpus, signals: FeedSignals) -> None: ...

    def recommend(self, user_ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        """A ``(len(user_ids), k)`` array of content ids, best first, padded with -1."""
        ...


class PopularFollowedFeed:
    """Half of each page from accounts the user follows, half from what is popular platform-wide.

    Followed: a followed account drawn uniformly, then one of its available items drawn in
    proportion to ``1 + engagement``. Popular: drawn in proportion to ``1 + engagement`` among the
    ``pool`` most engaged available items (so a page is popular without being the same ten items
    for everyone). Users who follow nobody get a page of popular items. Draws are with replacement;
    a repeated item on one page is replaced by a popular one.
    """

    name = "popular_followed"

    def __init__(self, followed_share: float = 0.5, pool: int = 2_000) -> None:
        if not 0.0 <= followed_share <= 1.0:
            raise ValueError("followed_share must be within [0, 1]")
        self.followed_share = followed_share
        self.pool = pool

    def fit(self, corpus: FeedCorpus, signals: FeedSignals) -> None:
        if len(corpus.content_ids) > 1 and not (np.diff(corpus.content_ids) > 0).all():
            raise ValueError("FeedCorpus.content_ids must be sorted and unique")
        avail = np.flatnonzero(corpus.available)
        content = corpus.content_ids[avail]
        accounts = corpus.account_ids[avail]
        weight = np.ones(len(content))
        if len(signals.engaged_content_ids):
            pos = np.searchsorted(content, signals.engaged_content_ids)
            pos = np.minimum(pos, max(len(content) - 1, 0))
            hit = len(content) > 0
            ok = (content[pos] == signals.engaged_content_ids) if hit else np.zeros(0, dtype=bool)
            np.add.at(weight, pos[ok], signals.engaged_weight[ok])
        if corpus.shop_ids is not None:
            weight = weight * self.shop_factor(corpus.shop_ids[avail], signals)
        # Popular pool: the most engaged available items, drawn by weight.
        top = np.argsort(-weight, kind="stable")[: self.pool]
        self._pop_ids = content[top]
        self._pop_cum = np.cumsum(weight[top])
        # Per account: its available items (CSR by account) and their cumulative weights.
        order = np.lexsort((content, accounts))
        self._acc_keys, starts = np.unique(accounts[order], return_index=True)
        self._acc_ptr = np.append(starts, len(order))
        self._acc_items = content[order]
        self._acc_cum = np.cumsum(weight[order])
        # Per user: the followed accounts that have something to show (CSR by user).
        fu, fa = signals.follow_user_ids, signals.follow_account_ids
        has = np.isin(fa, self._acc_keys)
        fu, fa = fu[has], fa[has]
        order = np.lexsort((fa, fu))
        self._user_keys, starts = np.unique(fu[order], return_index=True)
        self._user_ptr = np.append(starts, len(order))
        self._user_accounts = fa[order]

    def shop_factor(self, shop_ids: np.ndarray, signals: FeedSignals) -> np.ndarray:
        """How much an item's shop multiplies its weight (1 here: popularity only)."""
        return np.ones(len(shop_ids))

    def _popular(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if len(self._pop_ids) == 0:
            return np.full(n, -1, dtype=np.int64)
        at = np.searchsorted(self._pop_cum, rng.random(n) * self._pop_cum[-1], side="right")
        return self._pop_ids[np.minimum(at, len(self._pop_ids) - 1)]

    def recommend(self, user_ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        n = len(user_ids)
        page = self._popular(n * k, rng).reshape(n, k)
        k_followed = int(round(k * self.followed_share))
        if k_followed and len(self._user_keys):
            where = np.searchsorted(self._user_keys, user_ids)
            where = np.minimum(where, len(self._user_keys) - 1)
            follows = self._user_keys[where] == user_ids
            rows = np.flatnonzero(follows)
            if len(rows):
                lo, hi = self._user_ptr[where[rows]], self._user_ptr[where[rows] + 1]
                pick = lo[:, None] + (rng.random((len(rows), k_followed)) * (hi - lo)[:, None]).astype(
                    np.int64
                )
                acc = self._user_accounts[pick]
                a = np.searchsorted(self._acc_keys, acc)
                a_lo, a_hi = self._acc_ptr[a], self._acc_ptr[a + 1]
                base = np.where(a_lo > 0, self._acc_cum[np.maximum(a_lo - 1, 0)], 0.0)
                span = self._acc_cum[a_hi - 1] - base
                at = np.searchsorted(self._acc_cum, base + rng.random(acc.shape) * span, side="right")
                at = np.clip(at, a_lo, a_hi - 1)
                page[rows, :k_followed] = self._acc_items[at]
        # A page never shows an item twice: later repeats become -1.
        srt = np.sort(page, axis=1)
        if n and k > 1 and (srt[:, 1:] == srt[:, :-1]).any():
            for r in np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1)):
                _, first = np.unique(page[r], return_index=True)
                keep = np.zeros(k, dtype=bool)
                keep[first] = True
                page[r, ~keep] = -1
        return page


class GmvFeed(PopularFollowedFeed):
    """Popular + followed, with exposure bought by sales: an item's weight grows with its shop's
    trailing 30-day GMV (``1 + log1p(GMV in yuan)``). What a GMV-only platform does."""

    name = "gmv"

    def shop_factor(self, shop_ids: np.ndarray, signals: FeedSignals) -> np.ndarray:
        gmv = np.asarray([signals.shop_gmv_fen.get(int(s), 0) for s in shop_ids], dtype=np.float64)
        return 1.0 + np.log1p(gmv / 100.0)


class ExperienceAwareFeed(PopularFollowedFeed):
    """Popular + followed, with the north star: a shop scored below ``gate_centi`` gets at most
    ``capped`` of its weight and no boost; above it, weight grows with the score (``(score / 4)^k``).
    A shop not scored yet is neutral (×1), so new shops still get seen."""

    name = "experience"

    def __init__(
        self, gate_centi: int = 380, capped: float = 0.2, power: float = 6.0, **kwargs: float
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.gate_centi = gate_centi
        self.capped = capped
        self.power = power

    def shop_factor(self, shop_ids: np.ndarray, signals: FeedSignals) -> np.ndarray:
        out = np.ones(len(shop_ids))
        for i, shop in enumerate(shop_ids.tolist()):
            score = signals.shop_score_centi.get(int(shop))
            if score is None:
                continue
            out[i] = self.capped if score < self.gate_centi else (score / 400.0) ** self.power
        return out
