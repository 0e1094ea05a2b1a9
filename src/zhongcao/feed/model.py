"""The trained feed as one object, and its artifact on disk (``<models_dir>/feed/<version>/``).

An artifact is ``arrays.npz`` (every array: the training catalog, ALS factors, co-visitation counts,
per-user and per-item tables), ``tables.json`` (account names, category names and other small
maps), one LightGBM text model per objective, and ``metadata.json`` (data window, metrics, weights,
time; written by ``artifacts.new_version``). Nothing is pickled: an artifact loads with numpy,
scipy, json and LightGBM only. The server loads the newest with ``artifacts.Newest`` and swaps it in
without a restart.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from zhongcao.feed import collaborative
from zhongcao.feed.als import ALS, TransitionFactors
from zhongcao.feed.catalog import Catalog
from zhongcao.feed.collaborative import Collaborative
from zhongcao.feed.covisit import ItemToItem, Relation
from zhongcao.feed.features import ItemStats
from zhongcao.feed.objectives import OBJECTIVES, MultiObjective, ObjectiveWeights
from zhongcao.feed.popularity import Popularity
from zhongcao.feed.ranked import RankedLists
from zhongcao.feed.ranker import Sources

MODEL_NAME = "feed"
TAIL = 20  # latest joint items kept per user


@dataclass(frozen=True)
class UserTable:
    """Per-user state at the end of the data window, rows by ascending user id."""

    user_ids: np.ndarray  # int64 sorted
    tail_ptr: np.ndarray  # int64 CSR over tail_items
    tail_items: np.ndarray  # int32 joint codes, oldest first
    category_interest: np.ndarray  # float32 [n, n_categories]
    price_ref: np.ndarray  # float32, NaN unknown
    log_impressions: np.ndarray  # float32
    click_rate: np.ndarray  # float32
    als_row: np.ndarray  # int64, row of the ALS user factors (-1 none)

    @functools.cached_property
    def median_click_rate(self) -> float:
        """What an unknown user's click rate is taken to be (computed once per table)."""
        return float(np.median(self.click_rate)) if len(self.click_rate) else 0.0

    def row(self, user_id: int) -> int:
        pos = int(np.searchsorted(self.user_ids, user_id))
        return pos if pos < len(self.user_ids) and self.user_ids[pos] == user_id else -1

    def tail(self, row: int) -> np.ndarray:
        return self.tail_items[self.tail_ptr[row] : self.tail_ptr[row + 1]]


@dataclass
class FeedModel:
    catalog: Catalog  # as at training time; codes < len(catalog) are the model's content items
    product_ids: np.ndarray  # int64 sorted: joint code n_content + i is product_ids[i]
    sources: Sources
    stats: ItemStats
    users: UserTable
    objectives: MultiObjective
    weights: ObjectiveWeights
    item_impressions: np.ndarray  # int64 per content code
    shop_impressions: dict[int, int]
    metadata: dict[str, Any] = field(default_factory=dict)
    ranked: RankedLists | None = None  # batch-ranked candidates per user (``precompute``)
    collaborative: Collaborative | None = None  # the ANN graphs, built once at training and saved

    @property
    def n_content(self) -> int:
        return len(self.catalog)

    def product_code(self, product_ids: np.ndarray | list[int]) -> np.ndarray:
        """Joint codes of products (-1 for products the model does not know)."""
        ids = np.asarray(product_ids, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.product_ids, ids), max(len(self.product_ids) - 1, 0))
        ok = (self.product_ids[pos] == ids) if len(self.product_ids) else np.zeros(len(ids), dtype=bool)
        return np.where(ok, self.n_content + pos, -1)

    def warm(self) -> None:
        """Compute the caches a request would otherwise compute on first use."""
        for relation in Relation:
            self.sources.item_to_item.relation(relation)


_CATALOG_ARRAYS = (
    "content_ids",
    "account_ids",
    "shop_ids",
    "category",
    "price_fen",
    "created_s",
    "is_live",
    "status",
    "anchor_ptr",
    "anchor_products",
)
_USER_ARRAYS = tuple(UserTable.__dataclass_fields__)


def _sparse(prefix: str, matrix: sp.csr_matrix, out: dict[str, np.ndarray]) -> None:
    matrix = matrix.tocsr()
    out[f"{prefix}_data"] = matrix.data
    out[f"{prefix}_indices"] = matrix.indices
    out[f"{prefix}_indptr"] = matrix.indptr
    out[f"{prefix}_shape"] = np.asarray(matrix.shape, dtype=np.int64)


def _unsparse(prefix: str, arrays: Any) -> sp.csr_matrix:
    shape = tuple(int(x) for x in arrays[f"{prefix}_shape"])
    return sp.csr_matrix(
        (arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape
    )


def save(model: FeedModel, folder: Path) -> None:
    arrays: dict[str, np.ndarray] = {f"catalog_{k}": getattr(model.catalog, k) for k in _CATALOG_ARRAYS}
    arrays.update({f"users_{k}": getattr(model.users, k) for k in _USER_ARRAYS})
    s = model.sources
    arrays.update(
        product_ids=model.product_ids,
        als_user_factors=s.als.user_factors,
        als_item_factors=s.als.item_factors,
        popularity_counts=s.popularity.counts,
        popularity_trending=s.popularity.trending,
        i2i_tails=s.item_to_item.tails,
        transitions_previous=s.transitions.previous,
        transitions_next=s.transitions.next,
        item_mean_position=s.item_mean_position,
        stats_log_impressions=model.stats.log_impressions,
        stats_rates=model.stats.rates,
        stats_account_click_rate=model.stats.account_click_rate,
        stats_prior=model.stats.prior,
        item_impressions=model.item_impressions,
    )
    _sparse("i2i_transitions", s.item_to_item.transitions, arrays)
    _sparse("i2i_forward", s.item_to_item.forward, arrays)
    # No pickles: the loads refuse them too (and naming allow_pickle keeps **arrays off it for mypy).
    np.savez(folder / "arrays.npz", allow_pickle=False, **arrays)
    c = model.catalog
    tables = {
        "account_followers": {str(k): v for k, v in c.account_followers.items()},
        "account_names": {str(k): v for k, v in c.account_names.items()},
        "account_is_shop": {str(k): v for k, v in c.account_is_shop.items()},
        "category_names": c.category_names,
        "shop_score_centi": {str(k): v for k, v in c.shop_score_centi.items()},
        "campaign_products": sorted(c.campaign_products),
        "loaded_at_s": c.loaded_at_s,
        "shop_impressions": {str(k): v for k, v in model.shop_impressions.items()},
        "i2i_window": s.item_to_item.window,
        "popularity_half_life": s.popularity.half_life,
        "base_rates": model.objectives.base_rates,
        "weights": model.weights.as_dict(),
    }
    (folder / "tables.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    for name, text in model.objectives.to_strings().items():
        (folder / f"objective_{name}.txt").write_text(text, encoding="utf-8")
    if model.ranked is not None:
        model.ranked.save(folder)
    if model.collaborative is not None:
        collaborative.save_indexes(model.collaborative, folder)


def _catalog(arrays: Any, tables: dict[str, Any]) -> Catalog:
    return Catalog(
        **{k: arrays[f"catalog_{k}"] for k in _CATALOG_ARRAYS},
        account_followers={int(k): v for k, v in tables["account_followers"].items()},
        account_names={int(k): v for k, v in tables["account_names"].items()},
        account_is_shop={int(k): v for k, v in tables["account_is_shop"].items()},
        category_names=[tuple(x) for x in tables["category_names"]],
        shop_score_centi={int(k): v for k, v in tables["shop_score_centi"].items()},
        campaign_products=frozenset(int(x) for x in tables["campaign_products"]),
        loaded_at_s=float(tables["loaded_at_s"]),
    )


def _item_to_item(arrays: Any, tables: dict[str, Any]) -> ItemToItem:
    i2i = ItemToItem(window=int(tables["i2i_window"]))
    i2i.n_items = int(arrays["i2i_transitions_shape"][0])
    i2i.transitions = _unsparse("i2i_transitions", arrays)
    i2i.forward = _unsparse("i2i_forward", arrays)
    i2i.tails = arrays["i2i_tails"]
    return i2i


def _tables(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "tables.json").read_text(encoding="utf-8"))


def load_item_to_item(folder: Path) -> ItemToItem:
    """Only the saved model's item-to-item counts (where a catch-up starts), not the whole model."""
    with np.load(folder / "arrays.npz") as data:
        return _item_to_item(data, _tables(folder))


def load_coding_parts(folder: Path) -> tuple[Catalog, np.ndarray, np.ndarray]:
    """Only what codes events the way the saved model does: its catalogue, user ids and product ids."""
    with np.load(folder / "arrays.npz") as data:
        return _catalog(data, _tables(folder)), data["users_user_ids"], data["product_ids"]


def load(folder: Path, threads: int = 1) -> FeedModel:
    tables = _tables(folder)
    metadata_path = folder / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8")) if metadata_path.exists() else {}
    with np.load(folder / "arrays.npz") as data:
        arrays = {k: data[k] for k in data.files}
    catalog = _catalog(arrays, tables)
    als = ALS(factors=arrays["als_item_factors"].shape[1], threads=threads)
    als.user_factors, als.item_factors = arrays["als_user_factors"], arrays["als_item_factors"]
    popularity = Popularity(tables["popularity_half_life"])
    popularity.counts, popularity.trending = arrays["popularity_counts"], arrays["popularity_trending"]
    i2i = _item_to_item(arrays, tables)
    transitions = TransitionFactors(factors=arrays["transitions_next"].shape[1], threads=threads)
    transitions.previous, transitions.next = arrays["transitions_previous"], arrays["transitions_next"]
    sources = Sources(popularity, als, i2i, transitions, arrays["item_mean_position"])
    objectives = MultiObjective.from_strings(
        {
            name: (folder / f"objective_{name}.txt").read_text(encoding="utf-8")
            for name in OBJECTIVES
            if (folder / f"objective_{name}.txt").exists()
        },
        tables["base_rates"],
        threads=threads,
    )
    model = FeedModel(
        catalog=catalog,
        product_ids=arrays["product_ids"],
        sources=sources,
        stats=ItemStats(
            arrays["stats_log_impressions"],
            arrays["stats_rates"],
            arrays["stats_account_click_rate"],
            arrays["stats_prior"],
        ),
        users=UserTable(**{k: arrays[f"users_{k}"] for k in _USER_ARRAYS}),
        objectives=objectives,
        weights=ObjectiveWeights(**tables["weights"]),
        item_impressions=arrays["item_impressions"],
        shop_impressions={int(k): int(v) for k, v in tables["shop_impressions"].items()},
        metadata=metadata,
        ranked=RankedLists.load(folder),
        collaborative=collaborative.load(folder, arrays["als_item_factors"], len(catalog)),
    )
    model.warm()
    return model
