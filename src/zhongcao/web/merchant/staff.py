"""Staff and invitations (owners only; operators and service agents get the 403 page and no link in
their navigation). The same service calls as ``/api/merchant/staff...``.

No email is sent: inviting (or renewing an invitation) shows the single-use link once on the page
that answers the form, for the owner to copy and send; only its digest is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.errors import DomainError
from zhongcao.shops import invitations
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import StaffInvitation, StaffRole
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/merchant")

ROLES = [role.value for role in StaffRole]
BASE = "/merchant/staff"


def _render(
    console: Console,
    *,
    form: Form | None = None,
    issued: tuple[StaffInvitation, str] | None = None,
    role: str = "",
    cursor: str | None = None,
    invitations_cursor: str | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    wanted = StaffRole(role) if role in ROLES else None
    staff, next_cursor = page_of(lambda p: shops_service.list_staff(db, shop_id, p, role=wanted), cursor)
    waiting, next_invitations = page_of(
        lambda p: invitations.list_for_shop(db, shop_id, p), invitations_cursor, limit=10
    )
    link = None
    if issued is not None:
        link = str(console.page.request.base_url).rstrip("/") + invitations.ACCEPT_PATH + issued[1]
    return console.render(
        "merchant/staff.html",
        "staff",
        status_code=status_code,
        staff=staff,
        next_cursor=next_cursor,
        waiting=[(row, invitations.state(row)) for row in waiting],
        next_invitations=next_invitations,
        role=wanted.value if wanted else "",
        roles=ROLES,
        form=form,
        typed=form.values if form is not None else {},
        issued=issued[0] if issued else None,
        link=link,
        refusal=refusal,
        me=console.user_id,
    )


@router.get("/staff")
def staff_page(
    console: MerchantConsole,
    role: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
    icursor: CursorQuery = None,
) -> Response:
    console.require_owner()
    return _render(console, role=role or "", cursor=cursor, invitations_cursor=icursor)


@router.post("/staff/invite")
def invite(console: MerchantConsole, data: FormData) -> Response:
    """Invite by email with a role; the answer shows the link to send (not a redirect: the link is
    shown once). Inviting a waiting email again replaces its link."""
    console.require_owner()
    assert console.shop_id is not None
    form = Form(data, console.t)
    email = form.text("email", required=True, max_length=254)
    if email and ("@" not in email or " " in email):
        form.error("email", console.t("err.invalid_email"))
    role = form.choice("role", ROLES, message=console.t("merchant.staff.pick_role"))
    if not form.ok or role is None:
        return _render(console, form=form, status_code=422)
    try:
        issued = invitations.invite(
            console.db, console.shop_id, email=email, role=StaffRole(role), invited_by=console.user_id
        )
    except DomainError as exc:
        console.db.rollback()
        form.add_domain_error(exc)
        return _render(console, form=form, status_code=exc.status_code)
    return _render(console, issued=issued)


def _refused(console: Console, exc: DomainError) -> Response:
    console.db.rollback()
    if exc.status_code == 404:
        raise exc
    return _render(console, refusal=error_message(console.t, exc), status_code=exc.status_code)


@router.post("/staff/invitations/{invitation_id}/renew")
def renew(console: MerchantConsole, invitation_id: IdPath, data: FormData) -> Response:
    console.require_owner()
    assert console.shop_id is not None
    try:
        issued = invitations.renew(console.db, console.shop_id, invitation_id, invited_by=console.user_id)
    except DomainError as exc:
        return _refused(console, exc)
    return _render(console, issued=issued)


@router.post("/staff/invitations/{invitation_id}/revoke")
def revoke(console: MerchantConsole, invitation_id: IdPath, data: FormData) -> Response:
    console.require_owner()
    assert console.shop_id is not None
    try:
        invitations.revoke(console.db, console.shop_id, invitation_id)
    except DomainError as exc:
        return _refused(console, exc)
    return console.redirect(BASE, flash="merchant.staff.revoked")


@router.post("/staff/{staff_id}/role")
def change_role(console: MerchantConsole, staff_id: IdPath, data: FormData) -> Response:
    """A member's new role. The shop's last owner cannot be demoted (the page says why)."""
    console.require_owner()
    assert console.shop_id is not None
    form = Form(data, console.t)
    role = form.choice("role", ROLES, message=console.t("merchant.staff.pick_role"))
    if role is None:
        return _render(console, refusal=console.t("merchant.staff.pick_role"), status_code=422)
    try:
        shops_service.change_staff_role(console.db, console.shop_id, staff_id, StaffRole(role))
    except DomainError as exc:
        return _refused(console, exc)
    return console.redirect(BASE, flash="merchant.staff.role_changed")


@router.post("/staff/{staff_id}/remove")
def remove(console: MerchantConsole, staff_id: IdPath, data: FormData) -> Response:
    """Take a member off the shop (their account stays); never the last owner."""
    console.require_owner()
    assert console.shop_id is not None
    try:
        shops_service.remove_staff(console.db, console.shop_id, staff_id)
    except DomainError as exc:
        return _refused(console, exc)
    return console.redirect(BASE, flash="merchant.staff.removed")
