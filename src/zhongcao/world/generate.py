"""Generate the demo world through the platform's own services.

Every random draw comes from one ``numpy.random.Generator(PCG64(seed))``, drawn in a fixed order
that never depends on database ids, so the same ``(scale, seed)`` builds the same world on any
backend. Each phase is one transaction: it uses the services' bulk forms (which check the same
rules as the single-row forms, then insert in a few statements) and commits once.

Hidden and latent attributes that the platform has no column for (a shop's defect rate, a user's
interests, a content item's quality) are returned in :class:`Latent` and stored by
:mod:`zhongcao.world.service` beside the database, never in it: the platform must discover shop
quality from what happens, as it would in production.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator
from sqlalchemy.orm import Session

from zhongcao import clock, flows
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.campaigns import service as campaigns_service
from zhongcao.campaigns.models import CouponFunder
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.content import bulk as content_bulk
from zhongcao.content.models import AccountKind, ContentKind
from zhongcao.shops import service as shops_service
from zhongcao.users import security
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.world import calendar, demo_accounts, vocab

DEMO_PASSWORD = "zhongcao-demo"
# example.com is reserved for examples (RFC 2606), so these addresses never reach a real mailbox;
# .local would be refused by the login API's email validation (a special-use name).
DEMO_DOMAIN = "demo.zhongcao.example.com"


class Scale(enum.StrEnum):
    tiny = "tiny"  # for fast tests only
    small = "small"
    medium = "medium"
    large = "large"


@dataclass(frozen=True)
class Sizes:
    users: int  # shoppers
    shops: int
    products: int
    content: int
    creators: int
    # Multiplies every simulated shopper's purchase intent. Orders go through the platform's full
    # services (about 20 ms of service calls per order's life on 2 cores), so the large worlds buy
    # less per person to keep a 30-day run inside the time budget; small worlds keep a realistic
    # rate (about one order per user per month) so that tests see enough orders per shop.
    purchase_intensity: float = 1.0


SIZES: dict[Scale, Sizes] = {
    Scale.tiny: Sizes(users=150, shops=12, products=240, content=300, creators=30),
    Scale.small: Sizes(
        users=500, shops=40, products=1_200, content=1_500, creators=80, purchase_intensity=4.0
    ),
    Scale.medium: Sizes(
        users=50_000, shops=2_000, products=60_000, content=100_000, creators=4_000, purchase_intensity=0.06
    ),
    Scale.large: Sizes(
        users=100_000, shops=4_000, products=120_000, content=200_000, creators=8_000, purchase_intensity=0.03
    ),
}


@dataclass(frozen=True)
class WorldSpec:
    scale: Scale = Scale.small
    seed: int = 42
    days: int = 30
    # Shoppers' category interests follow their topic interests (60%), so creators' audiences buy in
    # their topics' categories: the alliance worlds (``zhongcao bench alliance``, ``zhongcao simulate
    # --creator-policy``). Off by default, which keeps the demo world and its recorded figures as they were.
    topic_audiences: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", Scale(self.scale))
        if self.seed < 0:
            raise ValueError("seed must be zero or positive")
        if not 1 <= self.days <= 365:
            raise ValueError("days must be between 1 and 365")

    @property
    def sizes(self) -> Sizes:
        return SIZES[self.scale]

    @property
    def key(self) -> str:
        return f"{self.seed}-{self.scale.value}" + ("-topics" if self.topic_audiences else "")


@dataclass(frozen=True)
class DemoLogin:
    role: str  # what the login is for, e.g. "good shop owner"
    email: str
    password: str
    kind: str = ""  # the login page's name for it (users.service.DEMO_LOGIN_KINDS)


def demo_logins() -> list[DemoLogin]:
    """The fixed demo logins every built world has (all share :data:`DEMO_PASSWORD`)."""
    return [
        DemoLogin("shopper", f"shopper@{DEMO_DOMAIN}", DEMO_PASSWORD, "shopper"),
        DemoLogin("good shop owner", f"good-shop@{DEMO_DOMAIN}", DEMO_PASSWORD, "good_shop"),
        DemoLogin("poor shop owner", f"poor-shop@{DEMO_DOMAIN}", DEMO_PASSWORD, "poor_shop"),
        DemoLogin("creator", f"creator@{DEMO_DOMAIN}", DEMO_PASSWORD, "creator"),
        DemoLogin("operator", f"operator@{DEMO_DOMAIN}", DEMO_PASSWORD, "operator"),
    ]


@dataclass
class Latent:
    """What the world knows and the platform must not: arrays aligned with their id arrays."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    campaign_ids: list[int] = field(default_factory=list)
    started_at: datetime | None = None
    digest: str = ""


ProgressHook = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def _no_progress(_name: str, _total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


TOPIC_KEYS = list(vocab.TOPICS)
LEAVES = [(top, leaf) for top in vocab.CATEGORIES for leaf in top.leaves]
# Each topic's share of each top category (from its leaves), rows sum to 1.
TOPIC_CATEGORY = np.zeros((len(TOPIC_KEYS), len(vocab.CATEGORIES)))
for _top, _leaf in LEAVES:
    TOPIC_CATEGORY[TOPIC_KEYS.index(_leaf.topic), vocab.CATEGORIES.index(_top)] += 1.0
TOPIC_CATEGORY /= np.maximum(TOPIC_CATEGORY.sum(axis=1, keepdims=True), 1.0)
# Index in LEAVES of the first leaf of each top category.
LEAF_OFFSETS = np.cumsum([0] + [len(top.leaves) for top in vocab.CATEGORIES])[:-1].tolist()


def _price_round(fen: float) -> int:
    """Prices end in 9.90 yuan steps below 100 yuan, whole 10 yuan minus 1 fen above, as shops price."""
    if fen < 10_000:
        return max(90, int(round(fen / 100.0)) * 100 - 10)
    return int(round(fen / 1000.0)) * 1000 - 100


class _Builder:
    def __init__(self, db: Session, spec: WorldSpec, progress: ProgressHook) -> None:
        self.db = db
        self.spec = spec
        self.sizes = spec.sizes
        self.rng = Generator(PCG64(spec.seed))
        self.progress = progress
        self.latent = Latent()
        self.digest = hashlib.sha256()
        self.t0 = clock.now()
        self.latent.started_at = self.t0

    def _phase(self, name: str, total: int) -> Any:
        return self.progress(name, total)

    def _commit(self) -> None:
        self.db.commit()

    # --- people ----------------------------------------------------------------------------------

    def people(self) -> None:
        s = self.sizes
        # Every sign-in account: shoppers, shop owners, creators and the demo logins (the summary
        # counts shoppers, shops and creators apart).
        with self._phase("accounts", s.users + s.shops + s.creators + 5) as advance:
            demo = {login.role: login for login in demo_logins()}
            self.operator_id = users_service.create_user(
                self.db,
                email=demo["operator"].email,
                password=DEMO_PASSWORD,
                display_name="平台运营 Operator",
                role=Role.operator,
                commit=False,
            ).id
            password_hash = security.hash_password(DEMO_PASSWORD)
            rows: list[users_service.NewUser] = [
                users_service.NewUser(demo["shopper"].email, "演示买家 Demo Shopper"),
                users_service.NewUser(
                    demo["good shop owner"].email, "优质店主 Good Shop Owner", Role.merchant
                ),
                users_service.NewUser(
                    demo["poor shop owner"].email, "问题店主 Poor Shop Owner", Role.merchant
                ),
                users_service.NewUser(demo["creator"].email, "演示达人 Demo Creator", Role.creator),
            ]
            rows += [
                users_service.NewUser(f"merchant{i:05d}@{DEMO_DOMAIN}", f"店主{i:05d}", Role.merchant)
                for i in range(2, s.shops)
            ]
            rows += [
                users_service.NewUser(f"creator{i:05d}@{DEMO_DOMAIN}", self._person_name(), Role.creator)
                for i in range(1, s.creators)
            ]
            shopper_names = [self._person_name() for _ in range(s.users - 1)]
            rows += [
                users_service.NewUser(f"user{i:06d}@{DEMO_DOMAIN}", name, locale="zh-CN" if i % 5 else "en")
                for i, name in enumerate(shopper_names, start=1)
            ]
            ids = users_service.create_users_bulk(self.db, rows, password_hash)
            advance(len(ids) + 1)
        by_email = dict(zip((r.email for r in rows), ids, strict=True))
        by_email[demo["operator"].email] = self.operator_id
        # The marker the login page lists the demo logins by (only this build writes it).
        users_service.record_demo_logins(
            self.db, [(by_email[login.email], login.kind, login.password) for login in demo_logins()]
        )
        self.merchant_ids = [by_email[demo["good shop owner"].email], by_email[demo["poor shop owner"].email]]
        self.merchant_ids += [by_email[f"merchant{i:05d}@{DEMO_DOMAIN}"] for i in range(2, s.shops)]
        self.creator_user_ids = [by_email[demo["creator"].email]]
        self.creator_user_ids += [by_email[f"creator{i:05d}@{DEMO_DOMAIN}"] for i in range(1, s.creators)]
        self.shopper_ids = [by_email[demo["shopper"].email]]
        self.shopper_ids += [by_email[f"user{i:06d}@{DEMO_DOMAIN}"] for i in range(1, s.users)]
        self._digest("users", sorted(r.email for r in rows))
        self._commit()

    def _person_name(self) -> str:
        surname = vocab.SURNAMES[int(self.rng.integers(len(vocab.SURNAMES)))]
        given = vocab.GIVEN_NAMES[int(self.rng.integers(len(vocab.GIVEN_NAMES)))]
        return f"{surname[0]}{given[0]} {given[1]} {surname[1]}"

    # --- catalog structure ------------------------------------------------------------------------

    def categories(self) -> None:
        with self._phase("categories & brands", len(LEAVES) + len(vocab.CATEGORIES)) as advance:
            self.top_ids: list[int] = []
            self.leaf_ids: list[int] = []
            for top in vocab.CATEGORIES:
                top_row = catalog_service.create_category(
                    self.db,
                    slug=top.slug,
                    name_zh=top.name[0],
                    name_en=top.name[1],
                    platform_fee_bps=top.platform_fee_bps,
                    commit=False,
                )
                self.top_ids.append(top_row.id)
                for leaf in top.leaves:
                    self.leaf_ids.append(
                        catalog_service.create_category(
                            self.db,
                            slug=f"{top.slug}-{leaf.slug}",
                            name_zh=leaf.name[0],
                            name_en=leaf.name[1],
                            parent_id=top_row.id,
                            commit=False,
                        ).id
                    )
                advance(1 + len(top.leaves))
            self.brand_ids: dict[str, int] = {}
            for top in vocab.CATEGORIES:
                for zh, en in top.brands:
                    if zh not in self.brand_ids:
                        self.brand_ids[zh] = catalog_service.create_brand(
                            self.db, name_zh=zh, name_en=en, commit=False
                        ).id
        self._commit()

    # --- shops ------------------------------------------------------------------------------------

    def shops(self) -> None:
        n = self.sizes.shops
        rng = self.rng
        # Quality is drawn apart from everything else, so it is independent of price by construction.
        quality = rng.beta(1.6, 1.6, size=n)
        price_tier = rng.lognormal(0.0, 0.35, size=n)  # how a shop prices against its category
        self.shop_top = rng.integers(len(vocab.CATEGORIES), size=n)
        demo_accounts.steer_shops(quality, price_tier, self.shop_top)  # the demo good and poor shops
        bad = 1.0 - quality

        def noise(sigma: float = 0.25) -> np.ndarray:
            return rng.lognormal(0.0, sigma, size=n)

        hidden = {
            "shop_quality": quality,
            "shop_defect_rate": np.clip(0.004 + 0.16 * bad**2 * noise(), 0.0, 0.5),
            "shop_pickup_delay_hours": 3.0 + 70.0 * bad**1.5 * noise(),
            "shop_carrier_days": 1.2 + 5.0 * bad * noise(),
            # Most shops staff their customer service: a middling shop answers in about 2 minutes (the
            # platform's target is 3), a poor one in about 6.
            "shop_cs_response_minutes": 0.3 + 6.0 * bad**2 * noise(0.4),
            "shop_aftersales_hours": 2.0 + 100.0 * bad * noise(),
            "shop_refusal_propensity": np.clip(0.01 + 0.6 * bad**2 * noise(), 0.0, 0.95),
            # Drawn independently of quality.
            "shop_price_tier": price_tier,
        }
        self.shop_price_tier = hidden["shop_price_tier"]
        suffix_idx = rng.integers(len(vocab.SHOP_SUFFIXES), size=n)
        brand_pick = rng.random(size=n)
        self.shop_brand: list[str | None] = []
        names: list[tuple[str, str]] = []
        used: set[str] = set()
        for i in range(n):
            top = vocab.CATEGORIES[int(self.shop_top[i])]
            suffix = vocab.SHOP_SUFFIXES[int(suffix_idx[i])]
            if brand_pick[i] < 0.6:
                brand = top.brands[int(brand_pick[i] / 0.6 * len(top.brands))]
                self.shop_brand.append(brand[0])
                zh, en = f"{brand[0]}{suffix[0]}", f"{brand[1]} {suffix[1]}"
            else:
                self.shop_brand.append(None)
                surname = vocab.SURNAMES[i % len(vocab.SURNAMES)]
                zh = f"{surname[0]}记{top.name[0][:2]}{suffix[0]}"
                en = f"{surname[1]}'s {top.name[1].split(' ')[0]} {suffix[1]}"
            if zh in used:
                zh, en = f"{zh}（{i}号）", f"{en} No.{i}"
            used.add(zh)
            names.append((zh, en))
        with self._phase("shops", n) as advance:
            self.shop_ids: list[int] = []
            for i, (zh, en) in enumerate(names):
                shop = shops_service.create_shop(
                    self.db,
                    name_zh=zh,
                    name_en=en,
                    owner_user_id=self.merchant_ids[i],
                    description_zh=f"{zh}：{vocab.CATEGORIES[int(self.shop_top[i])].name[0]}好物",
                    description_en=f"{en}: {vocab.CATEGORIES[int(self.shop_top[i])].name[1]}",
                    shipping_fee_fen=int(rng.choice([0, 0, 600, 1000])),
                    free_shipping_threshold_fen=int(rng.choice([0, 4900, 9900])),
                    commit=False,
                )
                self.shop_ids.append(shop.id)
                advance(1)
            self.shop_account_ids = content_bulk.create_accounts_bulk(
                self.db,
                [
                    content_bulk.NewAccount(
                        kind=AccountKind.shop,
                        shop_id=shop_id,
                        handle=f"shop_{i:05d}",
                        name=names[i][0],
                        niche=vocab.CATEGORIES[int(self.shop_top[i])].leaves[0].topic,
                    )
                    for i, shop_id in enumerate(self.shop_ids)
                ],
            )
        self.latent.arrays["shop_ids"] = np.asarray(self.shop_ids, dtype=np.int64)
        self.latent.arrays["shop_account_ids"] = np.asarray(self.shop_account_ids, dtype=np.int64)
        demo_accounts.steer_hidden(hidden)
        self.latent.arrays.update(hidden)
        self._digest("shops", [f"{zh}|{en}" for zh, en in names])
        self._commit()

    # --- products ---------------------------------------------------------------------------------

    def products(self) -> None:
        n, total = self.sizes.shops, self.sizes.products
        rng = self.rng
        # Shop sizes are skewed: a few large shops, many small ones; every shop sells something.
        weights = rng.lognormal(0.0, 0.4, size=n)
        demo_accounts.steer_product_weights(weights)
        per_shop = np.maximum(1, np.floor(weights / weights.sum() * (total - n)).astype(np.int64) + 1)
        per_shop[int(np.argmax(per_shop))] += total - int(per_shop.sum())
        shop_of = np.repeat(np.arange(n), per_shop)
        rows: list[catalog_service.NewProduct] = []
        leaf_index = np.empty(total, dtype=np.int64)
        base_price = np.empty(total, dtype=np.int64)
        appeal = rng.normal(0.0, 1.0, size=total)
        demo_accounts.steer_appeal(appeal, shop_of)
        price_u = rng.random(size=total)
        for p in range(total):
            s = int(shop_of[p])
            # A shop sells its own category only; a brand's shop sells its own brand only.
            top_i = int(self.shop_top[s])
            top = vocab.CATEGORIES[top_i]
            leaf_i = int(rng.integers(len(top.leaves)))
            leaf = top.leaves[leaf_i]
            leaf_index[p] = LEAF_OFFSETS[top_i] + leaf_i
            shop_brand = self.shop_brand[s]
            brand_zh = (
                shop_brand if shop_brand is not None else top.brands[int(rng.integers(len(top.brands)))][0]
            )
            brand_en = next(en for zh, en in top.brands if zh == brand_zh)
            ptype = leaf.product_types[int(rng.integers(len(leaf.product_types)))]
            title_attrs = leaf.attributes[:-1] if len(leaf.attributes) > 1 else ()
            words_zh, words_en = [], []
            for kind in title_attrs:
                values = vocab.ATTRIBUTES[kind][2]
                zh, en = values[int(rng.integers(len(values)))]
                words_zh.append(zh)
                words_en.append(en)
            low, high = leaf.price_fen
            fen = (
                float(np.exp(np.log(low) + price_u[p] * (np.log(high) - np.log(low))))
                * self.shop_price_tier[s]
            )
            price = _price_round(min(max(fen, 99.0), catalog_service.MAX_PRICE_FEN / 2))
            base_price[p] = price
            variant_kind = leaf.attributes[-1]
            label_zh, _label_en, values = vocab.ATTRIBUTES[variant_kind]
            k = int(rng.integers(1, min(4, len(values)) + 1))
            chosen = sorted(rng.choice(len(values), size=k, replace=False).tolist())
            skus = [
                catalog_service.NewSku(
                    code=f"P{p:06d}-{j}",
                    price_fen=_price_round(price * (1.0 + 0.08 * rank)),
                    stock=int(rng.integers(50, 2000)),
                    attributes={label_zh: values[j][0]},
                )
                for rank, j in enumerate(chosen)
            ]
            title_zh = " ".join([brand_zh, *words_zh, ptype[0]])
            title_en = " ".join([brand_en, *words_en, ptype[1]])
            rows.append(
                catalog_service.NewProduct(
                    shop_id=self.shop_ids[s],
                    category_id=self.leaf_ids[int(leaf_index[p])],
                    brand_id=self.brand_ids[brand_zh],
                    title_zh=title_zh,
                    title_en=title_en,
                    description_zh=f"{title_zh}，{leaf.name[0]}热销款。",
                    description_en=f"{title_en}, a best seller in {leaf.name[1]}.",
                    status=ProductStatus.active,
                    skus=skus,
                )
            )
        with self._phase("products", total) as advance:
            chunk = 5000
            self.product_ids: list[int] = []
            for start in range(0, total, chunk):
                self.product_ids += catalog_service.create_products_bulk(self.db, rows[start : start + chunk])
                advance(min(chunk, total - start))
        self.product_shop = shop_of
        self.product_leaf = leaf_index
        self.product_rows = rows
        self.latent.arrays.update(
            {
                "product_ids": np.asarray(self.product_ids, dtype=np.int64),
                "product_shop_index": shop_of,
                "product_leaf_index": leaf_index,
                "product_appeal": appeal,
                "product_base_price_fen": base_price,
            }
        )
        self._digest("products", [f"{r.title_zh}|{r.title_en}|{[k.price_fen for k in r.skus]}" for r in rows])
        self._commit()

    # --- creators and affiliate plans -------------------------------------------------------------

    def creators(self) -> None:
        n = self.sizes.creators
        rng = self.rng
        # Power law: audience of the creator at rank r is proportional to r^-1.2, with lognormal noise
        # and ranks shuffled so that creation order says nothing about size.
        ranks = rng.permutation(n) + 1
        audience = np.maximum(1, np.round(2_000_000 * ranks**-1.2 * rng.lognormal(0.0, 0.2, size=n))).astype(
            np.int64
        )
        niche = rng.integers(len(TOPIC_KEYS), size=n)
        skill = rng.beta(2.0, 2.0, size=n)
        demo_accounts.steer_creator(
            audience, skill, niche, TOPIC_KEYS.index(demo_accounts.DEMO_CREATOR_NICHE)
        )
        n_top = max(2, n // 200)
        top_kol = np.zeros(n, dtype=bool)
        top_kol[np.argsort(-audience, kind="stable")[:n_top]] = True
        with self._phase("creators", n) as advance:
            self.creator_account_ids = content_bulk.create_accounts_bulk(
                self.db,
                [
                    content_bulk.NewAccount(
                        kind=AccountKind.creator,
                        user_id=user_id,
                        handle=f"creator_{i:05d}",
                        name=f"{vocab.TOPICS[TOPIC_KEYS[int(niche[i])]][0]}达人{i:05d}",
                        niche=TOPIC_KEYS[int(niche[i])],
                        is_top_kol=bool(top_kol[i]),
                    )
                    for i, user_id in enumerate(self.creator_user_ids)
                ],
            )
            advance(n)
        self.creator_audience = audience
        self.creator_niche = niche
        self.creator_skill = skill
        self.latent.arrays.update(
            {
                "creator_account_ids": np.asarray(self.creator_account_ids, dtype=np.int64),
                "creator_audience": audience,
                "creator_niche_index": niche,
                "creator_skill": skill,
                "creator_is_top_kol": top_kol,
            }
        )
        self._digest("creators", [f"{a}|{t}" for a, t in zip(audience.tolist(), niche.tolist(), strict=True)])
        self._commit()

    def affiliate(self) -> None:
        rng = self.rng
        total = len(self.product_ids)
        plan_draw = rng.random(size=total)
        has_plan = plan_draw < 0.45
        demo_accounts.steer_plans(has_plan, self.product_shop, plan_draw)
        rates = rng.choice([500, 800, 1000, 1500, 2000, 3000], size=total)
        rows = [
            (self.shop_ids[int(self.product_shop[p])], self.product_ids[p], int(rates[p]))
            for p in range(total)
            if has_plan[p]
        ]
        n_targeted = max(1, total // 400)
        with self._phase("affiliate plans", len(rows) + n_targeted) as advance:
            affiliate_service.create_open_plans_bulk(self.db, rows)
            self._commit()
            advance(len(rows))
            self.plan_products = np.flatnonzero(has_plan)
            # Targeted plans: a shop offers its best creators of the product's topic a higher rate.
            by_audience = np.argsort(-self.creator_audience, kind="stable")
            for p in rng.choice(
                self.plan_products, size=min(n_targeted, len(self.plan_products)), replace=False
            ):
                listed = by_audience[: int(rng.integers(1, 4))]
                affiliate_service.create_plan(
                    self.db,
                    self.shop_ids[int(self.product_shop[p])],
                    product_id=self.product_ids[int(p)],
                    kind=PlanKind.targeted,
                    commission_bps=int(rates[p]) + 1000,
                    creator_account_ids=[self.creator_account_ids[int(c)] for c in listed],
                )
                advance(1)
        self.latent.arrays["plan_product_index"] = self.plan_products

    # --- shoppers and follows ---------------------------------------------------------------------

    def shoppers(self) -> None:
        n = len(self.shopper_ids)
        rng = self.rng
        topic_interest = rng.dirichlet(np.full(len(TOPIC_KEYS), 0.3), size=n)
        # With topic audiences, what people watch and what they buy go together: 60% of a shopper's
        # category interest follows their topic interests (a topic's categories are those of its
        # leaves: parenting -> 母婴), the rest is their own. So a creator's audience, who follow it for
        # its topic, buys in its categories.
        own_interest = rng.dirichlet(np.full(len(vocab.CATEGORIES), 0.5), size=n)
        category_interest = (
            0.4 * own_interest + 0.6 * topic_interest @ TOPIC_CATEGORY
            if self.spec.topic_audiences
            else own_interest
        )
        price_sensitivity = rng.beta(2.0, 2.0, size=n)
        activity = rng.lognormal(0.0, 0.8, size=n)
        satisfaction = np.full(n, 0.75)
        demo_accounts.keen_shopper(activity)
        self.latent.arrays.update(
            {
                "user_ids": np.asarray(self.shopper_ids, dtype=np.int64),
                "user_topic_interest": topic_interest,
                "user_category_interest": category_interest,
                "user_price_sensitivity": price_sensitivity,
                "user_activity": activity,
                "user_satisfaction": satisfaction,
            }
        )
        # Follows: a user follows about 8 accounts (more if active), picking a topic from their
        # interests, then an account of that topic in proportion to its audience (or, half the
        # time, any account in proportion to its audience).
        k = np.minimum(rng.poisson(6.0 * np.minimum(activity, 4.0)) + 1, 60)
        user_of = np.repeat(np.arange(n), k)
        cum = np.cumsum(topic_interest, axis=1)
        topic_of = (rng.random(size=len(user_of))[:, None] > cum[user_of]).sum(axis=1)
        topic_of = np.minimum(topic_of, len(TOPIC_KEYS) - 1)
        account_ids = np.asarray(self.creator_account_ids + self.shop_account_ids, dtype=np.int64)
        shop_topics = np.asarray(
            [TOPIC_KEYS.index(vocab.CATEGORIES[int(t)].leaves[0].topic) for t in self.shop_top],
            dtype=np.int64,
        )
        acc_topic = np.concatenate([self.creator_niche, shop_topics])
        acc_weight = np.concatenate(
            [self.creator_audience.astype(float), np.full(len(self.shop_account_ids), 2_000.0)]
        )
        # Half of all follows ignore topics: popular accounts are followed for being popular.
        topic_of[rng.random(size=len(user_of)) < 0.5] = -1
        target = np.full(len(user_of), -1, dtype=np.int64)
        u = rng.random(size=len(user_of))
        popular = np.flatnonzero(topic_of == -1)
        cw_all = np.cumsum(acc_weight)
        target[popular] = np.minimum(np.searchsorted(cw_all, u[popular] * cw_all[-1]), len(acc_weight) - 1)
        for t in range(len(TOPIC_KEYS)):
            members = np.flatnonzero(acc_topic == t)
            picks = np.flatnonzero(topic_of == t)
            if len(members) == 0 or len(picks) == 0:
                continue
            cw = np.cumsum(acc_weight[members])
            target[picks] = members[np.minimum(np.searchsorted(cw, u[picks] * cw[-1]), len(members) - 1)]
        keep = target >= 0
        users = np.asarray(self.shopper_ids, dtype=np.int64)[user_of[keep]]
        # A person drawn twice for the same account follows it once: count (and show) distinct follows.
        pairs = list(dict.fromkeys(zip(users.tolist(), account_ids[target[keep]].tolist(), strict=True)))
        with self._phase("follows", len(pairs)) as advance:
            made = content_bulk.follow_bulk(self.db, pairs)
            advance(len(pairs))
        self.latent.counts["follows"] = made
        self._commit()

    # --- campaigns and coupons --------------------------------------------------------------------

    def campaigns(self) -> None:
        rng = self.rng
        # Festival sales named for their dates: those the simulated period overlaps, and the next one.
        sales = calendar.sales_for(self.t0, self.spec.days)
        with self._phase("campaigns", len(sales)) as advance:
            for sale in sales:
                zh, en = sale.festival.name
                scale_factor = max(1, self.sizes.products // 1_200)
                top_pick = sorted(
                    rng.choice(
                        len(vocab.CATEGORIES), size=min(4, len(vocab.CATEGORIES)), replace=False
                    ).tolist()
                )
                starts, ends = sale.starts_at, sale.ends_at
                campaign = campaigns_service.create_campaign(
                    self.db,
                    slug=sale.slug,
                    name_zh=f"{sale.year} {zh}",
                    name_en=f"{en} {sale.year}",
                    starts_at=starts,
                    ends_at=ends,
                    category_ids=[self.top_ids[i] for i in top_pick],
                    subsidy_per_item_fen=sale.festival.subsidy_per_item_fen,
                    budget_fen=sale.festival.budget_fen * scale_factor,
                )
                self.latent.campaign_ids.append(campaign.id)
                eligible = {
                    self.leaf_ids[j]
                    for j, (top, _) in enumerate(LEAVES)
                    if vocab.CATEGORIES.index(top) in top_pick
                }
                register = rng.random(size=len(self.product_ids)) < 0.25
                entries = [
                    (self.shop_ids[int(self.product_shop[p])], self.product_ids[p])
                    for p in range(len(self.product_ids))
                    if register[p] and self.leaf_ids[int(self.product_leaf[p])] in eligible
                ]
                campaigns_service.register_products_bulk(self.db, campaign.id, entries)
                self._commit()
                coupons_service.create_coupon(
                    self.db,
                    funded_by=CouponFunder.platform,
                    shop_id=None,
                    name=f"{zh} 满199减30",
                    threshold_fen=19_900,
                    discount_fen=3_000,
                    total_quantity=max(100, len(self.shopper_ids) // 2),
                    starts_at=starts,
                    ends_at=ends,
                )
                advance(1)
            # Shop coupons for some shops (each create_coupon commits: there are few).
            coupon_shops = np.flatnonzero(rng.random(size=len(self.shop_ids)) < 0.2)
            for s in coupon_shops.tolist():
                coupons_service.create_coupon(
                    self.db,
                    funded_by=CouponFunder.shop,
                    shop_id=self.shop_ids[s],
                    name="店铺券 满99减10",
                    threshold_fen=9_900,
                    discount_fen=1_000,
                    starts_at=self.t0,
                    ends_at=self.t0 + timedelta(days=self.spec.days),
                )

    # --- content ----------------------------------------------------------------------------------

    def content(self) -> None:
        total = self.sizes.content
        rng = self.rng
        n_creators, n_shops = len(self.creator_account_ids), len(self.shop_ids)
        leaf_topic = np.asarray([TOPIC_KEYS.index(leaf.topic) for _, leaf in LEAVES], dtype=np.int64)
        plan_topic = leaf_topic[self.product_leaf[self.plan_products]]
        plan_by_topic = {t: self.plan_products[plan_topic == t] for t in range(len(TOPIC_KEYS))}
        shop_products: dict[int, np.ndarray] = {}
        order = np.argsort(self.product_shop, kind="stable")
        bounds = np.searchsorted(self.product_shop[order], np.arange(n_shops + 1))
        for s in range(n_shops):
            shop_products[s] = order[bounds[s] : bounds[s + 1]]
        by_creator = rng.random(size=total) < 0.6
        creator_w = np.sqrt(self.creator_audience.astype(float))
        creator_pick = np.searchsorted(np.cumsum(creator_w), rng.random(size=total) * creator_w.sum())
        creator_pick = np.minimum(creator_pick, n_creators - 1)
        shop_pick = rng.integers(n_shops, size=total)
        demo_accounts.steer_content_authors(by_creator, creator_pick, shop_pick, rng.random(size=total))
        is_live = rng.random(size=total) < 0.12
        quality = rng.beta(2.0, 3.0, size=total)
        published = self._publish_times(is_live)
        items: list[content_bulk.NewContent] = []
        topics = np.empty(total, dtype=np.int64)
        for c in range(total):
            if by_creator[c]:
                a = int(creator_pick[c])
                account_id = self.creator_account_ids[a]
                topic = (
                    int(self.creator_niche[a]) if rng.random() < 0.85 else int(rng.integers(len(TOPIC_KEYS)))
                )
                pool = plan_by_topic[topic]
                if len(pool) == 0:
                    pool = self.plan_products
                quality[c] = 0.5 * quality[c] + 0.5 * self.creator_skill[a]
            else:
                s = int(shop_pick[c])
                account_id = self.shop_account_ids[s]
                pool = shop_products[s]
                topic = int(leaf_topic[self.product_leaf[pool[0]]]) if len(pool) else 0
            live = bool(is_live[c])
            k = int(rng.integers(3, 9)) if live else int(rng.integers(1, 4))
            anchors = rng.choice(pool, size=min(k, len(pool)), replace=False).tolist() if len(pool) else []
            topics[c] = topic
            first = self.product_rows[anchors[0]] if anchors else None
            ptype_zh = first.title_zh.split(" ")[-1] if first else "好物"
            ptype_en = first.title_en.split(" ")[-1] if first else "finds"
            templates = vocab.LIVE_TEMPLATES if live else vocab.VIDEO_TEMPLATES
            tz, te = templates[int(rng.integers(len(templates)))]
            label = vocab.TOPICS[TOPIC_KEYS[topic]]
            items.append(
                content_bulk.NewContent(
                    account_id=account_id,
                    kind=ContentKind.live if live else ContentKind.short_video,
                    title_zh=tz.format(topic=label[0], product=ptype_zh)[:120],
                    title_en=te.format(topic=label[1], product=ptype_en)[:200],
                    topic=TOPIC_KEYS[topic],
                    duration_seconds=None if live else int(rng.integers(15, 181)),
                    # A live session goes on air between 10:00 and 23:00 China time (02-15 UTC).
                    scheduled_at=(
                        self.t0
                        + timedelta(
                            days=int(rng.integers(self.spec.days)), hours=float(rng.uniform(2.0, 15.0))
                        )
                        if live
                        else None
                    ),
                    anchors=[self.product_ids[p] for p in anchors],
                    published_at=published[c],
                )
            )
        # Published in time order, so ids and dates go together (the latent arrays follow).
        order = np.argsort(np.asarray([p.timestamp() for p in published]), kind="stable")
        items = [items[int(i)] for i in order]
        quality, topics, is_live = quality[order], topics[order], is_live[order]
        with self._phase("content", total) as advance:
            chunk = 5000
            ids: list[int] = []
            for start in range(0, total, chunk):
                ids += flows.publish_content_bulk(self.db, items[start : start + chunk])
                advance(min(chunk, total - start))
        self.latent.arrays.update(
            {
                "content_ids": np.asarray(ids, dtype=np.int64),
                "content_quality": quality,
                "content_topic_index": topics,
                "content_is_live": is_live,
            }
        )
        self._digest("content", [f"{i.title_zh}|{i.title_en}|{list(i.anchors)}" for i in items])
        self._commit()

    def _publish_times(self, is_live: np.ndarray) -> list[datetime]:
        """When each item was published, before the simulated period: short videos over the 60 days
        before it (more of them lately, in waking hours); live sessions announced 1 to 72 hours before
        the period starts."""
        n = len(is_live)
        rng = self.rng
        days_ago = np.floor(60.0 * rng.beta(1.0, 2.0, size=n))
        seconds = rng.integers(0, 15 * 3600, size=n)  # 08:00-23:00 China time
        video = self.t0.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        announced = rng.uniform(1.0, 72.0, size=n)
        return [
            self.t0 - timedelta(hours=float(announced[i]))
            if is_live[i]
            else min(
                video - timedelta(days=float(days_ago[i])) + timedelta(seconds=int(seconds[i])),
                self.t0,
            )
            for i in range(n)
        ]

    def _digest(self, name: str, lines: list[str]) -> None:
        self.digest.update(name.encode())
        for line in lines:
            self.digest.update(line.encode())
            self.digest.update(b"\n")


def generate(db: Session, spec: WorldSpec, progress: ProgressHook | None = None) -> Latent:
    """Build the world into an empty database through the services; return its latent state."""
    builder = _Builder(db, spec, progress or _no_progress)
    builder.people()
    builder.categories()
    builder.shops()
    builder.products()
    builder.creators()
    builder.affiliate()
    builder.shoppers()
    builder.campaigns()
    builder.content()
    latent = builder.latent
    latent.counts.update(
        {
            "users": len(builder.shopper_ids),
            "shops": len(builder.shop_ids),
            "products": len(builder.product_ids),
            "creators": len(builder.creator_account_ids),
            "content": len(latent.arrays["content_ids"]),
            "affiliate_open_plans": len(builder.plan_products),
            "campaigns": len(latent.campaign_ids),
        }
    )
    latent.digest = builder.digest.hexdigest()
    return latent
