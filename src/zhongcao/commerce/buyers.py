"""A shop's buyers and what they spent there (read by memberships through the workflows layer)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao.commerce.models import Order, OrderStatus

SPENDING_STATUSES = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed)


def buyer_totals_for_shop(
    db: Session, shop_id: int, user_ids: Sequence[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Per buyer of the shop: (paid orders, spend in fen net of refunds), over orders paid and not
    cancelled. Membership tiers and member analytics read it; ``user_ids`` narrows to those buyers."""
    stmt = (
        select(
            Order.user_id,
            func.count(Order.id),
            func.coalesce(func.sum(Order.paid_fen - Order.refunded_fen), 0),
        )
        .where(Order.shop_id == shop_id, Order.status.in_(SPENDING_STATUSES))
        .group_by(Order.user_id)
    )
    if user_ids is not None:
        stmt = stmt.where(Order.user_id.in_(list(user_ids)))
    return {int(u): (int(n), int(fen)) for u, n, fen in db.execute(stmt)}
