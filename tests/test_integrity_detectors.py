"""The integrity detectors on planted attacks in a synthetic organic background (issue #19)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.demotion import FlaggedIntegrityHook
from zhongcao.integrity.dense_block import fraudar
from zhongcao.integrity.detect import DetectConfig, detect_blocks
from zhongcao.integrity.discount import (
    Flags,
    flags_from_blocks,
    surviving_events,
    surviving_orders,
    surviving_reviews,
)
from zhongcao.integrity.explain import MESSAGES, describe
from zhongcao.integrity.inputs import UNKNOWN, Action, Engagement, IntegrityInputs, Orders, Reviews
from zhongcao.integrity.review_text import near_duplicate_clusters
from zhongcao.integrity.velocity import VelocityConfig, VelocityState, velocity_update

NOW = datetime(2026, 12, 10, tzinfo=UTC)
DAY0 = int(NOW.timestamp()) - 86_400
HEAVY = 999  # an organic heavy user
FARM = np.arange(5_000, 5_020)
FARM_TARGETS = np.asarray([9_001, 9_002, 9_003, 9_004])
SCRIPT = 6_000
RING = np.arange(7_000, 7_006)
RING_SHOP = 77


def _organic(rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """(action, user, target, ts): 300 people viewing Zipf-popular items at their own times."""
    rows = []
    popularity = 1.0 / np.arange(1, 501) ** 0.8
    popularity /= popularity.sum()
    for user in range(1, 301):
        n = int(rng.integers(5, 20))
        items = rng.choice(500, size=n, replace=False, p=popularity) + 1
        start = DAY0 + int(rng.beta(2.2, 1.4) * 16 * 3_600)
        for k, item in enumerate(items.tolist()):
            ts = start + 25 * k
            rows.append((int(Action.view), user, item, ts))
            if rng.random() < 0.1:
                rows.append((int(Action.like), user, item, ts + 5))
    # The heavy user: 80 views over the day, a few sessions, popular items.
    for k, item in enumerate((rng.choice(500, size=80, replace=False, p=popularity) + 1).tolist()):
        rows.append((int(Action.view), HEAVY, item, DAY0 + 3_600 * (k // 20) * 4 + 25 * (k % 20)))
        rows.append((int(Action.like), HEAVY, item, DAY0 + 3_600 * (k // 20) * 4 + 25 * (k % 20) + 5))
    return rows


def _farm(rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    rows = []
    for burst in (DAY0 + 10 * 3_600, DAY0 + 20 * 3_600):
        for user in FARM.tolist():
            for target in FARM_TARGETS.tolist():
                ts = burst + int(rng.integers(0, 1_800))
                rows.append((int(Action.view), user, target, ts))
                rows.append((int(Action.like), user, target, ts + 5))
            for item in (rng.integers(1, 30, size=6)).tolist():  # camouflage on popular items
                rows.append((int(Action.view), user, item, DAY0 + int(rng.integers(0, 86_000))))
    return rows


def _script() -> list[tuple[int, int, int, int]]:
    return [(int(Action.view), SCRIPT, 9_100, DAY0 + 5 * 3_600 + 20 * k) for k in range(40)]


def engagement(*parts: list[tuple[int, int, int, int]]) -> Engagement:
    rows = sorted((r for p in parts for r in p), key=lambda r: r[3])
    a, u, t, s = (np.asarray(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return Engagement(
        action=a.astype(np.int8),
        user_id=u.astype(np.int64),
        target_id=t.astype(np.int64),
        ts=s.astype(np.int64),
        device=np.full(n, UNKNOWN, dtype=np.int64),
        ip=np.full(n, UNKNOWN, dtype=np.int64),
    )


GENERIC = ("非常好用，物流也快，推荐！", "不错，挺满意的", "一般般，物流有点慢", "Good, quite satisfied")
TEMPLATE = (
    ("收到了", "宝贝收到了", "刚收到"),
    ("质量非常好，和描述完全一致", "做工精细，质量超好"),
    ("卖家发货超快，五星好评！", "物流超快，五星好评推荐购买！"),
)


def orders_and_reviews(rng: np.random.Generator, ring: bool = True) -> tuple[Orders, Reviews]:
    rows, reviews = [], []
    order_id = 1
    for buyer in range(1, 301):  # organic: one or two orders anywhere, slow confirms, generic reviews
        for _ in range(int(rng.integers(1, 3))):
            shop = int(rng.integers(1, 21))
            ts = DAY0 - int(rng.integers(0, 20 * 86_400))
            confirm = int(rng.uniform(2, 8) * 86_400) if rng.random() < 0.5 else UNKNOWN
            rows.append((order_id, buyer, shop, int(rng.integers(2_000, 30_000)), ts, buyer * 7 + 1, confirm))
            if rng.random() < 0.4:
                reviews.append(
                    (order_id, buyer, shop, ts + 86_400 * 3, 5, GENERIC[int(rng.integers(len(GENERIC)))])
                )
            order_id += 1
    for k in range(40):  # organic buyers of the ring's shop too
        ts = DAY0 - int(rng.integers(0, 20 * 86_400))
        rows.append(
            (order_id, 400 + k, RING_SHOP, int(rng.integers(2_000, 30_000)), ts, (400 + k) * 7 + 1, UNKNOWN)
        )
        order_id += 1
    ring_orders = []
    if ring:
        for k in range(24):
            buyer = int(RING[k % len(RING)])
            ts = DAY0 - int(rng.integers(0, 10 * 86_400))
            key = 424_242 + (k % 2) if rng.random() < 0.7 else buyer * 7 + 1
            rows.append((order_id, buyer, RING_SHOP, 990, ts, key, int(rng.uniform(0.5, 1.3) * 86_400)))
            text = "，".join(t[int(rng.integers(len(t)))] for t in TEMPLATE)
            reviews.append((order_id, buyer, RING_SHOP, ts + 90_000, 5, text))
            ring_orders.append(order_id)
            order_id += 1
    o, b, s, p, t, key, c = (np.asarray(x) for x in zip(*rows, strict=True))
    orders = Orders(
        order_id=o, buyer_id=b, shop_id=s, product_id=o * 10, ts=t, paid_fen=p, address_key=key,
        device=np.full(len(o), UNKNOWN), payment_key=np.full(len(o), UNKNOWN), confirm_seconds=c,
        refunded=np.zeros(len(o), dtype=bool),
    )  # fmt: skip
    ro, ru, rs, rt, rr, text = zip(*reviews, strict=True)
    rv = Reviews(
        review_id=np.arange(len(ro), dtype=np.int64) + 1, user_id=np.asarray(ru), shop_id=np.asarray(rs),
        order_id=np.asarray(ro), ts=np.asarray(rt), rating=np.asarray(rr, dtype=np.int8), text=tuple(text),
    )  # fmt: skip
    return orders, rv


@pytest.fixture(scope="module")
def planted() -> tuple[IntegrityInputs, list]:  # type: ignore[type-arg]
    rng = np.random.default_rng(7)
    orders, reviews = orders_and_reviews(rng)
    inputs = IntegrityInputs(
        now=NOW, engagement=engagement(_organic(rng), _farm(rng), _script()), orders=orders, reviews=reviews
    )
    return inputs, detect_blocks(inputs)


def test_farm_is_found_in_lockstep_and_its_camouflage_ignored(planted) -> None:  # type: ignore[no-untyped-def]
    _, blocks = planted
    farm = [b for b in blocks if b.kind is BlockKind.engagement]
    assert farm, "the farm was not found"
    flagged = set().union(*(set(b.accounts.tolist()) for b in farm))
    assert flagged == set(FARM.tolist())
    for block in farm:
        assert set(block.targets.tolist()) == set(FARM_TARGETS.tolist())  # no popular camouflage item
        assert block.score >= 0.9 and block.evidence["in_burst_share"] > 0.9


def test_scripted_views_break_a_velocity_rule(planted) -> None:  # type: ignore[no-untyped-def]
    _, blocks = planted
    velocity = [b for b in blocks if b.kind is BlockKind.velocity]
    assert [b.accounts.tolist() for b in velocity] == [[SCRIPT]]
    assert velocity[0].evidence["same_target"] is True
    assert velocity[0].targets.tolist() == [9_100]


def test_brushing_ring_and_its_orders_are_found(planted) -> None:  # type: ignore[no-untyped-def]
    inputs, blocks = planted
    ring = [b for b in blocks if b.kind is BlockKind.brushing]
    assert len(ring) == 1
    assert set(ring[0].accounts.tolist()) == set(RING.tolist())
    assert ring[0].targets.tolist() == [RING_SHOP]
    ring_orders = set(inputs.orders.order_id[np.isin(inputs.orders.buyer_id, RING)].tolist())
    assert set(ring[0].order_ids.tolist()) == ring_orders
    assert ring[0].evidence["shared_addresses"] >= 1 and ring[0].evidence["near_duplicate_reviews"] > 10
    text = [b for b in blocks if b.kind is BlockKind.review_text]
    assert text and all(b.targets.tolist() == [RING_SHOP] for b in text)


def test_organic_heavy_user_and_generic_reviews_are_not_flagged(planted) -> None:  # type: ignore[no-untyped-def]
    _, blocks = planted
    flags = flags_from_blocks(blocks)
    organic = flags.accounts[(flags.accounts < 1_000)]
    assert HEAVY not in flags.accounts.tolist()
    assert organic.tolist() == []


def test_nothing_is_flagged_without_attacks() -> None:
    rng = np.random.default_rng(11)
    orders, reviews = orders_and_reviews(rng, ring=False)
    inputs = IntegrityInputs(now=NOW, engagement=engagement(_organic(rng)), orders=orders, reviews=reviews)
    assert flags_from_blocks(detect_blocks(inputs)).accounts.tolist() == []


def test_every_block_is_explained_in_both_languages(planted) -> None:  # type: ignore[no-untyped-def]
    _, blocks = planted
    kinds = set()
    for block in blocks:
        words = describe(block)
        assert words["zh"] and words["en"] and words["zh"] != words["en"]
        assert "{" not in words["zh"] + words["en"]
        kinds.add(block.kind)
    assert kinds == set(BlockKind)
    farm = next(b for b in blocks if b.kind is BlockKind.engagement and b.evidence["action"] == "like")
    assert describe(farm)["en"].startswith("20 accounts liked the same 4 targets")
    assert describe(farm)["zh"].startswith("20 个账号")
    assert all(isinstance(v, tuple) and len(v) == 2 for v in MESSAGES.values())


def test_velocity_update_in_batches_flags_as_one_batch_does() -> None:
    e = engagement(_script(), [(int(Action.view), 1, 5, DAY0 + 3_600)])
    whole_state, whole = velocity_update(VelocityState(), e)
    state, hits = VelocityState(), []
    for lo in range(0, len(e), 7):
        part = Engagement(
            *(getattr(e, f)[lo : lo + 7] for f in ("action", "user_id", "target_id", "ts", "device", "ip"))
        )
        state, new = velocity_update(state, part)
        hits += new
    assert [h.account for h in hits] == [h.account for h in whole] == [SCRIPT]
    assert len(state.ts) <= len(e) and state.flagged.keys() == {SCRIPT}
    # The state keeps only the longest rule's window.
    assert state.ts.min() >= state.ts.max() - VelocityConfig().horizon_seconds


def test_fraudar_prefers_the_dense_block_over_popular_columns() -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    m = (rng.random((200, 300)) < 0.02).astype(float)
    m[:, :5] = rng.random((200, 5)) < 0.5  # popular columns everyone touches
    m[180:, 290:] = 1.0  # 20 accounts × 10 targets
    block = fraudar(sp.csr_matrix(m))
    assert set(range(180, 200)) <= set(block.rows.tolist())
    assert set(range(290, 300)) <= set(block.cols.tolist())
    assert len(block.rows) == 20  # no organic account rides along on the popular columns
    assert len(block.cols) <= 13  # popular columns (camouflage) weigh little: at most a few stay


def test_near_duplicates_cluster_and_short_texts_do_not() -> None:
    clusters = near_duplicate_clusters(
        [
            "收到了，质量非常好，和描述完全一致，卖家发货超快，五星好评！",
            "收到了，质量非常好，和描述完全一致，物流超快，五星好评推荐购买！",
            "很好",
            "完全不同的一段文字内容在这里",
        ]
    )
    assert clusters[0] == clusters[1] and clusters[2] == -1 and clusters[3] != clusters[0]


def test_discount_helpers_and_the_feed_hook() -> None:
    flags = Flags(
        accounts=np.asarray([5], dtype=np.int64),
        content=np.asarray([100], dtype=np.int64),
        target_accounts=np.asarray([40], dtype=np.int64),
        orders=np.asarray([9], dtype=np.int64),
    )
    assert surviving_events(np.asarray([4, 5, 6]), flags).tolist() == [True, False, True]
    assert surviving_orders(np.asarray([8, 9]), flags).tolist() == [True, False]
    assert surviving_reviews(np.asarray([8, 9, 8]), np.asarray([1, 1, 5]), flags).tolist() == [
        True,
        False,
        False,
    ]
    assert surviving_events(np.asarray([5]), Flags()).tolist() == [True]  # a dismissed flag restores all

    class Catalog:
        content_ids = np.asarray([100, 101, 102, 103])
        account_ids = np.asarray([1, 5, 40, 2])

    hook = FlaggedIntegrityHook(flags)
    assert hook.multipliers(Catalog(), np.asarray([0, 1, 2, 3])).tolist() == [0.5, 0.0, 0.5, 1.0]
    with pytest.raises(ValueError):
        FlaggedIntegrityHook(flags, target_multiplier=2.0)


def test_detectors_can_be_switched_off() -> None:
    rng = np.random.default_rng(5)
    orders, reviews = orders_and_reviews(rng)
    inputs = IntegrityInputs(
        now=NOW, engagement=engagement(_organic(rng), _farm(rng)), orders=orders, reviews=reviews
    )
    blocks = detect_blocks(inputs, DetectConfig(velocity=None, lockstep=None, review_text=None))
    assert {b.kind for b in blocks} == {BlockKind.brushing}
    assert all(b.target_kind is TargetKind.shop for b in blocks)


def test_explanations_are_in_the_pages_catalogs() -> None:
    import re

    from zhongcao.web.i18n import translate

    for key, (zh, en) in MESSAGES.items():
        params = {name: f"<{name}>" for name in re.findall(r"{(\w+)}", zh + en)}
        assert translate("zh", key, **params) == zh.format(**params)
        assert translate("en", key, **params) == en.format(**params)


def test_the_hook_demotes_in_the_feeds_rerank() -> None:
    from tests.feed_helpers import synthetic_catalog
    from zhongcao.feed.rerank import RerankConfig, rerank

    catalog = synthetic_catalog(accounts=[1, 2, 3, 4, 5, 6], shops=[-1] * 6, categories=[0, 1, 2, 0, 1, 2])
    # Content 1 bought engagement (demoted); account 2 is a flagged bot (its content is never shown).
    hook = FlaggedIntegrityHook(Flags(accounts=np.asarray([2]), content=np.asarray([1])))
    codes = np.arange(6)
    scores = np.asarray([10.0, 9.0, 8.0, 7.0, 6.0, 5.0])
    page, adjusted = rerank(catalog, codes, scores, 6, RerankConfig(), integrity=hook)
    assert 1 not in page.tolist()  # code 1 = content 2, by the flagged account
    assert page.tolist().index(0) > 0 and adjusted[page.tolist().index(0)] == 5.0


def test_held_orders_are_the_recent_orders_of_a_ring_and_of_its_shops_new_customers(planted) -> None:  # type: ignore[no-untyped-def]
    from zhongcao.integrity.brushing import HOLD_SECONDS, held_orders

    inputs, _ = planted
    o = inputs.orders
    held = set(held_orders(o, DAY0).tolist())
    recent = o.ts > DAY0 - HOLD_SECONDS
    ring = np.isin(o.buyer_id, RING)
    at_ring_shop = o.shop_id == RING_SHOP
    # Every recent ring order is held, those paid with the member's own address too: the shop is
    # suspected (most of its recent orders come from buyers sharing addresses), so its new customers'
    # sales wait, and the ring's members are new customers.
    assert set(o.order_id[ring & recent].tolist()) <= held
    assert (ring & recent & ~np.isin(o.address_key, [424_242, 424_243])).any()  # own-address ones exist
    assert held <= set(o.order_id[at_ring_shop & recent].tolist())  # nothing at any other shop
    # The suspected shop's returning customers are not held, only its new ones.
    organic_here = at_ring_shop & ~ring
    returning = set(zip(o.buyer_id[organic_here].tolist(), o.shop_id[organic_here].tolist(), strict=True))
    kept = set(held_orders(o, DAY0, returning=returning).tolist())
    assert kept == set(o.order_id[ring & recent].tolist())
    assert held_orders(o, DAY0 + 30 * 86_400).tolist() == []  # a week later everything counts
    organic, _ = orders_and_reviews(np.random.default_rng(11), ring=False)
    assert held_orders(organic, DAY0).tolist() == []
    # An account already flagged: its recent orders wait for the scan's verdict, wherever they are.
    buyer = int(organic.buyer_id[np.flatnonzero(organic.ts > DAY0 - HOLD_SECONDS)[0]])
    flagged = set(held_orders(organic, DAY0, flagged_buyers=np.asarray([buyer])).tolist())
    assert flagged == set(
        organic.order_id[(organic.buyer_id == buyer) & (organic.ts > DAY0 - HOLD_SECONDS)].tolist()
    )


def test_one_household_does_not_make_a_shop_suspected() -> None:
    from zhongcao.integrity.brushing import held_orders

    # Twenty buyers of one shop this week, two of them at one address: their orders are held, the
    # shop's other new customers are not (two linked buyers, 10% of its orders, is no ring).
    n = 20
    buyers = np.arange(1, n + 1)
    address = buyers * 7 + 1
    address[1] = address[0]
    o = Orders(
        order_id=buyers + 100, buyer_id=buyers, shop_id=np.full(n, 5), product_id=buyers, ts=np.full(n, DAY0 - 3_600),
        paid_fen=np.full(n, 1_000), address_key=address, device=np.full(n, UNKNOWN), payment_key=np.full(n, UNKNOWN),
        confirm_seconds=np.full(n, UNKNOWN), refunded=np.zeros(n, dtype=bool),
    )  # fmt: skip
    assert held_orders(o, DAY0).tolist() == [101, 102]
    # Five households sharing keys among them (a ring's shape) among twenty buyers: the shop is suspected.
    address[2:5] = address[0]
    assert held_orders(o, DAY0).tolist() == list(range(101, 121))
