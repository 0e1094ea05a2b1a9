"""Near-duplicate review text across accounts (MinHash LSH, datasketch).

A brushing merchant hands its ring one template and the ring varies a few words, so their reviews are
near duplicates of each other; but people also write the same short phrases everywhere ("很好",
"five stars"). A cluster of near-duplicate texts is evidence only where it is concentrated: at least
``min_accounts`` accounts wrote it for one shop, that shop holds at least ``min_shop_share`` of the
cluster, and at least ``min_lift`` times its share of the other reviews (a generic phrase spreads over
the shops as their reviews do), and the shop's part holds at least ``min_variants`` distinct texts (one
text pasted everywhere is generic praise or a default review; a template shows as variations). Texts are compared as sets of character
``shingle``-grams after dropping whitespace and punctuation; identical texts are hashed once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from datasketch import MinHash, MinHashLSH

from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
from zhongcao.integrity.inputs import Reviews


@dataclass(frozen=True)
class ReviewTextConfig:
    threshold: float = 0.5  # estimated Jaccard similarity of shingle sets
    num_perm: int = 64
    shingle: int = 3
    min_accounts: int = 3
    min_shop_share: float = 0.5
    min_lift: float = 3.0  # the shop's share of the cluster over its share of the other reviews
    # Distinct texts in the shop's part of the cluster. One text pasted by everyone is what generic
    # praise and default reviews look like ("好评"), and early on a good shop holds most of it; a
    # merchant's template shows as variations of one text.
    min_variants: int = 2
    min_chars: int = 6  # shorter texts carry too little to compare


_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def _minhash(text: str, config: ReviewTextConfig) -> MinHash:
    m = MinHash(num_perm=config.num_perm, seed=19)
    k = config.shingle
    m.update_batch([text[i : i + k].encode() for i in range(max(1, len(text) - k + 1))])
    return m


def near_duplicate_clusters(
    texts: tuple[str, ...] | list[str], config: ReviewTextConfig | None = None
) -> np.ndarray:
    """A cluster id per text (-1: too short to compare); near duplicates share an id."""
    config = config or ReviewTextConfig()
    norm = [normalise(t) for t in texts]
    distinct = sorted({t for t in norm if len(t) >= config.min_chars})
    parent = list(range(len(distinct)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    for i, text in enumerate(distinct):
        m = _minhash(text, config)
        for other in lsh.query(m):
            a, b = find(i), find(int(other))
            if a != b:
                parent[a] = b
        lsh.insert(i, m)
    index = {t: find(i) for i, t in enumerate(distinct)}
    return np.asarray([index.get(t, -1) for t in norm], dtype=np.int64)


def review_text_blocks(reviews: Reviews, config: ReviewTextConfig | None = None) -> list[Block]:
    """One block per (near-duplicate cluster, shop) where the cluster is concentrated on the shop."""
    config = config or ReviewTextConfig()
    if not len(reviews):
        return []
    cluster = near_duplicate_clusters(reviews.text, config)
    total = len(reviews)
    per_shop = dict(zip(*np.unique(reviews.shop_id, return_counts=True), strict=True))
    blocks = []
    for c in np.unique(cluster[cluster >= 0]).tolist():
        rows = np.flatnonzero(cluster == c)
        if len(np.unique(reviews.user_id[rows])) < config.min_accounts:
            continue
        shops, counts = np.unique(reviews.shop_id[rows], return_counts=True)
        for shop, n in zip(shops.tolist(), counts.tolist(), strict=True):
            mine = rows[reviews.shop_id[rows] == shop]
            accounts = np.unique(reviews.user_id[mine])
            share = n / len(rows)
            elsewhere = (per_shop[shop] - n + 1) / (total - len(rows) + 1)
            lift = share / elsewhere
            if len(accounts) < config.min_accounts or share < config.min_shop_share or lift < config.min_lift:
                continue
            variants = len({normalise(reviews.text[i]) for i in mine.tolist()})
            if variants < config.min_variants:
                continue
            ts = reviews.ts[mine]
            blocks.append(
                Block(
                    kind=BlockKind.review_text,
                    target_kind=TargetKind.shop,
                    accounts=accounts.astype(np.int64),
                    targets=np.asarray([shop], dtype=np.int64),
                    start=datetime.fromtimestamp(int(ts.min()), UTC),
                    end=datetime.fromtimestamp(int(ts.max()), UTC),
                    events=int(len(mine)),
                    density=float(len(mine) / len(accounts)),
                    score=float(min(1.0, share * min(1.0, len(accounts) / (2 * config.min_accounts)))),
                    order_ids=np.unique(reviews.order_id[mine]).astype(np.int64),
                    evidence={
                        "reviews": int(len(mine)),
                        "variants": variants,
                        "shop_share": round(share, 3),
                        "lift": round(lift, 2),
                        "five_star_share": round(float((reviews.rating[mine] == 5).mean()), 3),
                        "example": reviews.text[int(mine[0])][:80],
                        "review_ids": np.sort(reviews.review_id[mine]).tolist()[:50],
                    },
                )
            )
    return blocks
