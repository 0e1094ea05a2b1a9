"""Sign-up and shop onboarding pages (issue #15, item 1), on the same service code as the JSON API:

* ``/register`` -- a shopper or a creator signs up (``flows.register``, as ``POST /api/auth/register``)
  with the password rule explained beside the field, and is signed in.
* ``/open-shop`` -- a signed-in shopper applies to open a shop (``flows.apply_for_shop``, as
  ``POST /api/shop-applications``) and sees each application's status and any rejection reason.
* ``/operator/shop-applications`` -- operators list applications by status, open one, approve it
  (the shop opens, the applicant its owner) or reject it with a required reason.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from zhongcao import flows
from zhongcao.catalog import service as catalog_service
from zhongcao.errors import DomainError
from zhongcao.shops import applications
from zhongcao.shops.models import ApplicationStatus
from zhongcao.shops.schemas import ShopApplicationCreate
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, TokenKind
from zhongcao.users.schemas import UserCreate
from zhongcao.web import i18n
from zhongcao.web.console import HOMES, Console, CursorQuery, IdPath, OperatorConsole, page_of
from zhongcao.web.context import CSRF_COOKIE, YEAR, FormData, Page, SignedInPage, WebContext, safe_next
from zhongcao.web.forms import Form, error_message

router = APIRouter(include_in_schema=False)

SIGN_UP_ROLES = [role.value for role in flows.SIGN_UP_ROLES]
MAX_PASSWORD = 128
APPLICATION_FIELDS = ("name_zh", "name_en", "category_id", "credit_code", "contact_name", "contact_phone")


def _validation_errors(form: Form, exc: ValidationError, message_key: str = "form.invalid") -> None:
    """A request model's refusal put on the form's fields (the message per field comes from the
    catalog: pydantic's own text is English and technical)."""
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else ""
        form.error(
            name,
            form.t(f"onboarding.bad.{name}")
            if i18n.has_message(f"onboarding.bad.{name}")
            else form.t(message_key),
        )


# --- sign-up ---------------------------------------------------------------------------------------


def _render_register(
    page: WebContext, form: Form | None, status_code: int = 200, next_url: str = "", email: str = ""
) -> Response:
    return page.render(
        "auth/register.html",
        status_code=status_code,
        form=form,
        roles=SIGN_UP_ROLES,
        next=next_url,
        prefill_email=email,
    )


@router.get("/register")
def register_page(
    page: Page,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> Response:
    """``next`` (a path on this site) is where the new account goes afterwards and ``email`` fills the
    field: a staff invitation's link sends people here with both, and back."""
    if page.user is not None:
        return page.redirect(safe_next(next, "/"))
    return _render_register(page, None, next_url=safe_next(next, ""), email=email or "")


@router.post("/register")
def register_submit(page: Page, data: FormData) -> Response:
    form = Form(data, page.t)
    next_url = safe_next(form.text("next", max_length=2000), "")
    email = form.text("email", required=True, max_length=320)
    display_name = form.text("display_name", required=True, max_length=80)
    role = form.choice("role", SIGN_UP_ROLES, message=page.t("err.invalid_role"))
    raw = data.get("password")
    password = raw if isinstance(raw, str) else ""
    if not password:
        form.error("password", page.t("form.required"))
    elif len(password) > MAX_PASSWORD:
        form.error("password", page.tn("form.too_long", "form.too_long.plural", MAX_PASSWORD))
    elif len(password) < 8:
        form.error("password", page.t("account.password_too_short"))
    body = None
    if form.ok:
        try:
            body = UserCreate(
                email=email,
                password=password,
                display_name=display_name,
                role=Role(role or "shopper"),
                locale="zh-CN" if page.locale == "zh" else "en",
            )
        except ValidationError as exc:
            _validation_errors(form, exc)
    if body is None or not form.ok:
        return _render_register(page, form, status_code=422, next_url=next_url)
    try:
        user = flows.register(
            page.db,
            email=body.email,
            password=body.password,
            display_name=body.display_name,
            role=body.role,
            locale=body.locale,
        )
        token, _ = users_service.issue_token(page.db, user, kind=TokenKind.session)
    except DomainError as exc:
        page.db.rollback()
        if exc.code == "weak_password":
            form.error("password", page.t("account.weak_password"))
        else:
            form.add_domain_error(exc)
        return _render_register(page, form, status_code=exc.status_code, next_url=next_url)
    settings = page.request.app.state.settings
    page.cookies[settings.session_cookie_name] = (token, settings.session_ttl_hours * 3600)
    # As at sign-in: form tokens follow the new session, so a token seen before is worth nothing now.
    page.cookies[CSRF_COOKIE] = (secrets.token_urlsafe(32), YEAR)
    return page.redirect(next_url or HOMES.get(user.role, "/"), flash="onboarding.welcome")


# --- shop applications (applicant) -----------------------------------------------------------------


def _render_apply(
    page: WebContext, form: Form | None, status_code: int = 200, typed: dict[str, Any] | None = None
) -> Response:
    assert page.user is not None
    mine = applications.applications_of(page.db, page.user.id)
    categories = catalog_service.categories_by_id(page.db, [row.category_id for row in mine])
    return page.render(
        "shopper/open_shop.html",
        status_code=status_code,
        form=form,
        typed=typed if typed is not None else {},
        mine=mine,
        categories=categories,
        tree=catalog_service.category_tree(page.db),
        can_apply=page.user.role is Role.shopper
        and not any(r.status is ApplicationStatus.pending for r in mine),
    )


@router.get("/open-shop")
def open_shop(page: SignedInPage) -> Response:
    return _render_apply(page, None)


@router.post("/open-shop")
def open_shop_submit(page: SignedInPage, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    limits = {"name_zh": 80, "name_en": 120, "credit_code": 40, "contact_name": 80, "contact_phone": 32}
    values = {name: form.text(name, required=True, max_length=n) for name, n in limits.items()}
    category_id = form.integer("category_id", required=True, minimum=1, maximum=2**63 - 1)
    body = None
    if form.ok:
        try:
            body = ShopApplicationCreate(**values, category_id=category_id)
        except ValidationError as exc:
            _validation_errors(form, exc)
    if body is None or not form.ok:
        return _render_apply(page, form, status_code=422, typed=form.values)
    try:
        flows.apply_for_shop(page.db, page.user, **body.model_dump())
    except DomainError as exc:
        page.db.rollback()
        form.add_domain_error(exc)
        if form.ok:  # a refusal about no one field
            form.message = error_message(page.t, exc)
        return _render_apply(page, form, status_code=exc.status_code, typed=form.values)
    return page.redirect("/open-shop", flash="onboarding.applied")


# --- shop applications (operators) -----------------------------------------------------------------

OPS = "/operator/shop-applications"
STATUSES = [s.value for s in ApplicationStatus]


@router.get(OPS)
def ops_applications(
    console: OperatorConsole,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    wanted = ApplicationStatus(status) if status in STATUSES else None
    rows, next_cursor = page_of(lambda p: applications.list_applications(db, p, status=wanted), cursor)
    return console.render(
        "operator/shop_applications.html",
        "shop_applications",
        rows=rows,
        next_cursor=next_cursor,
        status=wanted.value if wanted else "",
        statuses=STATUSES,
        categories=catalog_service.categories_by_id(db, [row.category_id for row in rows]),
        applicants=users_service.users_by_ids(db, [row.applicant_id for row in rows]),
    )


def _render_review(
    console: Console, application_id: int, form: Form | None, status_code: int = 200
) -> Response:
    db = console.db
    row = applications.get_application(db, application_id)
    return console.render(
        "operator/shop_application.html",
        "shop_applications",
        status_code=status_code,
        row=row,
        form=form,
        category=catalog_service.categories_by_id(db, [row.category_id]).get(row.category_id),
        applicant=users_service.users_by_ids(db, [row.applicant_id]).get(row.applicant_id),
    )


@router.get(OPS + "/{application_id}")
def ops_application(console: OperatorConsole, application_id: IdPath) -> Response:
    return _render_review(console, application_id, None)


@router.post(OPS + "/{application_id}")
def ops_decide(console: OperatorConsole, application_id: IdPath, data: FormData) -> Response:
    """``action=approve`` opens the shop, ``action=reject`` refuses it; both need a ``reason``."""
    assert console.page.user is not None
    form = Form(data, console.t)
    action = form.choice("action", ["approve", "reject"])
    reason = form.text("reason", max_length=applications.MAX_REASON)
    if not reason:
        form.error("reason", console.t("onboarding.ops.reason_required"))
    if not form.ok:
        return _render_review(console, application_id, form, status_code=422)
    try:
        if action == "approve":
            applications.approve(console.db, application_id, console.user_id, reason=reason)
        else:
            applications.reject(console.db, application_id, console.user_id, reason=reason)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc)
        if form.ok:
            form.message = error_message(console.t, exc)
        return _render_review(console, application_id, form, status_code=exc.status_code)
    flash = "onboarding.ops.approved" if action == "approve" else "onboarding.ops.rejected"
    return console.redirect(f"{OPS}/{application_id}", flash=flash)
