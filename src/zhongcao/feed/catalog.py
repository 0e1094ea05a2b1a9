"""What the feed may show, as aligned numpy arrays indexed by an item code (one code per content item).

Codes are positions: a catalog built at training time lists content by id, and the serving catalog
starts from that list and appends content published later (``refreshed``), so a code means the same
item to the trained model and to the server. Live status, removals, shop experience scores and
campaign registrations change under a running server; ``refreshed`` re-reads them in a few small
queries (new content by id, live rooms by status) and returns a new catalog, never mutating one that
a request may be reading.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import numpy as np
from sqlalchemy import Row
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.campaigns import service as campaigns_service
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus  # enums only; tables via content_service
from zhongcao.experience import scores as experience_scores
from zhongcao.shops import service as shops_service

CHUNK = 5000
T = TypeVar("T")


@dataclass(frozen=True)
class Catalog:
    content_ids: np.ndarray  # int64, code -> content id (ascending for codes known at training time)
    account_ids: np.ndarray  # int64
    shop_ids: np.ndarray  # int64, the account's shop, else the first anchored product's shop; -1 none
    category: np.ndarray  # int64, top category index of the first anchored product; -1 none
    price_fen: np.ndarray  # int64, cheapest selling SKU of the first anchored product; 0 none
    created_s: np.ndarray  # int64, publication time (epoch seconds)
    is_live: np.ndarray  # bool, a live room (else a short video)
    status: np.ndarray  # int8: 0 published/scheduled, 1 live now, 2 ended, 3 removed
    anchor_ptr: np.ndarray  # int64, CSR over anchor_products
    anchor_products: np.ndarray  # int64 product ids
    account_followers: dict[int, int]
    account_names: dict[int, str]
    account_is_shop: dict[int, bool]
    category_names: list[tuple[str, str]]  # (zh, en) per top category index
    shop_score_centi: dict[int, int | None] = field(default_factory=dict)  # None: not scored yet
    campaign_products: frozenset[int] = frozenset()
    loaded_at_s: float = 0.0
    # What the scores and campaign products were read at (``experience_scores.scores_version``,
    # ``campaigns_service.running_campaigns_version``): a refresh re-reads them only when these move.
    scores_version: tuple | None = None
    campaigns_version: tuple | None = None
    # Shops an operator suspended: their content (their own, or anchoring their products first) is
    # not shown until the shop is restored.
    suspended_shops: frozenset[int] = frozenset()
    _derived: dict = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.content_ids)

    @property
    def n_categories(self) -> int:
        return len(self.category_names)

    @property
    def max_content_id(self) -> int:
        return int(self.content_ids.max()) if len(self.content_ids) else 0

    # --- derived arrays, computed once per catalog ----------------------------------------------

    def _get(self, key: str, make: Callable[[], T]) -> T:
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    @property
    def live_now(self) -> np.ndarray:
        return self.status == 1

    @property
    def live_codes(self) -> np.ndarray:
        """Codes of the rooms on air (computed once per catalogue: requests ask every time)."""
        return self._get("live_codes", lambda: np.flatnonzero(self.status == 1))

    @property
    def available(self) -> np.ndarray:
        """May be shown now: a published short video, or a live room on air."""

        def make() -> np.ndarray:
            shown = np.where(self.is_live, self.status == 1, self.status == 0)
            if self.suspended_shops:
                shown &= ~np.isin(self.shop_ids, np.fromiter(self.suspended_shops, dtype=np.int64))
            return shown

        return self._get("available", make)

    @property
    def code_of(self) -> dict[int, int]:
        return self._get("code_of", lambda: {int(c): i for i, c in enumerate(self.content_ids.tolist())})

    @property
    def ascending(self) -> bool:
        """Whether content ids ascend with codes (they do when codes follow publication order)."""
        return self._get("ascending", lambda: bool((np.diff(self.content_ids) > 0).all()))

    def codes(self, content_ids: list[int] | np.ndarray) -> np.ndarray:
        """The codes of ``content_ids``, -1 for ids not in the catalogue: a binary search over the
        ids (ascending: codes follow publication order) instead of a dict lookup per id."""
        ids = np.asarray(content_ids, dtype=np.int64)
        if not len(ids) or not len(self):
            return np.full(len(ids), -1, dtype=np.int64)
        if self.ascending:
            pos = np.minimum(np.searchsorted(self.content_ids, ids), len(self) - 1)
            return np.where(self.content_ids[pos] == ids, pos, -1).astype(np.int64)
        lookup = self.code_of
        return np.asarray([lookup.get(int(c), -1) for c in ids.tolist()], dtype=np.int64)

    @property
    def by_account(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(account ids, CSR pointers, item codes newest first) for "what did this account publish"."""

        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            order = np.lexsort((-self.created_s, self.account_ids))
            keys, starts = np.unique(self.account_ids[order], return_index=True)
            return keys, np.append(starts, len(order)), order

        return self._get("by_account", make)

    def items_of_accounts(self, account_ids: list[int] | np.ndarray) -> np.ndarray:
        keys, ptr, codes = self.by_account
        accounts = np.asarray(account_ids, dtype=np.int64)
        pos = np.searchsorted(keys, accounts)
        pos = np.minimum(pos, max(len(keys) - 1, 0))
        hit = (keys[pos] == accounts) if len(keys) else np.zeros(len(accounts), dtype=bool)
        parts = [codes[ptr[p] : ptr[p + 1]] for p in pos[hit]]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @property
    def shop_score(self) -> np.ndarray:
        """float32 per item: the shop's experience score (0-5), NaN when not scored or no shop."""

        def make() -> np.ndarray:
            out = np.full(len(self), np.nan, dtype=np.float32)
            scored = [(shop, score) for shop, score in self.shop_score_centi.items() if score is not None]
            if not scored or not len(self):
                return out
            shops = np.asarray([shop for shop, _ in scored], dtype=np.int64)
            scores = np.asarray([score / 100.0 for _, score in scored], dtype=np.float32)
            order = np.argsort(shops)
            shops, scores = shops[order], scores[order]
            pos = np.minimum(np.searchsorted(shops, self.shop_ids), len(shops) - 1)
            hit = shops[pos] == self.shop_ids
            out[hit] = scores[pos[hit]]
            return out

        return self._get("shop_score", make)

    @property
    def in_campaign(self) -> np.ndarray:
        def make() -> np.ndarray:
            if not self.campaign_products:
                return np.zeros(len(self), dtype=bool)
            hit = np.isin(self.anchor_products, np.fromiter(self.campaign_products, dtype=np.int64))
            counts = np.add.reduceat(hit.astype(np.int64), self.anchor_ptr[:-1]) if len(hit) else None
            out = np.zeros(len(self), dtype=bool)
            if counts is not None:
                has = np.diff(self.anchor_ptr) > 0
                out[has] = counts[has] > 0
            return out

        return self._get("in_campaign", make)

    def campaign_pool(self, eligible: np.ndarray) -> np.ndarray:
        """Available campaign items among ``eligible`` (cached per catalog and mask)."""
        key = ("campaign_pool", id(eligible))
        if key not in self._derived:
            self._derived[key] = np.flatnonzero(self.in_campaign & self.available & eligible)
        return self._derived[key]

    @property
    def follower_log(self) -> np.ndarray:
        return self._get(
            "follower_log",
            lambda: np.log1p(
                np.asarray(
                    [self.account_followers.get(int(a), 0) for a in self.account_ids], dtype=np.float32
                )
            ),
        )

    @property
    def n_anchors(self) -> np.ndarray:
        return np.diff(self.anchor_ptr)

    def anchors_of(self, code: int) -> list[int]:
        return self.anchor_products[self.anchor_ptr[code] : self.anchor_ptr[code + 1]].tolist()

    # --- loading ---------------------------------------------------------------------------------

    def refreshed(self, db: Session, now: datetime | None = None) -> Catalog:
        """New content since this catalog, current live rooms and removals, scores and campaigns.

        Returns this very catalog when none of that changed (the usual case every few seconds), so
        nothing derived from it is rebuilt: the refresh runs in each server worker beside its requests,
        and a full rebuild held the interpreter long enough to show in the feed's p99. The scores and
        campaign products are re-read only when their versions move."""
        new = content_reads.content_rows_after(db, after_id=self.max_content_id)
        extra = _build_arrays(db, new, self.category_names) if new else None
        status = self.status.copy()
        if extra is not None:
            status = np.concatenate([status, extra["status"]])
        ids = self.content_ids if extra is None else np.concatenate([self.content_ids, extra["content_ids"]])
        lookup = self.code_of if extra is None else {int(c): i for i, c in enumerate(ids.tolist())}
        is_live = self.is_live if extra is None else np.concatenate([self.is_live, extra["is_live"]])
        # Live rooms: those on air now are live; one that was live and is not any more has ended.
        status[is_live & (status == 1)] = 2
        on_air = [lookup[c] for c in content_reads.live_rooms_on_air(db) if c in lookup]
        status[np.asarray(on_air, dtype=np.int64)] = 1
        removed = np.asarray(
            [lookup[c] for c in content_reads.removed_content_ids(db) if c in lookup], dtype=np.int64
        )
        # Restored by an operator (an upheld appeal): a short video is published again, a live is over.
        restored = np.setdiff1d(np.flatnonzero(status == 3), removed)
        status[restored] = np.where(is_live[restored], 2, 0)
        status[removed] = 3
        scores_version = experience_scores.scores_version(db)
        campaigns_version = campaigns_service.running_campaigns_version(db, now)
        same_scores = extra is None and scores_version == self.scores_version
        same_campaigns = campaigns_version == self.campaigns_version
        suspended = shops_service.suspended_shop_ids(db)
        if (
            same_scores
            and same_campaigns
            and extra is None
            and np.array_equal(status, self.status)
            and suspended == self.suspended_shops
        ):
            db.rollback()
            return self
        changes: dict = {
            "status": status,
            "loaded_at_s": clock.now().timestamp(),
            "scores_version": scores_version,
            "campaigns_version": campaigns_version,
            "suspended_shops": suspended,
        }
        if extra is not None:
            for key in (
                "content_ids",
                "account_ids",
                "shop_ids",
                "category",
                "price_fen",
                "created_s",
                "is_live",
            ):
                changes[key] = np.concatenate([getattr(self, key), extra[key]])
            changes["anchor_products"] = np.concatenate([self.anchor_products, extra["anchor_products"]])
            changes["anchor_ptr"] = np.concatenate(
                [self.anchor_ptr, self.anchor_ptr[-1] + extra["anchor_ptr"][1:]]
            )
            changes["account_followers"] = {**self.account_followers, **extra["account_followers"]}
            changes["account_names"] = {**self.account_names, **extra["account_names"]}
            changes["account_is_shop"] = {**self.account_is_shop, **extra["account_is_shop"]}
        if not same_scores:
            shops = np.unique(changes.get("shop_ids", self.shop_ids))
            changes["shop_score_centi"] = experience_scores.current_scores(
                db, [int(s) for s in shops if s >= 0]
            )
        if not same_campaigns:
            changes["campaign_products"] = _campaign_products(db, now)
        # What depends only on which items exist carries over when nothing was published since: rebuilding
        # the id -> code map of 100k items every few seconds costs many requests' time.
        keep = ["code_of", "by_account", "follower_log", "ascending"] if extra is None else []
        if same_scores:
            keep.append("shop_score")
        if same_campaigns and extra is None:
            keep.append("in_campaign")
        changes["_derived"] = {k: self._derived[k] for k in keep if k in self._derived}
        db.rollback()
        return dataclasses.replace(self, **changes)


def _status_code(kind: ContentKind, status: ContentStatus) -> int:
    if status is ContentStatus.removed:
        return 3
    if status is ContentStatus.live:
        return 1
    if status is ContentStatus.ended:
        return 2
    return 0


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _categories(db: Session) -> tuple[list[tuple[str, str]], dict[int, int]]:
    """Top categories (by id) and ``category id -> top category index`` for every category."""
    tree = catalog_service.category_tree(db)
    top_of: dict[int, int] = {}
    for index, (top, leaves) in enumerate(tree):
        top_of[top.id] = index
        top_of.update((leaf.id, index) for leaf in leaves)
    return [(top.name_zh, top.name_en) for top, _ in tree], top_of


def _build_arrays(db: Session, rows: Sequence[Row], category_names: list[tuple[str, str]] | None) -> dict:
    content_ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    account_ids = np.asarray([r[1] for r in rows], dtype=np.int64)
    is_live = np.asarray([r[2] is ContentKind.live for r in rows], dtype=bool)
    status = np.asarray([_status_code(r[2], r[3]) for r in rows], dtype=np.int8)
    created = np.asarray([r[4].timestamp() if r[4] else 0 for r in rows], dtype=np.int64)
    anchors: dict[int, list[int]] = {}  # content id -> product ids in display order
    for chunk in _chunks(content_ids.tolist()):
        anchors.update(content_service.anchored_product_ids_by_content(db, chunk))
    in_order = [anchors[c] for c in content_ids.tolist()]
    counts = np.fromiter((len(a) for a in in_order), dtype=np.int64, count=len(in_order))
    anchor_products = np.fromiter(
        itertools.chain.from_iterable(in_order), dtype=np.int64, count=int(counts.sum())
    )
    anchor_ptr = np.zeros(len(content_ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=anchor_ptr[1:])
    names, top_of = _categories(db)
    if category_names is not None and category_names != names:
        names = category_names  # keep the training-time indexing; new top categories map to -1
        top_of = {k: (v if v < len(names) else -1) for k, v in top_of.items()}
    products = sorted(set(anchor_products.tolist()))
    placement = catalog_service.product_shops_and_categories(db, products)
    prices = catalog_service.cheapest_active_prices(db, products)
    accounts = content_reads.account_briefs(db, account_ids.tolist())
    first = anchor_ptr[:-1]
    has_anchor = counts > 0
    first_product = np.where(
        has_anchor, anchor_products[np.minimum(first, max(len(anchor_products) - 1, 0))], -1
    )
    shop_ids = np.full(len(content_ids), -1, dtype=np.int64)
    category = np.full(len(content_ids), -1, dtype=np.int64)
    price = np.zeros(len(content_ids), dtype=np.int64)
    for i, (acc, pid) in enumerate(zip(account_ids.tolist(), first_product.tolist(), strict=True)):
        account = accounts.get(acc)
        if account is not None and account.is_shop and account.shop_id is not None:
            shop_ids[i] = account.shop_id
        if pid >= 0 and pid in placement:
            shop, cat = placement[pid]
            if shop_ids[i] < 0:
                shop_ids[i] = shop
            category[i] = top_of.get(cat, -1)
            price[i] = prices.get(pid, 0) or 0
    return {
        "content_ids": content_ids,
        "account_ids": account_ids,
        "shop_ids": shop_ids,
        "category": category,
        "price_fen": price,
        "created_s": created,
        "is_live": is_live,
        "status": status,
        "anchor_ptr": anchor_ptr,
        "anchor_products": anchor_products,
        "account_followers": {a: int(b.follower_count) for a, b in accounts.items()},
        "account_names": {a: str(b.name) for a, b in accounts.items()},
        "account_is_shop": {a: b.is_shop for a, b in accounts.items()},
        "category_names": names,
    }


def _campaign_products(db: Session, now: datetime | None = None) -> frozenset[int]:
    return campaigns_service.products_in_running_campaigns(db, now)


def load_catalog(db: Session, now: datetime | None = None) -> Catalog:
    """Every content item (removed ones too, marked), in id order."""
    arrays = _build_arrays(db, content_reads.content_rows_after(db), None)
    empty = Catalog(
        **{k: v for k, v in arrays.items()},
        shop_score_centi={},
        campaign_products=frozenset(),
        loaded_at_s=(now or clock.now()).timestamp(),
    )
    shops = [int(s) for s in np.unique(empty.shop_ids) if s >= 0]
    scores_version = experience_scores.scores_version(db)
    scores = experience_scores.current_scores(db, shops)
    campaigns_version = campaigns_service.running_campaigns_version(db, now)
    campaign = _campaign_products(db, now)
    suspended = shops_service.suspended_shop_ids(db)
    db.rollback()
    return dataclasses.replace(
        empty,
        suspended_shops=suspended,
        shop_score_centi=scores,
        campaign_products=campaign,
        scores_version=scores_version,
        campaigns_version=campaigns_version,
        _derived={},
    )


def price_band(price_fen: int) -> str:
    """ "¥80-150"-style band around a price, for reasons (a factor of about 2 either side)."""
    if price_fen <= 0:
        return ""
    low, high = price_fen / 200.0, price_fen * 2 / 100.0
    return f"¥{math.floor(low)}-{math.ceil(high)}"
