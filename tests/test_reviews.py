"""Reviews: who may write them, which one counts, and how they are listed and summarised."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.aftersales_helpers import counts
from tests.api_helpers import error
from tests.commerce_helpers import completed_order, delivered_order, paid_order, shipped_order
from tests.factories import add_staff, auth, make_shop, make_user
from zhongcao import clock
from zhongcao.catalog.models import ProductStatus
from zhongcao.errors import DomainError
from zhongcao.reviews import service
from zhongcao.reviews.models import Review
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


def _url(bundle) -> str:
    return f"/api/orders/{bundle.order.id}/items/{bundle.item.id}/reviews"


def _review(client, db, bundle, **body):
    payload = {"rating": 5, "text": "很好", "tags": ["质量好"], **body}
    r = client.post(_url(bundle), json=payload, headers=auth(db, bundle.buyer))
    assert r.status_code == 201, r.text
    return r.json()


def test_first_review_counts_later_ones_follow_up(client, db):
    bundle = delivered_order(db)
    first = _review(client, db, bundle, rating=4, text="  不错 ", tags=[" 物流快 ", "物流快", "好看"])
    assert first["is_first"] is True
    assert first["rating"] == 4 and first["text"] == "不错"
    assert first["tags"] == ["物流快", "好看"]
    assert first["product_id"] == bundle.product.id and first["shop_id"] == bundle.shop.shop.id
    assert first["order_item_id"] == bundle.item.id and first["user_id"] == bundle.buyer.id
    followup = _review(client, db, bundle, rating=2, text="用了一周坏了")
    assert followup["is_first"] is False

    summary = service.rating_summary(db, bundle.product.id)
    assert summary.count == 1 and summary.average_rating_centi == 400
    assert summary.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}


def test_completed_orders_can_be_reviewed(client, db):
    bundle = completed_order(db)
    assert _review(client, db, bundle)["is_first"] is True


@pytest.mark.parametrize("make", [paid_order, shipped_order])
def test_only_delivered_orders_can_be_reviewed(client, db, make):
    bundle = make(db)
    before = counts(db)
    r = client.post(_url(bundle), json={"rating": 5}, headers=auth(db, bundle.buyer))
    assert r.status_code == 409 and error(r)["code"] == "order_not_reviewable"
    assert error(r)["details"]["order_status"] == bundle.order.status.value
    assert counts(db) == before


def test_only_the_buyer_reviews_their_own_lines(client, db):
    bundle = delivered_order(db)
    other = delivered_order(db)
    stranger = auth(db, make_user(db))
    r = client.post(_url(bundle), json={"rating": 5}, headers=stranger)
    assert r.status_code == 404 and error(r)["code"] == "order_not_found"
    r = client.post(
        f"/api/orders/{bundle.order.id}/items/{other.item.id}/reviews",
        json={"rating": 5},
        headers=auth(db, bundle.buyer),
    )
    assert r.status_code == 404 and error(r)["code"] == "order_item_not_found"
    r = client.post(_url(bundle), json={"rating": 5}, headers=auth(db, bundle.shop.owner))
    assert r.status_code == 403 and error(r)["code"] == "wrong_role"
    assert client.post(_url(bundle), json={"rating": 5}).status_code == 401
    assert counts(db)["reviews"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "five"}, "rating"),
        ({}, "rating"),
        ({"rating": 5, "text": "字" * 2001}, "text"),
        ({"rating": 5, "tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"rating": 5, "tags": ["x" * 21]}, "tags[0]"),
        ({"rating": 5, "tags": ["ok", "  "]}, "tags[1]"),
        ({"rating": 5, "tags": "好"}, "tags"),
        ({"rating": 5, "photos": []}, "photos"),
    ],
)
def test_bad_input_is_a_clean_422_and_writes_nothing(client, db, body, field):
    bundle = delivered_order(db)
    before = counts(db)
    r = client.post(_url(bundle), json=body, headers=auth(db, bundle.buyer))
    assert r.status_code == 422
    assert error(r)["code"] == "validation_error"
    assert error(r)["details"]["field"] == field
    assert counts(db) == before


def test_service_checks_its_input_too(db):
    bundle = delivered_order(db)
    for kwargs, field in (
        ({"rating": 9}, "rating"),
        ({"rating": 5, "text": "x" * 2001}, "text"),
        ({"rating": 5, "tags": ["t"] * 3 + [f"t{i}" for i in range(10)]}, "tags"),
        ({"rating": 5, "tags": [""]}, "tags"),
    ):
        with pytest.raises(DomainError) as refused:
            service.create_review(db, bundle.buyer.id, bundle.order.id, bundle.item.id, **kwargs)
        assert refused.value.details["field"] == field
    assert counts(db)["reviews"] == 0


def test_public_listing_and_summary(client, db):
    shop = make_shop(db)
    bundles = [delivered_order(db, shop=shop) for _ in range(3)]
    product = bundles[0].product
    more = [delivered_order(db, shop=shop, product=product) for _ in range(3)]
    ratings = [5, 4, 4]
    firsts = [_review(client, db, b, rating=r) for b, r in zip(more, ratings, strict=True)]
    followup = _review(client, db, more[0], rating=1)
    # Another product's review is not listed here.
    _review(client, db, bundles[1], rating=1)

    page = client.get(f"/api/products/{product.id}/reviews").json()
    assert [r["id"] for r in page["items"]] == [f["id"] for f in reversed(firsts)]
    assert page["summary"] == {
        "count": 3,
        "average_rating_centi": 433,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
    }
    # The public never sees who wrote it or which order it came from.
    assert not {"user_id", "order_id", "order_item_id"} & set(page["items"][0])

    everything = client.get(
        f"/api/products/{product.id}/reviews", params={"include_followups": "true"}
    ).json()
    assert [r["id"] for r in everything["items"]][0] == followup["id"]
    assert len(everything["items"]) == 4
    assert everything["summary"]["count"] == 3

    one = client.get(f"/api/products/{product.id}/reviews", params={"limit": 2}).json()
    assert len(one["items"]) == 2 and one["next_cursor"]
    rest = client.get(
        f"/api/products/{product.id}/reviews", params={"limit": 2, "cursor": one["next_cursor"]}
    ).json()
    assert [r["id"] for r in rest["items"]] == [firsts[0]["id"]] and rest["next_cursor"] is None

    r = client.get(f"/api/products/{2**63}/reviews")
    assert r.status_code == 422 and error(r)["details"]["field"] == "product_id"
    r = client.get("/api/products/999999/reviews")
    assert r.status_code == 404 and error(r)["code"] == "product_not_found"
    r = client.get(f"/api/products/{product.id}/reviews", params={"limit": 0})
    assert r.status_code == 422 and error(r)["details"]["field"] == "limit"
    empty = client.get(f"/api/products/{bundles[2].product.id}/reviews").json()
    assert empty["items"] == [] and empty["summary"]["count"] == 0
    assert empty["summary"]["average_rating_centi"] == 0


def test_delisted_products_hide_their_reviews(client, db):
    bundle = delivered_order(db)
    _review(client, db, bundle)
    bundle.product.status = ProductStatus.delisted
    db.commit()
    assert client.get(f"/api/products/{bundle.product.id}/reviews").status_code == 404


def test_merchant_sees_own_shop_reviews_only(client, db):
    bundle = delivered_order(db)
    second = delivered_order(db, shop=bundle.shop)
    foreign = delivered_order(db)
    a = _review(client, db, bundle, rating=5)
    b = _review(client, db, second, rating=2)
    c = _review(client, db, second, rating=5)  # follow-up
    _review(client, db, foreign, rating=5)

    for staff in (bundle.shop.owner, add_staff(db, bundle.shop.shop, StaffRole.service_agent)):
        headers = auth(db, staff)
        page = client.get("/api/merchant/reviews", headers=headers).json()
        assert [r["id"] for r in page["items"]] == [c["id"], b["id"], a["id"]]
        assert page["items"][0]["user_id"] == second.buyer.id
        fives = client.get("/api/merchant/reviews", params={"rating": 5}, headers=headers).json()
        assert [r["id"] for r in fives["items"]] == [c["id"], a["id"]]
        by_product = client.get(
            "/api/merchant/reviews", params={"product_id": second.product.id}, headers=headers
        ).json()
        assert [r["id"] for r in by_product["items"]] == [c["id"], b["id"]]

    other_shop = make_shop(db)
    assert client.get("/api/merchant/reviews", headers=auth(db, other_shop.owner)).json()["items"] == []
    owner = auth(db, bundle.shop.owner)
    r = client.get("/api/merchant/reviews", params={"rating": 6}, headers=owner)
    assert r.status_code == 422 and error(r)["details"]["field"] == "rating"
    r = client.get("/api/merchant/reviews", headers=auth(db, bundle.buyer))
    assert r.status_code == 403
    r = client.get("/api/merchant/reviews", headers=auth(db, make_user(db, Role.operator)))
    assert r.status_code == 403


def test_first_reviews_for_shop_since(client, db):
    bundle = delivered_order(db)
    second = delivered_order(db, shop=bundle.shop)
    old = service.create_review(
        db,
        bundle.buyer.id,
        bundle.order.id,
        bundle.item.id,
        rating=3,
        now=clock.now() - timedelta(hours=1),
    )
    new = _review(client, db, second, rating=5)
    _review(client, db, second, rating=1)  # follow-up: never counted
    since = old.created_at + timedelta(microseconds=1)
    assert [r.id for r in service.first_reviews_for_shop(db, bundle.shop.shop.id, since)] == [new["id"]]
    assert [r.id for r in service.first_reviews_for_shop(db, bundle.shop.shop.id, old.created_at)] == [
        old.id,
        new["id"],
    ]


def test_losing_the_race_for_first_becomes_a_follow_up(db, monkeypatch):
    bundle = delivered_order(db)
    first = service.create_review(db, bundle.buyer.id, bundle.order.id, bundle.item.id, rating=5)
    # As if a concurrent request had checked before the first review was committed.
    monkeypatch.setattr(service, "_has_first_review", lambda _db, _item_id: False)
    late = service.create_review(db, bundle.buyer.id, bundle.order.id, bundle.item.id, rating=3, text="再说")
    assert first.is_first is True and late.is_first is False
    db.expire_all()
    rows = db.scalars(select(Review).where(Review.order_item_id == bundle.item.id).order_by(Review.id)).all()
    assert [(r.is_first, r.rating, r.text) for r in rows] == [(True, 5, ""), (False, 3, "再说")]


@pytest.mark.pg_only
def test_concurrent_first_reviews_leave_one_first(database, db):
    bundle = delivered_order(db)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(rating: int) -> None:
        session = database.session()
        try:
            barrier.wait()
            service.create_review(session, bundle.buyer.id, bundle.order.id, bundle.item.id, rating=rating)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=write, args=(r,)) for r in (2, 3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    db.expire_all()
    firsts = db.scalar(
        select(func.count())
        .select_from(Review)
        .where(Review.order_item_id == bundle.item.id, Review.is_first)
    )
    total = db.scalar(select(func.count()).select_from(Review).where(Review.order_item_id == bundle.item.id))
    assert (firsts, total) == (1, 4)
