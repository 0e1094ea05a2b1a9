"""Brushing rings (刷单): fake orders that buy a shop sales rank and five-star reviews.

Orders are a buyer × shop × time tensor with keys (delivery address, device, payment instrument).
A ring shows in several ways at once, none conclusive alone: its buyers share keys with each other
(people rarely share an address, phone and card with strangers buying in the same shop), buy the
shop's cheapest items again and again, confirm receipt at once and write five-star reviews from one
template. So, per shop:

1. buyers are linked when their orders (anywhere) share an address, device or payment key, and
   grouped into connected components (union-find);
2. each of the shop's orders gets a suspicion in [0, 1]: the mean of five signals (fast confirm, a
   cheap item for the shop, a five-star review, a key shared with another of the shop's buyers, a
   near-duplicate review text concentrated on the shop, from :mod:`zhongcao.integrity.review_text`);
3. the ring is the buyers whose orders at the shop average at least ``min_suspicion``, who either share
   keys with another such buyer or ordered there at least ``min_repeat`` times, and who spend most of
   their orders there (``min_focus``); a block needs ``min_accounts`` of them and ``min_orders`` orders.

Its orders are the ring buyers' orders at the shop; the score is their mean suspicion.

Until an order is confirmed and reviewed, only the shared keys can be seen; :func:`held_orders` keeps
the orders of linked buyers (and, at a shop where they are many, of its new customers) out of the sales
counters for a week, so a ring buys no rank while its evidence is on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
from zhongcao.integrity.inputs import UNKNOWN, Orders, Reviews
from zhongcao.integrity.review_text import ReviewTextConfig, review_text_blocks


@dataclass(frozen=True)
class BrushingConfig:
    fast_confirm_seconds: int = 36 * 3_600  # paid -> confirmed this fast is a signal
    cheap_quantile: float = 0.35  # an order at or below this quantile of the shop's order values
    min_suspicion: float = 0.55
    min_repeat: int = 2
    min_focus: float = 0.6  # share of the buyer's orders that went to this shop
    min_accounts: int = 3
    min_orders: int = 5
    review_text: ReviewTextConfig = ReviewTextConfig()


def _components(orders: Orders) -> dict[int, int]:
    """buyer -> component id, linking buyers whose orders share a known address, device or payment."""
    buyers = np.unique(orders.buyer_id).tolist()
    parent = {b: b for b in buyers}

    def find(b: int) -> int:
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    for keys in (orders.address_key, orders.device, orders.payment_key):
        known = keys != UNKNOWN
        first: dict[int, int] = {}
        for key, buyer in zip(keys[known].tolist(), orders.buyer_id[known].tolist(), strict=True):
            other = first.setdefault(key, buyer)
            if other != buyer:
                a, b = find(buyer), find(other)
                if a != b:
                    parent[a] = b
    return {b: find(b) for b in buyers}


def _shared_at_shop(comps: np.ndarray, buyers: np.ndarray) -> np.ndarray:
    """Per order of one shop (its buyer's component, its buyer): whether the buyer shares a key with
    another buyer of this shop, i.e. the component holds another of them."""
    comp_buyers: dict[int, set[int]] = {}
    for c, b in zip(comps.tolist(), buyers.tolist(), strict=True):
        comp_buyers.setdefault(c, set()).add(b)
    return np.asarray([len(comp_buyers[c]) >= 2 for c in comps.tolist()], dtype=bool)


def brushing_blocks(orders: Orders, reviews: Reviews, config: BrushingConfig | None = None) -> list[Block]:
    config = config or BrushingConfig()
    if not len(orders):
        return []
    component = _components(orders)
    comp = np.asarray([component[b] for b in orders.buyer_id.tolist()], dtype=np.int64)
    dup_orders: set[int] = set()
    for block in review_text_blocks(reviews, config.review_text):
        dup_orders |= set(block.order_ids.tolist())
    reviewed = {
        int(o): int(r) for o, r in zip(reviews.order_id.tolist(), reviews.rating.tolist(), strict=True)
    }
    per_buyer = dict(zip(*np.unique(orders.buyer_id, return_counts=True), strict=True))
    out = []
    for shop in np.unique(orders.shop_id).tolist():
        rows = np.flatnonzero(orders.shop_id == shop)
        if len(rows) < config.min_orders:
            continue
        o = orders.order_id[rows]
        buyer = orders.buyer_id[rows]
        fast = (orders.confirm_seconds[rows] != UNKNOWN) & (
            orders.confirm_seconds[rows] <= config.fast_confirm_seconds
        )
        cheap = orders.paid_fen[rows] <= np.quantile(orders.paid_fen[rows], config.cheap_quantile)
        five = np.asarray([reviewed.get(int(x)) == 5 for x in o.tolist()])
        dup = np.isin(o, np.fromiter(dup_orders, dtype=np.int64, count=len(dup_orders)))
        shared = _shared_at_shop(comp[rows], buyer)
        suspicion = (fast.astype(float) + cheap + five + shared + dup) / 5.0
        ring = []
        for b in np.unique(buyer).tolist():
            mine = buyer == b
            n = int(mine.sum())
            if suspicion[mine].mean() < config.min_suspicion or n / per_buyer[b] < config.min_focus:
                continue
            if n >= config.min_repeat or shared[mine].any():
                ring.append(b)
        ring_rows = np.isin(buyer, ring)
        if len(ring) < config.min_accounts or ring_rows.sum() < config.min_orders:
            continue
        ts = orders.ts[rows][ring_rows]
        keys = {}
        for name, col in (
            ("addresses", orders.address_key),
            ("devices", orders.device),
            ("payments", orders.payment_key),
        ):
            values = col[rows][ring_rows]
            values = values[values != UNKNOWN]
            keys[name] = int((np.unique(values, return_counts=True)[1] >= 2).sum()) if len(values) else 0
        out.append(
            Block(
                kind=BlockKind.brushing,
                target_kind=TargetKind.shop,
                accounts=np.asarray(sorted(ring), dtype=np.int64),
                targets=np.asarray([shop], dtype=np.int64),
                start=datetime.fromtimestamp(int(ts.min()), UTC),
                end=datetime.fromtimestamp(int(ts.max()), UTC),
                events=int(ring_rows.sum()),
                density=float(ring_rows.sum() / len(ring)),
                score=float(np.clip(suspicion[ring_rows].mean(), 0.0, 1.0)),
                order_ids=np.sort(o[ring_rows]).astype(np.int64),
                evidence={
                    "orders": int(ring_rows.sum()),
                    "shop_orders": int(len(rows)),
                    "fast_confirm_share": round(float(fast[ring_rows].mean()), 3),
                    "cheap_share": round(float(cheap[ring_rows].mean()), 3),
                    "five_star_share": round(float(five[ring_rows].mean()), 3),
                    "near_duplicate_reviews": int(dup[ring_rows].sum()),
                    "shared_addresses": keys["addresses"],
                    "shared_devices": keys["devices"],
                    "shared_payments": keys["payments"],
                },
            )
        )
    return out


HOLD_SECONDS = 7 * 86_400  # as long as the nightly scan looks back: every hold gets seven verdicts


@dataclass(frozen=True)
class HoldConfig:
    hold_seconds: int = HOLD_SECONDS
    # A shop is suspected when this share of its recent orders, from at least ``suspect_buyers``
    # buyers, come from buyers sharing keys with each other: a ring, not one household or office
    # (an office's colleagues share an address too, but they are a small share of a shop's buyers).
    suspect_share: float = 0.2
    suspect_buyers: int = 3


def customers_before(orders: Orders, before_s: int) -> set[tuple[int, int]]:
    """(buyer, shop) pairs with an order paid before ``before_s``: the shop's returning customers."""
    old = orders.ts < before_s
    return set(zip(orders.buyer_id[old].tolist(), orders.shop_id[old].tolist(), strict=True))


def held_orders(
    orders: Orders,
    now_s: int,
    *,
    flagged_buyers: np.ndarray | None = None,
    returning: set[tuple[int, int]] | None = None,
    config: HoldConfig = HoldConfig(),
) -> np.ndarray:
    """Orders whose sales wait for their evidence: paid less than ``config.hold_seconds`` before
    ``now_s`` and

    1. paid by a buyer sharing an address, device or payment instrument with another buyer of the same
       shop (a ring's shared keys show the moment it pays), or
    2. paid by an account already flagged (``flagged_buyers``), before the scan convicts the order, or
    3. paid at a *suspected* shop (see :class:`HoldConfig`) by a buyer new to it: not in ``returning``,
       the (buyer, shop) pairs that bought there before the hold window (:func:`customers_before`).
       A ring member paying with only its own keys looks like any new customer until its confirmation
       and review arrive; at a shop where a ring is showing, new customers' sales wait with the ring's.

    A ring's order is convicted by signals (a fast confirmation, a five-star review from the template,
    enough of the ring's orders to make a block) that arrive over the days after payment, and until then
    its units would lift the shop's sales rank. Holding is not flagging: nothing is penalised, the order
    counts once it is ``hold_seconds`` old unless :func:`brushing_blocks` has caught it by then. An
    honest household sharing an address, or an honest new customer of a suspected shop, waits a week
    for its sales to show, as long as the seven-day no-reason return window keeps them uncertain anyway."""
    recent = orders.ts > now_s - config.hold_seconds
    if not recent.any():
        return np.zeros(0, dtype=np.int64)
    component = _components(orders)
    comp = np.asarray([component[b] for b in orders.buyer_id.tolist()], dtype=np.int64)
    flagged = (
        np.isin(orders.buyer_id, flagged_buyers)
        if flagged_buyers is not None and len(flagged_buyers)
        else np.zeros(len(orders), dtype=bool)
    )
    known = returning if returning is not None else customers_before(orders, now_s - config.hold_seconds)
    held: list[np.ndarray] = []
    for shop in np.unique(orders.shop_id[recent]).tolist():
        every = np.flatnonzero(orders.shop_id == shop)  # linked through any order of the lookback
        now_rows = recent[every]
        rows = every[now_rows]
        buyers = orders.buyer_id[rows]
        linked = _shared_at_shop(comp[every], orders.buyer_id[every])[now_rows]
        hold = linked | flagged[rows]
        linked_buyers = np.unique(buyers[linked])
        if len(linked_buyers) >= config.suspect_buyers and linked.mean() >= config.suspect_share:
            hold |= np.asarray([(b, shop) not in known for b in buyers.tolist()], dtype=bool)
        held.append(orders.order_id[rows][hold])
    return np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
