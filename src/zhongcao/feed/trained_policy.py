"""The trained feed as a :class:`~zhongcao.feed.policy.FeedPolicy`, so the market simulation can run on it.

``zhongcao simulate --policy popular_followed,trained`` runs the same world (scale, seed, days) once
under the baseline and once under the real feed: the model ``zhongcao train feed`` makes, serving
pages through :class:`~zhongcao.feed.service.FeedService` exactly as ``GET /api/feed`` does, only with
the platform's inputs handed in instead of read per request.

**When it trains.** A feed model learns from the platform's event log, and a new platform has none:
for the first ``warmup_days`` simulated days the policy serves popular + followed (the baseline, so
those days are the same in both runs of a comparison). At the start of day ``warmup_days`` it trains
on every event so far (:func:`~zhongcao.feed.training.train`, the job ``zhongcao train feed`` runs,
with the simulated time frozen), then retrains every ``retrain_days`` days. Between trainings the
co-visitation counts catch up with each day's events (:func:`~zhongcao.feed.event_log.catch_up`), as
the design says they should be kept current. A training that fails (too few events in the window)
leaves the policy on what it served before and is retried the next day (so ``warmup_days=1`` trains
on day 2: the first simulated day's events span less than the 24-hour label window).

**What it needs from the platform.** ``fit(corpus, signals)`` is not enough to train: training reads
the event store and the platform's tables. The simulation hands those over once through the optional
``attach(database=, store=, clock=)`` hook (policies without it are unaffected); ``clock()`` is the
simulated time at the start of the current day. Without ``attach`` the policy never trains and
serves the baseline.

**Serving a day.** Each ``fit`` (daily) takes what the real server would read per request, in batch:
the catalog (the model's, refreshed from the platform like the server's, with availability taken
from the corpus: only what the simulation lists as available today can be served), follows from the
signals, the last 30 days' purchases and the likes since the last day from the event store (the app
sends likes to the feed's memory; the simulation only logs them). Each user's no-repeat memory lives
in this process (:class:`~zhongcao.feed.seen.InMemoryMemory`) and records every page served.
``recommend`` asks ``FeedService.page`` for each user in turn (about ten milliseconds a page at small
scale) and keeps the page's content items in order up to ``k``; what the user was served (those items
and the product cards among them) goes into the memory, so it does not come back for a week. Product
cards (one per eight items) have no counterpart in the simulation's content-only pages and are
dropped, and the page is asked a few items longer than ``k`` content slots, since a campaign or
exploration slot the service cannot fill leaves a page short. A page the feed still cannot fill is
padded with -1 (the simulated user sees fewer items), never topped up from another policy.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from zhongcao import artifacts, clock
from zhongcao.db import Database
from zhongcao.events.store import EventStore
from zhongcao.feed import model as feed_model
from zhongcao.feed.event_log import catch_up
from zhongcao.feed.policy import FeedCorpus, FeedPolicy, FeedSignals, PopularFollowedFeed
from zhongcao.feed.seen import InMemoryMemory
from zhongcao.feed.service import MAX_LIMIT, PURCHASE_DAYS, FeedConfig, FeedService
from zhongcao.feed.training import TrainConfig, train

__all__ = ["Training", "TrainedFeed"]

log = logging.getLogger(__name__)

# Catalog status codes (feed/catalog.py): published, live now, ended, removed.
PUBLISHED, LIVE_NOW, ENDED, REMOVED = 0, 1, 2, 3
PAGE_SLACK = 4  # items asked beyond the k content slots (see ``recommend``)


@dataclasses.dataclass(frozen=True)
class Training:
    """One training the policy ran (for reports): on which simulated day, how long, what it learnt."""

    day: int
    at: datetime
    seconds: float
    rows: int = 0
    events: int = 0
    error: str | None = None


def _default_config() -> TrainConfig:
    # One thread: on a small shared machine LightGBM's two OpenMP threads spin against each other
    # (measured 7 s against 0.5 s for four objectives on 2,000 rows), and the simulation is one process.
    return TrainConfig(threads=1)


class TrainedFeed:
    """The trained feed behind the ``FeedPolicy`` interface (see the module docstring for the schedule)."""

    name = "trained"

    def __init__(
        self,
        *,
        warmup_days: int = 7,
        retrain_days: int = 7,
        config: TrainConfig | None = None,
        feed_config: FeedConfig | None = None,
        models_root: Path | None = None,
        catch_up_daily: bool = True,
        fallback: FeedPolicy | None = None,
    ) -> None:
        if warmup_days < 1:
            raise ValueError("warmup_days must be at least 1: the first training needs a day of events")
        if retrain_days < 1:
            raise ValueError("retrain_days must be at least 1")
        self.warmup_days = warmup_days
        self.retrain_days = retrain_days
        self.config = config or _default_config()
        self.catch_up_daily = catch_up_daily
        self.fallback = fallback or PopularFollowedFeed()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if models_root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="zhongcao-trained-feed-")
            models_root = Path(self._tmp.name)
        self.models_root = models_root
        self.memory = InMemoryMemory()
        self.service = FeedService(lambda: self._today, self.memory, feed_config)
        self.trainings: list[Training] = []
        self.page_seconds = 0.0
        self.pages = 0
        self.short_pages = 0  # pages with fewer than k content items
        self._database: Database | None = None
        self._store: EventStore | None = None
        self._clock: Callable[[], datetime] | None = None
        self._model: feed_model.FeedModel | None = None
        self._today: feed_model.FeedModel | None = None
        self._trained_day: int | None = None
        self._first: datetime | None = None
        self._fits = 0
        self._caught_up: datetime | None = None
        self._likes_since: datetime | None = None
        self._now: datetime | None = None
        self._allowed = np.zeros(0, dtype=np.int64)
        self._follows: dict[int, list[int]] = {}
        self._purchases: dict[int, list[tuple[int, int]]] = {}

    # --- the platform ---------------------------------------------------------------------------

    def attach(self, *, database: Database, store: EventStore, clock: Callable[[], datetime]) -> None:
        """Read access to the platform: its tables, its event log and the (simulated) time."""
        self._database, self._store, self._clock = database, store, clock

    @property
    def model(self) -> feed_model.FeedModel | None:
        """The newest trained model (``None`` before the first training)."""
        return self._model

    def close(self) -> None:
        """Delete the models this policy trained (when it made its own folder for them)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- FeedPolicy -----------------------------------------------------------------------------

    def fit(self, corpus: FeedCorpus, signals: FeedSignals) -> None:
        self.fallback.fit(corpus, signals)
        self._fits += 1
        now = self._clock() if self._clock is not None else None
        if now is not None and self._first is None:
            self._first = now
        day = (now - self._first).days if now is not None and self._first is not None else self._fits - 1
        self._now = now
        if self._database is None or self._store is None or now is None:
            return  # not attached to a platform: nothing to learn from, the baseline serves
        due = self._trained_day is None or day - self._trained_day >= self.retrain_days
        if day >= self.warmup_days and due:
            self._train(day, now)
        elif self._model is not None and self.catch_up_daily:
            with clock.frozen(now):
                catch_up(self._model, self._store, since=self._caught_up)
            self._caught_up = now
        if self._model is None:
            return
        self._prepare_day(corpus, signals, now)

    def recommend(self, user_ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        if self._today is None:
            return self.fallback.recommend(user_ids, k, rng)
        out = np.full((len(user_ids), k), -1, dtype=np.int64)
        # A few items more than k content slots: a campaign or exploration slot the service cannot fill
        # leaves its page one short, and the simulated user would then see fewer items.
        limit = min(_limit_for(k, self.service.config.product_card_every) + PAGE_SLACK, MAX_LIMIT)
        now_s = int(self._now.timestamp()) if self._now is not None else int(clock.now().timestamp())
        began = time.perf_counter()
        with clock.frozen(self._now or clock.now()):
            for row, user_id in enumerate(user_ids.tolist()):
                memory = self.memory.read(None, user_id)
                page = self.service.page(
                    None,
                    user_id,
                    limit,
                    now=self._now,
                    rng=rng,
                    memory=memory,
                    follows=self._follows.get(user_id, []),
                    purchases=self._purchases.get(user_id, []),
                )
                # What the user is served: the page up to its k-th content item (product cards among
                # them are remembered too, as the service does: negative ids).
                served: list[int] = []
                ids: list[int] = []
                for it in page.items:
                    if len(ids) == k:
                        break
                    if it.content_id is None:
                        served.append(-int(it.product_id or 0))
                    elif _contains(self._allowed, it.content_id):
                        served.append(it.content_id)
                        ids.append(it.content_id)
                self.memory.write(None, user_id, memory.with_served(served, now_s))
                out[row, : len(ids)] = ids
                self.short_pages += len(ids) < k
        self.page_seconds += time.perf_counter() - began
        self.pages += len(user_ids)
        return out

    # --- training and the day's inputs ------------------------------------------------------------

    def _train(self, day: int, now: datetime) -> None:
        assert self._database is not None and self._store is not None
        began = time.perf_counter()
        try:
            with clock.frozen(now):
                path, metadata = train(self._database, self._store, self.config, models_root=self.models_root)
            model = feed_model.load(path, threads=1)
        except ValueError as exc:  # too few events yet: keep serving what we served, retry tomorrow
            self.trainings.append(Training(day, now, time.perf_counter() - began, error=str(exc)))
            log.warning("trained feed: no model on simulated day %d: %s", day, exc)
            return
        artifacts.prune(feed_model.MODEL_NAME, keep=1, root=self.models_root)
        self._model, self._trained_day = model, day
        until = metadata.get("window", {}).get("until")
        self._caught_up = datetime.fromisoformat(until) if until else now
        self.trainings.append(
            Training(
                day,
                now,
                round(time.perf_counter() - began, 3),
                rows=int(metadata.get("metrics", {}).get("rows", 0)),
                events=int(metadata.get("counts", {}).get("events", 0)),
            )
        )
        log.info("trained feed: model trained on simulated day %d in %.1f s", day, self.trainings[-1].seconds)

    def _prepare_day(self, corpus: FeedCorpus, signals: FeedSignals, now: datetime) -> None:
        """Today's catalog, follows, purchases and likes, as the server would read them."""
        assert self._model is not None and self._database is not None and self._store is not None
        model = self._model
        with self._database.session(read_only=True) as db, clock.frozen(now):
            catalog = model.catalog.refreshed(db, now)
        # Availability is the simulation's: only what it lists as available today may be served.
        n = len(corpus.content_ids)
        pos = np.minimum(np.searchsorted(corpus.content_ids, catalog.content_ids), max(n - 1, 0))
        listed = corpus.content_ids[pos] == catalog.content_ids if n else np.zeros(len(catalog), dtype=bool)
        available = listed & corpus.available[pos] if n else listed
        status = np.where(
            available,
            np.where(catalog.is_live, LIVE_NOW, PUBLISHED),
            np.where(listed & catalog.is_live, ENDED, REMOVED),
        ).astype(np.int8)
        catalog = dataclasses.replace(catalog, status=status, _derived={})
        # A new model object: the service derives its serving bundle (indexes, pools) from it once.
        self._today = dataclasses.replace(model, catalog=catalog)
        # Simulated days pass faster than the service's refresh interval: have it take today's now.
        self.service.expire()
        self._allowed = np.sort(catalog.content_ids[available])
        order = np.lexsort((signals.follow_account_ids, signals.follow_user_ids))
        users, accounts = signals.follow_user_ids[order], signals.follow_account_ids[order]
        keys, starts = np.unique(users, return_index=True)
        bounds = np.append(starts, len(users))
        self._follows = {
            int(u): accounts[bounds[i] : bounds[i + 1]].tolist() for i, u in enumerate(keys.tolist())
        }
        self._purchases = self._recent_purchases(now)
        self._remember_likes(now, catalog)

    def _recent_purchases(self, now: datetime) -> dict[int, list[tuple[int, int]]]:
        assert self._store is not None
        table = self._store.query(
            "SELECT user_id, product_id, epoch_ms(ts) // 1000 AS s FROM events "
            "WHERE type = 'order' AND product_id IS NOT NULL AND ts >= ? AND ts < ? ORDER BY ts",
            [now - timedelta(days=PURCHASE_DAYS), now],
        )
        out: dict[int, list[tuple[int, int]]] = {}
        for user, product, at in zip(
            *(table[c].to_pylist() for c in ("user_id", "product_id", "s")), strict=True
        ):
            out.setdefault(int(user), []).append((int(product), int(at)))
        return out

    def _remember_likes(self, now: datetime, catalog: Any) -> None:
        """The likes logged since the last day go into each user's feed memory (as the app's
        ``POST /api/feed/feedback`` would put them), so tomorrow's page reflects them."""
        assert self._store is not None
        since = self._likes_since or (now - timedelta(days=1))
        table = self._store.query(
            "SELECT user_id, content_id, epoch_ms(ts) // 1000 AS s FROM events "
            "WHERE type = 'like' AND content_id IS NOT NULL AND ts >= ? AND ts < ? ORDER BY ts",
            [since, now],
        )
        self._likes_since = now
        code_of = catalog.code_of
        for user, content, at in zip(
            *(table[c].to_pylist() for c in ("user_id", "content_id", "s")), strict=True
        ):
            code = code_of.get(int(content))
            account = int(catalog.account_ids[code]) if code is not None else 0
            memory = self.memory.read(None, int(user))
            self.memory.write(None, int(user), memory.with_feedback("like", int(content), account, int(at)))


def _limit_for(k: int, product_card_every: int) -> int:
    """The page length that leaves ``k`` content slots beside the product cards (capped at the API's)."""
    limit = k
    while product_card_every and limit - len(range(product_card_every - 1, limit, product_card_every)) < k:
        limit += 1
    return min(limit, MAX_LIMIT)


def _contains(sorted_ids: np.ndarray, content_id: int) -> bool:
    pos = int(np.searchsorted(sorted_ids, content_id))
    return pos < len(sorted_ids) and int(sorted_ids[pos]) == content_id
