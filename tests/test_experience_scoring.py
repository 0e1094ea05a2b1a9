"""The shop experience score: every indicator against a small hand-computed case, the percentile
scoring, the minimum-order rule and the platform-warehouse exclusion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from tests.commerce_helpers import paid_order
from tests.factories import make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.commerce import service as order_service
from zhongcao.experience import computation as score_computation
from zhongcao.experience import indicators
from zhongcao.experience import scores as experience_scores
from zhongcao.experience.scoring import ScoreConfig, ScoreRules, ShopInputs, percentile_of, score_shops
from zhongcao.reviews import service as reviews_service
from zhongcao.support import service as support_service

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 08:00 in China


def test_percentiles_turn_direction_into_better_is_higher_and_ties_take_the_best_rank() -> None:
    values = np.asarray([0.10, 0.02, 0.02, np.nan, 0.05])
    pct = percentile_of(values, lower_is_better=True)
    assert np.isnan(pct[3])
    assert pct[0] == 0.0  # the worst rate
    assert pct[1] == pct[2] == 100.0  # tied at the best value: both at the top
    assert pct[4] == pytest.approx(1 / 3 * 100)  # better than one of the three others
    higher = percentile_of(np.asarray([0.5, 0.9, 0.9, 0.1]), lower_is_better=False)
    assert higher.tolist() == pytest.approx([100 / 3, 100.0, 100.0, 0.0])
    assert percentile_of(np.asarray([7.0]), lower_is_better=False)[0] == 50.0


def _shop(shop_id: int, category: int, orders: int, **values: float) -> ShopInputs:
    base = dict.fromkeys(
        [
            "bad_review_rate",
            "quality_refund_rate",
            "pickup_timeliness",
            "delivery_hours",
            "complaint_rate",
            "dispute_rate",
            "cs_3min_share",
            "aftersales_hours",
        ]
    )
    base.update(values)
    return ShopInputs(shop_id, category, orders, base)


def test_scores_rank_within_the_category_with_the_floor_and_explanation() -> None:
    rules = ScoreRules(default=ScoreConfig(min_peers=2))
    shops = [
        # Category 1: shop 1 is better than shop 2 on every indicator it has.
        _shop(1, 1, 100, bad_review_rate=0.01, pickup_timeliness=0.9, cs_3min_share=0.9),
        _shop(2, 1, 100, bad_review_rate=0.05, pickup_timeliness=0.5, cs_3min_share=0.4),
        # Category 2: different absolute values, the same ranking inside it.
        _shop(3, 2, 100, bad_review_rate=0.20, pickup_timeliness=0.3, cs_3min_share=0.2),
        _shop(4, 2, 100, bad_review_rate=0.30, pickup_timeliness=0.1, cs_3min_share=0.1),
        # Too few orders: no score, and not a peer of anyone.
        _shop(5, 1, 29, bad_review_rate=0.0, pickup_timeliness=1.0, cs_3min_share=1.0),
    ]
    results = {r.shop_id: r for r in score_shops(shops, rules)}
    assert results[1].score_centi == results[3].score_centi == 500  # best in its category on everything
    assert results[2].score_centi == results[4].score_centi == 300  # the floor is 3.00
    assert results[5].score_centi is None and results[5].details["reason"] == "too_few_orders"
    explained = results[2].details
    assert {i["key"] for i in explained["indicators"]} >= {"bad_review_rate", "pickup_timeliness"}
    worst = explained["improve_first"]
    # Moving product (50% of the score, one measured indicator) to the top quarter gains the most:
    # with one peer, the top quarter is the peer's value, at the 100th percentile.
    assert worst["key"] == "bad_review_rate" and worst["direction"] == "lower"
    assert worst["from_value"] == 0.05 and worst["to_value"] == 0.01
    assert worst["score_gain_points"] == pytest.approx(0.5 * 1.0 * 2, abs=1e-3)
    contributions = sum(i["contribution_points"] for i in results[1].details["indicators"])
    assert 3.0 + contributions == pytest.approx(5.0)


def test_weights_are_validated_and_configurable_per_category() -> None:
    with pytest.raises(ValueError):
        ScoreConfig(weights={"product": 0.5, "logistics": 0.5, "service": 0.5})
    rules = ScoreRules.from_dict(
        {
            "default": {"min_orders": 10},
            "by_category": {"7": {"weights": {"product": 1, "logistics": 0, "service": 0}}},
        }
    )
    assert rules.for_category(7).weights["product"] == 1 and rules.for_category(7).min_orders == 10
    assert rules.for_category(8).weights["product"] == 0.5
    with pytest.raises(ValueError, match="unknown score setting"):
        ScoreRules.from_dict({"default": {"min_order": 3}})


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_indicators_from_the_records_by_hand(db: Session) -> None:
    """Five orders of one shop, paid at T0, whose every outcome is set by hand."""
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=9900, stock=100)
    bundles = []
    with clock.frozen(T0):
        for _ in range(5):
            bundles.append(paid_order(db, buyer=make_user(db), shop=shop, product=product))
    o1, o2, o3, o4, o5 = (b.order.id for b in bundles)
    shop_id = shop.shop.id

    def ship(
        order_id: int, at: float, picked: float, delivered: float | None, warehouse: bool = False
    ) -> None:
        with clock.frozen(_at(at)):
            order_service.ship_order(
                db,
                shop_id,
                order_id,
                carrier_name="SF",
                tracking_number=f"SF{order_id}",
                platform_warehouse=warehouse,
            )
        with clock.frozen(_at(picked)):
            order_service.record_pickup(db, order_id)
        if delivered is not None:
            with clock.frozen(_at(delivered)):
                order_service.record_delivery(db, order_id)

    ship(o1, 2, 10, 34)  # picked up within 24 h: 1.0 point; 24 h in transit
    ship(o2, 20, 30, 78)  # 24–36 h: 0.6; 48 h
    ship(o3, 30, 40, 52)  # 36–48 h: 0.3; 12 h
    ship(o4, 90, 100, None, warehouse=True)  # late, but the platform's warehouse: not counted
    # o5 is never shipped: 0 points once 48 h have passed.

    with clock.frozen(_at(40)):
        reviews_service.create_review(db, bundles[0].buyer.id, o1, bundles[0].item.id, rating=1, text="坏了")
        reviews_service.create_review(db, bundles[1].buyer.id, o2, bundles[1].item.id, rating=5, text="好")
    with clock.frozen(_at(80)):
        support_service.file_complaint(
            db, user_id=bundles[1].buyer.id, shop_id=shop_id, reason="product", order_id=o2
        )
    # Customer service: 10:00 China time answered in 2 min (fast), 11:00 answered in 10 min (slow),
    # and 03:00 China time (outside 08:00–22:59, not counted).
    for started, answered in ((2, 2 + 2 / 60), (3, 3 + 10 / 60), (19, 19 + 30 / 60)):
        conversation, _ = support_service.start_conversation(
            db, user_id=bundles[2].buyer.id, shop_id=shop_id, message="在吗", at=_at(started)
        )
        support_service.post_agent_message(
            db, conversation.id, shop_id=shop_id, agent_user_id=shop.owner.id, body="在的", at=_at(answered)
        )
    # After-sales: o3 refunded for quality after 5 h; o1 refused after 1 h, escalated, ruled against
    # the merchant (also a quality refund).
    with clock.frozen(_at(60)):
        case3 = aftersales_service.open_case(
            db,
            bundles[2].buyer.id,
            o3,
            order_item_id=bundles[2].item.id,
            kind=AfterSaleKind.refund_only,
            reason=AfterSaleReason.quality,
        )
    with clock.frozen(_at(65)):
        aftersales_service.approve(db, shop_id, case3.id)
    with clock.frozen(_at(48)):
        case1 = aftersales_service.open_case(
            db,
            bundles[0].buyer.id,
            o1,
            order_item_id=bundles[0].item.id,
            kind=AfterSaleKind.refund_only,
            reason=AfterSaleReason.quality,
        )
    with clock.frozen(_at(49)):
        aftersales_service.reject(db, shop_id, case1.id, note="无质量问题")
    with clock.frozen(_at(50)):
        aftersales_service.escalate(db, bundles[0].buyer.id, case1.id)
    with clock.frozen(_at(70)):
        aftersales_service.arbitrate(db, case1.id, merchant_at_fault=True, note="商家责任")

    now = T0 + timedelta(days=20)  # the lagged refund window (days 15–104 back) covers days 0–5
    (inputs,) = [s for s in indicators.gather(db, now) if s.shop_id == shop_id]
    v = inputs.values
    assert inputs.orders == 5
    assert v["bad_review_rate"] == pytest.approx(1 / 3)  # one 1-star first review / 3 delivered
    assert v["quality_refund_rate"] == pytest.approx(2 / 5)
    assert v["pickup_timeliness"] == pytest.approx((1.0 + 0.6 + 0.3 + 0.0) / 4)  # o4 left out
    assert v["delivery_hours"] == pytest.approx((24 + 48 + 12) / 3)
    assert v["complaint_rate"] == pytest.approx(1 / 5)
    assert v["dispute_rate"] == pytest.approx(1 / 5)
    assert v["cs_3min_share"] == pytest.approx(1 / 2)
    assert v["aftersales_hours"] == pytest.approx((1 + 5) / 2)

    # Recorded as the shop's current score: too few orders for a score, with the reason kept.
    with clock.frozen(now):
        score_computation.compute_scores(db, now)
    row = experience_scores.latest_score(db, shop_id)
    assert row is not None and row.score_centi is None and row.order_count == 5
    assert row.details["reason"] == "too_few_orders"
    assert not score_computation.scores_due(db, now + timedelta(hours=23))
    assert score_computation.scores_due(db, now + timedelta(hours=24))


def test_merchants_read_their_score_and_operators_recompute_it(client, db: Session) -> None:
    from tests.factories import auth
    from zhongcao.users.models import Role

    shop = make_shop(db)
    owner = auth(db, shop.owner)
    before = client.get("/api/merchant/experience/score", headers=owner)
    assert before.status_code == 200 and before.json()["score"] is None
    assert before.json()["details"] == {"reason": "not_computed_yet"}
    shopper = auth(db, make_user(db))
    assert client.post("/api/operator/experience/scores/compute", headers=shopper).status_code == 403
    run = client.post(
        "/api/operator/experience/scores/compute", headers=auth(db, make_user(db, Role.operator))
    )
    assert run.status_code == 200 and run.json()["shops"] >= 1
    after = client.get("/api/merchant/experience/score", headers=owner).json()
    assert after["computed_at"] is not None and after["details"]["reason"] == "too_few_orders"
    assert client.get("/api/merchant/experience/score").status_code == 401
