"""Integrity inside the simulation: plant the attacks, detect them, discount what was flagged.

:class:`SimulatedIntegrity` rides along one :class:`~zhongcao.world.simulate.Market`:

* it plants an :class:`~zhongcao.world.attack_plan.AttackPlan` (:mod:`zhongcao.world.attacks`);
* it keeps the platform's view of what happened as the detectors' arrays (engagement, orders,
  reviews; never the attack labels) and runs the velocity rules on every logged batch (the streaming
  layer) and every detector each simulated night over the last day's engagement and the last 30 days'
  orders (the batch layer);
* with ``discount`` on, what was flagged stops buying anything from the next moment on: flagged
  accounts' plays and likes leave the popularity the feed ranks on (past ones are taken back), their
  follows leave the follow signal, flagged content and accounts are demoted through
  :class:`~zhongcao.integrity.demotion.FlaggedIntegrityHook`, brushed orders leave the shops' trailing GMV
  and the products' sales count (search's sales rank), and reviews of brushed orders leave the public
  rating shoppers see; the brushing blocks are recorded as the platform's own cases and flags, and the
  held orders in its table, so the platform's experience score leaves them out as it does in production.

With ``detect`` off the attacks are planted and logged but nothing is flagged: the "detection off" arm
of ``zhongcao bench integrity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator

from zhongcao.content import bulk as content_bulk
from zhongcao.integrity import holds as integrity_holds
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import Block, BlockKind
from zhongcao.integrity.brushing import held_orders
from zhongcao.integrity.demotion import FlaggedIntegrityHook
from zhongcao.integrity.detect import DetectConfig, detect_blocks
from zhongcao.integrity.discount import Flags, flags_from_blocks, surviving_events
from zhongcao.integrity.inputs import UNKNOWN, Action, Engagement, IntegrityInputs, Orders, Reviews
from zhongcao.integrity.velocity import VelocityConfig, VelocityState, velocity_update
from zhongcao.world.attack_plan import AttackPlan
from zhongcao.world.attacks import AttackRuntime, Engagements, address_key, stable_key

# The simulation's Market (zhongcao.world.simulate), which imports this module: named, not imported.
Market = Any

DECAY = 0.85  # the market's daily popularity decay (simulate._feed_sessions)
KINDS = {"play": Action.view, "like": Action.like, "comment": Action.comment, "follow": Action.follow}
WEIGHT = {"play": 0.5, "like": 2.0}  # an attack action's popularity weight (a farm view: half watched)


@dataclass
class _Chunks:
    parts: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(v)

    def get(self, k: str, dtype: Any = np.int64) -> np.ndarray:
        parts = self.parts.get(k)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


@dataclass
class FlagRecord:
    """When each account and order was first flagged (simulated microseconds), and the blocks."""

    accounts: dict[int, int] = field(default_factory=dict)
    orders: dict[int, int] = field(default_factory=dict)
    blocks: list[tuple[int, Block]] = field(default_factory=list)  # (night, block)
    held: dict[int, set[int]] = field(default_factory=dict)  # night's end -> orders held from sales


class SimulatedIntegrity:
    def __init__(
        self,
        plan: AttackPlan | None,
        seed: int,
        *,
        detect: bool = True,
        discount: bool = True,
        config: DetectConfig | None = None,
        order_lookback_days: int = 30,
    ) -> None:
        self.plan = plan or AttackPlan()
        self.runtime = AttackRuntime(self.plan, seed)
        self.runtime.log = self
        self.detect = detect
        self.discount = discount and detect
        base = config or DetectConfig()
        self.velocity_config = base.velocity or VelocityConfig()
        self.nightly_config = DetectConfig(
            velocity=None, lockstep=base.lockstep, brushing=base.brushing, review_text=base.review_text
        )
        self.order_lookback_days = order_lookback_days
        self.rng = Generator(PCG64([seed, 0x1D7E]))
        self.engagement = _Chunks()
        self.contrib = _Chunks()  # what each counted event added to the market's popularity
        self.impressions = _Chunks()
        self.orders: dict[int, dict[str, int]] = {}
        self.reviews: list[tuple[int, int, int, int, int, int, str]] = []
        self.velocity = VelocityState()
        self.flags = Flags()
        self.held: set[int] = set()  # orders whose sales wait for their evidence (brushing.held_orders)
        self.rating_out: set[int] = set()  # orders whose review's rating is taken out of the shop's now
        self.record = FlagRecord()
        self.decays = 0  # how many daily decays the market's popularity has had
        self.day = 0
        self._velocity_blocks: list[Block] = []

    # --- set-up and the attackers' day --------------------------------------------------------

    def attach(self, market: Market) -> None:
        self._market = market
        self.runtime.setup(market)

    def act(self, market: Market, day: int, day_us: int) -> None:
        """The attackers' actions of the day: logged, counted in popularity, follows made."""
        self.day = day
        listed = ~market.c_live
        top = np.argsort(-market.engagement[market.c_index[listed]], kind="stable")[:100]
        popular = market.c_ids[listed][top]
        planted = self.runtime.day(market, day, day_us, popular)
        if not len(planted):
            return
        self._record(
            planted.kind,
            planted.user_id,
            planted.content_id,
            planted.account_id,
            planted.ts_us,
            planted.device,
        )
        counted = (
            surviving_events(planted.user_id, self.flags) if self.discount else np.ones(len(planted), bool)
        )
        for kind, weight in WEIGHT.items():
            rows = np.flatnonzero((planted.kind == kind) & counted)
            ci = np.searchsorted(market.c_ids, planted.content_id[rows])
            ok = (ci < len(market.c_ids)) & (
                market.c_ids[np.minimum(ci, len(market.c_ids) - 1)] == planted.content_id[rows]
            )
            wi = market.c_index[ci[ok]]
            np.add.at(market.engagement, wi, weight)
            self.contrib.add(
                user=planted.user_id[rows[ok]],
                wi=wi,
                w=np.full(len(wi), weight),
                gen=np.full(len(wi), self.decays),
            )
        self._follow(market, planted)
        self._skip_observe = True
        try:
            market._ingest(_columns(planted))
        finally:
            self._skip_observe = False
        market._count("attack_actions", len(planted))

    def _follow(self, market: Market, planted: Engagements) -> None:
        rows = planted.kind == "follow"
        pairs = (
            set(zip(planted.user_id[rows].tolist(), planted.account_id[rows].tolist(), strict=True))
            - market.follows
        )
        if not pairs:
            return
        content_bulk.follow_bulk(market.db, sorted(pairs))
        market.db.commit()
        market.follows |= pairs
        fu, fa = zip(*sorted(pairs), strict=True)
        market.follow_u = np.concatenate([market.follow_u, np.asarray(fu, dtype=np.int64)])
        market.follow_a = np.concatenate([market.follow_a, np.asarray(fa, dtype=np.int64)])

    def do(self, market: Market, when: int, *args: Any) -> None:
        self.runtime.do(market, when, *args)

    # --- what the market logs -----------------------------------------------------------------

    _skip_observe = False
    _market: Market | None = None

    def observe(self, cols: dict[str, list[np.ndarray]]) -> None:
        """A batch of the people's feed events, as the market logs it."""
        if self._skip_observe or not cols["ts"]:
            return
        kind = np.concatenate(cols["type"])
        content = np.concatenate(cols["content_id"]).astype(np.int64)
        imp = kind == "impression"
        user = np.concatenate(cols["user_id"]).astype(np.int64)
        self.impressions.add(content=content[imp], user=user[imp], day=np.full(int(imp.sum()), self.day))
        device = user * 1_000_003 + 7  # the person's own phone (an opaque key)
        self._record(
            kind,
            user,
            content,
            np.concatenate(cols["account_id"]).astype(np.int64),
            np.concatenate(cols["ts"]),
            device,
        )

    def _record(
        self,
        kind: np.ndarray,
        user: np.ndarray,
        content: np.ndarray,
        account: np.ndarray,
        ts_us: np.ndarray,
        device: np.ndarray,
    ) -> None:
        action = np.full(len(kind), -1, dtype=np.int8)
        for name, a in KINDS.items():
            action[kind == name] = int(a)
        keep = action >= 0
        target = np.where(action == int(Action.follow), account, content)[keep]
        batch = Engagement(
            action=action[keep],
            user_id=user[keep],
            target_id=target.astype(np.int64),
            ts=(ts_us[keep] // 1_000_000).astype(np.int64),
            device=device[keep].astype(np.int64),
            ip=np.full(int(keep.sum()), UNKNOWN, dtype=np.int64),
        )
        self.engagement.add(
            action=batch.action, user=batch.user_id, target=batch.target_id, ts=batch.ts, device=batch.device
        )
        if self.detect:
            self.velocity, hits = velocity_update(self.velocity, batch, self.velocity_config)
            for hit in hits:
                self.record.accounts.setdefault(hit.account, hit.ts * 1_000_000)
            if hits:
                self.flags = self.flags.union(
                    Flags(accounts=np.asarray(sorted(h.account for h in hits), dtype=np.int64))
                )
                self._take_back(np.asarray([h.account for h in hits], dtype=np.int64))

    def counted(
        self, uid: np.ndarray, wi: np.ndarray, play: np.ndarray, share: np.ndarray, like: np.ndarray
    ) -> np.ndarray:
        """Which of the people's feed events count toward popularity (called before the day's decay)."""
        keep = surviving_events(uid, self.flags) if self.discount else np.ones(len(uid), dtype=bool)
        for mask, weight in ((play & keep, share), (like & keep, np.full(len(uid), 2.0))):
            self.contrib.add(
                user=uid[mask], wi=wi[mask], w=weight[mask], gen=np.full(int(mask.sum()), self.decays)
            )
        self.decays += 1
        return keep

    def follow_signal(self, follow_u: np.ndarray, follow_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.discount:
            return follow_u, follow_a
        keep = surviving_events(follow_u, self.flags)
        return follow_u[keep], follow_a[keep]

    def demote(self, market: Market, page: np.ndarray) -> np.ndarray:
        """The integrity hook on the simulated feed's pages: an item survives with its multiplier."""
        if not self.discount or not (
            len(self.flags.content) or len(self.flags.accounts) or len(self.flags.target_accounts)
        ):
            return page
        shown = page >= 0
        ci = np.searchsorted(market.c_ids, np.where(shown, page, market.c_ids[0]))
        ci = np.minimum(ci, len(market.c_ids) - 1)
        hook = FlaggedIntegrityHook(self.flags)
        m = hook.multipliers_for(page.ravel(), market.c_account[ci].ravel()).reshape(page.shape)
        drop = shown & (self.rng.random(page.shape) >= m)
        return np.where(drop, -1, page)

    # --- orders and reviews -------------------------------------------------------------------

    def order_placed(
        self, *, order_id: int, buyer_id: int, shop_id: int, product_id: int, ts_us: int, paid_fen: int,
        address: int, device: int, payment: int,
    ) -> None:  # fmt: skip
        self.orders[order_id] = {
            "buyer": buyer_id, "shop": shop_id, "product": product_id, "ts": ts_us // 1_000_000,
            "paid": paid_fen, "address": address, "device": device, "payment": payment, "confirm": UNKNOWN,
        }  # fmt: skip

    def organic_order(
        self,
        market: Market,
        order_id: int,
        user_id: int,
        shop_id: int,
        product_id: int,
        when: int,
        value: int,
    ) -> None:
        address = market.addresses.get(user_id)
        self.order_placed(
            order_id=order_id, buyer_id=user_id, shop_id=shop_id, product_id=product_id, ts_us=when, paid_fen=value,
            address=address_key(address) if address is not None else UNKNOWN,
            device=user_id * 1_000_003 + 7, payment=stable_key("pay", user_id),
        )  # fmt: skip

    def order_confirmed(self, order_id: int, ts_us: int) -> None:
        row = self.orders.get(order_id)
        if row is not None:
            row["confirm"] = ts_us // 1_000_000 - row["ts"]

    def review_written(
        self, *, review_id: int, user_id: int, shop_id: int, order_id: int, ts_us: int, rating: int, text: str
    ) -> None:
        self.reviews.append((review_id, user_id, shop_id, order_id, ts_us // 1_000_000, rating, text))

    def gmv(self, market: Market, gmv: dict[int, int]) -> dict[int, int]:
        """The trailing-30-day GMV per shop the feed sees, less brushed and held orders."""
        uncounted = self._uncounted()
        if not self.discount or not uncounted:
            return gmv
        since = (market.day_us - 30 * 24 * 3_600_000_000) // 1_000_000
        out = dict(gmv)
        for o in uncounted:
            row = self.orders.get(o)
            if row is not None and row["ts"] >= since and row["shop"] in out:
                out[row["shop"]] = max(0, out[row["shop"]] - row["paid"])
        return out

    def _uncounted(self) -> list[int]:
        """Orders the sales counters leave out: flagged as brushed, or held until their evidence is in."""
        return sorted(set(self.flags.orders.tolist()) | self.held)

    def sold(self, product_ids: np.ndarray, sold: np.ndarray) -> np.ndarray:
        """Units sold per product for search's sales rank, less brushed and held orders."""
        uncounted = self._uncounted()
        if not self.discount or not uncounted:
            return sold
        out = sold.copy()
        products = [self.orders[o]["product"] for o in uncounted if o in self.orders]
        pos = np.searchsorted(product_ids, np.asarray(products, dtype=np.int64))
        ok = (pos < len(product_ids)) & (product_ids[np.minimum(pos, len(product_ids) - 1)] == products)
        np.subtract.at(out, pos[ok], 1)
        return np.maximum(out, 0)

    # --- the nightly batch --------------------------------------------------------------------

    def inputs(self, now: datetime) -> IntegrityInputs:
        """The detectors' view: the last day of engagement, the last 30 days of orders and reviews."""
        e = self.engagement
        ts = e.get("ts")
        since = int(now.timestamp()) - 24 * 3_600
        w = ts >= since
        engagement = Engagement(
            action=e.get("action", np.int8)[w], user_id=e.get("user")[w], target_id=e.get("target")[w], ts=ts[w],
            device=e.get("device")[w], ip=np.full(int(w.sum()), UNKNOWN, dtype=np.int64),
        )  # fmt: skip
        order_since = int(now.timestamp()) - self.order_lookback_days * 86_400
        rows = [(o, r) for o, r in self.orders.items() if r["ts"] >= order_since]

        def col(k: str) -> np.ndarray:
            return np.asarray([r[k] for _, r in rows], dtype=np.int64)

        orders = Orders(
            order_id=np.asarray([o for o, _ in rows], dtype=np.int64), buyer_id=col("buyer"), shop_id=col("shop"),
            product_id=col("product"), ts=col("ts"), paid_fen=col("paid"), address_key=col("address"),
            device=col("device"), payment_key=col("payment"), confirm_seconds=col("confirm"),
            refunded=np.zeros(len(rows), dtype=bool),
        )  # fmt: skip
        rv = [r for r in self.reviews if r[4] >= order_since]
        reviews = Reviews(
            review_id=np.asarray([r[0] for r in rv], dtype=np.int64), user_id=np.asarray([r[1] for r in rv], dtype=np.int64),
            shop_id=np.asarray([r[2] for r in rv], dtype=np.int64), order_id=np.asarray([r[3] for r in rv], dtype=np.int64),
            ts=np.asarray([r[4] for r in rv], dtype=np.int64), rating=np.asarray([r[5] for r in rv], dtype=np.int8),
            text=tuple(r[6] for r in rv),
        )  # fmt: skip
        return IntegrityInputs(now=now, engagement=engagement, orders=orders, reviews=reviews)

    def nightly(self, market: Market, end_us: int) -> None:
        if not self.detect:
            return
        now = datetime.fromtimestamp(end_us / 1_000_000, UTC)
        inputs = self.inputs(now)
        blocks = detect_blocks(inputs, self.nightly_config)
        found = flags_from_blocks(blocks)
        night = self.day
        self.record.blocks += [(night, b) for b in blocks]
        new_accounts = np.setdiff1d(found.accounts, self.flags.accounts)
        new_orders = np.setdiff1d(found.orders, self.flags.orders)
        for a in new_accounts.tolist():
            self.record.accounts.setdefault(a, end_us)
        for o in new_orders.tolist():
            self.record.orders.setdefault(o, end_us)
        self.flags = self.flags.union(found)
        self.held = set(
            held_orders(inputs.orders, end_us // 1_000_000, flagged_buyers=self.flags.accounts).tolist()
        )
        self.record.held[end_us] = set(self.held)
        self._take_back(new_accounts)
        self._sync_ratings()
        if self.discount:
            self._tell_the_platform(market, [b for b in blocks if b.kind is BlockKind.brushing], now)

    def _tell_the_platform(self, market: Market, brushing: list[Block], now: datetime) -> None:
        """The brushing verdicts and the held orders into the platform's own tables, as the platform's
        scan records them: its experience score and ratings then leave those orders out themselves
        (tomorrow night's score job reads them). The engagement blocks stay in this layer, which
        discounts the market's popularity counters directly."""
        integrity_service.record_blocks(market.db, brushing, now=now)
        integrity_holds.replace_held_orders(market.db, self.held)
        market.db.commit()

    def _take_back(self, accounts: np.ndarray) -> None:
        """Discount what was counted before the flag: popularity added by newly flagged accounts."""
        if not self.discount:
            return
        market = self._market
        if market is None:
            return
        if len(accounts):
            c = self.contrib
            mine = np.isin(c.get("user"), accounts)
            if mine.any():
                factor = DECAY ** (self.decays - c.get("gen")[mine])
                np.subtract.at(market.engagement, c.get("wi")[mine], c.get("w", np.float64)[mine] * factor)
                np.maximum(market.engagement, 0.0, out=market.engagement)

    def _sync_ratings(self) -> None:
        """The public rating leaves out the reviews of brushed and held orders: each night, take out
        those newly uncounted (a review written today counted until tonight) and put back those whose
        hold ended without a flag."""
        market = self._market
        if not self.discount or market is None:
            return
        out = set(self._uncounted())
        shop_index = {int(s): i for i, s in enumerate(market.shop_ids.tolist())}
        for _rid, _user, shop, order_id, _ts, rating, _text in self.reviews:
            taken = order_id in self.rating_out
            if (order_id in out) == taken or shop not in shop_index:
                continue
            sign = 1 if taken else -1
            market.rating_sum[shop_index[shop]] += sign * rating
            market.rating_n[shop_index[shop]] += sign
            if taken:
                self.rating_out.discard(order_id)
            else:
                self.rating_out.add(order_id)


def _columns(planted: Engagements) -> dict[str, list[np.ndarray]]:
    n = len(planted)
    return {
        "ts": [planted.ts_us],
        "type": [planted.kind],
        "user_id": [planted.user_id],
        "content_id": [planted.content_id],
        "account_id": [planted.account_id],
        "product_id": [np.full(n, -1, dtype=np.int64)],
        "watch_ms": [planted.watch_ms],
        "channel": [np.full(n, "feed", dtype=object)],
    }
