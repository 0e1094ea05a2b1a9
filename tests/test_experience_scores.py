"""The shop score read interface: the newest row is the current score, many shops in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.factories import make_shop
from zhongcao import clock
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.experience import scores as experience_scores


def test_newest_score_is_current(db):
    shop = make_shop(db).shop
    assert experience_scores.current_score_centi(db, shop.id) is None
    assert experience_scores.latest_score(db, shop.id) is None
    now = clock.now()
    # Written out of order: the row computed last wins, not the row inserted last.
    experience_scores.record_score(db, shop.id, 470, computed_at=now - timedelta(hours=1), source="computed")
    experience_scores.record_score(db, shop.id, 390, computed_at=now - timedelta(days=3))
    assert experience_scores.current_score_centi(db, shop.id) == 470
    row = experience_scores.latest_score(db, shop.id)
    assert row is not None and row.source == "computed"
    # A newer "too few orders" row means the shop is not scored now.
    experience_scores.record_score(db, shop.id, None, computed_at=now)
    assert experience_scores.current_score_centi(db, shop.id) is None


def test_current_scores_reads_many_shops_in_one_query(db):
    a, b, c = (make_shop(db).shop for _ in range(3))
    now = clock.now()
    experience_scores.record_score(db, a.id, 420, computed_at=now - timedelta(days=1))
    experience_scores.record_score(db, a.id, 455, computed_at=now)
    experience_scores.record_score(db, b.id, 300, computed_at=now - timedelta(days=1))
    experience_scores.record_score(
        db, b.id, 310, computed_at=now - timedelta(days=1)
    )  # same time: later row wins
    statements: list[str] = []

    def _count(*args) -> None:
        statements.append(args[2])

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", _count)
    try:
        scores = experience_scores.current_scores(db, [a.id, b.id, c.id, 999_999, a.id])
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert scores == {a.id: 455, b.id: 310, c.id: None, 999_999: None}
    assert len([s for s in statements if "shop_scores" in s]) == 1
    assert experience_scores.current_scores(db, []) == {}


def test_record_score_rules(db):
    shop = make_shop(db).shop
    for kwargs, field in (
        ({"score_centi": 501}, "score_centi"),
        ({"score_centi": -1}, "score_centi"),
        ({"score_centi": 400, "service_centi": 600}, "service_centi"),
        ({"score_centi": 400, "order_count": -3}, "order_count"),
        ({"score_centi": 400, "source": ""}, "source"),
    ):
        with pytest.raises(InvalidInput) as info:
            experience_scores.record_score(db, shop.id, **kwargs)
        assert info.value.details["field"] == field
    with pytest.raises(NotFound):
        experience_scores.record_score(db, 999_999, 400)
    db.rollback()
    assert experience_scores.current_score_centi(db, shop.id) is None
    row = experience_scores.record_score(
        db, shop.id, 480, product_centi=490, logistics_centi=470, service_centi=480, order_count=120
    )
    assert row.source == "manual" and row.details == {}
    assert experience_scores.current_score_centi(db, shop.id) == 480


def _rows(db, shop_id):
    return [
        (
            r.score_centi,
            r.product_centi,
            r.logistics_centi,
            r.service_centi,
            r.order_count,
            r.details,
            r.source,
        )
        for r in experience_scores.score_history(db, shop_id, clock.now() - timedelta(days=1))
    ]


def test_record_scores_writes_what_record_score_writes(db):
    """The nightly batch's bulk writer: the same rows as one call each, current at once."""
    a, b = make_shop(db).shop, make_shop(db).shop
    now = clock.now()
    kwargs = {
        "product_centi": 490,
        "logistics_centi": 470,
        "service_centi": 480,
        "order_count": 120,
        "details": {"category_id": 3},
        "computed_at": now,
        "source": "computed",
    }
    experience_scores.record_score(db, a.id, 480, **kwargs)
    recorded = experience_scores.record_scores(
        db,
        [
            experience_scores.NewScore(shop_id=b.id, score_centi=480, **kwargs),
            experience_scores.NewScore(
                shop_id=a.id, score_centi=None, computed_at=now + timedelta(seconds=1)
            ),
        ],
    )
    assert recorded == 2
    assert _rows(db, b.id) == _rows(db, a.id)[:1]
    assert experience_scores.current_scores(db, [a.id, b.id]) == {a.id: None, b.id: 480}


def test_record_scores_refuses_the_whole_batch_on_one_bad_row(db):
    shop = make_shop(db).shop
    good = experience_scores.NewScore(shop_id=shop.id, score_centi=400, source="computed")
    with pytest.raises(NotFound) as missing:
        experience_scores.record_scores(
            db, [good, experience_scores.NewScore(shop_id=999_999, score_centi=400)]
        )
    assert missing.value.code == "shop_not_found"
    with pytest.raises(InvalidInput) as info:
        experience_scores.record_scores(
            db, [good, experience_scores.NewScore(shop_id=shop.id, score_centi=501)]
        )
    assert info.value.details["field"] == "score_centi"
    db.rollback()
    assert experience_scores.current_score_centi(db, shop.id) is None
    assert experience_scores.record_scores(db, []) == 0
