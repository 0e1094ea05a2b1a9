"""The feed's events, read from the event store and coded into a model's joint item space (content
codes, then products), and a trained model kept up to date with the events logged since its window.

Below both the trainer (:mod:`zhongcao.feed.training`, which reads the whole window) and the server
(:mod:`zhongcao.feed.refreshing` and the ``feed_catch_up`` job, :mod:`zhongcao.feed.catch_up`, which
read what came after it), so serving never imports the trainer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongcao import artifacts
from zhongcao.events.store import EventStore
from zhongcao.feed.catalog import Catalog
from zhongcao.feed.covisit import Relation
from zhongcao.feed.model import FeedModel
from zhongcao.feed.ranker import Sources

TYPES = (
    "impression",
    "play",
    "like",
    "comment",
    "share",
    "follow",
    "anchor_click",
    "product_view",
    "add_to_cart",
    "order",
    "live_enter",
    "not_interested",
)
T = {name: i for i, name in enumerate(TYPES)}
CONTENT_INTERACTIONS = [T[t] for t in ("play", "like", "comment", "share", "anchor_click", "live_enter")]
PRODUCT_INTERACTIONS = [T[t] for t in ("product_view", "add_to_cart", "order")]


@dataclass(frozen=True)
class EventLog:
    """Events as numpy columns in time order (-1 where a column is empty)."""

    ts: np.ndarray  # int64 epoch seconds
    type: np.ndarray  # int8 index into TYPES
    user: np.ndarray  # int64
    content: np.ndarray
    product: np.ndarray
    account: np.ndarray
    watch_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def where(self, mask: np.ndarray) -> EventLog:
        return EventLog(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def load_events(store: EventStore, since: datetime | None = None, until: datetime | None = None) -> EventLog:
    """The feed's events with ``since <= ts < until``. The range is the store's (``EventStore.connect``),
    so a catch-up over the last few minutes reads those minutes, not the whole log again."""
    table = store.query(
        "SELECT epoch_ms(ts) // 1000 AS ts, type, user_id, coalesce(content_id, -1) AS content_id, "
        "coalesce(product_id, -1) AS product_id, coalesce(account_id, -1) AS account_id, "
        f"coalesce(watch_ms, -1) AS watch_ms FROM events WHERE type IN ({', '.join(repr(t) for t in TYPES)})"
        # A total order: events with the same second come back the same way on every read, so the
        # same log always trains the same model.
        " ORDER BY epoch_ms(events.ts), user_id, type, content_id, product_id, account_id, watch_ms",
        since=since,
        until=until,
    )
    codes = pc.index_in(table["type"], value_set=pa.array(TYPES)).to_numpy(zero_copy_only=False)

    def col(name: str) -> np.ndarray:
        return table[name].to_numpy().astype(np.int64)

    return EventLog(
        col("ts"), codes.astype(np.int8), col("user_id"), col("content_id"), col("product_id"),
        col("account_id"), col("watch_ms"),
    )  # fmt: skip


# --- coding -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coding:
    """Dense codes: users by ascending id; items = content codes, then products (the joint space)."""

    catalog: Catalog
    user_ids: np.ndarray
    product_ids: np.ndarray

    @property
    def n_content(self) -> int:
        return len(self.catalog)

    @property
    def n_items(self) -> int:
        return self.n_content + len(self.product_ids)

    def users(self, ids: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(self.user_ids, ids), max(len(self.user_ids) - 1, 0))
        return np.where(self.user_ids[pos] == ids, pos, -1) if len(self.user_ids) else np.full(len(ids), -1)

    def content(self, ids: np.ndarray) -> np.ndarray:
        known = self.catalog.content_ids
        pos = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        return np.where((known[pos] == ids) & (ids >= 0), pos, -1) if len(known) else np.full(len(ids), -1)

    def products(self, ids: np.ndarray) -> np.ndarray:
        known = self.product_ids
        pos = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        ok = (known[pos] == ids) & (ids >= 0) if len(known) else np.zeros(len(ids), dtype=bool)
        return np.where(ok, self.n_content + pos, -1)


def joint_interactions(log: EventLog, coding: Coding) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user codes, joint item codes, ts) of every interaction, sorted by user then time; a repeat of
    the same item straight after itself (play then like) counts once."""
    is_content = np.isin(log.type, CONTENT_INTERACTIONS)
    is_product = np.isin(log.type, PRODUCT_INTERACTIONS)
    items = np.full(len(log), -1, dtype=np.int64)
    items[is_content] = coding.content(log.content[is_content])
    items[is_product] = coding.products(log.product[is_product])
    users = coding.users(log.user)
    ok = (items >= 0) & (users >= 0)
    users, items, ts = users[ok], items[ok], log.ts[ok]
    order = np.lexsort((ts, users))
    users, items, ts = users[order], items[order], ts[order]
    repeat = np.zeros(len(users), dtype=bool)
    repeat[1:] = (users[1:] == users[:-1]) & (items[1:] == items[:-1])
    return users[~repeat], items[~repeat], ts[~repeat]


# --- catching up with the events after the model's window -----------------------------------------


def window_end(model: FeedModel) -> datetime | None:
    """The end of the event window the model was trained on (where catching up starts)."""
    until = model.metadata.get("window", {}).get("until")
    return datetime.fromisoformat(until) if until else None


def read_window_end(folder: Path) -> datetime | None:
    """:func:`window_end` of a saved model, from its metadata alone."""
    until = artifacts.read_metadata(folder).get("window", {}).get("until")
    return datetime.fromisoformat(until) if until else None


def new_interactions(
    store: EventStore, coding: Coding, since: datetime | None, until: datetime | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(user codes, joint item codes) of the interactions logged in ``[since, until)``, in the order
    ``ItemToItem.update`` takes them. Users the model does not know are skipped (their co-visits
    count from the next training)."""
    log = load_events(store, since=since, until=until)
    if not len(log):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    users, items, _ = joint_interactions(log, coding)
    return users, items


def catch_up(model: FeedModel, store: EventStore, since: datetime | None = None) -> int:
    """Add the events logged since the model's window to its co-visitation counts (incrementally, with
    ``ItemToItem.update``); returns how many interactions were added."""
    coding = Coding(model.catalog, model.users.user_ids, model.product_ids)
    users, items = new_interactions(store, coding, since or window_end(model))
    if len(users):
        model.sources.item_to_item.update(users, items)
        model.warm()
    return int(len(users))


def catch_up_copy(
    model: FeedModel, store: EventStore, since: datetime | None = None, until: datetime | None = None
) -> tuple[Sources | None, int]:
    """:func:`catch_up` without touching ``model``: the model's sources with the item-to-item counts of
    a copy brought up to date (``None`` when nothing happened), and how many interactions were added.
    The copy's relations are normalised here, so whoever swaps it in serves at full speed at once."""
    coding = Coding(model.catalog, model.users.user_ids, model.product_ids)
    users, items = new_interactions(store, coding, since or window_end(model), until)
    if not len(users):
        return None, 0
    item_to_item = model.sources.item_to_item.copy().update(users, items)
    for relation in Relation:
        item_to_item.relation(relation)
    return dataclasses.replace(model.sources, item_to_item=item_to_item), int(len(users))
