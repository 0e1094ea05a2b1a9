"""The simulated shoppers' ways to a product besides the feed and search: live rooms on air, the mall,
a followed shop's page, and a product page they come back to (their past orders).

A mixin of :class:`zhongcao.world.simulate.Market`: each method turns the day's active users into
behaviour events and product views, which :meth:`Market._consider` may turn into orders attributed to
the channel they came through (``live``, ``mall``, ``shop_page``, ``product_page``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from numpy.random import Generator

from zhongcao.support import bulk as support_bulk
from zhongcao.support.bulk import AnsweredQuestion
from zhongcao.world import vocab
from zhongcao.world.generate import TOPIC_KEYS

HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
LIVE_HOURS = 2.0
MALL_SHARE = 0.08  # of the day's active users who open the mall
SHOP_PAGE_SHARE = 0.12  # ... who visit the page of a shop they follow
PRODUCT_PAGE_SHARE = 0.05  # ... who go back to a product they bought (from their orders)
PRESALE_QUESTION = 0.03  # of product views (any channel): the shopper asks the shop a question first
PRESALE_QUESTIONS: tuple[str, ...] = (
    "有现货吗？几天能发货？/ In stock? When does it ship?",
    "这个颜色适合我吗？/ Would this colour suit me?",
    "能开发票吗？/ Can I get an invoice?",
    "尺码偏大还是偏小？/ Does it run large or small?",
)
PRESALE_ANSWER = "亲，有的，今天下单明天发 / Yes, in stock: order today, it ships tomorrow"


def _pack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.astype(np.int64) << 32) | b.astype(np.int64)


class ChannelSessions:
    """Live rooms, the mall, shop pages and product pages, for :class:`Market` (which sets these)."""

    rng: Generator
    user_ids: np.ndarray
    topic_interest: np.ndarray
    category_interest: np.ndarray
    product_ids: np.ndarray
    product_shop: np.ndarray
    product_leaf: np.ndarray
    leaf_top: np.ndarray
    content_topic: np.ndarray
    c_ids: np.ndarray
    c_index: np.ndarray
    c_account: np.ndarray
    c_scheduled_us: np.ndarray
    c_anchor_ptr: np.ndarray
    c_anchor_items: np.ndarray
    follow_u: np.ndarray
    follow_a: np.ndarray
    p_sku: np.ndarray
    p_sold: np.ndarray
    live_today: np.ndarray
    shop_account_ids: np.ndarray
    shop_ids: np.ndarray
    shop_hidden: dict[str, np.ndarray]
    bought: dict[int, list[int]]
    presale_pending: list[AnsweredQuestion]  # answered later than the day they were asked
    db: Any
    _when: Callable[[int], datetime]

    # What Market provides (these are its methods; the mixin only names them for the type checker).
    def _count(self, name: str, n: int = 1) -> None: ...
    def _log(self, batch: Any) -> None: ...
    def _at(self, us: int, action: str, *args: Any) -> None: ...

    _owner: Callable[[int], int]  # a shop's owner (user id)

    def _consider(
        self, users: np.ndarray, products: np.ndarray, ts: np.ndarray, *, channels: np.ndarray, content: np.ndarray
    ) -> None: ...  # fmt: skip

    # --- live rooms -----------------------------------------------------------------------------

    def _live_sessions(self, users: np.ndarray, session_us: np.ndarray) -> None:
        """A shopper whose session falls while a room is on air may drop in (much more likely when they
        follow its account, more when they like its topic), watch, and click the products it sells."""
        rooms = self.live_today
        if not len(rooms) or not len(users):
            return
        rng = self.rng
        start = self.c_scheduled_us[rooms]
        row, col = np.nonzero(
            (session_us[:, None] >= start[None, :])
            & (session_us[:, None] < start[None, :] + int(LIVE_HOURS * HOUR_US))
        )
        if not len(row):
            return
        u = users[row]
        ci = rooms[col]
        affinity = self.topic_interest[u, self.content_topic[self.c_index[ci]]] * len(TOPIC_KEYS)
        follows = np.isin(_pack(self.user_ids[u], self.c_account[ci]), _pack(self.follow_u, self.follow_a))
        p_enter = np.clip(0.03 + 0.05 * np.minimum(affinity, 3.0) + 0.5 * follows, 0.0, 0.7)
        enter = rng.random(len(row)) < p_enter
        u, ci = u[enter], ci[enter]
        n = len(u)
        if not n:
            return
        ts = session_us[np.searchsorted(users, u)] + rng.integers(0, 5 * MINUTE_US, n)
        cid = self.c_ids[ci]
        uid = self.user_ids[u]
        watch = rng.integers(60_000, 1_800_000, n)
        base = {"ts": ts, "user_id": uid, "content_id": cid, "channel": np.full(n, "live", dtype=object)}
        self._log({**base, "type": np.full(n, "live_enter", dtype=object)})
        self._log({**base, "type": np.full(n, "play", dtype=object), "watch_ms": watch})
        self._count("events_live_enter", n)
        self._count("events_play", n)
        # A click on one of the room's products, more likely for a category of interest.
        lo = self.c_anchor_ptr[ci]
        count = self.c_anchor_ptr[ci + 1] - lo
        has = count > 0
        pick = lo + (rng.random(n) * count).astype(np.int64)
        anchor = np.where(has, self.c_anchor_items[np.minimum(pick, len(self.c_anchor_items) - 1)], 0)
        interest = self.category_interest[u, self.leaf_top[self.product_leaf[anchor]]] * len(vocab.CATEGORIES)
        click = has & (rng.random(n) < 0.2 * np.minimum(interest, 3.0) * (watch / 900_000.0))
        idx = np.flatnonzero(click)
        if not len(idx):
            return
        when = ts[idx] + (watch[idx] // 2) * 1000
        self._views(u[idx], anchor[idx], when, "live", content=cid[idx])

    # --- the mall, shop pages, product pages -----------------------------------------------------

    def _browse_sessions(self, users: np.ndarray, session_us: np.ndarray) -> None:
        if not len(users):
            return
        self._mall(users, session_us)
        self._shop_pages(users, session_us)
        self._product_pages(users, session_us)

    def _pick_by_sales(self, pool: np.ndarray, k: int) -> np.ndarray:
        """``k`` products of ``pool`` (indexes), best sellers more likely, as the mall's lists rank them."""
        pool = pool[self.p_sku[pool] >= 0]
        if not len(pool):
            return np.full(k, -1, dtype=np.int64)
        weight = np.cumsum(1.0 + self.p_sold[pool].astype(np.float64))
        at = np.searchsorted(weight, self.rng.random(k) * weight[-1])
        return pool[np.minimum(at, len(pool) - 1)]

    def _mall(self, users: np.ndarray, session_us: np.ndarray) -> None:
        """The mall: a category the shopper likes, then one of its best sellers."""
        rng = self.rng
        visiting = np.flatnonzero(rng.random(len(users)) < MALL_SHARE)
        if not len(visiting):
            return
        u = users[visiting]
        cum = np.cumsum(self.category_interest[u], axis=1)
        top = np.minimum((rng.random(len(u))[:, None] > cum).sum(axis=1), len(vocab.CATEGORIES) - 1)
        product = np.full(len(u), -1, dtype=np.int64)
        product_top = self.leaf_top[self.product_leaf]
        for t in np.unique(top).tolist():
            rows = np.flatnonzero(top == t)
            product[rows] = self._pick_by_sales(np.flatnonzero(product_top == t), len(rows))
        ok = product >= 0
        ts = session_us[visiting] + rng.integers(MINUTE_US, 20 * MINUTE_US, len(u))
        self._views(u[ok], product[ok], ts[ok], "mall")

    def _shop_pages(self, users: np.ndarray, session_us: np.ndarray) -> None:
        """A shop the shopper follows: its page, then one of its products."""
        rng = self.rng
        shop_follow = np.isin(self.follow_a, self.shop_account_ids)
        if not shop_follow.any():
            return
        visiting = users[rng.random(len(users)) < SHOP_PAGE_SHARE]
        fu, fa = self.follow_u[shop_follow], self.follow_a[shop_follow]
        mine = np.isin(fu, self.user_ids[visiting])
        fu, fa = fu[mine], fa[mine]
        if not len(fu):
            return
        # One followed shop per visitor, drawn at random among those they follow.
        order = np.lexsort((rng.random(len(fu)), fu))
        fu, fa = fu[order], fa[order]
        first = np.flatnonzero(np.r_[True, fu[1:] != fu[:-1]])
        visitor_ids, accounts = fu[first], fa[first]
        shop = np.searchsorted(self.shop_account_ids, accounts)  # shop accounts are made in shop order
        u = np.searchsorted(self.user_ids, visitor_ids)
        product = np.full(len(u), -1, dtype=np.int64)
        for s in np.unique(shop).tolist():
            rows = np.flatnonzero(shop == s)
            product[rows] = self._pick_by_sales(np.flatnonzero(self.product_shop == s), len(rows))
        ok = product >= 0
        ts = session_us[np.searchsorted(users, u)] + rng.integers(MINUTE_US, 30 * MINUTE_US, len(u))
        self._views(u[ok], product[ok], ts[ok], "shop_page")

    def _product_pages(self, users: np.ndarray, session_us: np.ndarray) -> None:
        """Back to a product bought before (from the order list): a repeat purchase starts here."""
        rng = self.rng
        returning = [
            (i, u) for i, u in enumerate(users.tolist()) if u in self.bought and rng.random() < PRODUCT_PAGE_SHARE
        ]  # fmt: skip
        if not returning:
            return
        rows = np.asarray([i for i, _ in returning], dtype=np.int64)
        u = users[rows]
        product = np.asarray(
            [self.bought[user][int(rng.integers(len(self.bought[user])))] for _, user in returning],
            dtype=np.int64,
        )
        ts = session_us[rows] + rng.integers(MINUTE_US, 30 * MINUTE_US, len(rows))
        self._views(u, product, ts, "product_page")

    def _views(
        self, u: np.ndarray, product: np.ndarray, ts: np.ndarray, channel: str, *, content: Any = None
    ) -> None:
        n = len(u)
        if not n:
            return
        batch: dict[str, Any] = {
            "ts": ts,
            "type": np.full(n, "product_view", dtype=object),
            "user_id": self.user_ids[u],
            "product_id": self.product_ids[product],
            "channel": np.full(n, channel, dtype=object),
        }
        if content is not None:
            batch["content_id"] = content
        if channel == "live":
            self._log({**batch, "type": np.full(n, "anchor_click", dtype=object)})
            self._count("events_anchor_click", n)
        self._log(batch)
        self._count("events_product_view", n)
        self._consider(
            u,
            product,
            ts,
            channels=np.full(n, channel),
            content=content if content is not None else np.full(n, -1, dtype=np.int64),
        )

    # --- questions before buying ------------------------------------------------------------------

    def _presale_questions(self, users: np.ndarray, products: np.ndarray, ts: np.ndarray) -> None:
        """Some product views start with a question to the shop (asked a little after the view)."""
        for i in np.flatnonzero(self.rng.random(len(users)) < PRESALE_QUESTION).tolist():
            self._at(int(ts[i]) + 20_000_000, "presale_ask", int(users[i]), int(products[i]))

    def _do_presale_ask(self, when: int, user: int, product: int) -> None:
        """A shopper asks the shop about a product (its card goes first); the shop answers after its
        hidden response time, as it answers buyers of its parcels, and closes the conversation. Nothing
        in the world waits on the answer, so the finished conversation is written with the day's others
        (:meth:`_record_presale`)."""
        rng = self.rng
        shop = int(self.product_shop[product])
        question = PRESALE_QUESTIONS[int(rng.integers(len(PRESALE_QUESTIONS)))]
        self._count("presale_questions")
        minutes = self.shop_hidden["shop_cs_response_minutes"][shop] * rng.lognormal(0.0, 0.5)
        answered = self._when(when + int(max(0.2, minutes) * MINUTE_US))
        self.presale_pending.append(
            AnsweredQuestion(
                user_id=int(self.user_ids[user]),
                shop_id=int(self.shop_ids[shop]),
                product_id=int(self.product_ids[product]),
                question=question,
                asked_at=self._when(when),
                agent_user_id=self._owner(shop),
                answer=PRESALE_ANSWER,
                answered_at=answered,
                closed_at=answered,
            )
        )

    def _record_presale(self, end_us: int) -> None:
        """Write the pre-sale conversations closed by ``end_us`` in one batch (support.bulk: the rows the
        one-at-a-time calls write, a few statements instead of a dozen per conversation); those still
        waiting for their answer wait for a later night. Runs before the night's jobs, which read the
        shops' reply times."""
        end = self._when(end_us)
        done = [q for q in self.presale_pending if q.closed_at <= end]
        self.presale_pending = [q for q in self.presale_pending if q.closed_at > end]
        if done:
            support_bulk.record_answered_questions(self.db, done)
            self.db.commit()
