"""Shop applications: a signed-in shopper asks to open a shop, an operator approves or rejects it.

The applicant files shop names, a main category, the company's unified social credit code (checked
by its check character, :mod:`zhongcao.shops.credit_code`) and a contact. One application may be
pending per person. Approval opens the shop through :func:`shops.service.create_shop` with the
applicant as its owner, the applicant's role becoming merchant, in one transaction; rejection needs
a reason, which the applicant sees. The category is checked by ``flows.apply_for_shop`` (the catalog
reads shops, so shops cannot read the catalog).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao import clock, signals
from zhongcao.audit import service as audit_service
from zhongcao.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops import credit_code, service
from zhongcao.shops.models import ApplicationStatus, ShopApplication
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

# Digits with an optional leading + and spaces or hyphens between groups: 010-8888 6666, +86 138...
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}[0-9]$")
MAX_REASON = 1000


def check_phone(phone: str, *, field: str = "contact_phone") -> str:
    phone = phone.strip()
    if not PHONE_RE.fullmatch(phone) or sum(ch.isdigit() for ch in phone) < 5:
        raise InvalidInput("a phone number is digits, optionally +, spaces and hyphens", field=field)
    return phone


def check_credit_code(code: str, *, field: str = "credit_code") -> str:
    code = credit_code.normalise(code)
    problem = credit_code.problem(code)
    if problem is not None:
        raise InvalidInput(problem, code="invalid_credit_code", field=field)
    return code


def pending_for(db: Session, applicant_id: int) -> ShopApplication | None:
    return db.scalar(
        select(ShopApplication).where(
            ShopApplication.applicant_id == applicant_id, ShopApplication.status == ApplicationStatus.pending
        )
    )


def apply(
    db: Session,
    applicant_id: int,
    *,
    name_zh: str,
    name_en: str,
    category_id: int,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
) -> ShopApplication:
    """File an application (the category already checked by the caller). A shopper only: merchants
    already work for a shop, creators and operators would lose their role (403 ``wrong_role``); a
    second pending application is refused (409 ``application_pending``)."""
    applicant = users_service.get_user(db, applicant_id)
    if applicant.role is not Role.shopper:
        raise Forbidden("only a shopper account can apply to open a shop", code="wrong_role")
    code = check_credit_code(credit_code)
    phone = check_phone(contact_phone)
    for field, value in (("name_zh", name_zh), ("name_en", name_en), ("contact_name", contact_name)):
        if not value.strip():
            raise InvalidInput(f"{field} is required", field=field)
    if pending_for(db, applicant.id) is not None:
        raise Conflict("you already have an application waiting for review", code="application_pending")
    row = ShopApplication(
        applicant_id=applicant.id,
        name_zh=name_zh.strip(),
        name_en=name_en.strip(),
        category_id=category_id,
        credit_code=code,
        contact_name=contact_name.strip(),
        contact_phone=phone,
        status=ApplicationStatus.pending,
    )
    db.add(row)
    db.commit()
    return row


def applications_of(db: Session, applicant_id: int) -> list[ShopApplication]:
    """An applicant's applications, newest first."""
    return list(
        db.scalars(
            select(ShopApplication)
            .where(ShopApplication.applicant_id == applicant_id)
            .order_by(ShopApplication.id.desc())
        )
    )


def application_of(db: Session, applicant_id: int, application_id: int) -> ShopApplication:
    """One of the applicant's own applications; anyone else's is not found."""
    row = db.get(ShopApplication, application_id)
    if row is None or row.applicant_id != applicant_id:
        raise NotFound("application not found", code="application_not_found")
    return row


def get_application(db: Session, application_id: int) -> ShopApplication:
    row = db.get(ShopApplication, application_id)
    if row is None:
        raise NotFound("application not found", code="application_not_found")
    return row


def list_applications(
    db: Session, params: PageParams, *, status: ApplicationStatus | None = None
) -> tuple[Sequence[ShopApplication], str | None]:
    """Applications newest first (operators), optionally of one status."""
    stmt = select(ShopApplication)
    if status is not None:
        stmt = stmt.where(ShopApplication.status == status)
    return paginate_by_id(db, stmt, ShopApplication.id, params)


def pending_count(db: Session) -> int:
    """Applications waiting for an operator (the workbench's counter)."""
    return (
        db.scalar(
            select(func.count())
            .select_from(ShopApplication)
            .where(ShopApplication.status == ApplicationStatus.pending)
        )
        or 0
    )


def _lock_pending(db: Session, application_id: int) -> ShopApplication:
    # Row lock on PostgreSQL: two operators deciding at once cannot both win.
    row = db.scalar(select(ShopApplication).where(ShopApplication.id == application_id).with_for_update())
    if row is None:
        raise NotFound("application not found", code="application_not_found")
    if row.status is not ApplicationStatus.pending:
        db.rollback()
        raise Conflict(
            "this application has already been decided",
            code="application_decided",
            details={"status": row.status.value},
        )
    return row


def _checked_reason(reason: str, why: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput(why, code="reason_required", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason is at most {MAX_REASON} characters", field="reason")
    return reason


def approve(db: Session, application_id: int, reviewer_id: int, *, reason: str) -> ShopApplication:
    """Open the shop with the applicant as owner (the applicant becomes a merchant). Like every
    operator action it carries a reason (what was checked), which the applicant reads and the audit
    log keeps: 422 ``reason_required`` when blank. 409 ``application_decided`` when it was decided
    before, 409 ``applicant_changed`` when the applicant is no longer a shopper (their role changed
    since they applied)."""
    reason = _checked_reason(reason, "say why the application is approved (what was checked)")
    row = _lock_pending(db, application_id)
    applicant = users_service.get_user(db, row.applicant_id)
    if applicant.role is not Role.shopper or not applicant.is_active:
        db.rollback()
        raise Conflict("the applicant is no longer an active shopper", code="applicant_changed")
    users_service.set_role(db, applicant, Role.merchant)
    shop = service.create_shop(
        db, name_zh=row.name_zh, name_en=row.name_en, owner_user_id=applicant.id, commit=False
    )
    row.status = ApplicationStatus.approved
    row.shop_id = shop.id
    row.reason = reason
    row.reviewer_id = reviewer_id
    row.decided_at = clock.now()
    _audit(db, row, reviewer_id, "shop_application.approve", reason)
    _decided(db, row)
    db.commit()
    return row


def _audit(db: Session, row: ShopApplication, reviewer_id: int, action: str, reason: str) -> None:
    """The operator's decision in the audit log, with the change it made (docs/operators.md)."""
    audit_service.record(
        db,
        actor_user_id=reviewer_id,
        action=action,
        target_kind="shop_application",
        target_id=row.id,
        reason=reason,
        before={"status": ApplicationStatus.pending.value},
        after={"status": row.status.value, "shop_id": row.shop_id},
    )


def _decided(db: Session, row: ShopApplication) -> None:
    signals.emit(
        db,
        "shop_application_decided",
        application_id=row.id,
        applicant_id=row.applicant_id,
        status=row.status.value,
        shop_id=row.shop_id,
        name_zh=row.name_zh,
        name_en=row.name_en,
    )


def reject(db: Session, application_id: int, reviewer_id: int, *, reason: str) -> ShopApplication:
    """Refuse with a reason the applicant reads (422 naming ``reason`` when it is blank)."""
    reason = _checked_reason(reason, "say why the application is rejected")
    row = _lock_pending(db, application_id)
    row.status = ApplicationStatus.rejected
    row.reason = reason
    row.reviewer_id = reviewer_id
    row.decided_at = clock.now()
    _audit(db, row, reviewer_id, "shop_application.reject", reason)
    _decided(db, row)
    db.commit()
    return row
