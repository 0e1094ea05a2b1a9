"""The order state machine, in one place.

::

    created --pay--> paid --ship--> shipped --deliver--> delivered --complete--> completed
    created --cancel--> cancelled          (the whole unpaid checkout is cancelled)
    paid    --cancel--> cancelled          (refunded in full)

Every status change goes through :func:`move`; anything not in :data:`TRANSITIONS` is a 409
``illegal_transition`` with ``details = {"from", "to"}``.

Paying freezes each item's attribution (``attribution_frozen_at``); from then on an ORM guard
refuses any change to the attribution columns, whatever code path tries it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event

from zhongcao.commerce.models import Order, OrderItem, OrderStatus
from zhongcao.errors import Conflict

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.created: frozenset({S.paid, S.cancelled}),
    S.paid: frozenset({S.shipped, S.cancelled}),
    S.shipped: frozenset({S.delivered}),
    S.delivered: frozenset({S.completed}),
    S.completed: frozenset(),
    S.cancelled: frozenset(),
}

# The timestamp each target status stamps on the order.
STAMPS: dict[OrderStatus, str] = {
    S.paid: "paid_at",
    S.shipped: "shipped_at",
    S.delivered: "delivered_at",
    S.completed: "completed_at",
    S.cancelled: "cancelled_at",
}


def illegal(current: OrderStatus | str, target: OrderStatus | str) -> Conflict:
    current_value = current.value if isinstance(current, OrderStatus) else current
    target_value = target.value if isinstance(target, OrderStatus) else target
    return Conflict(
        f"an order that is {current_value} cannot become {target_value}",
        code="illegal_transition",
        details={"from": current_value, "to": target_value},
    )


def can_move(order: Order, target: OrderStatus) -> bool:
    return target in TRANSITIONS[order.status]


def ensure(order: Order, target: OrderStatus) -> None:
    if not can_move(order, target):
        raise illegal(order.status, target)


def move(order: Order, target: OrderStatus, at: datetime) -> None:
    """Change ``order``'s status if the table allows it, stamping the target's timestamp."""
    ensure(order, target)
    order.status = target
    setattr(order, STAMPS[target], at)


# --- the attribution freeze ----------------------------------------------------------------------

FROZEN_COLUMNS = ("channel", "content_id", "account_id", "campaign_id", "carrier")


class AttributionFrozen(Conflict):
    code = "attribution_frozen"


def _refuse_frozen_change(target: OrderItem, value: Any, oldvalue: Any, _initiator: Any) -> Any:
    if target.attribution_frozen_at is not None and value != oldvalue:
        raise AttributionFrozen("an order item's attribution cannot change once the order is paid")
    return value


for _column in FROZEN_COLUMNS:
    event.listen(getattr(OrderItem, _column), "set", _refuse_frozen_change, retval=True)
