"""Orders held until their evidence is in, as the other domains' counters read them (issue #19).

A held order (``integrity.brushing.held_orders``: paid by buyers sharing keys at a shop, by a flagged
account, or by a new customer of a suspected shop) is not penalised: for a week after payment it
counts nowhere a ring's order would buy something — its units in the sales shown and ranked
(``integrity_flagged_sales``), its review's rating, its part in the shop's experience score — and then
counts unless a case has flagged it. :func:`uncounted_order_ids` is what those counters leave out:
the orders flagged as brushed and the orders held now.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import FlagKind, IntegrityHeldOrder

CHUNK = 500  # SQLite's parameter limit, with room


def held_order_ids(db: Session) -> set[int]:
    return {int(o) for o in db.scalars(select(IntegrityHeldOrder.order_id))}


def replace_held_orders(db: Session, order_ids: Collection[int]) -> int:
    """Make ``integrity_held_orders`` hold exactly ``order_ids``; flushes only, answers how many rows
    changed."""
    current = held_order_ids(db)
    wanted = {int(o) for o in order_ids}
    gone, new = sorted(current - wanted), sorted(wanted - current)
    for start in range(0, len(gone), CHUNK):
        db.execute(
            delete(IntegrityHeldOrder).where(IntegrityHeldOrder.order_id.in_(gone[start : start + CHUNK]))
        )
    for start in range(0, len(new), CHUNK):
        db.execute(insert(IntegrityHeldOrder), [{"order_id": o} for o in new[start : start + CHUNK]])
    db.flush()
    return len(gone) + len(new)


def uncounted_order_ids(db: Session) -> set[int]:
    """Orders whose rating and experience-score part do not count now: flagged as brushed, or held."""
    flagged = integrity_service.flagged_ids_query(FlagKind.order)
    return {int(o) for o in db.scalars(flagged)} | held_order_ids(db)
