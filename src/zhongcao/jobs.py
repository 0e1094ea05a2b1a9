"""Time-driven rules, run by `zhongcao jobs run` (and by the simulated world, with its own clock).

Each job commits per order or case, so many workers may run them at once without double work:
they lock each row and re-check it before acting.
"""

from __future__ import annotations

from datetime import datetime

from zhongcao.db import Database


def run_due_jobs(database: Database, now: datetime | None = None) -> dict[str, int]:
    from zhongcao.aftersales import service as aftersales_service
    from zhongcao.commerce import service as commerce_service
    from zhongcao.experience import service as experience_service

    counts: dict[str, int] = {}
    session = database.session()
    try:
        counts["expired_checkouts"] = commerce_service.expire_unpaid_checkouts(session, now)
        result = aftersales_service.auto_process_due(session, now)
        counts["after_sales_approved"] = result.approved
        counts["after_sales_closed"] = result.closed
        counts["after_sales_failed"] = result.failed
        counts["completed_orders"] = commerce_service.complete_due_orders(session, now)
        # The nightly experience-score batch: at most once per 24 h (two workers racing both write a
        # row per shop; the newest is the current score either way).
        counts["shop_scores"] = 0
        if experience_service.scores_due(session, now):
            counts["shop_scores"] = len(experience_service.compute_scores(session, now))
    finally:
        session.close()
    return counts
