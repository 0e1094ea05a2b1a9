"""Attacks planted in the simulated world: engagement farms, scripted view inflation, brushing rings.

The attackers act through the same paths as the simulated people: their likes, views, comments and
follows go into the event log (and follows into the follow table), their orders through checkout,
payment, shipping and reviews. Who is an attacker, which orders are brushed and when each attack
began are the world's hidden state (:attr:`AttackRuntime.truth`): the detectors never see it, the
benchmark grades them with it.

* **Farms.** New accounts (registered for the attack), aged ones (registered long before, dormant) and
  hijacked real shoppers (who keep their own habits as well) act on one customer's videos in bursts:
  ``bursts_per_day`` times a day, ``participation`` of the farm views, likes, comments on and follows the
  customer within ``burst_minutes``; for each paid action, ``camouflage`` actions on popular organic
  items at ordinary times of the day.
* **View inflation.** Scripted sessions replay a customer's videos every ``seconds_between`` seconds,
  mixed with views of popular items.
* **Brushing.** Ring accounts buy a shop's cheapest items through checkout; the shop ships an empty
  parcel at once, the ring confirms receipt within ``confirm_minutes`` of delivery and leaves a
  five-star review written from the merchant's template (near duplicates). Many orders share the
  ring's few addresses, devices and payment instruments. The refund is paid outside the platform, so
  nothing of it shows here.

Every draw comes from the attack's own generator, so a simulation with attacks keeps the people's
random stream until the attack changes what they see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import numpy as np
from numpy.random import PCG64, Generator

from zhongcao import clock
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Channel
from zhongcao.commerce.schemas import AttributionIn, CheckoutCreate, CheckoutLineIn, ShippingAddress
from zhongcao.logistics import service as logistics_service
from zhongcao.reviews import service as reviews_service
from zhongcao.users import security
from zhongcao.users import service as users_service
from zhongcao.world import buyers
from zhongcao.world.attack_plan import AttackPlan, BrushingSpec, FarmSpec, ViewInflationSpec

# The simulation's Market (zhongcao.world.simulate), which imports this module: named, not imported.
Market = Any

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MINUTE_US = 60_000_000
ATTACKER_DOMAIN = "attack.zhongcao.example.com"

# What a brushing merchant hands its ring to paste, and the bits they vary so no two are identical.
BRUSH_OPENINGS = ("收到了", "已经收到", "宝贝收到了", "刚收到")
BRUSH_BODIES = ("质量非常好，和描述完全一致", "质量很好，和图片一样", "做工精细，质量超好")
BRUSH_CLOSINGS = ("卖家发货超快，五星好评！", "发货很快，必须五星好评！", "物流超快，五星好评推荐购买！")


def stable_key(*parts: object) -> int:
    """An opaque non-negative int64 hash (addresses, devices, payment instruments)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def address_key(address: ShippingAddress) -> int:
    """The normalised delivery address's key (what the platform would hash)."""
    return stable_key(address.province, address.city, address.district, "".join(address.line.split()))


class OrderLog(Protocol):
    """Where the runtime reports its orders and reviews (the simulated integrity layer)."""

    def order_placed(
        self, *, order_id: int, buyer_id: int, shop_id: int, product_id: int, ts_us: int, paid_fen: int,
        address: int, device: int, payment: int,
    ) -> None: ...  # fmt: skip

    def order_confirmed(self, order_id: int, ts_us: int) -> None: ...

    def review_written(
        self, *, review_id: int, user_id: int, shop_id: int, order_id: int, ts_us: int, rating: int, text: str
    ) -> None: ...


@dataclass
class Engagements:
    """Attack actions of one day, as columns (``kind``: play, like, comment or follow)."""

    user_id: np.ndarray
    content_id: np.ndarray  # -1 for a follow
    account_id: np.ndarray  # the followed account for a follow, else -1
    kind: np.ndarray  # object
    ts_us: np.ndarray
    watch_ms: np.ndarray
    device: np.ndarray

    def __len__(self) -> int:
        return len(self.user_id)


@dataclass
class Truth:
    """The hidden labels: who attacked, how, since when; which orders were brushed."""

    account_kind: dict[int, str] = field(default_factory=dict)  # user id -> farm / view_inflation / brushing
    account_start_us: dict[int, int] = field(default_factory=dict)  # first attack action
    hijacked: set[int] = field(default_factory=set)
    brushed_orders: set[int] = field(default_factory=set)
    targets: dict[str, set[int]] = field(default_factory=dict)  # kind -> content ids pushed
    followed: set[int] = field(default_factory=set)  # accounts a farm pushed follows to
    brushed_shops: set[int] = field(default_factory=set)

    def started(self, user_id: int, ts_us: int) -> None:
        if user_id not in self.account_start_us or ts_us < self.account_start_us[user_id]:
            self.account_start_us[user_id] = ts_us


@dataclass
class _Farm:
    spec: FarmSpec
    accounts: np.ndarray  # user ids
    devices: np.ndarray  # per account
    targets: np.ndarray  # content ids
    target_account: int


@dataclass
class _Script:
    spec: ViewInflationSpec
    accounts: np.ndarray
    devices: np.ndarray
    targets: np.ndarray


@dataclass
class _Ring:
    spec: BrushingSpec
    shop: int  # shop index
    accounts: np.ndarray
    products: np.ndarray  # product indexes (the shop's cheapest)
    addresses: list[ShippingAddress]
    devices: np.ndarray
    payments: np.ndarray
    own_addresses: list[ShippingAddress]


@dataclass
class _Brushed:
    ring: int
    user_id: int
    shop: int
    order_id: int
    item_id: int


class AttackRuntime:
    """Plants an :class:`AttackPlan` in one simulation (``setup`` once, then ``day`` every day)."""

    def __init__(self, plan: AttackPlan, seed: int) -> None:
        self.plan = plan
        self.rng = Generator(PCG64([seed, 0xA77AC]))
        self.seed = seed
        self.truth = Truth()
        self.farms: list[_Farm] = []
        self.scripts: list[_Script] = []
        self.rings: list[_Ring] = []
        self.brushed: dict[int, _Brushed] = {}
        self.log: OrderLog | None = None
        self._accounts = 0

    # --- setup --------------------------------------------------------------------------------

    def _new_accounts(self, market: Market, n: int, label: str, registered_days_ago: float) -> np.ndarray:
        """Register ``n`` accounts (as of ``registered_days_ago`` before the simulation starts)."""
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        rows = [
            users_service.NewUser(
                f"{label}{self._accounts + i:05d}@{ATTACKER_DOMAIN}", f"{label}{self._accounts + i}"
            )
            for i in range(n)
        ]
        self._accounts += n
        when = market._when(market.start_us) - timedelta(days=registered_days_ago)
        with clock.frozen(when):
            ids = users_service.create_users_bulk(market.db, rows, security.hash_password("attack-" + label))
        market.db.commit()
        return np.asarray(ids, dtype=np.int64)

    def _customer_videos(self, market: Market, n: int, taken: set[int]) -> tuple[int, np.ndarray]:
        """A creator account (not one already used) and ``n`` of its short videos (fewer if it has fewer)."""
        short = ~market.c_live
        accounts, counts = np.unique(market.c_account[short], return_counts=True)
        choices = [
            int(a) for a, c in zip(accounts, counts, strict=True) if c >= min(n, 2) and int(a) not in taken
        ]
        account = choices[int(self.rng.integers(len(choices)))] if choices else int(accounts[0])
        mine = market.c_ids[short & (market.c_account == account)]
        picked = self.rng.choice(mine, size=min(n, len(mine)), replace=False)
        return account, np.sort(picked.astype(np.int64))

    def setup(self, market: Market) -> None:
        rng = self.rng
        organic = market.user_ids[1:]  # never the demo shopper
        taken_accounts: set[int] = set()
        hijackable = set(organic.tolist())
        for f, spec in enumerate(self.plan.farms):
            n_new = int(round(spec.accounts * spec.new_share))
            n_hijacked = min(int(round(spec.accounts * spec.hijacked_share)), len(hijackable))
            n_aged = spec.accounts - n_new - n_hijacked
            new = self._new_accounts(market, n_new, f"farm{f}new", 1.0)
            aged = self._new_accounts(market, n_aged, f"farm{f}aged", float(rng.uniform(200, 900)))
            pool = np.asarray(sorted(hijackable), dtype=np.int64)
            hijacked = rng.choice(pool, size=n_hijacked, replace=False) if n_hijacked else pool[:0]
            hijackable -= set(hijacked.tolist())
            self.truth.hijacked |= set(hijacked.tolist())
            bought = np.concatenate([new, aged])
            devices = np.concatenate(
                [
                    np.asarray(
                        [stable_key("farm", f, "device", int(rng.integers(spec.devices))) for _ in bought]
                    )
                    if spec.devices
                    else np.full(len(bought), -1),
                    np.asarray([stable_key("device", int(u)) for u in hijacked], dtype=np.int64),
                ]
            ).astype(np.int64)
            account, targets = self._customer_videos(market, spec.targets, taken_accounts)
            taken_accounts.add(account)
            accounts = np.concatenate([bought, hijacked]).astype(np.int64)
            self.farms.append(_Farm(spec, accounts, devices, targets, account))
            for u in accounts.tolist():
                self.truth.account_kind[u] = "farm"
            self.truth.targets.setdefault("farm", set()).update(targets.tolist())
            if "follow" in spec.actions:
                self.truth.followed.add(account)
        for s, vspec in enumerate(self.plan.view_inflation):
            accounts = self._new_accounts(market, vspec.accounts, f"script{s}", float(rng.uniform(30, 400)))
            _, targets = self._customer_videos(market, vspec.targets, taken_accounts)
            devices = np.asarray([stable_key("script", s, int(u)) for u in accounts], dtype=np.int64)
            self.scripts.append(_Script(vspec, accounts, devices, targets))
            for u in accounts.tolist():
                self.truth.account_kind[u] = "view_inflation"
            self.truth.targets.setdefault("view_inflation", set()).update(targets.tolist())
        taken_shops = {0, 1}  # the demo's good and poor shops keep their story
        for r, bspec in enumerate(self.plan.brushing):
            self.rings.append(self._ring(market, r, bspec, taken_shops))

    def _ring(self, market: Market, r: int, spec: BrushingSpec, taken: set[int]) -> _Ring:
        rng = self.rng
        sellable = market.p_sku >= 0
        if spec.shop is not None:
            if spec.shop >= len(market.shop_ids):
                raise ValueError(
                    f"brushing shop {spec.shop} is not in the world ({len(market.shop_ids)} shops)"
                )
            shop = spec.shop
        else:
            counts = np.bincount(market.product_shop[sellable], minlength=len(market.shop_ids))
            choices = [s for s in np.flatnonzero(counts >= 3).tolist() if s not in taken]
            shop = choices[int(rng.integers(len(choices)))]
        taken.add(shop)
        mine = np.flatnonzero((market.product_shop == shop) & sellable)
        if not len(mine):
            raise ValueError(f"brushing shop {shop} has nothing on sale")
        by_price = mine[np.argsort(market.p_price[mine], kind="stable")]
        cheap = by_price[: max(1, int(np.ceil(spec.cheap_quantile * len(by_price))))]
        accounts = self._new_accounts(market, spec.accounts, f"ring{r}", float(rng.uniform(5, 120)))
        shared = [
            buyers.shipping(buyers.buyer(self.seed, -1_000_000 * (r + 1) - i))
            for i in range(spec.shared_addresses)
        ]
        own = [buyers.shipping(buyers.buyer(self.seed, int(u))) for u in accounts]
        for u in accounts.tolist():
            self.truth.account_kind[u] = "brushing"
        self.truth.brushed_shops.add(int(market.shop_ids[shop]))
        return _Ring(
            spec,
            shop,
            accounts,
            cheap,
            shared,
            np.asarray(
                [stable_key("ring", r, "device", i) for i in range(spec.shared_devices)], dtype=np.int64
            ),
            np.asarray(
                [stable_key("ring", r, "pay", i) for i in range(spec.shared_payments)], dtype=np.int64
            ),
            own,
        )

    # --- one day ------------------------------------------------------------------------------

    def day(self, market: Market, day: int, day_us: int, popular: np.ndarray) -> Engagements:
        """Today's farm and script actions (returned for the caller to log), and today's brushed orders
        (scheduled on the market's clock). ``popular``: content ids the camouflage draws from."""
        parts: list[dict[str, np.ndarray]] = []
        for farm in self.farms:
            if farm.spec.active(day):
                parts.append(self._farm_day(farm, day_us, popular, market.follows))
        for script in self.scripts:
            if script.spec.active(day):
                parts.append(self._script_day(script, day_us, popular))
        for r, ring in enumerate(self.rings):
            if ring.spec.active(day):
                self._ring_day(market, r, ring, day_us)
        if not parts:
            return _engagements({k: [] for k in _COLUMNS})
        out = _engagements({k: [p[k] for p in parts] for k in _COLUMNS})
        order = np.argsort(out.ts_us, kind="stable")
        out = Engagements(*(getattr(out, k)[order] for k in _COLUMNS))
        for u, t in zip(out.user_id.tolist(), out.ts_us.tolist(), strict=True):
            if self.truth.account_kind.get(u) is not None:
                self.truth.started(u, t)
        return out

    def _farm_day(
        self, farm: _Farm, day_us: int, popular: np.ndarray, follows: set[tuple[int, int]]
    ) -> dict[str, np.ndarray]:
        rng, spec = self.rng, farm.spec
        rows: list[tuple[int, int, int, str, int, int]] = []  # user, content, account, kind, ts, device
        followed = set()
        for _ in range(spec.bursts_per_day):
            start = day_us + int(rng.uniform(0, 16) * HOUR_US)
            acting = rng.random(len(farm.accounts)) < spec.participation
            for a in np.flatnonzero(acting).tolist():
                u, dev = int(farm.accounts[a]), int(farm.devices[a])
                paid = 0
                for c in farm.targets.tolist():
                    t = start + int(rng.uniform(0, spec.burst_minutes) * MINUTE_US)
                    if "view" in spec.actions:
                        rows.append((u, c, -1, "play", t, dev))
                        paid += 1
                    if "like" in spec.actions and rng.random() < 0.9:
                        rows.append((u, c, -1, "like", t + 5_000_000, dev))
                        paid += 1
                    if "comment" in spec.actions and rng.random() < 0.3:
                        rows.append((u, c, -1, "comment", t + 20_000_000, dev))
                        paid += 1
                if "follow" in spec.actions and (u, farm.target_account) not in follows and u not in followed:
                    rows.append(
                        (
                            u,
                            -1,
                            farm.target_account,
                            "follow",
                            start + int(rng.uniform(0, spec.burst_minutes) * MINUTE_US),
                            dev,
                        )
                    )
                    followed.add(u)
                    paid += 1
                rows += self._camouflage(u, dev, day_us, popular, rng.poisson(spec.camouflage * paid))
        return _rows(rows, rng)

    def _camouflage(
        self, user: int, device: int, day_us: int, popular: np.ndarray, n: int
    ) -> list[tuple[int, int, int, str, int, int]]:
        if n <= 0 or not len(popular):
            return []
        rng = self.rng
        items = rng.choice(popular, size=n)
        times = day_us + (rng.beta(2.2, 1.4, n) * 16 * HOUR_US).astype(np.int64)
        out: list[tuple[int, int, int, str, int, int]] = []
        for c, t in zip(items.tolist(), times.tolist(), strict=True):
            out.append((user, c, -1, "play", t, device))
            if rng.random() < 0.3:
                out.append((user, c, -1, "like", t + 5_000_000, device))
        return out

    def _script_day(self, script: _Script, day_us: int, popular: np.ndarray) -> dict[str, np.ndarray]:
        rng, spec = self.rng, script.spec
        rows: list[tuple[int, int, int, str, int, int]] = []
        for a, u in enumerate(script.accounts.tolist()):
            dev = int(script.devices[a])
            for _ in range(spec.sessions_per_day):
                t = day_us + int(rng.uniform(0, 20) * HOUR_US)
                for v in range(spec.views_per_session):
                    t += int(spec.seconds_between * rng.uniform(0.8, 1.2) * 1_000_000)
                    rows.append((u, int(script.targets[v % len(script.targets)]), -1, "play", t, dev))
                    if rng.random() < spec.camouflage / (1.0 + spec.camouflage) * 2 and len(popular):
                        t += int(spec.seconds_between * 1_000_000)
                        rows.append((u, int(rng.choice(popular)), -1, "play", t, dev))
        return _rows(rows, rng)

    def _ring_day(self, market: Market, r: int, ring: _Ring, day_us: int) -> None:
        rng = self.rng
        n = int(rng.poisson(ring.spec.orders_per_day))
        for _ in range(n):
            when = day_us + int(rng.uniform(0, 16) * HOUR_US)
            market._at(when, "attack", "brush_place", r, int(rng.integers(len(ring.accounts))))

    # --- brushed orders, on the market's clock ------------------------------------------------

    def do(self, market: Market, when: int, what: str, *args: Any) -> None:
        handler: Callable[..., None] = getattr(self, f"_{what}")
        handler(market, when, *args)

    def _brush_place(self, market: Market, when: int, r: int, a: int) -> None:
        rng, ring = self.rng, self.rings[r]
        user_id = int(ring.accounts[a])
        product = int(rng.choice(ring.products))
        shared = rng.random() < ring.spec.shared_share
        address = (
            ring.addresses[int(rng.integers(len(ring.addresses)))]
            if shared and ring.addresses
            else ring.own_addresses[a]
        )
        device = (
            int(rng.choice(ring.devices)) if shared and len(ring.devices) else stable_key("device", user_id)
        )
        payment = (
            int(rng.choice(ring.payments)) if shared and len(ring.payments) else stable_key("pay", user_id)
        )
        request = CheckoutCreate(
            items=[
                CheckoutLineIn(
                    sku_id=int(market.p_sku[product]),
                    quantity=1,
                    attribution=AttributionIn(channel=Channel.search),
                )
            ],
            shipping_address=address,
        )
        checkout = checkout_service.place_checkout(market.db, user_id, request, commit=False)
        checkout_service.pay_checkout(
            market.db,
            user_id,
            checkout.id,
            payment_method="alipay",
            client_key=f"brush-{checkout.id}",
            device_key=device,
            commit=False,
        )
        market.db.commit()
        self.truth.started(user_id, when)
        for order in checkout.orders:
            self.truth.brushed_orders.add(order.id)
            self.brushed[order.id] = _Brushed(r, user_id, ring.shop, order.id, order.items[0].id)
            if self.log is not None:
                self.log.order_placed(
                    order_id=order.id, buyer_id=user_id, shop_id=int(order.shop_id),
                    product_id=int(market.product_ids[product]), ts_us=when, paid_fen=int(order.paid_fen),
                    address=address_key(address), device=device, payment=payment,
                )  # fmt: skip
            # In the event log as every paid order is (the platform's purchase log); the discounting
            # views leave it out once the ring is flagged.
            market.order_events.append(
                (
                    when,
                    user_id,
                    int(market.product_ids[product]),
                    int(order.shop_id),
                    -1,
                    int(order.paid_fen),
                    "search",
                )
            )
            market._count("events_order")
            market._count("attack_brushed_orders")
            market._at(when + int(rng.uniform(0.1, 1.0) * HOUR_US), "attack", "brush_ship", order.id)

    def _brush_ship(self, market: Market, when: int, order_id: int) -> None:
        state = self.brushed[order_id]
        pickup = when + int(self.rng.uniform(0.5, 3.0) * HOUR_US)
        logistics_service.ship_order(
            market.db, int(market.shop_ids[state.shop]), order_id, carrier="yto",
            tracking_number=f"BRU{order_id:010d}", planned_pickup_at=market._when(pickup), simulated=True, held=True,
        )  # fmt: skip
        market.in_flight.add(order_id)
        deliver = pickup + int(self.rng.uniform(0.3, 1.0) * DAY_US)  # an empty parcel, same city
        market._at(pickup, "attack", "brush_pickup", order_id, deliver)

    def _brush_pickup(self, market: Market, when: int, order_id: int, deliver: int) -> None:
        logistics_service.pick_up(market.db, order_id, market._when(when), delivered_at=market._when(deliver))
        market._at(deliver, "attack", "brush_deliver", order_id)

    def _brush_deliver(self, market: Market, when: int, order_id: int) -> None:
        logistics_service.advance_order(market.db, order_id, market._when(when))
        market.in_flight.discard(order_id)
        ring = self.rings[self.brushed[order_id].ring]
        confirm = when + int(self.rng.uniform(0.05, 1.0) * ring.spec.confirm_minutes * MINUTE_US)
        market._at(confirm, "attack", "brush_confirm", order_id)

    def _brush_confirm(self, market: Market, when: int, order_id: int) -> None:
        state = self.brushed[order_id]
        commerce_service.confirm_receipt(market.db, state.user_id, order_id)
        if self.log is not None:
            self.log.order_confirmed(order_id, when)
        if self.rng.random() < self.rings[state.ring].spec.review_share:
            market._at(when + int(self.rng.uniform(0.1, 6.0) * HOUR_US), "attack", "brush_review", order_id)

    def _brush_review(self, market: Market, when: int, order_id: int) -> None:
        rng, state = self.rng, self.brushed[order_id]
        text = (
            BRUSH_OPENINGS[int(rng.integers(len(BRUSH_OPENINGS)))]
            + "，"
            + BRUSH_BODIES[int(rng.integers(len(BRUSH_BODIES)))]
            + "，"
            + BRUSH_CLOSINGS[int(rng.integers(len(BRUSH_CLOSINGS)))]
        )
        review = reviews_service.create_review(
            market.db, state.user_id, order_id, state.item_id, rating=5, text=text
        )
        market.rating_sum[state.shop] += 5
        market.rating_n[state.shop] += 1
        if self.log is not None:
            self.log.review_written(
                review_id=int(review.id), user_id=state.user_id, shop_id=int(market.shop_ids[state.shop]),
                order_id=order_id, ts_us=when, rating=5, text=text,
            )  # fmt: skip


_COLUMNS = ("user_id", "content_id", "account_id", "kind", "ts_us", "watch_ms", "device")


def _rows(rows: list[tuple[int, int, int, str, int, int]], rng: Generator) -> dict[str, np.ndarray]:
    if not rows:
        return {k: np.zeros(0, dtype=object if k == "kind" else np.int64) for k in _COLUMNS}
    u, c, a, k, t, d = zip(*rows, strict=True)
    kind = np.asarray(k, dtype=object)
    watch = np.where(kind == "play", rng.integers(3_000, 15_000, len(rows)), -1)
    return {
        "user_id": np.asarray(u, dtype=np.int64),
        "content_id": np.asarray(c, dtype=np.int64),
        "account_id": np.asarray(a, dtype=np.int64),
        "kind": kind,
        "ts_us": np.asarray(t, dtype=np.int64),
        "watch_ms": watch.astype(np.int64),
        "device": np.asarray(d, dtype=np.int64),
    }


def _engagements(parts: dict[str, list[np.ndarray]]) -> Engagements:
    cols = {
        k: np.concatenate(v) if v else np.zeros(0, dtype=object if k == "kind" else np.int64)
        for k, v in parts.items()
    }
    return Engagements(**cols)
