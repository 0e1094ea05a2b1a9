"""The market simulation: simulated people use the platform, day by day, through its own services.

Each day:

1. **Behaviour, in batch.** Active users (activity level, satisfaction, churn) open the feed, which the
   feed policy fills (:mod:`zhongcao.feed.policy`, many users at once); they play, like, share, follow
   and click product anchors according to their latent interests and each item's latent quality. Some
   search (:mod:`zhongcao.search.policy`) with queries drawn from their interests and click results.
   A product view becomes a purchase with a probability that rises with category interest, product
   appeal and the shop's public rating, and falls with price for price-sensitive people.
2. **Actions, in time order.** Purchases, payments, shipping (after the shop's hidden pickup delay),
   carrier pickup and delivery (after the carrier's hidden transit time), receipt confirmation, defects
   and after-sales cases (the shop approves or refuses as its hidden handling profile says; refused
   buyers escalate; the platform arbitrates), returns, reviews, customer-service conversations
   (answered after the shop's hidden response time), NPS answers, and live rooms going on and off
   air. Every action is a call of the owning domain's service at the simulated time
   (:func:`zhongcao.clock.frozen`), so the platform's own rules decide every outcome: a sold-out SKU
   refuses the order, an illegal transition is refused, and so on.
3. **Events.** The day's behaviour goes into the events store through
   :func:`zhongcao.events.service.ingest`, as numpy columns.
4. **Jobs** (payment timeouts, auto-completion, after-sales deadlines) run at the end of the day, as
   ``zhongcao jobs run`` would, and satisfaction drifts back toward its baseline; a user whose
   satisfaction stays low may churn.

What happened to a user moves their hidden satisfaction: late delivery, defects, refused refunds and
slow answers lower it; smooth orders raise it. Satisfaction shows in NPS answers, review ratings,
returns for a change of mind and churn. The world's latent arrays are never written to the database.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator

from zhongcao import clock, fulfilment_flows, signals
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason, AfterSaleStatus
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Channel
from zhongcao.commerce.schemas import AttributionIn, CheckoutCreate, CheckoutLineIn, ShippingAddress
from zhongcao.content import bulk as content_bulk
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind, ContentStatus
from zhongcao.db import Database
from zhongcao.devices import device_key
from zhongcao.errors import DomainError
from zhongcao.events import purchases
from zhongcao.events import service as events_service
from zhongcao.events.store import EventStore
from zhongcao.experience import scores as experience_scores
from zhongcao.experience import surveys as nps_surveys
from zhongcao.experience.models import NpsTrigger
from zhongcao.feed.policy import FeedCorpus, FeedPolicy, FeedSignals
from zhongcao.feed.policy_registry import get_policy as get_feed_policy
from zhongcao.jobs import run_due_jobs
from zhongcao.logistics import service as logistics_service
from zhongcao.reviews import service as reviews_service
from zhongcao.search.policy import ProductCorpus
from zhongcao.search.policy import get_policy as get_search_policy
from zhongcao.shops import service as shops_service
from zhongcao.support import service as support_service
from zhongcao.support.bulk import AnsweredQuestion
from zhongcao.users import addresses as address_service
from zhongcao.users.schemas import AddressIn
from zhongcao.world import buyers, demo_shopper, vocab
from zhongcao.world import merchants as merchant_rules
from zhongcao.world.creators import SimulatedCreators
from zhongcao.world.generate import LEAVES, TOPIC_KEYS
from zhongcao.world.integrity_sim import SimulatedIntegrity
from zhongcao.world.merchants import MerchantRules
from zhongcao.world.reactions import Reactions
from zhongcao.world.sessions import LIVE_HOURS, ChannelSessions

__all__ = ["SimulationResult", "simulate"]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MINUTE_US = 60_000_000
FEED_PAGE = 20
SEARCH_PAGE = 20
BASELINE_SATISFACTION = 0.75
LATE_AFTER_DAYS = 6.0  # a parcel delivered later than this after payment is late
CAMPAIGN_BOOST = 1.3
FRESH_DAYS = 3  # a creator's new video reaches its followers for this many days
FRESH_SLOTS = 3  # at most this many such videos at the top of a session's page

REVIEW_TEXT: dict[int, tuple[str, str]] = {
    1: ("质量太差了，非常失望", "Very poor quality, really disappointed"),
    2: ("不太满意，和描述有差距", "Not happy, not as described"),
    3: ("一般般，物流有点慢", "Just okay, delivery was slow"),
    4: ("不错，挺满意的", "Good, quite satisfied"),
    5: ("非常好用，物流也快，推荐！", "Works great and arrived fast, recommended!"),
}


COMPLAINT_TEXT: dict[str, str] = {
    "service": "商家拒绝退款 / The shop refused my refund",
    "logistics": "快递迟迟不到，客服也不回复 / Parcel late and no answer from the shop",
    "product": "商品有问题，客服不回复 / Faulty item and no answer from the shop",
}


@dataclass
class SimulationResult:
    days: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    events: int = 0
    digest: str = ""
    ended_at: datetime | None = None
    # Hidden state at the end, aligned with the world's ``user_ids`` (kept beside the database).
    user_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Events produced per second of the whole simulation."""
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def ingest_events_per_second(self) -> float:
        """Events stored per second spent in :func:`zhongcao.events.service.ingest`."""
        spent = self.phase_seconds.get("events ingestion", 0.0)
        return self.events / spent if spent else 0.0


@dataclass
class _Order:
    user: int  # user index
    shop: int  # shop index
    product: int  # product index
    order_id: int
    item_id: int
    value_fen: int
    paid_us: int
    late_days: float = 0.0
    defect: bool = False
    bad: bool = False  # anything went wrong for the buyer
    case_id: int | None = None
    case_kind: AfterSaleKind | None = None
    # The order's own random stream (fulfilment, after-sales, reviews, NPS), seeded by who bought what
    # on which day: the same purchase has the same luck under every feed policy.
    rng: Generator = field(default_factory=lambda: Generator(PCG64(0)))


ProgressHook = Callable[[str, int], Any]


@contextmanager
def _no_progress(_name: str, _total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


def _us(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


class Market(ChannelSessions):
    """The simulated people and shops, and the platform they use (through ``db``)."""

    def __init__(
        self,
        database: Database,
        latent: dict[str, np.ndarray],
        *,
        seed: int,
        start: datetime,
        store: EventStore,
        feed_policy: str | FeedPolicy,
        search_policy: str,
        intensity: float = 1.0,
        creator_policy: str | None = None,
        integrity: SimulatedIntegrity | None = None,
        reactions: Reactions | None = None,
        merchants: MerchantRules | None = None,
    ) -> None:
        self.database = database
        self.db = database.session()
        purchases.recorded_elsewhere(self.db)  # the simulation logs its orders at simulated times
        # Simulated days pass in seconds: notifications stamped with the wall clock would flood every
        # inbox with months of orders at once (and cost the simulation a write per order).
        signals.quiet(self.db)
        self.store = store
        self.seed = seed
        self.reactions = reactions or Reactions()
        self._streams(0)
        self.addresses: dict[int, ShippingAddress] = {}  # user id -> their address (world.buyers)
        self.new_addresses: list[tuple[int, AddressIn]] = []  # first-time buyers' address book entries
        self.intensity = float(intensity)
        self.start_us = _us(start)
        self.tz = start.tzinfo
        self.feed = get_feed_policy(feed_policy) if isinstance(feed_policy, str) else feed_policy
        self.owns_feed = isinstance(feed_policy, str)
        self.day_us = self.start_us
        self.end_us = self.start_us  # the end of the period, set by simulate()
        # A policy that learns from the platform (the trained feed) reads its tables and event log and
        # the simulated time through this optional hook; the protocol itself stays fit/recommend.
        attach = getattr(self.feed, "attach", None)
        if callable(attach):
            attach(database=database, store=store, clock=lambda: self._when(self.day_us))
        self.search = get_search_policy(search_policy)
        self.heap: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.digest = hashlib.sha256()
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.events = 0

        a = latent
        self.user_ids = a["user_ids"]
        self.topic_interest = a["user_topic_interest"]
        self.category_interest = a["user_category_interest"]
        self.price_sensitivity = a["user_price_sensitivity"]
        self.activity = a["user_activity"]
        self.satisfaction = a["user_satisfaction"].astype(np.float64).copy()
        self.churned = np.zeros(len(self.user_ids), dtype=bool)
        self.bad_experiences = np.zeros(len(self.user_ids), dtype=np.int64)
        self.failures = np.zeros(len(self.user_ids), dtype=np.int64)  # for the recovery paradox
        self.avoided: set[int] = set()  # user * shops + shop: the buyer never buys there again
        self._avoided_sorted = np.zeros(0, dtype=np.int64)
        self._avoided_dirty = False
        self.shop_ids = a["shop_ids"]
        self.shop_account_ids = a["shop_account_ids"]
        self.creator_account_ids = a["creator_account_ids"]
        self.bought: dict[int, list[int]] = {}  # user index -> products bought (their order list)
        self.shop_hidden = {
            k: a[k] for k in a if k.startswith("shop_") and k not in ("shop_ids", "shop_account_ids")
        }
        self.product_ids = a["product_ids"]
        self.product_shop = a["product_shop_index"]
        self.product_leaf = a["product_leaf_index"]
        self.product_appeal = a["product_appeal"]
        self.product_base_price = a["product_base_price_fen"].astype(np.float64)
        self.content_ids = a["content_ids"]
        self.content_quality = a["content_quality"]
        self.content_topic = a["content_topic_index"]
        self.leaf_top = np.asarray([vocab.CATEGORIES.index(top) for top, _ in LEAVES], dtype=np.int64)
        # Each leaf's median base price: what "expensive for its kind" is measured against.
        self.leaf_median = np.ones(len(LEAVES))
        for leaf in range(len(LEAVES)):
            prices = self.product_base_price[self.product_leaf == leaf]
            if len(prices):
                self.leaf_median[leaf] = float(np.median(prices))
        # Public shop ratings as reviews accrue (what a shopper sees on a product page).
        self.rating_sum = np.zeros(len(self.shop_ids))
        self.rating_n = np.zeros(len(self.shop_ids))
        self.engagement = np.zeros(len(self.content_ids))
        self.orders: dict[int, _Order] = {}
        self.in_flight: set[int] = set()  # orders shipped, not yet delivered (their parcels are held)
        self.order_events: list[tuple[int, int, int, int, int, int, str]] = []
        self.owner_of_shop: dict[int, int] = {}
        self.presale_pending: list[AnsweredQuestion] = []
        # Creators who publish new videos during the simulation, choosing products through a creator
        # policy (zhongcao.world.creators); None keeps the world's content as generated.
        self.creators = (
            SimulatedCreators(latent, creator_policy, Generator(PCG64([seed, 0xC0DE])))
            if creator_policy
            else None
        )
        self.fresh: list[tuple[int, int, int]] = []  # (day, account id, content id) of new videos
        # Shops that adapt to the traffic they earn (None: shops stay as generated, the demo's case).
        self.merchant_rules = merchants
        self.shop_exposure = np.zeros(len(self.shop_ids), dtype=np.int64)  # feed impressions this period
        self.shop_previous = np.zeros(len(self.shop_ids), dtype=np.int64)  # ... in the period before
        self.shop_open = np.ones(len(self.shop_ids), dtype=bool)
        self.shop_margin = np.zeros(len(self.shop_ids))
        self.good_levels: dict[str, float] = {}
        if merchants is not None:
            self.shop_hidden = {k: v.astype(np.float64).copy() for k, v in self.shop_hidden.items()}
            margin_rng = Generator(PCG64([seed, 0x3A26]))
            self.shop_margin = merchant_rules.starting_margins(merchants, len(self.shop_ids), margin_rng)
            self.good_levels = merchant_rules.good_levels(self.shop_hidden)
        self.gmv_fen = 0
        self.poor_gmv_fen = 0  # paid at shops whose hidden quality was poor at the time
        self._load_platform()
        # Attacks, detection and discounting (issue #19), when the run plants or measures them.
        self.integrity = integrity
        if integrity is not None:
            self._catalogue()
            integrity.attach(self)

    def _streams(self, d: int) -> None:
        """Today's random streams, one per concern, each seeded by (seed, day, concern): how many
        numbers one concern draws never shifts another's, so two runs that differ only in ranking
        share everything else (common random numbers). Orders carry their own (``_order_rng``)."""

        def stream(tag: int) -> Generator:
            return Generator(PCG64([self.seed, 0x5EED, d, tag]))

        self.rng_people = stream(1)  # who is active today and when
        self.rng_feed = stream(2)  # the feed policy's own draws: the ranking
        self.rng = stream(3)  # behaviour: plays, clicks, searches, product views, carts
        self.rng_actions = stream(4)  # actions not tied to an order (surveys, the demo shopper)
        self.rng_night = stream(5)  # churn and tomorrow's survey sample
        self.rng_merchants = stream(6)  # shops' decisions

    def _order_rng(self, user: int, product: int, day_us: int) -> Generator:
        day = max(0, (day_us - self.start_us) // DAY_US)
        return Generator(PCG64([self.seed, 0x0DE5, user, product, int(day)]))

    # --- reading the platform -------------------------------------------------------------------

    def _load_platform(self) -> None:
        db = self.db
        snap = content_reads.content_snapshot(db)
        ids = np.asarray(snap.content_ids, dtype=np.int64)
        pos = np.searchsorted(self.content_ids, ids)
        known = (pos < len(self.content_ids)) & (
            self.content_ids[np.minimum(pos, len(self.content_ids) - 1)] == ids
        )
        self.c_index = pos[known]  # world index of each listed item
        self.c_ids = ids[known]
        self.c_account = np.asarray(snap.account_ids, dtype=np.int64)[known]
        self.c_live = np.asarray([k is ContentKind.live for k in snap.kinds], dtype=bool)[known]
        scheduled = [snap.scheduled_at[i] for i in np.flatnonzero(known)]
        self.c_scheduled_us = np.asarray(
            [_us(s if s.tzinfo else s.replace(tzinfo=self.tz)) if s else -1 for s in scheduled],
            dtype=np.int64,
        )
        self.c_status_live_ok = np.asarray([s is ContentStatus.scheduled for s in snap.statuses], dtype=bool)[
            known
        ]
        anchors = content_service.anchored_product_ids_by_content(db, self.c_ids.tolist())
        # Anchored products per listed item as CSR (product indexes into the world's arrays).
        lists = [anchors.get(int(c), []) for c in self.c_ids]
        self.c_anchor_ptr = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
        flat = np.asarray([p for x in lists for p in x], dtype=np.int64)
        self.c_anchor_items = np.searchsorted(self.product_ids, flat)
        has_anchor = self.c_anchor_ptr[1:] > self.c_anchor_ptr[:-1]
        first = (
            self.c_anchor_items[np.minimum(self.c_anchor_ptr[:-1], max(len(flat) - 1, 0))]
            if len(flat)
            else np.zeros(0, dtype=np.int64)
        )
        self.c_shop = np.where(has_anchor, self.shop_ids[self.product_shop[first]] if len(flat) else -1, -1)
        fu, fa = content_reads.follow_pairs(db)
        self.follows = set(zip(fu, fa, strict=True))
        self.follow_u = np.asarray(fu, dtype=np.int64)
        self.follow_a = np.asarray(fa, dtype=np.int64)
        db.rollback()

    def _shop_signals(self, day_us: int) -> None:
        """The shops' current experience scores and trailing 30-day GMV, as the platform has them."""
        now = self._when(day_us)
        self.shop_scores = experience_scores.current_scores(self.db, self.shop_ids.tolist())
        self.shop_gmv = commerce_service.shop_gmv_fen(self.db, now - timedelta(days=30), now)
        if self.integrity is not None:
            self.shop_gmv = self.integrity.gmv(self, self.shop_gmv)
        self.db.rollback()

    def _catalogue(self) -> None:
        snap = catalog_service.catalogue_snapshot(self.db)
        self.db.rollback()
        ids = np.asarray(snap.product_ids, dtype=np.int64)
        self.p_index = np.searchsorted(self.product_ids, ids)
        self.p_sku = np.full(len(self.product_ids), -1, dtype=np.int64)
        self.p_price = np.zeros(len(self.product_ids), dtype=np.int64)
        self.p_sku[self.p_index] = np.asarray(snap.sku_ids, dtype=np.int64)
        self.p_price[self.p_index] = np.asarray(snap.sku_prices_fen, dtype=np.int64)
        self.p_sold = np.zeros(len(self.product_ids), dtype=np.int64)
        sold = np.asarray(snap.sold, dtype=np.int64)
        if self.integrity is not None:  # brushed orders buy no sales rank
            sold = self.integrity.sold(ids, sold)
        self.p_sold[self.p_index] = sold
        self.search.fit(
            ProductCorpus(product_ids=ids, titles_zh=snap.titles_zh, titles_en=snap.titles_en, sales=sold)
        )

    # --- bookkeeping ----------------------------------------------------------------------------

    def _count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def _note(self, *parts: object) -> None:
        self.digest.update("|".join(map(str, parts)).encode())
        self.digest.update(b"\n")

    def _at(self, us: int, action: str, *args: Any) -> None:
        heapq.heappush(self.heap, (int(us), next(self.seq), action, args))

    def _when(self, us: int) -> datetime:
        return datetime.fromtimestamp(us / 1_000_000, tz=self.tz)

    def _hurt(self, state: _Order, kind: str, late_days: float = 0.0) -> None:
        """A bad experience with ``state``'s shop: satisfaction falls, and the buyer may never buy
        from that shop again (:class:`~zhongcao.world.reactions.Reactions`)."""
        r = self.reactions
        user = state.user
        self.satisfaction[user] = max(0.0, self.satisfaction[user] - r.satisfaction_hit(kind, late_days))
        self.bad_experiences[user] += 1
        self.failures[user] += 1
        if state.rng.random() < r.avoid_probability(kind):
            key = user * len(self.shop_ids) + state.shop
            if key not in self.avoided:
                self.avoided.add(key)
                self._avoided_dirty = True
                self._count("shops_avoided")

    def _recover(self, state: _Order) -> None:
        """A faulty item refunded: satisfaction given back (more than lost after a first failure)."""
        r = self.reactions
        share = r.first_recovery_restore if self.failures[state.user] <= 1 else r.later_recovery_restore
        gain = share * r.defect_hit
        self.satisfaction[state.user] = min(1.0, self.satisfaction[state.user] + gain)
        self._count("recoveries")

    def _avoids(self, users: np.ndarray, shops: np.ndarray) -> np.ndarray:
        """Whether each (user, shop) pair is one the buyer has given up on."""
        if not self.avoided:
            return np.zeros(len(users), dtype=bool)
        if self._avoided_dirty:
            self._avoided_sorted = np.fromiter(sorted(self.avoided), dtype=np.int64)
            self._avoided_dirty = False
        keys = users.astype(np.int64) * len(self.shop_ids) + shops.astype(np.int64)
        pos = np.minimum(np.searchsorted(self._avoided_sorted, keys), len(self._avoided_sorted) - 1)
        return self._avoided_sorted[pos] == keys

    def _owner(self, shop: int) -> int:
        owner = self.owner_of_shop.get(shop)
        if owner is None:
            owner = shops_service.staff_user_ids(self.db, int(self.shop_ids[shop]))[0]
            self.owner_of_shop[shop] = owner
        return owner

    # --- one day --------------------------------------------------------------------------------

    @contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - began

    def day(self, d: int) -> None:
        day_us = self.day_us = self.start_us + d * DAY_US
        self._streams(d)
        with self._timed("catalogue and search index"):
            self._catalogue()
            self._shop_signals(day_us)
        if d == 0 and self.end_us > self.start_us:
            sellable = self.p_sku >= 0
            n = demo_shopper.schedule(
                self._at,
                self.start_us,
                self.end_us,
                self.product_shop,
                sellable,
                self.rng_actions,
                self._creator_videos(),
            )
            self._count("demo_shopper_habits", n)
        if self.creators is not None:
            with self._timed("creators publish"):
                self._creators_publish(day_us)
        with self._timed("behaviour (feed, search)"):
            self._schedule_lives(day_us)
            self._behave(day_us)
        if self.integrity is not None:
            with self._timed("attacks"):
                self.integrity.act(self, d, day_us)
        with self._timed("actions (orders, fulfilment, after-sales, reviews, CS, NPS)"):
            self._drain(day_us + DAY_US)
        with self._timed("end of day (jobs, churn)"):
            self._end_of_day(day_us + DAY_US)
        if self.merchant_rules is not None and (d + 1) % self.merchant_rules.review_days == 0:
            with self._timed("merchants adapt"):
                self._merchants_review(day_us + DAY_US)

    # --- merchants that adapt (world/merchants.py) --------------------------------------------------

    def _merchants_review(self, end_us: int) -> None:
        """Each open shop looks at the traffic it earned this period and its score, and invests,
        exits or scales by the rules (the same under every feed policy)."""
        rules = self.merchant_rules
        assert rules is not None
        score = np.asarray(
            [np.nan if (v := self.shop_scores.get(int(s))) is None else float(v) for s in self.shop_ids]
        )
        draws = self.rng_merchants.random((len(self.shop_ids), 3))
        decided = merchant_rules.decide(
            rules,
            exposure=self.shop_exposure,
            previous=self.shop_previous,
            score_centi=score,
            margin=self.shop_margin,
            open_=self.shop_open,
            draws=draws,
        )
        self.shop_previous = self.shop_exposure
        self.shop_exposure = np.zeros(len(self.shop_ids), dtype=np.int64)
        if len(decided.invest):
            merchant_rules.improve(self.shop_hidden, decided.invest, rules, self.good_levels)
            self.shop_margin[decided.invest] -= rules.invest_cost
            self._count("merchant_improvements", len(decided.invest))
            self._note("merchants_invest", decided.invest.tolist())
        with clock.frozen(self._when(end_us)):
            for shop in decided.exit.tolist():
                self._close_shop(shop)
            if len(decided.scale):
                self._scale_shops(decided.scale, end_us)

    def _close_shop(self, shop: int) -> None:
        """The shop gives up: every product it has on sale is delisted through the catalogue."""
        shop_id = int(self.shop_ids[shop])
        for product_id in catalog_service.product_ids_of_shop(self.db, shop_id, active_only=True):
            catalog_service.update_product(self.db, shop_id, product_id, status=ProductStatus.delisted)
        self.db.commit()
        self.shop_open[shop] = False
        self._count("merchant_exits")
        self._note("merchant_exit", shop_id)

    def _scale_shops(self, shops: np.ndarray, end_us: int) -> None:
        """Shops earning traffic grow: each account publishes new short videos anchoring its own
        products (through the content service); their pickup may slow (``scale_strain``)."""
        rules = self.merchant_rules
        assert rules is not None
        rng = self.rng_merchants
        leaf_topic = np.asarray([TOPIC_KEYS.index(leaf.topic) for _, leaf in LEAVES], dtype=np.int64)
        sellable = self.p_sku >= 0
        items: list[content_bulk.NewContent] = []
        topics: list[int] = []
        for shop in shops.tolist():
            own = np.flatnonzero((self.product_shop == shop) & sellable)
            if not len(own):
                continue
            for _ in range(rules.scale_videos):
                anchors = rng.choice(own, size=min(2, len(own)), replace=False)
                topic = int(leaf_topic[self.product_leaf[anchors[0]]])
                label = vocab.TOPICS[TOPIC_KEYS[topic]]
                zh, en = vocab.VIDEO_TEMPLATES[int(rng.integers(len(vocab.VIDEO_TEMPLATES)))]
                items.append(
                    content_bulk.NewContent(
                        account_id=int(self.shop_account_ids[shop]),
                        kind=ContentKind.short_video,
                        title_zh=zh.format(topic=label[0], product="好物")[:120],
                        title_en=en.format(topic=label[1], product="finds")[:200],
                        topic=TOPIC_KEYS[topic],
                        duration_seconds=int(rng.integers(15, 181)),
                        anchors=[int(self.product_ids[p]) for p in anchors],
                    )
                )
                topics.append(topic)
        merchant_rules.strain(self.shop_hidden, shops, rules)
        self._count("merchant_scale_ups", len(shops))
        if not items:
            return
        ids = content_bulk.publish_content_bulk(self.db, items)
        self.db.commit()
        self._count("merchant_videos", len(ids))
        self._note("merchant_videos", ids)
        self.content_ids = np.concatenate([self.content_ids, np.asarray(ids, dtype=np.int64)])
        self.content_quality = np.concatenate([self.content_quality, rng.beta(2.0, 3.0, len(ids))])
        self.content_topic = np.concatenate([self.content_topic, np.asarray(topics, dtype=np.int64)])
        self.engagement = np.concatenate([self.engagement, np.zeros(len(ids))])
        self._load_platform()

    def _creators_publish(self, day_us: int) -> None:
        assert self.creators is not None
        published = self.creators.publish(self.db, self._when(day_us + 8 * HOUR_US))
        n = len(published.content_ids)
        if not n:
            return
        self._count("creator_videos", n)
        self._note("creator_videos", published.content_ids)
        self.content_ids = np.concatenate(
            [self.content_ids, np.asarray(published.content_ids, dtype=np.int64)]
        )
        self.content_quality = np.concatenate([self.content_quality, published.quality])
        self.content_topic = np.concatenate([self.content_topic, published.topics])
        self.engagement = np.concatenate([self.engagement, np.zeros(n)])
        self._load_platform()
        for account_id, content_id in zip(published.account_ids, published.content_ids, strict=True):
            self.fresh.append((day_us, account_id, content_id))

    def _fresh_for_followers(self, users: np.ndarray, page: np.ndarray, day_us: int) -> np.ndarray:
        """The following tab: a creator's videos of the last :data:`FRESH_DAYS` days reach its
        followers' sessions (up to :data:`FRESH_SLOTS` at the top of a page), as new work is pushed to
        fans. Only content the simulated creators published during the run is pushed."""
        self.fresh = [f for f in self.fresh if f[0] > day_us - FRESH_DAYS * DAY_US]
        if not self.fresh:
            return page
        by_account: dict[int, list[int]] = {}
        for _, account_id, content_id in self.fresh:
            by_account.setdefault(account_id, []).append(content_id)
        mask = np.isin(self.follow_a, np.fromiter(by_account, dtype=np.int64))
        position = {u: i for i, u in enumerate(self.user_ids[users].tolist())}
        filled = np.zeros(len(users), dtype=np.int64)
        page = page.copy()
        draws = self.rng.random(int(mask.sum()))
        for k, (u, a) in enumerate(
            zip(self.follow_u[mask].tolist(), self.follow_a[mask].tolist(), strict=True)
        ):
            i = position.get(u)
            if i is None or filled[i] >= FRESH_SLOTS:
                continue
            items = by_account[a]
            page[i, filled[i]] = items[int(draws[k] * len(items))]
            filled[i] += 1
        return page

    def _log(self, batch: Any) -> None:
        with self._timed("events ingestion"):
            self.events += events_service.ingest(batch, self.store)

    def _schedule_lives(self, day_us: int) -> None:
        today = np.flatnonzero(
            self.c_live
            & self.c_status_live_ok
            & (self.c_scheduled_us >= day_us)
            & (self.c_scheduled_us < day_us + DAY_US)
        )
        for i in today.tolist():
            self._at(self.c_scheduled_us[i], "live_start", int(self.c_ids[i]))
            self._at(self.c_scheduled_us[i] + int(LIVE_HOURS * HOUR_US), "live_end", int(self.c_ids[i]))
        self.live_today = today

    def _behave(self, day_us: int) -> None:
        rng = self.rng_people
        n = len(self.user_ids)
        p_active = np.clip(0.22 * self.activity, 0.02, 0.9) * self.reactions.activity_factor(
            self.satisfaction, BASELINE_SATISFACTION
        )
        active = np.flatnonzero((rng.random(n) < np.clip(p_active, 0.0, 0.95)) & ~self.churned)
        self._count("active_user_days", len(active))
        # The shoppers live in China: sessions start between 08:00 and 24:00 China time (00:00-16:00
        # UTC of the simulated day), evenings busier.
        session_us = day_us + (rng.beta(2.2, 1.4, len(active)) * 16 * HOUR_US).astype(np.int64)
        self._feed_sessions(active, session_us)
        self._search_sessions(active, session_us)
        self._live_sessions(active, session_us)
        self._browse_sessions(active, session_us)

    # --- the feed -------------------------------------------------------------------------------

    def _feed_sessions(self, users: np.ndarray, session_us: np.ndarray) -> None:
        rng = self.rng
        available = ~self.c_live
        available[self.live_today] = True
        feed_began = time.perf_counter()
        follow_u, follow_a = (
            self.integrity.follow_signal(self.follow_u, self.follow_a)
            if self.integrity is not None
            else (self.follow_u, self.follow_a)
        )
        self.feed.fit(
            FeedCorpus(
                content_ids=self.c_ids,
                account_ids=self.c_account,
                topic_index=self.content_topic[self.c_index],
                available=available,
                shop_ids=self.c_shop,
            ),
            FeedSignals(
                follow_user_ids=follow_u,
                follow_account_ids=follow_a,
                engaged_content_ids=self.content_ids,
                engaged_weight=self.engagement,
                shop_score_centi=self.shop_scores,
                shop_gmv_fen=self.shop_gmv,
            ),
        )
        page = self.feed.recommend(self.user_ids[users], FEED_PAGE, self.rng_feed)
        if self.creators is not None:
            page = self._fresh_for_followers(users, page, self.day_us)
        if self.integrity is not None:  # the integrity hook: flagged items demoted
            page = self.integrity.demote(self, page)
        # Within "behaviour": what the feed policy itself costs (a trained one trains and ranks here).
        self.seconds["feed policy"] = self.seconds.get("feed policy", 0.0) + time.perf_counter() - feed_began
        want = np.minimum(4 + rng.poisson(6.0 * np.minimum(self.activity[users], 3.0)), FEED_PAGE)
        shown = (np.arange(FEED_PAGE)[None, :] < want[:, None]) & (page >= 0)
        row, col = np.nonzero(shown)
        cid = page[row, col]
        ci = np.searchsorted(self.c_ids, cid)  # index into the listed content
        wi = self.c_index[ci]  # index into the world's content
        u = users[row]
        ts = session_us[row] + col.astype(np.int64) * 25_000_000 + rng.integers(0, 5_000_000, len(row))
        uid = self.user_ids[u]
        topic = self.content_topic[wi]
        quality = self.content_quality[wi]
        affinity = self.topic_interest[u, topic] * len(TOPIC_KEYS)
        live = self.c_live[ci]
        cols: dict[str, list[np.ndarray]] = {
            k: []
            for k in (
                "ts",
                "type",
                "user_id",
                "content_id",
                "account_id",
                "product_id",
                "watch_ms",
                "channel",
            )
        }

        def emit(
            mask: np.ndarray,
            kind: str,
            *,
            product: np.ndarray | None = None,
            watch: np.ndarray | None = None,
            account: bool = False,
        ) -> None:
            k = int(mask.sum())
            if not k:
                return
            cols["ts"].append(ts[mask])
            cols["type"].append(np.full(k, kind, dtype=object))
            cols["user_id"].append(uid[mask])
            cols["content_id"].append(cid[mask])
            cols["account_id"].append(
                np.where(account, self.c_account[ci[mask]], -1) if account else np.full(k, -1)
            )
            cols["product_id"].append(product if product is not None else np.full(k, -1))
            cols["watch_ms"].append(watch if watch is not None else np.full(k, -1))
            cols["channel"].append(np.where(live[mask], "live", "feed").astype(object))
            self._count(f"events_{kind}", k)

        everything = np.ones(len(row), dtype=bool)
        emit(everything, "impression")
        # The traffic each shop earns in the feed (what its owner sees in Compass).
        shown_shop = self.c_shop[ci]
        has_shop = shown_shop >= 0
        np.add.at(self.shop_exposure, np.searchsorted(self.shop_ids, shown_shop[has_shop]), 1)
        p_play = np.clip(0.25 + 0.12 * np.minimum(affinity, 4.0) + 0.35 * quality, 0.05, 0.95)
        play = rng.random(len(row)) < p_play
        share = np.clip(rng.beta(1.0 + 3.0 * quality + 0.5 * np.minimum(affinity, 4.0), 2.0), 0.0, 1.0)
        duration_ms = np.where(
            live, rng.integers(60_000, 1_800_000, len(row)), rng.integers(15_000, 180_000, len(row))
        )
        watch = (share * duration_ms).astype(np.int64)
        emit(play & live, "live_enter")
        emit(play, "play", watch=watch[play])
        like = play & (rng.random(len(row)) < 0.02 + 0.12 * share * quality)
        emit(like, "like")
        emit(play & (rng.random(len(row)) < 0.004 + 0.02 * share * quality), "comment")
        emit(play & (rng.random(len(row)) < 0.002 + 0.015 * share * quality), "share")
        follow = play & (rng.random(len(row)) < 0.002 + 0.01 * quality * np.minimum(affinity, 3.0))
        emit(follow, "follow", account=True)
        # Engagement for tomorrow's popularity: plays weighted by the share watched, plus likes.
        if self.integrity is not None:  # flagged accounts' plays and likes buy no popularity
            counted = self.integrity.counted(uid, wi, play, share, like)
            play, like = play & counted, like & counted
        np.add.at(self.engagement, wi[play], share[play])
        np.add.at(self.engagement, wi[like], 2.0)
        self.engagement *= 0.85  # yesterday counts less
        new_follows = {
            (int(a), int(b))
            for a, b in zip(uid[follow].tolist(), self.c_account[ci[follow]].tolist(), strict=True)
        } - self.follows
        if new_follows:
            with clock.frozen(self._when(int(ts.max()) if len(ts) else self.start_us)):
                content_bulk.follow_bulk(self.db, sorted(new_follows))
            self.db.commit()
            self.follows |= new_follows
            fu, fa = zip(*sorted(new_follows), strict=True)
            self.follow_u = np.concatenate([self.follow_u, np.asarray(fu, dtype=np.int64)])
            self.follow_a = np.concatenate([self.follow_a, np.asarray(fa, dtype=np.int64)])
        # Anchor clicks: one of the item's anchored products, more likely for a category of interest.
        lo = self.c_anchor_ptr[ci]
        count = self.c_anchor_ptr[ci + 1] - lo
        pick = lo + (rng.random(len(row)) * count).astype(np.int64)
        anchor = np.where(
            play & (count > 0), self.c_anchor_items[np.minimum(pick, len(self.c_anchor_items) - 1)], -1
        )
        has = anchor >= 0
        cat_aff = np.zeros(len(row))
        cat_aff[has] = self.category_interest[u[has], self.leaf_top[self.product_leaf[anchor[has]]]] * len(
            vocab.CATEGORIES
        )
        click = has & (rng.random(len(row)) < (0.04 + 0.06 * share) * np.minimum(cat_aff, 3.0))
        pid = np.where(click, self.product_ids[np.maximum(anchor, 0)], -1)
        emit(click, "anchor_click", product=pid[click])
        emit(click, "product_view", product=pid[click])
        self._ingest(cols)
        idx = np.flatnonzero(click)
        self._consider(
            u[idx],
            anchor[idx],
            ts[idx],
            channels=np.where(live[idx], "live", "short_video"),
            content=cid[idx],
        )

    # --- search ---------------------------------------------------------------------------------

    def _queries(self, users: np.ndarray, rng: Generator) -> list[str]:
        """One query per user, drawn from their category interests: a product type of a leaf of a
        category they like, sometimes with a brand, in their language."""
        n = len(users)
        cum = np.cumsum(self.category_interest[users], axis=1)
        top_i = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(vocab.CATEGORIES) - 1)
        leaf_u, type_u, brand_u, with_brand = (
            rng.random(n),
            rng.random(n),
            rng.random(n),
            rng.random(n) < 0.25,
        )
        english = self.user_ids[users] % 5 == 0  # as the generator set locales
        queries = []
        for i in range(n):
            top = vocab.CATEGORIES[int(top_i[i])]
            leaf = top.leaves[int(leaf_u[i] * len(top.leaves))]
            ptype = leaf.product_types[int(type_u[i] * len(leaf.product_types))]
            lang = 1 if english[i] else 0
            if with_brand[i]:
                brand = top.brands[int(brand_u[i] * len(top.brands))]
                queries.append(f"{brand[lang]} {ptype[lang]}")
            else:
                queries.append(ptype[lang])
        return queries

    def _search_sessions(self, users: np.ndarray, session_us: np.ndarray) -> None:
        rng = self.rng
        searching = users[rng.random(len(users)) < 0.35]
        n = len(searching)
        self._count("searches", n)
        if not n:
            return
        when = session_us[np.searchsorted(users, searching)] + rng.integers(0, 20 * MINUTE_US, n)
        queries = self._queries(searching, rng)
        # A page of results per search (-1 pads short pages); the policy is asked once per distinct query.
        pages = {q: self.search.search(q, SEARCH_PAGE) for q in dict.fromkeys(queries)}
        results = np.full((n, SEARCH_PAGE), -1, dtype=np.int64)
        for i, q in enumerate(queries):
            found = pages[q]
            results[i, : len(found)] = found
        self._log(
            {
                "ts": when,
                "type": np.full(n, "search", dtype=object),
                "user_id": self.user_ids[searching],
                "query": queries,
                "result_ids": [pages[q].tolist() for q in queries],
                "channel": np.full(n, "search", dtype=object),
            }
        )
        # Clicks: position bias times the fit of what is shown; at most three per search.
        shown = results >= 0
        pi = np.searchsorted(self.product_ids, np.where(shown, results, self.product_ids[0]))
        fit = self.category_interest[searching[:, None], self.leaf_top[self.product_leaf[pi]]] * len(
            vocab.CATEGORIES
        )
        p_click = 0.35 / (1.0 + 0.4 * np.arange(SEARCH_PAGE))[None, :] * np.minimum(0.4 + fit, 3.0)
        click = shown & (rng.random((n, SEARCH_PAGE)) < p_click)
        click &= np.cumsum(click, axis=1) <= 3
        row, pos = np.nonzero(click)
        if not len(row):
            return
        vu, vp = searching[row], pi[row, pos]
        vt = when[row] + (pos.astype(np.int64) + 1) * 20_000_000
        self._log(
            {
                "ts": vt,
                "type": np.full(len(vu), "product_view", dtype=object),
                "user_id": self.user_ids[vu],
                "product_id": self.product_ids[vp],
                "position": pos.astype(np.int32),
                "channel": np.full(len(vu), "search", dtype=object),
            }
        )
        self._count("events_product_view", len(vu))
        self._consider(vu, vp, vt, channels=np.full(len(vu), "search"), content=np.full(len(vu), -1))

    # --- from a product view to an order --------------------------------------------------------

    def _consider(
        self,
        users: np.ndarray,
        products: np.ndarray,
        ts: np.ndarray,
        *,
        channels: np.ndarray,
        content: np.ndarray,
    ) -> None:
        """Each product view may become an add-to-cart and then an order (placed later, in time order)."""
        if not len(users):
            return
        rng = self.rng
        leaf = self.product_leaf[products]
        interest = self.category_interest[users, self.leaf_top[leaf]] * len(vocab.CATEGORIES)
        price = np.maximum(self.p_price[products], 1).astype(np.float64)
        dearness = np.log(price / self.leaf_median[leaf])
        price_factor = np.exp(-1.5 * self.price_sensitivity[users] * dearness)
        shop = self.product_shop[products]
        rating = np.where(
            self.rating_n[shop] >= 3, self.rating_sum[shop] / np.maximum(self.rating_n[shop], 1), 4.5
        )
        trust = np.exp(0.6 * (rating - 4.5))
        mood = self.reactions.conversion_factor(self.satisfaction[users], BASELINE_SATISFACTION)
        p_cart = np.clip(
            0.10
            * self.intensity
            * np.minimum(interest, 3.0)
            * price_factor
            * np.exp(0.3 * self.product_appeal[products])
            * trust
            * mood,
            0.0,
            0.8,
        )
        sellable = self.p_sku[products] >= 0
        self._presale_questions(users[sellable], products[sellable], ts[sellable])
        # A buyer who gave up on a shop looks but does not buy there again.
        cart = sellable & (rng.random(len(users)) < p_cart) & ~self._avoids(users, shop)
        buy = cart & (rng.random(len(users)) < 0.55)
        idx = np.flatnonzero(cart)
        if len(idx):
            self._log(
                {
                    "ts": ts[idx] + 30_000_000,
                    "type": np.full(len(idx), "add_to_cart", dtype=object),
                    "user_id": self.user_ids[users[idx]],
                    "product_id": self.product_ids[products[idx]],
                    "channel": channels[idx].astype(object),
                }
            )
            self._count("events_add_to_cart", len(idx))
        delay = rng.integers(2 * MINUTE_US, 40 * MINUTE_US, len(users))
        for i in np.flatnonzero(buy).tolist():
            qty = 2 if rng.random() < 0.08 else 1
            self._at(
                int(ts[i] + delay[i]),
                "place",
                int(users[i]),
                int(products[i]),
                qty,
                str(channels[i]),
                int(content[i]),
            )

    # --- actions --------------------------------------------------------------------------------

    def _drain(self, until_us: int) -> None:
        while self.heap and self.heap[0][0] < until_us:
            when, _, action, args = heapq.heappop(self.heap)
            with clock.frozen(self._when(when)):
                try:
                    getattr(self, f"_do_{action}")(when, *args)
                except DomainError as exc:
                    # The platform refused (sold out, already rated, deadline passed): that is the outcome.
                    self.db.rollback()
                    self._count(f"refused_{action}")
                    self._note(action, "refused", exc.code)

    def _do_live_start(self, when: int, content_id: int) -> None:
        content_service.start_live(self.db, content_id)
        self._count("lives")

    def _do_live_end(self, when: int, content_id: int) -> None:
        content_service.end_live(self.db, content_id)

    def _address(self, user_id: int) -> ShippingAddress:
        """The buyer's own address, typed in at their first order and saved to their address book
        that night (``_save_addresses``: one batch for the day's new buyers)."""
        if user_id not in self.addresses:
            entry = buyers.buyer(self.seed, user_id)
            self.new_addresses.append((user_id, entry))
            self.addresses[user_id] = buyers.shipping(entry)
        return self.addresses[user_id]

    def _save_addresses(self) -> None:
        if self.new_addresses:
            address_service.save_first_addresses(self.db, self.new_addresses)
            self.new_addresses = []

    def _do_place(
        self, when: int, user: int, product: int, qty: int, channel: str, content_id: int, walk_away: int = -1
    ) -> None:
        """``walk_away``: 1 leaves the checkout unpaid, 0 pays, -1 (most people) walks away 4% of times."""
        rng = self._order_rng(user, product, when)
        user_id = int(self.user_ids[user])
        sku = int(self.p_sku[product])
        attribution = AttributionIn(
            channel=Channel(channel), content_id=content_id if content_id >= 0 else None
        )
        request = CheckoutCreate(
            items=[CheckoutLineIn(sku_id=sku, quantity=qty, attribution=attribution)],
            shipping_address=self._address(user_id),
        )
        # Place and pay in one transaction (a refusal rolls back both), as a one-tap purchase does.
        checkout = checkout_service.place_checkout(self.db, user_id, request, commit=False)
        self._count("checkouts")
        self._note("place", user_id, sku, qty, checkout.total_fen)
        leaves = rng.random() < 0.04 if walk_away < 0 else bool(walk_away)
        if leaves:  # walks away; the payment-timeout job cancels it and releases stock
            self._count("abandoned_checkouts")
            self.db.commit()
            return
        checkout_service.pay_checkout(
            self.db,
            user_id,
            checkout.id,
            payment_method=str(rng.choice(["alipay", "wechat_pay", "card"])),
            client_key=f"sim-{checkout.id}",
            device_key=device_key(f"sim-phone-{user_id:012d}"),  # each shopper pays from their own phone
            commit=False,
        )
        for order in checkout.orders:
            item = order.items[0]
            value = int(order.paid_fen)
            shop = int(np.searchsorted(self.shop_ids, order.shop_id))
            state = _Order(user, shop, product, order.id, item.id, value, when, rng=rng)
            self.gmv_fen += value
            if self.shop_hidden["shop_quality"][shop] < merchant_rules.POOR_QUALITY:
                self.poor_gmv_fen += value
            self.bought.setdefault(user, []).append(product)
            self.orders[order.id] = state
            self.order_events.append(
                (
                    when,
                    user_id,
                    int(self.product_ids[product]),
                    int(order.shop_id),
                    content_id,
                    value,
                    channel,
                )
            )
            self._count("events_order")
            self._count("orders_paid")
            if self.integrity is not None:
                self.integrity.organic_order(
                    self, order.id, user_id, int(order.shop_id), int(self.product_ids[product]), when, value
                )
            h = self.shop_hidden
            ship_after = h["shop_pickup_delay_hours"][shop] * rng.lognormal(0.0, 0.4)
            self._at(when + int(max(0.3, ship_after) * HOUR_US), "ship", order.id)
        self.db.commit()

    def _do_ship(self, when: int, order_id: int) -> None:
        # The parcel goes through the platform's carrier (tracking, the carrier job), but the world
        # decides its pickup and transit times (the shop's hidden carrier speed): the carrier's plan
        # is pinned to them, and the world writes the scans at its own times. A parcel still on its
        # way when the simulation ends is delivered by the running platform's carrier job.
        state = self.orders[order_id]
        carrier = str(state.rng.choice(["sf", "yto", "zto", "jd"]))
        pickup_us = when + int(state.rng.uniform(1.0, 8.0) * HOUR_US)
        logistics_service.ship_order(
            self.db,
            int(self.shop_ids[state.shop]),
            order_id,
            carrier=carrier,
            tracking_number=f"SIM{order_id:010d}",
            planned_pickup_at=self._when(pickup_us),
            simulated=True,
            held=True,
        )
        self.in_flight.add(order_id)
        self._count("shipped")
        self._at(pickup_us, "pickup", order_id)

    def _do_pickup(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        transit_days = self.shop_hidden["shop_carrier_days"][state.shop] * state.rng.lognormal(0.0, 0.3)
        deliver_us = when + int(transit_days * DAY_US)
        logistics_service.pick_up(self.db, order_id, self._when(when), delivered_at=self._when(deliver_us))
        self._at(deliver_us, "deliver", order_id)

    def _do_deliver(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        rng = state.rng
        logistics_service.advance_order(self.db, order_id, self._when(when))
        self.in_flight.discard(order_id)
        self._count("delivered")
        days = (when - state.paid_us) / DAY_US
        shop = state.shop
        state.late_days = max(0.0, days - LATE_AFTER_DAYS)
        if state.late_days > 0:
            self._hurt(state, "late", state.late_days)
            state.bad = True
            self._count("late_deliveries")
            if rng.random() < 0.4:
                self._at(when - int(min(days, 2.0) * DAY_US * 0.5), "ask", order_id, "logistics")
        state.defect = bool(rng.random() < self.shop_hidden["shop_defect_rate"][shop])
        if state.defect:
            self._hurt(state, "defect")
            state.bad = True
            self._count("defects")
            if rng.random() < 0.5:
                self._at(when + int(rng.uniform(0.5, 12) * HOUR_US), "ask", order_id, "quality")
            self._at(when + int(rng.uniform(2, 48) * HOUR_US), "open_case", order_id, "quality")
        else:
            sat = self.satisfaction[state.user]
            if rng.random() < 0.01 + 0.10 * (1.0 - sat) + 0.02 * min(state.late_days, 3.0):
                self._at(when + int(rng.uniform(6, 96) * HOUR_US), "open_case", order_id, "changed_mind")
            else:
                if not state.bad:
                    gain = self.reactions.smooth_order_gain
                    self.satisfaction[state.user] += gain * (1.0 - self.satisfaction[state.user])
                if rng.random() < 0.5:
                    self._at(when + int(rng.uniform(0.2, 5.0) * DAY_US), "confirm", order_id)
        p_review = 0.3 + (0.3 if state.bad else 0.0)
        if rng.random() < p_review:
            self._at(when + int(rng.uniform(0.5, 6.0) * DAY_US), "review", order_id)
        if nps_surveys.invite_to_survey(NpsTrigger.after_delivery, order_id):
            self._at(when + int(rng.uniform(1.0, 7.0) * DAY_US), "nps", order_id)

    def _creator_videos(self) -> list[tuple[int, int]]:
        """(content id, product index) of the demo creator's short videos and what they anchor."""
        account = int(self.creator_account_ids[0]) if len(self.creator_account_ids) else -1
        out = []
        for i in np.flatnonzero((self.c_account == account) & ~self.c_live).tolist():
            for p in self.c_anchor_items[self.c_anchor_ptr[i] : self.c_anchor_ptr[i + 1]].tolist():
                out.append((int(self.c_ids[i]), int(p)))
        return out

    def _do_attack(self, when: int, *args: Any) -> None:
        assert self.integrity is not None  # only an attack schedules these
        self.integrity.do(self, when, *args)

    def _do_change_mind(self, when: int, user: int, product: int) -> None:
        order_id = demo_shopper.latest_order(self.orders, user, product)
        if order_id is not None:
            self._do_open_case(when, order_id, "changed_mind")

    def _do_confirm(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        if state.user == demo_shopper.DEMO_SHOPPER:  # leaves it to the platform's auto-completion
            return
        commerce_service.confirm_receipt(self.db, int(self.user_ids[state.user]), order_id)
        self._count("confirmed")
        if self.integrity is not None:
            self.integrity.order_confirmed(order_id, when)

    def _do_open_case(self, when: int, order_id: int, why: str) -> None:
        state = self.orders[order_id]
        rng = state.rng
        reason = AfterSaleReason(why)
        kind = (
            AfterSaleKind.refund_only
            if reason is AfterSaleReason.quality and state.value_fen < 5_000
            else AfterSaleKind.return_and_refund
        )
        case = aftersales_service.open_case(
            self.db,
            int(self.user_ids[state.user]),
            order_id,
            order_item_id=state.item_id,
            kind=kind,
            reason=reason,
            description="质量有问题" if reason is AfterSaleReason.quality else "不想要了",
        )
        state.case_id, state.case_kind = case.id, kind
        self._count(f"cases_{why}")
        hours = self.shop_hidden["shop_aftersales_hours"][state.shop] * rng.lognormal(0.0, 0.4)
        self._at(when + int(hours * HOUR_US), "decide_case", order_id)

    def _do_decide_case(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        rng = state.rng
        assert state.case_id is not None
        case = aftersales_service.get_case(self.db, state.case_id)
        if case.status is not AfterSaleStatus.requested:  # decided by the platform's deadline job
            self._count("cases_auto_approved")
            self.db.rollback()
            self._after_approval(when, state)
            return
        shop_id = int(self.shop_ids[state.shop])
        refusal = self.shop_hidden["shop_refusal_propensity"][state.shop]
        if rng.random() < refusal:
            aftersales_service.reject(
                self.db, shop_id, state.case_id, note="商品无质量问题 / no defect found"
            )
            self._count("cases_rejected")
            self._hurt(state, "refusal")
            state.bad = True
            if rng.random() < 0.6:
                self._at(when + int(rng.uniform(1, 24) * HOUR_US), "escalate", order_id)
            if rng.random() < 0.4:  # and tells the platform what the shop did
                self._at(when + int(rng.uniform(1, 48) * HOUR_US), "complain", order_id, "service")
            return
        aftersales_service.approve(self.db, shop_id, state.case_id)
        self._count("cases_approved")
        if state.defect:
            self._recover(state)
        self._after_approval(when, state)

    def _after_approval(self, when: int, state: _Order) -> None:
        if state.case_kind is AfterSaleKind.return_and_refund:
            self._at(when + int(state.rng.uniform(6, 48) * HOUR_US), "ship_return", state.order_id)
        else:
            self._count("refunds")
            self._survey_case(when, state)

    def _do_escalate(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        assert state.case_id is not None
        aftersales_service.escalate(self.db, int(self.user_ids[state.user]), state.case_id)
        self._count("cases_escalated")
        self._at(when + int(state.rng.uniform(12, 72) * HOUR_US), "arbitrate", order_id)

    def _do_arbitrate(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        assert state.case_id is not None
        # The platform sides with the buyer when the goods were defective (evidence in the case).
        aftersales_service.arbitrate(
            self.db, state.case_id, merchant_at_fault=state.defect, note="平台仲裁 / platform ruling"
        )
        self._count("cases_arbitrated")
        if state.defect:
            self._recover(state)
            self._after_approval(when, state)

    def _do_ship_return(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        assert state.case_id is not None
        aftersales_service.mark_return_shipped(
            self.db, int(self.user_ids[state.user]), state.case_id, tracking_number=f"RET{order_id:010d}"
        )
        days = self.shop_hidden["shop_carrier_days"][state.shop] * state.rng.lognormal(0.0, 0.3)
        self._at(when + int(days * DAY_US), "receive_return", order_id)

    def _do_receive_return(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        assert state.case_id is not None
        fulfilment_flows.receive_return_as_shop(self.db, int(self.shop_ids[state.shop]), state.case_id)
        self._count("refunds")
        self._survey_case(when, state)

    def _survey_case(self, when: int, state: _Order) -> None:
        if state.case_id is not None and nps_surveys.invite_to_survey(
            NpsTrigger.after_after_sale, state.case_id
        ):
            self._at(when + int(state.rng.uniform(2.0, 48.0) * HOUR_US), "nps_case", state.order_id)

    def _do_nps_case(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        score = self._nps_score(state.user, state.rng)
        nps_surveys.submit_nps(
            self.db,
            int(self.user_ids[state.user]),
            score=score,
            trigger=NpsTrigger.after_after_sale,
            reasons=["service"] if state.bad else ["product"],
            after_sale_id=state.case_id,
        )
        self._count("nps")
        self._note("nps_case", order_id, score)

    def _do_ask(self, when: int, order_id: int, topic: str) -> None:
        state = self.orders[order_id]
        rng = state.rng
        message = (
            "我的快递到哪了？/ Where is my parcel?"
            if topic == "logistics"
            else "收到的商品有问题 / The item is faulty"
        )
        conversation, _ = support_service.start_conversation(
            self.db,
            user_id=int(self.user_ids[state.user]),
            shop_id=int(self.shop_ids[state.shop]),
            message=message,
            order_id=order_id,
        )
        self._count("conversations")
        minutes = self.shop_hidden["shop_cs_response_minutes"][state.shop] * rng.lognormal(0.0, 0.5)
        if minutes > 60:
            self._hurt(state, "slow_reply" if minutes < 360 else "very_slow_reply")
            if rng.random() < 0.4:  # an hour without an answer: a complaint to the platform
                self._at(
                    when + 60 * MINUTE_US, "complain", order_id, topic if topic == "logistics" else "product"
                )
        self._at(when + int(max(0.2, minutes) * MINUTE_US), "answer", order_id, conversation.id)

    def _do_complain(self, when: int, order_id: int, reason: str) -> None:
        state = self.orders[order_id]
        support_service.file_complaint(
            self.db,
            user_id=int(self.user_ids[state.user]),
            shop_id=int(self.shop_ids[state.shop]),
            reason=reason,
            text=COMPLAINT_TEXT[reason],
            order_id=order_id,
        )
        self._count("complaints")

    def _do_answer(self, when: int, order_id: int, conversation_id: int) -> None:
        state = self.orders[order_id]
        shop_id = int(self.shop_ids[state.shop])
        support_service.post_agent_message(
            self.db,
            conversation_id,
            shop_id=shop_id,
            agent_user_id=self._owner(state.shop),
            body="您好，已为您处理 / Hello, we are on it",
        )
        self._at(when + 10 * MINUTE_US, "close_conversation", order_id, conversation_id)

    def _do_close_conversation(self, when: int, order_id: int, conversation_id: int) -> None:
        state = self.orders[order_id]
        support_service.close_conversation(self.db, conversation_id, shop_id=int(self.shop_ids[state.shop]))

    def _do_review(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        rng = state.rng
        sat = self.satisfaction[state.user]
        raw = (
            4.8
            - 2.8 * state.defect
            - 0.5 * min(state.late_days, 4.0)
            - 2.0 * max(0.0, 0.7 - sat)
            + rng.normal(0, 0.5)
        )
        rating = int(min(5, max(1, round(raw))))
        lang = 1 if int(self.user_ids[state.user]) % 5 == 0 else 0
        review = reviews_service.create_review(
            self.db,
            int(self.user_ids[state.user]),
            order_id,
            state.item_id,
            rating=rating,
            text=REVIEW_TEXT[rating][lang],
        )
        if self.integrity is not None:
            self.integrity.review_written(
                review_id=int(review.id),
                user_id=int(self.user_ids[state.user]),
                shop_id=int(self.shop_ids[state.shop]),
                order_id=order_id,
                ts_us=when,
                rating=rating,
                text=REVIEW_TEXT[rating][lang],
            )
        self.rating_sum[state.shop] += rating
        self.rating_n[state.shop] += 1
        self._count("reviews")
        self._note("review", order_id, rating)

    def _nps_score(self, user: int, rng: Generator) -> int:
        raw = 1.0 + 11.0 * self.satisfaction[user] + rng.normal(0.0, 1.2)
        return int(min(10, max(0, round(raw))))

    def _do_nps(self, when: int, order_id: int) -> None:
        state = self.orders[order_id]
        score = self._nps_score(state.user, state.rng)
        # The reasons a buyer ticks: what went wrong with this order, else what they care about.
        reasons = [r for r, hit in (("logistics", state.late_days > 0), ("product", state.defect)) if hit]
        if state.case_id is not None and state.bad and not state.defect:
            reasons.append("service")
        if not reasons:
            reasons = [str(state.rng.choice(["product", "price", "content"]))]
        nps_surveys.submit_nps(
            self.db,
            int(self.user_ids[state.user]),
            score=score,
            trigger=NpsTrigger.after_delivery,
            reasons=reasons,
            order_id=order_id,
        )
        self._count("nps")
        self._note("nps", order_id, score)

    def _do_nps_general(self, when: int, user: int) -> None:
        score = self._nps_score(user, self.rng_actions)
        nps_surveys.submit_nps(self.db, int(self.user_ids[user]), score=score, trigger=NpsTrigger.general)
        self._count("nps")
        self._note("nps_general", user, score)

    # --- end of day -----------------------------------------------------------------------------

    def _end_of_day(self, end_us: int) -> None:
        rng = self.rng_night
        self.db.commit()
        self._record_presale(end_us)
        self._save_addresses()
        self._ingest_orders()
        with clock.frozen(self._when(end_us)):
            counts = run_due_jobs(self.database, now=self._when(end_us))
        for name, n in counts.items():
            self._count(f"job_{name}", n)
        if self.integrity is not None:
            with self._timed("integrity detection"):
                self.integrity.nightly(self, end_us)
        sat = self.satisfaction
        # Unhappy people leave; everyone drifts back toward the baseline.
        p_churn = self.reactions.churn_probability(sat)
        leaving = (rng.random(len(sat)) < p_churn) & ~self.churned
        self.churned |= leaving
        self._count("churned", int(leaving.sum()))
        sat += 0.02 * (BASELINE_SATISFACTION - sat)
        # General NPS surveys tomorrow for a sample of active, not churned users.
        sample = np.flatnonzero((rng.random(len(sat)) < 0.004) & ~self.churned)
        for user in sample.tolist():
            self._at(end_us + int(rng.uniform(9, 21) * HOUR_US), "nps_general", user)

    def _ingest_orders(self) -> None:
        if not self.order_events:
            return
        ts, user, product, shop, content, value, channel = zip(*self.order_events, strict=True)
        self.order_events = []
        self._log(
            {
                "ts": np.asarray(ts, dtype=np.int64),
                "type": np.full(len(ts), "order", dtype=object),
                "user_id": np.asarray(user, dtype=np.int64),
                "product_id": np.asarray(product, dtype=np.int64),
                "shop_id": np.asarray(shop, dtype=np.int64),
                "content_id": _nullable(np.asarray(content, dtype=np.int64)),
                "value_fen": np.asarray(value, dtype=np.int64),
                "channel": np.asarray(channel, dtype=object),
            }
        )

    def _ingest(self, cols: dict[str, list[np.ndarray]]) -> None:
        if not cols["ts"]:
            return
        if self.integrity is not None:
            self.integrity.observe(cols)
        batch: dict[str, Any] = {}
        for name, parts in cols.items():
            joined = np.concatenate(parts)
            if name in ("content_id", "account_id", "product_id", "watch_ms"):
                batch[name] = _nullable(joined)
            else:
                batch[name] = joined
        self._log(batch)

    def release_parcels(self) -> None:
        """Parcels still on their way go to the platform's carrier job, which delivers them on the
        plan's schedule once the demo serves."""
        logistics_service.release_parcels(self.db, sorted(self.in_flight))
        self.in_flight.clear()

    def close(self) -> None:
        self.db.close()
        close_feed = getattr(self.feed, "close", None)
        if self.owns_feed and callable(close_feed):
            close_feed()


def _nullable(values: np.ndarray) -> Any:
    """An int64 column with -1 as null, as pyarrow wants it (a masked array)."""
    import pyarrow as pa

    values = values.astype(np.int64)
    return pa.array(values, mask=values < 0, type=pa.int64())


def simulate(
    database: Database,
    latent: dict[str, np.ndarray],
    *,
    days: int,
    seed: int,
    start: datetime,
    store: EventStore | None = None,
    feed_policy: str | FeedPolicy = "popular_followed",
    search_policy: str = "substring",
    progress: ProgressHook | None = None,
    intensity: float = 1.0,
    creator_policy: str | None = None,
    day_hook: Callable[[int, Database], None] | None = None,
    integrity: SimulatedIntegrity | None = None,
    reactions: Reactions | None = None,
    merchants: MerchantRules | None = None,
) -> SimulationResult:
    """Run ``days`` simulated days from ``start`` against ``database`` (which holds the world).
    ``reactions``: how people react to what happens (default: the calibrated :class:`Reactions`);
    ``merchants``: how shops adapt to their traffic (default ``None``: they stay as generated)."""
    began = time.perf_counter()
    market = Market(
        database,
        latent,
        seed=seed,
        start=start,
        store=store or events_service.get_store(),
        feed_policy=feed_policy,
        search_policy=search_policy,
        intensity=intensity,
        creator_policy=creator_policy,
        integrity=integrity,
        reactions=reactions,
        merchants=merchants,
    )
    market.end_us = market.start_us + days * DAY_US
    phase = progress or _no_progress
    try:
        with phase("simulated days", days) as advance:
            for d in range(days):
                market.day(d)
                if day_hook is not None:  # e.g. the matching benchmark ranks at its split day
                    market.db.commit()
                    day_hook(d + 1, database)
                advance(1)
        market.release_parcels()
        market.store.flush()
    finally:
        market.close()
    counts = dict(sorted(market.counts.items()))
    counts["events"] = market.events
    counts["users_churned_total"] = int(market.churned.sum())
    counts["gmv_paid_fen"] = market.gmv_fen
    counts["gmv_poor_shops_fen"] = market.poor_gmv_fen
    for name in ("orders_paid", "refunds", "reviews", "nps", "conversations"):
        counts.setdefault(name, 0)
    market._note("counts", sorted((k, v) for k, v in counts.items() if not k.startswith("events")))
    return SimulationResult(
        days=days,
        seconds=time.perf_counter() - began,
        counts=counts,
        events=market.events,
        digest=market.digest.hexdigest(),
        ended_at=start + timedelta(days=days),
        phase_seconds={k: round(v, 3) for k, v in market.seconds.items()},
        user_arrays={
            "user_satisfaction_end": market.satisfaction,
            "user_bad_experiences": market.bad_experiences,
            "user_churned": market.churned,
        },
    )
