"""Simulated creators choose what to promote, and publish short videos anchoring it.

Every simulated morning some creators (each with probability :data:`POST_PROBABILITY`) look at a list of
products offered to them by the **creator policy** and publish a short video anchoring up to
:data:`MAX_ANCHORS` of them, through the platform's own publishing flow (``flows.publish_content_bulk``,
which checks that the creator may promote each product). The policies:

* ``matching``: the platform's recommender, :func:`zhongcao.affiliate.matching_service.recommended_product_ids`
  (the same ranking ``GET /api/creator/recommendations`` serves);
* ``plaza``: the plain plaza list, highest commission first, newest first
  (:func:`~zhongcao.affiliate.matching_service.plaza_product_ids`), the baseline;
* ``browse``: :data:`SHOWN` products drawn at random from the plaza, as a creator who scrolls, filters
  and searches on their own (the organic behaviour the offline benchmark predicts).

What a creator accepts from the list is the world's hidden rule, the same under every policy: a product
of its niche (a leaf of its topic) is likely, one of a category its topic touches less so, anything else
rarely; a higher commission helps; creators look at the top of a list more than at its end. The
platform only sees what was published and what sold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.random import Generator
from sqlalchemy.orm import Session

from zhongcao import clock, flows
from zhongcao.affiliate import matching_service
from zhongcao.affiliate import service as affiliate_service
from zhongcao.content import bulk as content_bulk
from zhongcao.content.models import ContentKind
from zhongcao.errors import DomainError
from zhongcao.world import vocab
from zhongcao.world.generate import LEAVES, TOPIC_CATEGORY, TOPIC_KEYS

POST_PROBABILITY = 0.5
SHOWN = 20
MAX_ANCHORS = 2

Lister = Callable[[Session, Sequence[int], int], dict[int, list[int]]]


def _browse(rng: Generator) -> Lister:
    def lister(db: Session, account_ids: Sequence[int], limit: int) -> dict[int, list[int]]:
        pool = matching_service.plaza_product_ids(db, account_ids, 100_000)
        out: dict[int, list[int]] = {}
        for account_id in account_ids:
            mine = pool.get(account_id, [])
            if mine:
                pick = rng.choice(len(mine), size=min(limit, len(mine)), replace=False)
                out[account_id] = [mine[i] for i in pick.tolist()]
        return out

    return lister


CREATOR_POLICIES = ("matching", "plaza", "browse")


@dataclass
class Published:
    content_ids: list[int]
    account_ids: list[int]
    quality: np.ndarray
    topics: np.ndarray


class SimulatedCreators:
    """The world's creators (hidden niches and skills) and the policy that offers them products."""

    def __init__(self, latent: dict[str, np.ndarray], policy: str, rng: Generator) -> None:
        if policy not in CREATOR_POLICIES:
            raise ValueError(f"unknown creator policy {policy!r}; known: {', '.join(CREATOR_POLICIES)}")
        self.policy = policy
        self.rng = rng
        self.account_ids = latent["creator_account_ids"].astype(np.int64)
        self.niche = latent["creator_niche_index"].astype(np.int64)
        self.skill = latent["creator_skill"].astype(np.float64)
        self.product_ids = latent["product_ids"].astype(np.int64)
        self.product_leaf = latent["product_leaf_index"].astype(np.int64)
        self.leaf_topic = np.asarray([TOPIC_KEYS.index(leaf.topic) for _, leaf in LEAVES], dtype=np.int64)
        self.leaf_top = np.asarray([vocab.CATEGORIES.index(top) for top, _ in LEAVES], dtype=np.int64)
        self.lister: Lister = {
            "matching": matching_service.recommended_product_ids,
            "plaza": matching_service.plaza_product_ids,
            "browse": _browse(rng),
        }[policy]
        self.published_content: set[int] = set()

    def _fit(self, creator: int, products: np.ndarray, bps: np.ndarray) -> np.ndarray:
        """The hidden chance that a creator takes each product it is shown (before position)."""
        leaf = self.product_leaf[products]
        niche = int(self.niche[creator])
        own = self.leaf_topic[leaf] == niche
        near = TOPIC_CATEGORY[niche, self.leaf_top[leaf]] > 0
        base = np.where(own, 0.6, np.where(near, 0.15, 0.02))
        return base * np.sqrt(np.maximum(bps, 1) / 1500.0)

    def publish(self, db: Session, when: datetime) -> Published:
        """This morning's videos: who posts, what the policy offers, what each accepts, published."""
        rng = self.rng
        posting = np.flatnonzero(rng.random(len(self.account_ids)) < POST_PROBABILITY)
        empty = Published([], [], np.zeros(0), np.zeros(0, dtype=np.int64))
        if not len(posting):
            return empty
        with clock.frozen(when):
            offered = self.lister(db, self.account_ids[posting].tolist(), SHOWN)
            db.rollback()
            wanted = sorted({p for ids in offered.values() for p in ids})
            plans = affiliate_service.active_plans_for_products(db, wanted)
            rate = {pid: max((p.commission_bps for p in rows), default=0) for pid, rows in plans.items()}
            items: list[content_bulk.NewContent] = []
            owners: list[int] = []
            for c in posting.tolist():
                shown = offered.get(int(self.account_ids[c]), [])
                if not shown:
                    continue
                index = np.searchsorted(self.product_ids, np.asarray(shown, dtype=np.int64))
                bps = np.asarray([rate.get(p, 0) for p in shown], dtype=np.float64)
                position = 1.0 / (1.0 + 0.1 * np.arange(len(shown)))
                take = rng.random(len(shown)) < np.clip(self._fit(c, index, bps) * position, 0.0, 0.95)
                chosen = [shown[i] for i in np.flatnonzero(take)[:MAX_ANCHORS].tolist()]
                if not chosen:
                    continue
                label = vocab.TOPICS[TOPIC_KEYS[int(self.niche[c])]]
                zh, en = vocab.VIDEO_TEMPLATES[int(rng.integers(len(vocab.VIDEO_TEMPLATES)))]
                items.append(
                    content_bulk.NewContent(
                        account_id=int(self.account_ids[c]),
                        kind=ContentKind.short_video,
                        title_zh=zh.format(topic=label[0], product="好物")[:120],
                        title_en=en.format(topic=label[1], product="find")[:200],
                        topic=TOPIC_KEYS[int(self.niche[c])],
                        duration_seconds=int(rng.integers(15, 181)),
                        anchors=chosen,
                    )
                )
                owners.append(c)
            if not items:
                return empty
            try:
                ids = flows.publish_content_bulk(db, items)
                db.commit()
            except DomainError:  # a plan ended between the list and the video: nobody posts today
                db.rollback()
                return empty
        self.published_content.update(ids)
        owner_index = np.asarray(owners, dtype=np.int64)
        quality = 0.5 * rng.beta(2.0, 3.0, size=len(ids)) + 0.5 * self.skill[owner_index]
        return Published(ids, [int(self.account_ids[c]) for c in owners], quality, self.niche[owner_index])
