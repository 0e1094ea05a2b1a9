"""Shop scores, the read side: what the feed, search, campaigns and affiliate need.

The newest ``ShopScore`` row of a shop is its current score (``None`` = not scored yet). Readers ask
for it through :func:`current_score_centi` / :func:`current_scores`, gate on it through
:func:`shop_ids_scored_below`, and notice new scores through :func:`scores_version`.
:func:`record_score` and its batch form :func:`record_scores` are the one writer (the nightly batch in :mod:`zhongcao.experience.computation`,
operators, tests, the simulator). How scores are computed lives in ``computation``, and NPS in
:mod:`zhongcao.experience.surveys`: this module reads no other domain's records, so that every
domain may gate on a score without being tied to what the score is computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.db import insert_rows
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.experience.models import ShopScore
from zhongcao.shops import service as shops_service

# Shop scores are on a 5-point scale in hundredths.
MAX_SCORE_CENTI = 500
# ``ShopScore.source`` of the rows written by the nightly batch.
COMPUTED = "computed"


def latest_score(db: Session, shop_id: int) -> ShopScore | None:
    """The shop's newest score row, or ``None`` when it has never been scored."""
    return db.scalar(
        select(ShopScore)
        .where(ShopScore.shop_id == shop_id)
        .order_by(ShopScore.computed_at.desc(), ShopScore.id.desc())
        .limit(1)
    )


def current_score_centi(db: Session, shop_id: int) -> int | None:
    """The shop's current score in hundredths (450 = 4.50), or ``None`` when it is not scored."""
    row = latest_score(db, shop_id)
    return row.score_centi if row is not None else None


def current_scores(db: Session, shop_ids: Iterable[int]) -> dict[int, int | None]:
    """Current scores of many shops in one query; every asked id is a key (``None`` = not scored)."""
    ids = sorted(set(shop_ids))
    result: dict[int, int | None] = dict.fromkeys(ids)
    if not ids:
        return result
    ranked = (
        select(
            ShopScore.shop_id,
            ShopScore.score_centi,
            func.row_number()
            .over(
                partition_by=ShopScore.shop_id,
                order_by=(ShopScore.computed_at.desc(), ShopScore.id.desc()),
            )
            .label("rank"),
        )
        .where(ShopScore.shop_id.in_(ids))
        .subquery()
    )
    for shop_id, score in db.execute(
        select(ranked.c.shop_id, ranked.c.score_centi).where(ranked.c.rank == 1)
    ):
        result[shop_id] = score
    return result


def scores_version(db: Session) -> tuple[int, int]:
    """Moves whenever a score is written (scores are rows added, never edited): ``(rows, newest id)``.
    A reader holding many shops' :func:`current_scores` re-reads them only when this changes."""
    rows, newest = db.execute(select(func.count(), func.max(ShopScore.id)).select_from(ShopScore)).one()
    return int(rows), int(newest or 0)


def shop_ids_scored_below(db: Session, threshold_centi: int) -> Select[tuple[int]]:
    """A query of the shops whose current score is below ``threshold_centi`` (unscored shops are not
    in it), for gates that filter in SQL (the affiliate plaza)."""
    ranked = select(
        ShopScore.shop_id,
        ShopScore.score_centi,
        func.row_number()
        .over(partition_by=ShopScore.shop_id, order_by=(ShopScore.computed_at.desc(), ShopScore.id.desc()))
        .label("rank"),
    ).subquery()
    return select(ranked.c.shop_id).where(
        ranked.c.rank == 1, ranked.c.score_centi.is_not(None), ranked.c.score_centi < threshold_centi
    )


def _check_centi(value: int | None, field: str) -> None:
    if value is not None and not 0 <= value <= MAX_SCORE_CENTI:
        raise InvalidInput(
            f"{field} must be between 0 and {MAX_SCORE_CENTI}",
            code="score_out_of_range",
            field=field,
            details={"min": 0, "max": MAX_SCORE_CENTI},
        )


@dataclass(frozen=True)
class NewScore:
    """One score to record (what :func:`record_score` takes, as a row for :func:`record_scores`)."""

    shop_id: int
    score_centi: int | None
    product_centi: int | None = None
    logistics_centi: int | None = None
    service_centi: int | None = None
    order_count: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    computed_at: datetime | None = None
    source: str = "manual"


def _checked(score: NewScore, now: datetime) -> dict[str, Any]:
    """The row to insert, once the score's values are checked (the shop is checked by the caller)."""
    for value, name in (
        (score.score_centi, "score_centi"),
        (score.product_centi, "product_centi"),
        (score.logistics_centi, "logistics_centi"),
        (score.service_centi, "service_centi"),
    ):
        _check_centi(value, name)
    if score.order_count < 0:
        raise InvalidInput("order_count cannot be negative", code="invalid_order_count", field="order_count")
    if not score.source or len(score.source) > 20:
        raise InvalidInput("source must be 1 to 20 characters", code="invalid_source", field="source")
    return {
        "shop_id": score.shop_id,
        "computed_at": score.computed_at or now,
        "score_centi": score.score_centi,
        "product_centi": score.product_centi,
        "logistics_centi": score.logistics_centi,
        "service_centi": score.service_centi,
        "order_count": score.order_count,
        "details": dict(score.details),
        "source": score.source,
    }


def record_score(
    db: Session,
    shop_id: int,
    score_centi: int | None,
    *,
    product_centi: int | None = None,
    logistics_centi: int | None = None,
    service_centi: int | None = None,
    order_count: int = 0,
    details: dict[str, Any] | None = None,
    computed_at: datetime | None = None,
    source: str = "manual",
    commit: bool = True,
) -> ShopScore:
    """Record a score for a shop; it becomes the current one unless a newer row exists."""
    shops_service.get_shop(db, shop_id)
    row = ShopScore(
        **_checked(
            NewScore(
                shop_id=shop_id,
                score_centi=score_centi,
                product_centi=product_centi,
                logistics_centi=logistics_centi,
                service_centi=service_centi,
                order_count=order_count,
                details=dict(details or {}),
                computed_at=computed_at,
                source=source,
            ),
            clock.now(),
        )
    )
    db.add(row)
    db.flush()
    if commit:
        db.commit()
    return row


def record_scores(db: Session, scores: Sequence[NewScore], *, commit: bool = True) -> int:
    """Record many scores at once (the nightly batch: every shop, one multi-row INSERT instead of a
    round trip each), under the same rules as :func:`record_score`; one bad row (404 for an unknown
    shop, 422 for a value out of range) records none of them. Returns how many were recorded."""
    now = clock.now()
    known = shops_service.shops_by_ids(db, [s.shop_id for s in scores])
    rows = []
    for score in scores:
        if score.shop_id not in known:
            raise NotFound("shop not found", code="shop_not_found", details={"shop_id": score.shop_id})
        rows.append(_checked(score, now))
    insert_rows(db, ShopScore.__table__, rows)
    if commit:
        db.commit()
    else:
        db.flush()
    return len(rows)


def score_history(db: Session, shop_id: int, since: datetime) -> list[ShopScore]:
    """The shop's computed scores since ``since``, oldest first (the indicators over time)."""
    return list(
        db.scalars(
            select(ShopScore)
            .where(ShopScore.shop_id == shop_id, ShopScore.computed_at >= since, ShopScore.source == COMPUTED)
            .order_by(ShopScore.computed_at, ShopScore.id)
        )
    )


def score_distribution(db: Session, width_centi: int = 25) -> dict[str, int]:
    """How many active shops have each current score, in bands of ``width_centi`` (``"not scored"``
    counts the rest)."""
    shop_ids = list(db.scalars(shops_service.active_shop_ids_query()))
    bands: dict[str, int] = {}
    for score in current_scores(db, shop_ids).values():
        if score is None:
            key = "not scored"
        else:
            low = min(score // width_centi * width_centi, MAX_SCORE_CENTI - width_centi)
            key = f"{low / 100:.2f}–{(low + width_centi) / 100:.2f}"
        bands[key] = bands.get(key, 0) + 1
    return dict(sorted(bands.items()))


def current_scores_query() -> Select[tuple[int, int]]:
    """A query of ``(shop_id, score_centi)``, each scored shop's current score, for other domains'
    listings that filter or sort on it in SQL (the affiliate plaza); unscored shops are not in it."""
    ranked = select(
        ShopScore.shop_id,
        ShopScore.score_centi,
        func.row_number()
        .over(partition_by=ShopScore.shop_id, order_by=(ShopScore.computed_at.desc(), ShopScore.id.desc()))
        .label("rank"),
    ).subquery()
    return select(ranked.c.shop_id, ranked.c.score_centi).where(
        ranked.c.rank == 1, ranked.c.score_centi.is_not(None)
    )
