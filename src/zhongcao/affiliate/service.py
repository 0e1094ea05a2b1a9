"""Affiliate (Alliance) plans, creators' applications to targeted plans, and creators' earnings.

Plan rules, per product. They are checked under a lock on the product's row, so two concurrent
requests cannot both pass them (SQLite serialises writers anyway):

* open (普通): any creator may promote the product. At most one is active.
* targeted (定向): named creators earn more than the open rate. A targeted plan is an uplift on top
  of the open plan, so it needs an active open plan, its rate must be higher than the open plan's,
  and ending the open plan ends the product's targeted plans too: left alone, a targeted plan with
  no open plan beside it would make the product promotable by its named creators only, which is an
  exclusive arrangement that never went through the exclusive rules.
* exclusive (专属): only named creators may promote. It excludes open and targeted plans on the
  same product, and at most one is active.

Who may promote (anchor) a product, :func:`promotable_product_ids`: when the product has an active
exclusive plan, only the creators listed on it; otherwise anyone when an open plan is active, and
the creators listed on an active targeted plan. The product must be on sale.

Plans are never edited: a merchant ends a plan and creates another, so an order's commission
rate always refers to terms that were visible to the creator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.affiliate import ledger
from zhongcao.affiliate.models import (
    AffiliatePlan,
    AffiliatePlanCreator,
    ApplicationStatus,
    CommissionEntry,
    CommissionKind,
    CreatorApplication,
    PlanKind,
    PlanStatus,
)
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.service import ProductBrief
from zhongcao.config import get_settings
from zhongcao.content import service as content_service
from zhongcao.content.models import AccountKind
from zhongcao.db import Base, insert_rows_returning_ids, rows_changed
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.experience import scores as experience_scores
from zhongcao.money import apply_bps
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops import service as shops_service

if TYPE_CHECKING:
    from zhongcao.content.models import Account

MIN_COMMISSION_BPS = 1
MAX_COMMISSION_BPS = 9000
MAX_PLAN_CREATORS = 200

# --- helpers -------------------------------------------------------------------------------------


def _insert_ignoring_duplicate(
    db: Session, model: type[Base], values: dict[str, Any], keys: list[str]
) -> bool:
    """INSERT unless a row with the same ``keys`` exists; True when a row was inserted."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    stmt = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[table.c[k] for k in keys])
        .returning(table.c.id)
    )
    return db.execute(stmt).first() is not None


def _add_creator(db: Session, plan_id: int, account_id: int) -> bool:
    return _insert_ignoring_duplicate(
        db,
        AffiliatePlanCreator,
        {"plan_id": plan_id, "account_id": account_id, "created_at": clock.now()},
        ["plan_id", "account_id"],
    )


def _creator_account(db: Session, account_id: int, field: str) -> Account:
    account = content_service.accounts_by_ids(db, [account_id]).get(account_id)
    if account is None:
        raise InvalidInput("account not found", code="account_not_found", field=field)
    if account.kind != AccountKind.creator:
        raise InvalidInput(
            "only creator accounts can be listed on a plan", code="not_a_creator_account", field=field
        )
    return account


# --- plans ---------------------------------------------------------------------------------------


def get_plan(db: Session, plan_id: int, *, lock: bool = False) -> AffiliatePlan:
    stmt = select(AffiliatePlan).where(AffiliatePlan.id == plan_id)
    if lock:
        stmt = stmt.with_for_update()
    plan = db.scalar(stmt)
    if plan is None:
        raise NotFound("affiliate plan not found", code="plan_not_found")
    return plan


def plan_for_shop(db: Session, shop_id: int, plan_id: int) -> AffiliatePlan:
    """The shop's own plan; another shop's plan is not found."""
    plan = db.scalar(
        select(AffiliatePlan).where(AffiliatePlan.id == plan_id, AffiliatePlan.shop_id == shop_id)
    )
    if plan is None:
        raise NotFound("affiliate plan not found", code="plan_not_found")
    return plan


def active_plans_for_product(db: Session, product_id: int) -> list[AffiliatePlan]:
    return active_plans_for_products(db, [product_id]).get(product_id, [])


def active_plans_for_products(db: Session, product_ids: Sequence[int]) -> dict[int, list[AffiliatePlan]]:
    ids = sorted(set(product_ids))
    out: dict[int, list[AffiliatePlan]] = {pid: [] for pid in ids}
    if not ids:
        return out
    plans = db.scalars(
        select(AffiliatePlan)
        .where(AffiliatePlan.product_id.in_(ids), AffiliatePlan.status == PlanStatus.active)
        .order_by(AffiliatePlan.id)
    )
    for plan in plans:
        out[plan.product_id].append(plan)
    return out


def plan_creator_ids(db: Session, plan_id: int) -> list[int]:
    return plan_creator_ids_by_plan(db, [plan_id])[plan_id]


def plan_creator_ids_by_plan(db: Session, plan_ids: Sequence[int]) -> dict[int, list[int]]:
    ids = sorted(set(plan_ids))
    out: dict[int, list[int]] = {pid: [] for pid in ids}
    if not ids:
        return out
    rows = db.execute(
        select(AffiliatePlanCreator.plan_id, AffiliatePlanCreator.account_id)
        .where(AffiliatePlanCreator.plan_id.in_(ids))
        .order_by(AffiliatePlanCreator.id)
    )
    for plan_id, account_id in rows:
        out[plan_id].append(account_id)
    return out


def shop_plans_page(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    product_id: int | None = None,
    kind: PlanKind | None = None,
    status: PlanStatus | None = None,
) -> tuple[Sequence[AffiliatePlan], str | None]:
    stmt = select(AffiliatePlan).where(AffiliatePlan.shop_id == shop_id)
    if product_id is not None:
        stmt = stmt.where(AffiliatePlan.product_id == product_id)
    if kind is not None:
        stmt = stmt.where(AffiliatePlan.kind == kind)
    if status is not None:
        stmt = stmt.where(AffiliatePlan.status == status)
    return paginate_by_id(db, stmt, AffiliatePlan.id, params)


def _check_plan_input(kind: PlanKind, commission_bps: int, creator_account_ids: Sequence[int]) -> None:
    if not MIN_COMMISSION_BPS <= commission_bps <= MAX_COMMISSION_BPS:
        raise InvalidInput(
            f"the commission is {MIN_COMMISSION_BPS} to {MAX_COMMISSION_BPS} basis points",
            code="invalid_commission",
            field="commission_bps",
        )
    if kind == PlanKind.open and creator_account_ids:
        raise InvalidInput(
            "an open plan is open to every creator; it lists none",
            code="open_plan_has_no_creators",
            field="creator_account_ids",
        )
    if len(creator_account_ids) > MAX_PLAN_CREATORS:
        raise InvalidInput(
            f"at most {MAX_PLAN_CREATORS} creators per request",
            code="too_many_creators",
            field="creator_account_ids",
        )
    seen: set[int] = set()
    for i, account_id in enumerate(creator_account_ids):
        if account_id in seen:
            raise InvalidInput(
                "each creator is listed once", code="duplicate_creator", field=f"creator_account_ids[{i}]"
            )
        seen.add(account_id)


def _check_plan_rules(db: Session, product_id: int, kind: PlanKind, commission_bps: int) -> None:
    """The coexistence rules of the module docstring; the caller holds the product's lock."""
    active = active_plans_for_product(db, product_id)
    kinds = {p.kind for p in active}
    if kind == PlanKind.exclusive:
        if kinds & {PlanKind.open, PlanKind.targeted}:
            raise Conflict(
                "an exclusive plan cannot coexist with open or targeted plans on the product; end them first",
                code="plan_conflict",
            )
        if PlanKind.exclusive in kinds:
            raise Conflict("the product already has an active exclusive plan", code="plan_exists")
        return
    if PlanKind.exclusive in kinds:
        raise Conflict(
            "the product has an active exclusive plan; end it before offering other plans",
            code="plan_conflict",
        )
    if kind == PlanKind.open:
        if PlanKind.open in kinds:
            raise Conflict("the product already has an active open plan", code="plan_exists")
        return
    open_plan = next((p for p in active if p.kind == PlanKind.open), None)
    if open_plan is None:
        raise Conflict("a targeted plan needs an active open plan on the product", code="open_plan_required")
    if commission_bps <= open_plan.commission_bps:
        raise InvalidInput(
            f"a targeted plan must pay more than the open plan's {open_plan.commission_bps} basis points",
            code="targeted_rate_not_higher",
            field="commission_bps",
            details={"open_plan_id": open_plan.id, "open_commission_bps": open_plan.commission_bps},
        )


def create_plan(
    db: Session,
    shop_id: int,
    *,
    product_id: int,
    kind: PlanKind,
    commission_bps: int,
    creator_account_ids: Sequence[int] = (),
) -> AffiliatePlan:
    _check_plan_input(kind, commission_bps, creator_account_ids)
    product = catalog_service.product_briefs(db, [product_id], lock=True).get(product_id)
    if product is None or product.shop_id != shop_id:
        raise InvalidInput("no such product in this shop", code="product_not_found", field="product_id")
    for i, account_id in enumerate(creator_account_ids):
        _creator_account(db, account_id, f"creator_account_ids[{i}]")
    _check_plan_rules(db, product_id, kind, commission_bps)
    plan = AffiliatePlan(
        shop_id=shop_id,
        product_id=product_id,
        kind=kind,
        commission_bps=commission_bps,
        status=PlanStatus.active,
    )
    db.add(plan)
    db.flush()
    for account_id in creator_account_ids:
        _add_creator(db, plan.id, account_id)
    db.commit()
    return plan


def _reject_pending_applications(db: Session, plan_ids: Sequence[int]) -> None:
    """Applications to plans that ended can never be approved: close them (decided by no one)."""
    db.execute(
        update(CreatorApplication)
        .where(
            CreatorApplication.plan_id.in_(list(plan_ids)),
            CreatorApplication.status == ApplicationStatus.pending,
        )
        .values(status=ApplicationStatus.rejected, decided_at=clock.now())
    )


def end_plan(db: Session, shop_id: int, plan_id: int) -> AffiliatePlan:
    """active -> ended. Ending an open plan also ends the product's targeted plans (see above)."""
    plan = plan_for_shop(db, shop_id, plan_id)
    catalog_service.product_briefs(db, [plan.product_id], lock=True)
    now = clock.now()
    ended = rows_changed(
        db.execute(
            update(AffiliatePlan)
            .where(AffiliatePlan.id == plan.id, AffiliatePlan.status == PlanStatus.active)
            .values(status=PlanStatus.ended, ended_at=now)
        )
    )
    if ended != 1:
        db.rollback()
        raise Conflict("this plan has already ended", code="illegal_transition", details={"status": "ended"})
    ended_ids = [plan.id]
    if plan.kind == PlanKind.open:
        targeted = list(
            db.scalars(
                select(AffiliatePlan.id).where(
                    AffiliatePlan.product_id == plan.product_id,
                    AffiliatePlan.kind == PlanKind.targeted,
                    AffiliatePlan.status == PlanStatus.active,
                )
            )
        )
        if targeted:
            db.execute(
                update(AffiliatePlan)
                .where(AffiliatePlan.id.in_(targeted), AffiliatePlan.status == PlanStatus.active)
                .values(status=PlanStatus.ended, ended_at=now)
            )
            ended_ids += targeted
    _reject_pending_applications(db, ended_ids)
    db.commit()
    db.refresh(plan)
    return plan


def add_plan_creator(db: Session, shop_id: int, plan_id: int, account_id: int) -> AffiliatePlan:
    """List a creator on a targeted or exclusive plan; listing one already listed changes nothing."""
    plan = plan_for_shop(db, shop_id, plan_id)
    if plan.kind == PlanKind.open:
        raise Conflict(
            "an open plan is open to every creator; it lists none", code="open_plan_has_no_creators"
        )
    if plan.status != PlanStatus.active:
        raise Conflict("this plan has ended", code="plan_ended")
    _creator_account(db, account_id, "account_id")
    _add_creator(db, plan.id, account_id)
    db.commit()
    return plan


def remove_plan_creator(db: Session, shop_id: int, plan_id: int, account_id: int) -> None:
    plan = plan_for_shop(db, shop_id, plan_id)
    removed = rows_changed(
        db.execute(
            delete(AffiliatePlanCreator).where(
                AffiliatePlanCreator.plan_id == plan.id, AffiliatePlanCreator.account_id == account_id
            )
        )
    )
    if not removed:
        raise NotFound("this creator is not listed on the plan", code="plan_creator_not_found")
    db.commit()


# --- who may promote what ------------------------------------------------------------------------


def _listed_plan_ids(db: Session, account_id: int, plan_ids: Sequence[int]) -> set[int]:
    if not plan_ids:
        return set()
    return set(
        db.scalars(
            select(AffiliatePlanCreator.plan_id).where(
                AffiliatePlanCreator.account_id == account_id,
                AffiliatePlanCreator.plan_id.in_(list(plan_ids)),
            )
        )
    )


def _usable_plans(db: Session, account_id: int, product_ids: Sequence[int]) -> dict[int, list[AffiliatePlan]]:
    # Which of these plans pays, and at what rate, is affiliate.resolution's rule (applied at checkout).
    """For each on-sale product, the active plans under which ``account_id`` may promote it."""
    account = content_service.accounts_by_ids(db, [account_id]).get(account_id)
    if account is None or account.kind != AccountKind.creator:
        return {}
    on_sale = {pid for pid, info in catalog_service.product_briefs(db, product_ids).items() if info.on_sale}
    plans_by_product = active_plans_for_products(db, sorted(on_sale))
    listed = _listed_plan_ids(
        db,
        account_id,
        [p.id for plans in plans_by_product.values() for p in plans if p.kind != PlanKind.open],
    )
    usable: dict[int, list[AffiliatePlan]] = {}
    for product_id, plans in plans_by_product.items():
        exclusive = [p for p in plans if p.kind == PlanKind.exclusive]
        if exclusive:
            mine = [p for p in exclusive if p.id in listed]
        else:
            mine = [p for p in plans if p.kind == PlanKind.open or p.id in listed]
        if mine:
            usable[product_id] = mine
    return usable


def usable_plans(db: Session, account_id: int, product_ids: Sequence[int]) -> dict[int, list[AffiliatePlan]]:
    """For each of ``product_ids`` the creator may anchor now, the active plans it may promote under."""
    return _usable_plans(db, account_id, product_ids)


def promotable_product_ids(db: Session, account_id: int, product_ids: Sequence[int]) -> set[int]:
    """Those of ``product_ids`` the creator account may anchor now (see the module docstring)."""
    return set(_usable_plans(db, account_id, product_ids))


# --- the plaza -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlazaEntry:
    plan: AffiliatePlan
    product: ProductBrief
    shop_name_zh: str
    shop_name_en: str
    can_promote: bool
    application_status: ApplicationStatus | None

    @property
    def estimated_commission_fen(self) -> int | None:
        if self.product.price_fen is None:
            return None
        return apply_bps(self.product.price_fen, self.plan.commission_bps)


def plaza_page(
    db: Session,
    account_id: int,
    params: PageParams,
    *,
    kind: PlanKind | None = None,
    product_id: int | None = None,
) -> tuple[list[PlazaEntry], str | None]:
    """Plans a creator can browse: active open and targeted plans on products on sale, and the
    exclusive plans that list this creator. Newest first."""
    mine = select(AffiliatePlanCreator.plan_id).where(AffiliatePlanCreator.account_id == account_id)
    stmt = select(AffiliatePlan).where(
        AffiliatePlan.status == PlanStatus.active,
        AffiliatePlan.product_id.in_(catalog_service.on_sale_product_ids_query()),
        or_(
            AffiliatePlan.kind.in_([PlanKind.open, PlanKind.targeted]),
            and_(AffiliatePlan.kind == PlanKind.exclusive, AffiliatePlan.id.in_(mine)),
        ),
    )
    if kind is not None:
        stmt = stmt.where(AffiliatePlan.kind == kind)
    if product_id is not None:
        stmt = stmt.where(AffiliatePlan.product_id == product_id)
    gate = get_settings().plaza_min_shop_score_centi
    if gate is not None:  # the north star: shops scored below the gate leave the plaza
        stmt = stmt.where(AffiliatePlan.shop_id.not_in(experience_scores.shop_ids_scored_below(db, gate)))
    plans, cursor = paginate_by_id(db, stmt, AffiliatePlan.id, params)
    products = catalog_service.product_briefs(db, [p.product_id for p in plans])
    shops = shops_service.shops_by_ids(db, [p.shop_id for p in plans])
    listed = _listed_plan_ids(db, account_id, [p.id for p in plans])
    latest_status = _latest_application_status(db, account_id, [p.id for p in plans])
    entries = [
        PlazaEntry(
            plan=plan,
            product=products[plan.product_id],
            shop_name_zh=shops[plan.shop_id].name_zh,
            shop_name_en=shops[plan.shop_id].name_en,
            can_promote=plan.kind == PlanKind.open or plan.id in listed,
            application_status=latest_status.get(plan.id),
        )
        for plan in plans
    ]
    return entries, cursor


def _latest_application_status(
    db: Session, account_id: int, plan_ids: Sequence[int]
) -> dict[int, ApplicationStatus]:
    if not plan_ids:
        return {}
    rows = db.execute(
        select(CreatorApplication.plan_id, CreatorApplication.status)
        .where(CreatorApplication.account_id == account_id, CreatorApplication.plan_id.in_(list(plan_ids)))
        .order_by(CreatorApplication.id)
    )
    return {plan_id: status for plan_id, status in rows}  # later rows overwrite: the latest wins


def listed_plan_ids(db: Session, account_id: int, plan_ids: Sequence[int]) -> set[int]:
    """Those of ``plan_ids`` that name the creator account (targeted and exclusive plans)."""
    return _listed_plan_ids(db, account_id, plan_ids)


def latest_application_status(
    db: Session, account_id: int, plan_ids: Sequence[int]
) -> dict[int, ApplicationStatus]:
    """The creator's latest application status per plan, for those of ``plan_ids`` applied to."""
    return _latest_application_status(db, account_id, plan_ids)


# --- applications --------------------------------------------------------------------------------


def _application_for_account(db: Session, account_id: int, application_id: int) -> CreatorApplication:
    application = db.scalar(
        select(CreatorApplication).where(
            CreatorApplication.id == application_id, CreatorApplication.account_id == account_id
        )
    )
    if application is None:
        raise NotFound("application not found", code="application_not_found")
    return application


def application_for_shop(db: Session, shop_id: int, application_id: int) -> CreatorApplication:
    application = db.scalar(
        select(CreatorApplication).where(
            CreatorApplication.id == application_id, CreatorApplication.shop_id == shop_id
        )
    )
    if application is None:
        raise NotFound("application not found", code="application_not_found")
    return application


def apply_to_plan(db: Session, account_id: int, plan_id: int, message: str = "") -> CreatorApplication:
    """A creator asks to join a targeted plan. Open plans need no application; exclusive plans are
    by invitation and, unless the creator is listed, not even visible."""
    account = content_service.get_account(db, account_id)
    if account.kind != AccountKind.creator:
        raise Forbidden("only creator accounts apply to plans", code="not_a_creator_account")
    # The plan's row lock makes "no pending application yet" and the insert one step.
    plan = get_plan(db, plan_id, lock=True)
    listed = bool(_listed_plan_ids(db, account_id, [plan.id]))
    if plan.kind == PlanKind.exclusive and not listed:
        raise NotFound("affiliate plan not found", code="plan_not_found")
    if plan.kind == PlanKind.open:
        raise Conflict(
            "anyone may promote under an open plan; no application is needed", code="no_application_needed"
        )
    if plan.status != PlanStatus.active:
        raise Conflict("this plan has ended", code="plan_ended")
    if listed:
        raise Conflict("this creator is already listed on the plan", code="already_on_plan")
    pending = db.scalar(
        select(CreatorApplication.id).where(
            CreatorApplication.plan_id == plan.id,
            CreatorApplication.account_id == account_id,
            CreatorApplication.status == ApplicationStatus.pending,
        )
    )
    if pending is not None:
        raise Conflict(
            "an application to this plan is already pending",
            code="application_pending",
            details={"application_id": pending},
        )
    application = CreatorApplication(
        plan_id=plan.id,
        shop_id=plan.shop_id,
        account_id=account_id,
        status=ApplicationStatus.pending,
        message=message,
    )
    db.add(application)
    db.commit()
    return application


def _already_decided(application: CreatorApplication, to_status: ApplicationStatus) -> Conflict:
    return Conflict(
        f"the application is already {application.status.value}",
        code="illegal_transition",
        details={"status": application.status.value, "to": to_status.value},
    )


def _decide(
    db: Session,
    application: CreatorApplication,
    to_status: ApplicationStatus,
    decided_by_user_id: int | None,
    note: str = "",
) -> CreatorApplication:
    if application.status != ApplicationStatus.pending:
        raise _already_decided(application, to_status)
    changed = rows_changed(
        db.execute(
            update(CreatorApplication)
            .where(
                CreatorApplication.id == application.id,
                CreatorApplication.status == ApplicationStatus.pending,
            )
            .values(
                status=to_status,
                decided_at=clock.now(),
                decided_by_user_id=decided_by_user_id,
                decision_note=note,
            )
        )
    )
    if changed != 1:  # decided concurrently
        db.rollback()
        db.refresh(application)
        raise _already_decided(application, to_status)
    return application


MAX_DECISION_NOTE = 500


def _decision_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_DECISION_NOTE:
        raise InvalidInput(
            f"the note is at most {MAX_DECISION_NOTE} characters", code="too_long", field="note"
        )
    return note


def approve_application(
    db: Session, shop_id: int, application_id: int, decided_by_user_id: int, note: str = ""
) -> CreatorApplication:
    """pending -> approved, and the creator is listed on the plan. ``note``: optional, to the creator."""
    note = _decision_note(note)
    application = application_for_shop(db, shop_id, application_id)
    plan = get_plan(db, application.plan_id, lock=True)
    db.refresh(application)  # read after taking the plan's lock: a concurrent decision is visible
    if application.status != ApplicationStatus.pending:
        raise _already_decided(application, ApplicationStatus.approved)
    if plan.status != PlanStatus.active:
        raise Conflict("this plan has ended", code="plan_ended")
    _decide(db, application, ApplicationStatus.approved, decided_by_user_id, note)
    _add_creator(db, plan.id, application.account_id)
    db.commit()
    db.refresh(application)
    return application


def reject_application(
    db: Session, shop_id: int, application_id: int, decided_by_user_id: int, note: str = ""
) -> CreatorApplication:
    note = _decision_note(note)
    application = application_for_shop(db, shop_id, application_id)
    _decide(db, application, ApplicationStatus.rejected, decided_by_user_id, note)
    db.commit()
    db.refresh(application)
    return application


def withdraw_application(db: Session, account_id: int, application_id: int) -> CreatorApplication:
    application = _application_for_account(db, account_id, application_id)
    _decide(db, application, ApplicationStatus.withdrawn, None)
    db.commit()
    db.refresh(application)
    return application


def creator_applications_page(
    db: Session, account_id: int, params: PageParams, *, status: ApplicationStatus | None = None
) -> tuple[Sequence[CreatorApplication], str | None]:
    stmt = select(CreatorApplication).where(CreatorApplication.account_id == account_id)
    if status is not None:
        stmt = stmt.where(CreatorApplication.status == status)
    return paginate_by_id(db, stmt, CreatorApplication.id, params)


def shop_applications_page(
    db: Session,
    shop_id: int,
    params: PageParams,
    *,
    status: ApplicationStatus | None = None,
    plan_id: int | None = None,
) -> tuple[Sequence[CreatorApplication], str | None]:
    stmt = select(CreatorApplication).where(CreatorApplication.shop_id == shop_id)
    if status is not None:
        stmt = stmt.where(CreatorApplication.status == status)
    if plan_id is not None:
        stmt = stmt.where(CreatorApplication.plan_id == plan_id)
    return paginate_by_id(db, stmt, CreatorApplication.id, params)


def plans_by_ids(db: Session, plan_ids: Sequence[int]) -> dict[int, AffiliatePlan]:
    ids = sorted(set(plan_ids))
    if not ids:
        return {}
    return {p.id: p for p in db.scalars(select(AffiliatePlan).where(AffiliatePlan.id.in_(ids)))}


# --- earnings ------------------------------------------------------------------------------------


def commission_balance(db: Session, account_id: int) -> int:
    return ledger.balance_for_account(db, account_id)


def commission_by_order(db: Session, account_id: int) -> dict[int, tuple[int, int]]:
    """``order id -> (net commission, reversed)`` of a creator account; reversed is positive."""
    reversed_fen = func.sum(case((CommissionEntry.amount_fen < 0, -CommissionEntry.amount_fen), else_=0))
    rows = db.execute(
        select(CommissionEntry.order_id, func.sum(CommissionEntry.amount_fen), reversed_fen)
        .where(CommissionEntry.account_id == account_id)
        .group_by(CommissionEntry.order_id)
    ).all()
    return {order_id: (int(net or 0), int(back or 0)) for order_id, net, back in rows}


def commission_entries_page(
    db: Session, account_id: int, params: PageParams, *, kind: CommissionKind | None = None
) -> tuple[Sequence[CommissionEntry], str | None]:
    """The account's commission entries, newest first, optionally of one kind (accruals or reversals)."""
    stmt = select(CommissionEntry).where(CommissionEntry.account_id == account_id)
    if kind is not None:
        stmt = stmt.where(CommissionEntry.kind == kind)
    return paginate_by_id(db, stmt, CommissionEntry.id, params)


# --- bulk forms (demo world, imports) ------------------------------------------------------------

_BULK_CHUNK = 5000
# Rows per INSERT call: SQLAlchemy sends this many as one multi-row statement, where larger calls
# split into pages whose RETURNING rows are re-joined at a cost that grows with the square of the pages.


def promotable_pairs(db: Session, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those ``(creator account id, product id)`` pairs where :func:`promotable_product_ids` would
    allow the anchor, decided for all pairs in a few queries instead of a few per account."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    account_ids = sorted({a for a, _ in wanted})
    accounts: dict[int, Account] = {}
    for start in range(0, len(account_ids), _BULK_CHUNK):
        accounts.update(content_service.accounts_by_ids(db, account_ids[start : start + _BULK_CHUNK]))
    placements = catalog_service.product_placements(db, {p for _, p in wanted})
    on_sale = sorted(pid for pid, (_, _, selling) in placements.items() if selling)
    # (plan id, kind) of the active plans of each product: columns only, as this runs over many rows.
    plans_by_product: dict[int, list[tuple[int, PlanKind]]] = {}
    for start in range(0, len(on_sale), _BULK_CHUNK):
        rows = db.execute(
            select(AffiliatePlan.id, AffiliatePlan.product_id, AffiliatePlan.kind).where(
                AffiliatePlan.product_id.in_(on_sale[start : start + _BULK_CHUNK]),
                AffiliatePlan.status == PlanStatus.active,
            )
        )
        for plan_id, product_id, kind in rows:
            plans_by_product.setdefault(product_id, []).append((plan_id, kind))
    listed_plans = sorted(
        {plan_id for plans in plans_by_product.values() for plan_id, kind in plans if kind != PlanKind.open}
    )
    listed: set[tuple[int, int]] = set()
    for start in range(0, len(listed_plans), _BULK_CHUNK):
        listed.update(
            (plan_id, account_id)
            for plan_id, account_id in db.execute(
                select(AffiliatePlanCreator.plan_id, AffiliatePlanCreator.account_id).where(
                    AffiliatePlanCreator.plan_id.in_(listed_plans[start : start + _BULK_CHUNK])
                )
            )
        )
    allowed: set[tuple[int, int]] = set()
    for account_id, product_id in wanted:
        account = accounts.get(account_id)
        plans = plans_by_product.get(product_id)
        if account is None or account.kind != AccountKind.creator or not plans:
            continue
        exclusive = [plan_id for plan_id, kind in plans if kind == PlanKind.exclusive]
        if exclusive:
            usable = any((plan_id, account_id) in listed for plan_id in exclusive)
        else:
            usable = any(kind == PlanKind.open or (plan_id, account_id) in listed for plan_id, kind in plans)
        if usable:
            allowed.add((account_id, product_id))
    return allowed


def create_open_plans_bulk(db: Session, rows: Sequence[tuple[int, int, int]]) -> list[int]:
    """Open plans for many products at once: ``(shop_id, product_id, commission_bps)`` rows, under the
    rules of :func:`create_plan` for open plans (the product is the shop's; it has no active open or
    exclusive plan; the rate is in range). All rows are checked before any is written; flushes
    only; returns plan ids in input order."""
    if not rows:
        return []
    seen: set[int] = set()
    for i, (_, product_id, commission_bps) in enumerate(rows):
        _check_plan_input(PlanKind.open, commission_bps, ())
        if product_id in seen:
            raise Conflict(f"rows[{i}]: the product already has an active open plan", code="plan_exists")
        seen.add(product_id)
    product_ids = sorted(seen)
    briefs: dict[int, ProductBrief] = {}
    active: dict[int, list[AffiliatePlan]] = {}
    for start in range(0, len(product_ids), _BULK_CHUNK):
        chunk = product_ids[start : start + _BULK_CHUNK]
        briefs.update(catalog_service.product_briefs(db, chunk, lock=True))
        active.update(active_plans_for_products(db, chunk))
    for i, (shop_id, product_id, _) in enumerate(rows):
        brief = briefs.get(product_id)
        if brief is None or brief.shop_id != shop_id:
            raise InvalidInput(
                "no such product in this shop", code="product_not_found", field=f"rows[{i}].product_id"
            )
        kinds = {p.kind for p in active.get(product_id, [])}
        if PlanKind.exclusive in kinds:
            raise Conflict(
                "the product has an active exclusive plan; end it before offering other plans",
                code="plan_conflict",
            )
        if PlanKind.open in kinds:
            raise Conflict("the product already has an active open plan", code="plan_exists")
    now = clock.now()
    values = [
        {
            "shop_id": shop_id,
            "product_id": product_id,
            "kind": PlanKind.open,
            "commission_bps": commission_bps,
            "status": PlanStatus.active,
            "created_at": now,
        }
        for shop_id, product_id, commission_bps in rows
    ]
    ids = insert_rows_returning_ids(db, AffiliatePlan.__table__, values)
    return ids
