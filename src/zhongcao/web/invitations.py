"""The invitee's side of staff invitations (shops/invitations.py):

* ``/invitations/<token>`` -- what the owner's link opens: which shop, which role, until when. Nobody
  signed in is offered to sign in or register (``/register?next=...`` comes back here); signed in
  with the invited email, one button accepts (the account becomes staff of the shop and lands in the
  merchant console); signed in with another email, the page says so.
* ``/invitations`` -- the invitations waiting for the signed-in account's email. Accepting still needs
  the link the owner sent (emails are not verified here, so the link is the proof).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path
from fastapi.responses import Response

from zhongcao.errors import DomainError, NotFound
from zhongcao.shops import invitations
from zhongcao.shops import service as shops_service
from zhongcao.web.context import FormData, Page, SignedInPage, WebContext
from zhongcao.web.forms import error_message

router = APIRouter(include_in_schema=False)

TokenPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


def _render(page: WebContext, token: str, *, refusal: str | None = None, status_code: int = 200) -> Response:
    row = invitations.by_secret(page.db, token)
    shop = shops_service.get_shop(page.db, row.shop_id)
    problem = None
    if page.user is not None:
        try:
            invitations.check_can_accept(page.db, row, page.user)
        except DomainError as exc:
            problem = error_message(page.t, exc)
    else:
        try:
            invitations.check_open(row)
        except DomainError as exc:
            problem = error_message(page.t, exc)
    here = invitations.ACCEPT_PATH + token
    return page.render(
        "shopper/invitation.html",
        status_code=status_code,
        row=row,
        shop=shop,
        state=invitations.state(row),
        problem=refusal or problem,
        login_url="/login?next=" + quote(here, safe=""),
        register_url="/register?" + urlencode({"next": here, "email": row.email}),
        here=here,
    )


@router.get("/invitations")
def my_invitations(page: SignedInPage) -> Response:
    assert page.user is not None
    return page.render(
        "shopper/invitations.html", rows=invitations.pending_for_email(page.db, page.user.email)
    )


@router.get("/invitations/{token}")
def invitation(page: Page, token: TokenPath) -> Response:
    return _render(page, token)


@router.post("/invitations/{token}")
def accept(page: SignedInPage, token: TokenPath, data: FormData) -> Response:
    assert page.user is not None
    try:
        invitations.accept(page.db, token, page.user)
    except NotFound:
        raise
    except DomainError as exc:
        page.db.rollback()
        return _render(page, token, refusal=error_message(page.t, exc), status_code=exc.status_code)
    return page.redirect("/merchant", flash="invitation.joined")
