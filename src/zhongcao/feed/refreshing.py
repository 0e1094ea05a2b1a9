"""Refreshing the feed's state: the model, its catalogue and what the server derives from them.

An API worker runs no background thread: what changes under it is published elsewhere and picked up
here, on the request path, at most every ``catalog_refresh_seconds``:

* a new model version (trained by ``zhongcao train feed``; ``artifacts.Newest`` loads it);
* the item-to-item counts caught up from the event log (the ``feed_catch_up`` job publishes a state
  next to the model, :mod:`zhongcao.feed.catch_up`; it is memory-mapped and swapped in here);
* the catalogue's changes (new content, live rooms, removals, shop scores, campaigns), re-read from
  the database: a handful of small queries, and nothing is rebuilt when nothing changed.

Between two checks a request pays one clock read and a comparison (``bundle``); the check itself
falls on one request in every few thousand at full load. ``warm`` does the first load at startup so a
worker is ready before it takes traffic.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.db import Database
from zhongcao.events.store import EventStore
from zhongcao.feed import catch_up as shared_catch_up
from zhongcao.feed.briefs import ProductBriefs
from zhongcao.feed.campaign_slots import CampaignConfig
from zhongcao.feed.catalog import Catalog
from zhongcao.feed.collaborative import Collaborative
from zhongcao.feed.event_log import catch_up_copy, window_end
from zhongcao.feed.exploration import ExplorationConfig, cold_pool
from zhongcao.feed.model import FeedModel
from zhongcao.feed.rerank import RerankConfig, experience, integrity_hook
from zhongcao.feed.trending import Trending

log = logging.getLogger("zhongcao.feed")

REDERIVE_SECONDS = 300.0  # the exploration pool's "new" window moves with time: recompute it this often


@dataclass(frozen=True)
class FeedConfig:
    from_collaborative: int = 60
    from_next_items: int = 30
    from_followed: int = 20
    from_live: int = 10
    # The first page opens on a room on air (the one the user likeliest wants), as the app's feed does.
    live_first: bool = True
    from_trending: int = 30
    followed_min_share: float = 0.2  # of a page, for followed accounts' fresh content when there is some
    product_card_every: int = 8  # one product card per this many items (0: none)
    exploration: ExplorationConfig = field(default_factory=ExplorationConfig)
    campaign: CampaignConfig = field(default_factory=CampaignConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)
    catalog_refresh_seconds: float = 10.0
    catch_up_seconds: float = 300.0  # item-to-item counts from the event log (0: only at training)
    # A catch-up reads events up to this long ago, so an app's batch that arrives a little after the
    # events in it happened is still counted (a later one waits for the next training).
    catch_up_lag_seconds: float = 30.0
    use_ranked: bool = True  # serve from the batch-ranked lists when they still hold (``precompute``)
    ranked_min_left: int = 3  # ... and at least this many pages of them are left unseen


@dataclass
class Bundle:
    """A model with what the server derives from it, rebuilt when the model or the catalog changes."""

    model: FeedModel
    version: str | None
    catalog: Catalog
    collaborative: Collaborative
    trending: Trending
    trending_scores: np.ndarray
    cold: np.ndarray  # exploration pool (passes the gate and the integrity hook)
    eligible: np.ndarray  # bool per code: may fill a campaign or exploration slot
    anonymous_order: np.ndarray  # codes for signed-out visitors: trending first, then newest
    anonymous_rank: np.ndarray  # per code, its position in ``anonymous_order``
    refreshed_at: float = field(default_factory=time.monotonic)  # catalogue last checked
    derived_at: float = field(default_factory=time.monotonic)  # the arrays above last computed


class Refreshing:
    """The refreshing half of :class:`~zhongcao.feed.service.FeedService`: holds the current
    :class:`Bundle` and swaps in a new one when the model, its catch-up state or the catalogue moved."""

    def __init__(
        self,
        model: Callable[[], FeedModel | None],
        config: FeedConfig | None = None,
        *,
        version: Callable[[], str | None] | None = None,
        exists: Callable[[], bool] | None = None,
        catch_up_folder: Callable[[], Path | None] | None = None,
    ) -> None:
        """``exists``: whether a model is there to load (e.g. an artifact on disk). ``catch_up_folder``:
        the served model's folder, where the ``feed_catch_up`` job publishes its states; without it,
        :meth:`catch_up` catches up in this process (the simulation, tests)."""
        self._exists = exists
        self._model = model
        self._version = version or (lambda: None)
        self._catch_up_folder = catch_up_folder
        self.config = config or FeedConfig()
        self._bundle: Bundle | None = None
        self._lock = threading.Lock()
        self._caught_up: dict[int, datetime] = {}
        self._adopted: tuple[int, Path] | None = None  # (served model's id, the state swapped into it)
        self._settled: FeedModel | None = None  # the model last moved out of the collector's reach
        self.briefs = ProductBriefs()
        self.last_error: str | None = None

    def bundle(self, db: Session | None) -> Bundle | None:
        """The current model with its catalogue, refreshed first when the last check is older than
        ``catalog_refresh_seconds`` (one request in many pays for the check; the others read)."""
        current = self._bundle
        if (
            current is not None
            and time.monotonic() - current.refreshed_at < self.config.catalog_refresh_seconds
        ):
            return current
        if not self._lock.acquire(blocking=current is None):
            return current  # another request is refreshing: serve what we have meanwhile
        try:
            self._update(db)
        except Exception as exc:  # keep serving what we have; say why in /api/health/ready
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("feed refresh failed")
            if self._bundle is None:
                return None  # the request answers "not ready" (503); readiness says why
            self._bundle = dataclasses.replace(self._bundle, refreshed_at=time.monotonic())  # retry later
        finally:
            self._lock.release()
        return self._bundle

    def expire(self) -> None:
        """Have the next request re-read the catalogue (a page found content removed since the last read)."""
        current = self._bundle
        if current is not None:
            self._bundle = dataclasses.replace(current, refreshed_at=float("-inf"))

    def warm(self, database: Database) -> None:
        """Load the model and catalogue now (a worker's startup), so the first request finds them."""
        if not self.has_model:
            return
        with database.session(read_only=True) as db:
            self.bundle(db)

    def _update(self, db: Session | None) -> None:
        model = self._model()
        if model is None:
            return
        self._adopt_catch_up(model)
        current = self._bundle
        if db is not None:
            self._refresh_locked(db, model)
        elif current is None or current.model is not model:
            self._bundle = self._derive(model, model.catalog)
        if model is not self._settled:
            self._settled = model
            _settle_heap()
        self.last_error = None

    def _adopt_catch_up(self, model: FeedModel) -> None:
        """Swap the newest published catch-up state into ``model`` (one reference swap: a running
        request keeps the sources it started with)."""
        folder = self._catch_up_folder() if self._catch_up_folder is not None else None
        if folder is None:
            return
        state = shared_catch_up.newest_state(folder)
        if state is not None and self._adopted != (id(model), state[1]):
            model.sources = dataclasses.replace(
                model.sources, item_to_item=shared_catch_up.load_state(state[1])
            )
            self._adopted = (id(model), state[1])

    def refresh(self, db: Session, model: FeedModel | None = None) -> None:
        """Re-read what changes under a running server now (tests; :meth:`bundle` does it when due)."""
        model = model or self._model()
        if model is None:
            return
        with self._lock:
            self._refresh_locked(db, model)

    def _refresh_locked(self, db: Session, model: FeedModel) -> None:
        """Re-read what changes under a running server (new content, live rooms, removals, shop scores,
        campaigns) and swap in a new bundle; requests keep reading the old one until then."""
        current = self._bundle
        if current is None or current.model is not model:
            self._bundle = self._derive(model, model.catalog.refreshed(db))
        else:
            catalog = current.catalog.refreshed(db)
            now = time.monotonic()
            if catalog is not current.catalog:
                self._bundle = self._derive(model, catalog, current.collaborative)
            elif now - current.derived_at >= REDERIVE_SECONDS:  # only "new" moved on with time
                cold = self._cold_pool(model, catalog, current.eligible)
                self._bundle = dataclasses.replace(current, cold=cold, refreshed_at=now, derived_at=now)
            else:  # nothing changed (the usual case): keep every derived array
                self._bundle = dataclasses.replace(current, refreshed_at=now)
        bundle = self._bundle
        # Cards' product briefs: every anchored product and every product the model may recommend, when
        # those may have changed; otherwise only the briefs held that the catalogue says changed.
        swapped = (
            current is None or bundle.catalog is not current.catalog or bundle.model is not current.model
        )
        wanted = (
            np.union1d(bundle.catalog.anchor_products, bundle.model.product_ids).tolist() if swapped else ()
        )
        self.briefs.refresh(db, wanted)

    def catch_up(self, store: EventStore) -> int:
        """Add the events logged since the last catch-up to the co-visitation and next-item counts.

        Copy-on-write: the counts are updated in a copy, which is then swapped into the model, so a
        request never sees them half-updated (or pays for re-normalising them)."""
        model = self._model()
        if model is None:
            return 0
        since = self._caught_up.get(id(model)) or window_end(model)
        until = clock.now() - timedelta(seconds=self.config.catch_up_lag_seconds)
        if since is not None and until <= since:
            return 0  # nothing old enough yet: the next window still starts at ``since``
        updated, added = catch_up_copy(model, store, since=since, until=until)
        if updated is not None:
            model.sources = updated  # one reference swap; a running request keeps the old sources
        self._caught_up[id(model)] = until
        return added

    @property
    def ready(self) -> bool:
        return self._bundle is not None

    @property
    def has_model(self) -> bool:
        return self._exists() if self._exists is not None else self._model() is not None

    def _derive(
        self, model: FeedModel, catalog: Catalog, collaborative: Collaborative | None = None
    ) -> Bundle:
        # Compute the catalogue's derived arrays here, once per refresh, not in each request after.
        for warm in (
            "code_of",
            "ascending",
            "by_account",
            "live_codes",
            "available",
            "shop_score",
            "in_campaign",
            "follower_log",
        ):
            getattr(catalog, warm)
        trending = np.zeros(len(catalog), dtype=np.float32)
        n = min(model.n_content, len(catalog))
        trending[:n] = model.sources.popularity.trending[:n]
        _, gated = experience(catalog.shop_score, self.config.rerank)
        eligible = ~gated & (integrity_hook().multipliers(catalog, np.arange(len(catalog))) >= 1.0)
        # Signed-out visitors: what is trending (the model's, fixed per version, so the order is stable
        # across catalogue refreshes and a cursor's position keeps meaning the same), then the newest.
        anonymous_order = np.lexsort((-catalog.created_s, -trending)).astype(np.int64)
        anonymous_rank = np.empty(len(anonymous_order), dtype=np.int64)
        anonymous_rank[anonymous_order] = np.arange(len(anonymous_order))
        return Bundle(
            model=model,
            anonymous_order=anonymous_order,
            anonymous_rank=anonymous_rank,
            version=self._version(),
            catalog=catalog,
            collaborative=collaborative
            or model.collaborative
            or Collaborative(model.sources.als.item_factors, model.n_content, threads=2),
            trending=Trending(catalog, trending),
            trending_scores=trending,
            cold=self._cold_pool(model, catalog, eligible),
            eligible=eligible,
        )

    def _cold_pool(self, model: FeedModel, catalog: Catalog, eligible: np.ndarray) -> np.ndarray:
        """The exploration pool as of now (it moves with time: what is "new" ages out)."""
        now_s = int(clock.now().timestamp())
        cold = cold_pool(
            catalog, model.item_impressions, model.shop_impressions, now_s, self.config.exploration
        )
        return cold[eligible[cold]]


def _settle_heap() -> None:
    """Move everything alive now (a loaded model, its catalogue, the app's modules) out of the cyclic
    garbage collector's reach. A full collection walks every tracked object: about 300,000 in a worker
    with a medium world's model loaded, 150 ms with the GIL held, several times a minute under load;
    those pauses were the feed's p99 (benchmarks/RESULTS.md, "Feed serving"). Frozen objects are still
    freed by reference counting when dropped; only reference cycles among them would never be
    collected, and what is frozen is swept once first."""
    gc.collect()
    gc.freeze()
