"""Which affiliate plan, and so which commission rate, applies to a sale of a product by a creator.

Only ``active`` plans of the product count:

1. if the product has an exclusive plan, only creators listed on it earn, at its rate; any other
   creator earns nothing (exclusive plans shut out open and targeted ones);
2. else a targeted plan that lists the creator gives its rate (it beats the open plan);
3. else the open plan gives its rate;
4. else no commission.

Where several plans of the same kind qualify, the best rate wins (then the oldest plan).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.affiliate.models import AffiliatePlan, AffiliatePlanCreator, PlanKind, PlanStatus


@dataclass(frozen=True)
class CommissionTerms:
    plan_id: int | None
    commission_bps: int


NO_COMMISSION = CommissionTerms(plan_id=None, commission_bps=0)


def _best(plans: list[AffiliatePlan]) -> CommissionTerms:
    plan = min(plans, key=lambda p: (-p.commission_bps, p.id))
    return CommissionTerms(plan_id=plan.id, commission_bps=plan.commission_bps)


def terms_for(db: Session, *, product_id: int, creator_account_id: int | None) -> CommissionTerms:
    """The plan and rate for a sale of ``product_id`` credited to ``creator_account_id``."""
    if creator_account_id is None:
        return NO_COMMISSION
    # The product's active plans, each with whether this creator is on its list, in one round trip
    # (checkout asks this for every creator-attributed line).
    rows = db.execute(
        select(AffiliatePlan, AffiliatePlanCreator.plan_id)
        .outerjoin(
            AffiliatePlanCreator,
            (AffiliatePlanCreator.plan_id == AffiliatePlan.id)
            & (AffiliatePlanCreator.account_id == creator_account_id),
        )
        .where(AffiliatePlan.product_id == product_id, AffiliatePlan.status == PlanStatus.active)
    ).all()
    if not rows:
        return NO_COMMISSION
    plans = list({plan.id: plan for plan, _ in rows}.values())
    listed_plan_ids = {listed for _, listed in rows if listed is not None}
    exclusive = [p for p in plans if p.kind is PlanKind.exclusive]
    if exclusive:
        mine = [p for p in exclusive if p.id in listed_plan_ids]
        return _best(mine) if mine else NO_COMMISSION
    targeted = [p for p in plans if p.kind is PlanKind.targeted and p.id in listed_plan_ids]
    if targeted:
        return _best(targeted)
    open_plans = [p for p in plans if p.kind is PlanKind.open]
    if open_plans:
        return _best(open_plans)
    return NO_COMMISSION
