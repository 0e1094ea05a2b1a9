"""Shop scores, the computing side: the nightly batch.

:mod:`zhongcao.experience.indicators` gathers each shop's records (orders, after-sales, reviews,
support), :mod:`zhongcao.experience.scoring` turns them into scores, and :func:`compute_scores`
records them through :mod:`zhongcao.experience.scores`, where every reader finds them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.experience import indicators, scoring
from zhongcao.experience.models import ShopScore
from zhongcao.experience.scores import COMPUTED, NewScore, record_scores

SCORE_INTERVAL = timedelta(hours=24)


def compute_scores(
    db: Session, now: datetime | None = None, rules: Any | None = None, *, commit: bool = True
) -> list[Any]:
    """Recompute every active shop's experience score from the records and record it (one
    ``ShopScore`` row per shop, ``source='computed'``; unscored shops get a row with no score and the
    reason). Returns the :class:`~zhongcao.experience.scoring.ShopResult` list."""
    now = now or clock.now()
    results = scoring.score_shops(indicators.gather(db, now, rules), rules)
    record_scores(
        db,
        [
            NewScore(
                shop_id=result.shop_id,
                score_centi=result.score_centi,
                product_centi=result.dimensions_centi.get("product"),
                logistics_centi=result.dimensions_centi.get("logistics"),
                service_centi=result.dimensions_centi.get("service"),
                order_count=result.orders,
                details={"category_id": result.category_id, **result.details},
                computed_at=now,
                source=COMPUTED,
            )
            for result in results
        ],
        commit=commit,
    )
    return results


def scores_due(db: Session, now: datetime | None = None) -> bool:
    """True when no computed score is younger than :data:`SCORE_INTERVAL` (the nightly batch)."""
    now = now or clock.now()
    newest = db.scalar(select(func.max(ShopScore.computed_at)).where(ShopScore.source == COMPUTED))
    if newest is None:
        return True
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return now - newest >= SCORE_INTERVAL
