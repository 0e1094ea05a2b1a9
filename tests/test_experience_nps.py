"""NPS answers: context rules, rate limits and the summary."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.api_helpers import assert_error, count, snapshot, walk
from tests.factories import auth, make_shop, make_user
from tests.support_helpers import make_after_sale, make_order
from zhongcao import clock
from zhongcao.aftersales.models import AfterSaleStatus
from zhongcao.commerce.models import OrderStatus
from zhongcao.errors import DomainError
from zhongcao.experience import surveys as nps_surveys
from zhongcao.experience.models import NpsTrigger
from zhongcao.users.models import Role

TABLES = ("nps_responses",)


def _answer(client, headers, **body):
    return client.post("/api/nps", json={"score": 9, **body}, headers=headers)


def test_after_delivery_once_per_order(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    order = make_order(db, buyer, bundle.shop, status=OrderStatus.delivered)
    headers = auth(db, buyer)
    r = _answer(
        client,
        headers,
        trigger="after_delivery",
        order_id=order.id,
        reasons=["logistics", "product"],
        text=" 很快 ",
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["shop_id"] == bundle.shop.id and body["order_id"] == order.id
    assert body["reasons"] == ["logistics", "product"] and body["text"] == "很快"

    before = snapshot(db, TABLES)
    error = assert_error(
        _answer(client, headers, trigger="after_delivery", order_id=order.id), 429, "survey_rate_limited"
    )
    assert error["details"]["order_id"] == order.id
    assert snapshot(db, TABLES) == before
    assert [x["id"] for x in client.get("/api/me/nps", headers=headers).json()["items"]] == [body["id"]]


def test_after_delivery_needs_a_delivered_order_of_the_caller(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    headers = auth(db, buyer)
    in_transit = make_order(db, buyer, bundle.shop, status=OrderStatus.shipped)
    someone_elses = make_order(db, make_user(db), bundle.shop)
    before = snapshot(db, TABLES)
    assert_error(_answer(client, headers, trigger="after_delivery"), 422, "order_required", "order_id")
    assert_error(
        _answer(client, headers, trigger="after_delivery", order_id=someone_elses.id),
        404,
        "order_not_found",
        "order_id",
    )
    assert_error(
        _answer(client, headers, trigger="after_delivery", order_id=in_transit.id), 409, "order_not_delivered"
    )
    assert snapshot(db, TABLES) == before


def test_after_after_sale_once_per_finished_case(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    headers = auth(db, buyer)
    order = make_order(db, buyer, bundle.shop)
    finished = make_after_sale(db, order, status=AfterSaleStatus.refunded)
    pending = make_after_sale(db, make_order(db, buyer, bundle.shop), status=AfterSaleStatus.requested)
    others = make_after_sale(db, make_order(db, make_user(db), bundle.shop))
    before = snapshot(db, TABLES)
    assert_error(
        _answer(client, headers, trigger="after_after_sale"), 422, "after_sale_required", "after_sale_id"
    )
    assert_error(
        _answer(client, headers, trigger="after_after_sale", after_sale_id=others.id),
        404,
        "after_sale_not_found",
        "after_sale_id",
    )
    assert_error(
        _answer(client, headers, trigger="after_after_sale", after_sale_id=pending.id),
        409,
        "after_sale_not_finished",
    )
    assert_error(
        _answer(
            client, headers, trigger="after_after_sale", after_sale_id=finished.id, order_id=pending.order_id
        ),
        422,
        "order_mismatch",
        "order_id",
    )
    assert_error(
        _answer(client, headers, trigger="general", after_sale_id=finished.id),
        422,
        "after_sale_not_expected",
        "after_sale_id",
    )
    assert snapshot(db, TABLES) == before

    r = _answer(
        client, headers, score=3, trigger="after_after_sale", after_sale_id=finished.id, reasons=["service"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["order_id"] == order.id and r.json()["shop_id"] == bundle.shop.id
    assert_error(
        _answer(client, headers, trigger="after_after_sale", after_sale_id=finished.id),
        429,
        "survey_rate_limited",
    )
    # The same order may still get its after-delivery answer: the limits are per context.
    assert _answer(client, headers, trigger="after_delivery", order_id=order.id).status_code == 201


def test_general_answer_once_per_30_days(client, db):
    bundle = make_shop(db)
    buyer = make_user(db)
    headers = auth(db, buyer)
    order = make_order(db, buyer, bundle.shop)
    first = _answer(client, headers, score=7, trigger="general", order_id=order.id)
    assert first.status_code == 201, first.text
    assert first.json()["shop_id"] == bundle.shop.id
    before = snapshot(db, TABLES)
    error = assert_error(_answer(client, headers, trigger="general"), 429, "survey_rate_limited")
    assert "retry_after" in error["details"]
    with clock.travel(clock.now() + timedelta(days=29)):
        assert_error(_answer(client, headers, trigger="general"), 429, "survey_rate_limited")
    assert snapshot(db, TABLES) == before
    with clock.travel(clock.now() + timedelta(days=31)):
        assert _answer(client, headers, trigger="general").status_code == 201
    # Another user is not limited by this one's answers; any signed-in role may answer.
    assert _answer(client, auth(db, make_user(db, Role.merchant)), trigger="general").status_code == 201


def test_nps_input_rules(client, db):
    headers = auth(db, make_user(db))
    cases = [
        ({"score": 11, "trigger": "general"}, "score"),
        ({"score": -1, "trigger": "general"}, "score"),
        ({"score": 9.5, "trigger": "general"}, "score"),
        ({"trigger": "general"}, "score"),
        ({"score": 9}, "trigger"),
        ({"score": 9, "trigger": "whenever"}, "trigger"),
        ({"score": 9, "trigger": "general", "reasons": ["price", "price"]}, "reasons"),
        ({"score": 9, "trigger": "general", "reasons": ["weather"]}, "reasons[0]"),
        ({"score": 9, "trigger": "general", "text": "好" * 1001}, "text"),
        ({"score": 9, "trigger": "general", "shop_id": 1}, "shop_id"),
        ({"score": 9, "trigger": "after_delivery", "order_id": 0}, "order_id"),
    ]
    for body, field in cases:
        assert_error(client.post("/api/nps", json=body, headers=headers), 422, "validation_error", field)
    assert_error(client.post("/api/nps", json={"score": 9, "trigger": "general"}), 401, "not_authenticated")
    assert_error(client.get("/api/me/nps"), 401, "not_authenticated")
    assert snapshot(db, TABLES)["nps_responses"] == []


def test_my_answers_are_mine_and_paged(client, db):
    buyer = make_user(db)
    shop = make_shop(db).shop
    orders = [make_order(db, buyer, shop) for _ in range(3)]
    headers = auth(db, buyer)
    ids = [_answer(client, headers, trigger="after_delivery", order_id=o.id).json()["id"] for o in orders]
    assert walk(client, "/api/me/nps", headers=headers, limit=2) == sorted(ids, reverse=True)
    assert client.get("/api/me/nps", headers=auth(db, make_user(db))).json()["items"] == []


def test_nps_summary(db):
    shop = make_shop(db).shop
    assert nps_surveys.nps_summary(db) == nps_surveys.NpsSummary(0, 0, 0, 0, None)
    t0 = clock.now() - timedelta(days=60)
    old_user = make_user(db)
    nps_surveys.submit_nps(db, old_user.id, score=0, trigger="general", at=t0)
    for score in (10, 9, 8, 7, 6, 0, 3):
        buyer = make_user(db)
        order = make_order(db, buyer, shop)
        nps_surveys.submit_nps(
            db, buyer.id, score=score, trigger=NpsTrigger.after_delivery, order_id=order.id
        )
    recent = nps_surveys.nps_summary(db, since=t0 + timedelta(days=1))
    # 2 promoters, 2 passives, 3 detractors: (2 - 3) / 7 = -14.2857...% -> -14.3 points.
    assert recent == nps_surveys.NpsSummary(
        responses=7, promoters=2, passives=2, detractors=3, nps_tenths=-143
    )
    everything = nps_surveys.nps_summary(db)
    assert everything.responses == 8 and everything.detractors == 4 and everything.nps_tenths == -250
    assert nps_surveys.nps_summary(db, shop_id=shop.id).responses == 7
    assert nps_surveys.nps_summary(db, trigger=NpsTrigger.general).nps_tenths == -1000
    assert nps_surveys.nps_summary(db, until=t0 + timedelta(days=1)).responses == 1


def test_nps_tenths_rounds_half_away_from_zero():
    assert nps_surveys.nps_tenths(1, 0, 16) == 63  # 62.5
    assert nps_surveys.nps_tenths(0, 1, 16) == -63
    assert nps_surveys.nps_tenths(1, 0, 8) == 125
    assert nps_surveys.nps_tenths(3, 3, 9) == 0
    assert nps_surveys.nps_tenths(5, 0, 5) == 1000
    assert nps_surveys.nps_tenths(0, 0, 0) is None


@pytest.mark.pg_only
def test_concurrent_general_answers_are_limited_to_one(database, db):
    user_id = make_user(db).id

    def answer(_: int) -> str:
        session = database.session()
        try:
            nps_surveys.submit_nps(session, user_id, score=8, trigger="general")
            return "ok"
        except DomainError as exc:
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(answer, range(10)))
    assert results.count("ok") == 1 and results.count("survey_rate_limited") == 9
    assert count(db, "nps_responses", "user_id = :u", u=user_id) == 1


def test_a_rejected_case_is_not_finished_until_it_closes(client, db):
    # A rejection may still be escalated to arbitration: aftersales counts it as open, and so do we.
    bundle = make_shop(db)
    buyer = make_user(db)
    headers = auth(db, buyer)
    rejected = make_after_sale(db, make_order(db, buyer, bundle.shop), status=AfterSaleStatus.rejected)
    closed = make_after_sale(db, make_order(db, buyer, bundle.shop), status=AfterSaleStatus.closed)
    before = snapshot(db, TABLES)
    assert_error(
        _answer(client, headers, trigger="after_after_sale", after_sale_id=rejected.id),
        409,
        "after_sale_not_finished",
    )
    assert snapshot(db, TABLES) == before
    r = _answer(client, headers, trigger="after_after_sale", after_sale_id=closed.id)
    assert r.status_code == 201, r.text
