"""Reviews of order lines. The first review of a line is the one that counts; later ones follow up.

"First" is decided by the database, not by a read-then-write: the partial unique index
``uq_reviews_first_per_item`` admits one ``is_first`` row per order item, and a review that loses
that race (two tabs, a double tap) is stored as a follow-up instead of failing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import OrderStatus
from zhongcao.errors import Conflict, InvalidInput
from zhongcao.integrity import holds as integrity_holds
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.reviews.models import Review

RATINGS = range(1, 6)
MAX_TEXT = 2000
MAX_TAGS = 10
MAX_TAG_LENGTH = 20
REVIEWABLE_ORDER_STATUSES = frozenset({OrderStatus.delivered, OrderStatus.completed})


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average_rating_centi: int
    distribution: dict[int, int] = field(default_factory=dict)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise InvalidInput(
                f"tags must be 1 to {MAX_TAG_LENGTH} characters", code="invalid_tag", field="tags"
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", code="too_many_tags", field="tags")
    return cleaned


def _has_first_review(db: Session, order_item_id: int) -> bool:
    return (
        db.scalar(select(Review.id).where(Review.order_item_id == order_item_id, Review.is_first.is_(True)))
        is not None
    )


def create_review(
    db: Session,
    user_id: int,
    order_id: int,
    order_item_id: int,
    *,
    rating: int,
    text: str = "",
    tags: Iterable[str] = (),
    now: datetime | None = None,
) -> Review:
    """The buyer reviews a line of a delivered (or completed) order of theirs."""
    if rating not in RATINGS:
        raise InvalidInput("rating must be 1 to 5", code="invalid_rating", field="rating")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"at most {MAX_TEXT} characters", code="text_too_long", field="text")
    clean_tags = _clean_tags(tags)
    now = now or clock.now()
    order = commerce_service.get_order_for_buyer(db, user_id, order_id)
    item = commerce_service.get_order_item(db, order.id, order_item_id)
    if order.status not in REVIEWABLE_ORDER_STATUSES:
        raise Conflict(
            f"an order can be reviewed once delivered; it is {order.status.value}",
            code="order_not_reviewable",
            details={"order_status": order.status.value},
        )

    def build(is_first: bool) -> Review:
        return Review(
            order_item_id=item.id,
            order_id=order.id,
            user_id=user_id,
            shop_id=order.shop_id,
            product_id=item.product_id,
            rating=rating,
            text=text,
            tags=clean_tags,
            is_first=is_first,
            created_at=now,
        )

    review: Review | None = None
    if not _has_first_review(db, item.id):
        candidate = build(is_first=True)
        try:
            with db.begin_nested():
                db.add(candidate)
            review = candidate
        except IntegrityError:
            # A concurrent first review won the unique index; this one becomes its follow-up.
            review = None
    if review is None:
        review = build(is_first=False)
        db.add(review)
    db.commit()
    return review


def _summary_from_counts(counts: dict[int, int]) -> RatingSummary:
    distribution = {r: counts.get(r, 0) for r in RATINGS}
    count = sum(distribution.values())
    total = sum(r * n for r, n in distribution.items())
    # Half-up average, in hundredths: 4.666… -> 467.
    average_centi = (total * 200 + count) // (2 * count) if count else 0
    return RatingSummary(count=count, average_rating_centi=average_centi, distribution=distribution)


def rating_summary(db: Session, product_id: int) -> RatingSummary:
    """Count, average and distribution of the first reviews of a product; reviews of brushed orders
    (flagged by the integrity domain), and of orders held until their evidence is in, do not count, so
    bought five-star reviews lift no rating."""
    brushed = integrity_holds.uncounted_order_ids(db)
    rows = db.execute(
        select(Review.rating, func.count())
        .where(Review.product_id == product_id, Review.is_first.is_(True), _not_of_orders(brushed))
        .group_by(Review.rating)
    ).all()
    return _summary_from_counts({int(rating): int(n) for rating, n in rows})


def first_reviews_for_shop(db: Session, shop_id: int, since: datetime) -> list[Review]:
    """The shop's counting reviews written since ``since`` (for shop scores)."""
    return list(
        db.scalars(
            select(Review)
            .where(Review.shop_id == shop_id, Review.is_first.is_(True), Review.created_at >= since)
            .order_by(Review.id)
        )
    )


def list_for_product(
    db: Session, product_id: int, params: PageParams, *, include_followups: bool = False
) -> tuple[Sequence[Review], str | None]:
    """A product's reviews, newest first; the product must be one shoppers can see."""
    catalog_service.get_active_product(db, product_id)
    stmt = select(Review).where(Review.product_id == product_id)
    if not include_followups:
        stmt = stmt.where(Review.is_first.is_(True))
    return paginate_by_id(db, stmt, Review.id, params)


def list_for_shop(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    rating: int | None = None,
    product_id: int | None = None,
) -> tuple[Sequence[Review], str | None]:
    stmt = select(Review).where(Review.shop_id == shop_id)
    if rating is not None:
        stmt = stmt.where(Review.rating == rating)
    if product_id is not None:
        stmt = stmt.where(Review.product_id == product_id)
    return paginate_by_id(db, stmt, Review.id, params)


def _not_of_orders(excluding: Collection[int]) -> ColumnElement[bool]:
    """Reviews of brushed (flagged) orders do not count (issue #19)."""
    return Review.order_id.not_in(sorted(excluding)) if excluding else true()


def bad_first_review_counts(
    db: Session,
    since: datetime,
    until: datetime,
    *,
    max_rating: int = 2,
    excluding_orders: Collection[int] = (),
) -> dict[int, int]:
    """``shop id -> first reviews rated at most max_rating written in [since, until)`` (the experience
    score's bad-review numerator; a later review of the same item does not count twice); reviews of
    the orders in ``excluding_orders`` are left out."""
    rows = db.execute(
        select(Review.shop_id, func.count())
        .where(
            Review.is_first.is_(True),
            Review.rating <= max_rating,
            Review.created_at >= since,
            Review.created_at < until,
            _not_of_orders(excluding_orders),
        )
        .group_by(Review.shop_id)
    )
    return {shop_id: n for shop_id, n in rows}


def first_review_rows(
    db: Session, *, excluding_orders: Collection[int] = ()
) -> list[tuple[int, int, int, datetime]]:
    """Every counting (first) review for analytics: ``(shop id, product id, rating, written at)``;
    reviews of the orders in ``excluding_orders`` are left out."""
    stmt = (
        select(Review.shop_id, Review.product_id, Review.rating, Review.created_at)
        .where(Review.is_first.is_(True), _not_of_orders(excluding_orders))
        .order_by(Review.id)
    )
    return [(int(s), int(p), int(r), at) for s, p, r, at in db.execute(stmt)]


@dataclass(frozen=True)
class ReviewRow:
    review_id: int
    user_id: int
    shop_id: int
    order_id: int
    created_at: datetime
    rating: int
    text: str


def review_rows(db: Session, since: datetime, until: datetime) -> list[ReviewRow]:
    """Reviews written in [since, until), oldest first (what the integrity detectors read)."""
    stmt = (
        select(
            Review.id,
            Review.user_id,
            Review.shop_id,
            Review.order_id,
            Review.created_at,
            Review.rating,
            Review.text,
        )
        .where(Review.created_at >= since, Review.created_at < until)
        .order_by(Review.created_at, Review.id)
    )
    return [
        ReviewRow(int(i), int(u), int(s), int(o), at, int(r), t or "")
        for i, u, s, o, at, r, t in db.execute(stmt)
    ]


def first_reviews_of_order(db: Session, user_id: int, order_id: int) -> dict[int, Review]:
    """The buyer's counting review of each line of their order that has one: ``order item id ->
    review`` (the pages show the answer instead of offering the form again)."""
    rows = db.scalars(
        select(Review).where(
            Review.order_id == order_id, Review.user_id == user_id, Review.is_first.is_(True)
        )
    )
    return {r.order_item_id: r for r in rows}
