"""Discounting (issue #19, part B): flagged engagement and brushed orders count nowhere -- displayed
like and follower counts, the feed's event log (its counters, features, trending and co-visitation),
search's behaviour, Compass, the experience score -- flagged items are demoted in the feed, and
dismissing the case restores every one of them. One test per place."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.commerce_helpers import ADDRESS, completed_order, make_content
from tests.factories import auth, make_creator, make_user
from tests.feed_helpers import synthetic_catalog
from tests.integrity_helpers import block, dismiss, flag
from zhongcao import clock, integrity_flows
from zhongcao.compass import service as compass_service
from zhongcao.compass.snapshot import write_snapshot
from zhongcao.content import service as content_service
from zhongcao.events import service as events_service
from zhongcao.events.store import SegmentEventStore
from zhongcao.experience import indicators
from zhongcao.feed import event_log
from zhongcao.feed.popularity import Popularity
from zhongcao.feed.rerank import RerankConfig, rerank
from zhongcao.integrity import published
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.demotion import PublishedFlagDemotion
from zhongcao.integrity.models import FlagKind
from zhongcao.reviews import service as reviews_service
from zhongcao.search import ltr

FARM = [900_001, 900_002, 900_003, 900_004]
FAN = 900_100
_ids = itertools.count(5_000_000)


@pytest.fixture
def store(tmp_path, settings):
    s = SegmentEventStore(tmp_path / "events")
    s.discount = events_service.flagged_users_reader(settings)
    yield s
    s.close()


_flag = flag
_dismiss = dismiss


def _engagement(store, users, contents, kind="like", **extra) -> None:
    at = clock.now() - timedelta(hours=1)
    rows = [(u, c) for u in users for c in contents]
    store.append(
        {
            "event_id": [f"{kind}-{next(_ids)}" for _ in rows],
            "ts": [at + timedelta(seconds=i) for i in range(len(rows))],
            "type": [kind] * len(rows),
            "user_id": [u for u, _ in rows],
            "content_id": [c for _, c in rows],
            **{k: [v] * len(rows) for k, v in extra.items()},
        }
    )


def test_displayed_like_counts(db, settings, database) -> None:
    store = events_service.get_store(settings, database)  # the configured store: segments or PostgreSQL
    paid, organic = next(_ids), next(_ids)
    _engagement(store, FARM, [paid])
    _engagement(store, [FAN], [paid, organic])
    assert events_service.counts_by_content("like", store=store).get(paid) == 5
    case_id = _flag(db, settings, block(FARM, [paid]))
    counts = events_service.counts_by_content("like", store=store)
    assert counts.get(paid) == 1 and counts.get(organic) == 1
    _dismiss(db, settings, case_id)
    assert events_service.counts_by_content("like", store=store).get(paid) == 5


def test_displayed_follower_counts(client, db, settings) -> None:
    _, account = make_creator(db)
    fans = [make_user(db) for _ in range(4)]
    for fan in fans:
        content_service.follow_account(db, fan.id, account.id)
    bought = [f.id for f in fans[:3]]
    assert client.get(f"/api/accounts/{account.id}").json()["follower_count"] == 4
    case_id = _flag(db, settings, block(bought, [account.id], target_kind=TargetKind.account))
    assert client.get(f"/api/accounts/{account.id}").json()["follower_count"] == 1
    viewer = make_user(db)
    followed = client.put(f"/api/accounts/{account.id}/follow", headers=auth(db, viewer))
    assert followed.json()["follower_count"] == 2
    _dismiss(db, settings, case_id)
    assert client.get(f"/api/accounts/{account.id}").json()["follower_count"] == 5


def test_the_feeds_event_log_and_trending(db, settings, store) -> None:
    paid, organic = next(_ids), next(_ids)
    _engagement(store, FARM, [paid])
    _engagement(store, [FAN], [organic])
    _engagement(store, FARM, [organic], kind="play", watch_ms=500)  # camouflage on an organic item

    def trending() -> dict[int, float]:
        log = event_log.load_events(store)
        items = np.unique(log.content[log.content > 0], return_inverse=True)
        pop = Popularity(half_life=None).fit_items(items[1], np.zeros(len(items[1])), len(items[0]))
        return dict(zip(items[0].tolist(), pop.scores.tolist(), strict=True))

    assert round(trending()[paid]) == 4 and round(trending()[organic]) == 5  # 4 plays of camouflage
    case_id = _flag(db, settings, block(FARM, [paid]))
    log = event_log.load_events(store)  # what training, catch-up, co-visitation and features read
    assert not np.isin(log.user, FARM).any()
    assert paid not in trending() and round(trending()[organic]) == 1
    _dismiss(db, settings, case_id)
    assert np.isin(event_log.load_events(store).user, FARM).sum() == 8


def test_searchs_behaviour(db, settings, store) -> None:
    product = next(_ids)
    at = clock.now() - timedelta(hours=1)
    store.append(
        {"type": ["product_view"] * 5, "user_id": [*FARM, FAN], "product_id": [product] * 5, "ts": [at] * 5}
    )
    con = store.connect()
    assert len([e for e in ltr.behaviour_events(con) if e[3] == product]) == 5
    con.close()
    case_id = _flag(db, settings, block(FARM, [product], target_kind=TargetKind.product))
    con = store.connect()
    assert [e[2] for e in ltr.behaviour_events(con) if e[3] == product] == [FAN]
    con.close()
    _dismiss(db, settings, case_id)
    con = store.connect()
    assert len([e for e in ltr.behaviour_events(con) if e[3] == product]) == 5
    con.close()


def _brushed_shop(db, n_brushed: int = 2):
    # Each at its own address: what discounts here is the case's flags, not the hold on shared keys.
    honest = completed_order(db, address={**ADDRESS, "line": "文一西路 1 号"})
    rings = [
        completed_order(
            db, shop=honest.shop, product=honest.product, address={**ADDRESS, "line": f"天目山路 {i} 号"}
        )
        for i in range(n_brushed)
    ]
    for bundle in rings:
        reviews_service.create_review(
            db, bundle.buyer.id, bundle.order.id, bundle.item.id, rating=5, text="好评"
        )
    reviews_service.create_review(db, honest.buyer.id, honest.order.id, honest.item.id, rating=1, text="差")
    db.commit()
    b = block(
        [r.buyer.id for r in rings],
        [honest.shop.shop.id],
        kind=BlockKind.brushing,
        target_kind=TargetKind.shop,
        orders=[r.order.id for r in rings],
    )
    return honest, rings, b


def test_compass(db, settings, store, tmp_path) -> None:
    honest, rings, b = _brushed_shop(db)
    creator_content = make_content(db, honest.shop.account, [honest.product])
    _engagement(store, FARM, [creator_content.id], kind="impression")
    _engagement(store, [FAN], [creator_content.id], kind="impression")

    def snapshot(name: str) -> dict:
        out = tmp_path / name
        write_snapshot(db, store, out)
        sales = pq.read_table(out / "sales.parquet")
        ratings = pq.read_table(out / "reviews.parquet")["rating"].to_pylist()
        daily = pq.read_table(out / "content_daily.parquet")
        impressions = sum(daily["impressions"].to_pylist())
        figures = compass_service.core_data(
            compass_service.duckdb_engine(out), honest.shop.shop.id, clock.now().date()
        ).current  # what the merchant's Compass shows, computed from the snapshot
        return {
            "orders": sorted(set(sales["order_id"].to_pylist())),
            "ratings": sorted(ratings),
            "impressions": impressions,
            "figures": (figures.orders, figures.buyers, figures.gmv_fen),
        }

    before = snapshot("before")
    assert len(before["orders"]) == 3 and before["ratings"] == [1, 5, 5] and before["impressions"] == 5
    assert before["figures"][:2] == (3, 3)
    case_id = _flag(db, settings, b)
    integrity_service.record_blocks(db, [block(FARM, [creator_content.id])])
    integrity_flows.publish_flags(db, settings)
    published.forget()
    during = snapshot("during")
    assert during == {
        "orders": [honest.order.id],
        "ratings": [1],
        "impressions": 1,
        "figures": (1, 1, before["figures"][2] // 3),
    }
    _dismiss(db, settings, case_id)
    after = snapshot("after")
    assert after["orders"] == before["orders"] and after["figures"] == before["figures"]


def test_the_experience_score_and_the_rating(db, settings) -> None:
    honest, rings, b = _brushed_shop(db)
    shop_id = honest.shop.shop.id

    def inputs():
        (found,) = [
            s for s in indicators.gather(db, clock.now() + timedelta(minutes=1)) if s.shop_id == shop_id
        ]
        return found

    assert inputs().orders == 3 and inputs().values["bad_review_rate"] == pytest.approx(1 / 3)
    assert reviews_service.rating_summary(db, honest.product.id).average_rating_centi == 367
    case_id = _flag(db, settings, b)
    assert inputs().orders == 1 and inputs().values["bad_review_rate"] == 1.0  # five stars bought nothing
    assert reviews_service.rating_summary(db, honest.product.id).count == 1  # the product's rating too
    _dismiss(db, settings, case_id)
    assert inputs().orders == 3
    assert reviews_service.rating_summary(db, honest.product.id).count == 3


def test_held_orders_rating_and_score_part_wait_with_their_sales(db, settings) -> None:
    """Three buyers at one address (a ring before its evidence) and a new customer of the shop: held
    for a week, their five stars lift no rating and get the shop no score; after the week they count."""
    honest = completed_order(db, address={**ADDRESS, "line": "文一西路 1 号"})
    rings = [
        completed_order(db, shop=honest.shop, product=honest.product) for _ in range(3)
    ]  # shared ADDRESS
    for bundle in [honest, *rings]:
        reviews_service.create_review(
            db, bundle.buyer.id, bundle.order.id, bundle.item.id, rating=5, text="好评"
        )
    db.commit()
    shop_id, product_id = honest.shop.shop.id, honest.product.id

    def orders_scored(now) -> int:  # type: ignore[no-untyped-def]
        return next(s.orders for s in indicators.gather(db, now) if s.shop_id == shop_id)

    now = clock.now() + timedelta(minutes=1)
    assert orders_scored(now) == 4 and reviews_service.rating_summary(db, product_id).count == 4
    integrity_flows.publish_flags(db, settings)
    assert orders_scored(now) == 0 and reviews_service.rating_summary(db, product_id).count == 0
    assert integrity_service.active_flags(db).of_kind(FlagKind.order).tolist() == []  # held, not flagged
    later = clock.now() + timedelta(days=7, hours=1)
    with clock.frozen(later):
        integrity_flows.publish_flags(db, settings)
    assert orders_scored(later) == 4 and reviews_service.rating_summary(db, product_id).count == 4


def test_the_feed_demotes_flagged_items(db, settings) -> None:
    # Items 0-3 (content ids 1-4): account 1 bought likes for content 2; shop 11 brushed its orders.
    catalog = synthetic_catalog(accounts=[1, 2, 3, 4], shops=[10, 10, 11, 12], categories=[0, 1, 2, 0])
    hook = PublishedFlagDemotion(settings.models_dir)
    codes = np.arange(4)
    assert hook.multipliers(catalog, codes).tolist() == [1, 1, 1, 1]
    case_id = _flag(db, settings, block(FARM, [2]))
    _flag(db, settings, block([77], [11], kind=BlockKind.brushing, target_kind=TargetKind.shop, orders=[5]))
    demoted = hook.multipliers(catalog, codes)
    assert demoted[0] == 1 and demoted[3] == 1 and demoted[1] < 0.1 and demoted[2] < 0.1
    page, _ = rerank(catalog, codes, np.asarray([1.0, 5.0, 4.0, 0.5]), 4, RerankConfig(), integrity=hook)
    assert page.tolist()[:2] == [0, 3]  # the bought items fall below honest ones that scored lower
    _dismiss(db, settings, case_id)
    assert hook.multipliers(catalog, codes)[1] == 1


def test_nps_leaves_out_ring_answers(db, settings) -> None:
    from zhongcao.experience import surveys

    honest, rings, b = _brushed_shop(db)
    shop_id = honest.shop.shop.id
    surveys.submit_nps(db, honest.buyer.id, score=2, trigger="after_delivery", order_id=honest.order.id)
    for bundle in rings:
        surveys.submit_nps(db, bundle.buyer.id, score=10, trigger="after_delivery", order_id=bundle.order.id)
    surveys.submit_nps(db, rings[0].buyer.id, score=10)  # a general answer of a ring account
    db.commit()
    since, until = clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)

    def figures() -> tuple:
        shop = surveys.nps_summary(db, since, until=until, shop_id=shop_id)
        report = surveys.nps_report(db, since, until)
        trend = surveys.nps_trend(db, since, until, bucket_days=2)
        return shop.responses, shop.nps_tenths, report.overall.responses, sum(t["responses"] for t in trend)

    before = figures()
    assert before == (3, 333, 4, 4)
    case_id = _flag(db, settings, b)
    assert figures() == (1, -1000, 1, 1)  # only the honest buyer's answer counts
    _dismiss(db, settings, case_id)
    assert figures() == before
